"""content scopes for joint work and the library: `w<workstream>`, and a library on its board

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:00:00

A workstream's page, its actions, its agenda and its measures' charts are remembered while
`w<workstream>` stands: every row of the workstream, its practices, problems taken on, actions,
check-ins, huddles, measures and their points, and its thread's activity raises it. A library entry is read like its
organisation's board, so an entry, its tags, versions and adoptions raise `b<organisation>`
(and `w<workstream>` of the workstream it came from, whose page lists it).
"""

from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# Tables whose rows carry their workstream's id.
WORKSTREAM_CHILDREN = (
    'workstream_practice',
    'workstream_problem',
    'workstream_action',
    'workstream_check_in',
    'workstream_meeting',
    'measure',
)
LIBRARY_CHILDREN = ('library_tag', 'library_version', 'library_adoption')

# --- PostgreSQL: deferred constraint triggers, raised at commit once per scope (0021's
# content_scope_raise).
PG_FUNCTIONS = [
    """
CREATE FUNCTION content_scope_workstream() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM content_scope_raise('w' || NEW.id);
    ELSE
        PERFORM content_scope_raise('w' || OLD.id);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION content_scope_of_workstream() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_scope_raise('w' || OLD.workstream_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.workstream_id IS DISTINCT FROM OLD.workstream_id) THEN
        PERFORM content_scope_raise('w' || NEW.workstream_id);
    END IF;
    RETURN NULL;
END
$$
""",
    # A measure deleted in the same transaction is not found, and needs nothing: its own
    # deletion raised its workstream.
    """
CREATE FUNCTION content_scope_of_measure() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT workstream_id INTO w FROM measure WHERE id = OLD.measure_id;
        IF w IS NOT NULL THEN
            PERFORM content_scope_raise('w' || w);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT workstream_id INTO w FROM measure WHERE id = NEW.measure_id;
        IF w IS NOT NULL THEN
            PERFORM content_scope_raise('w' || w);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION content_scope_library_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_scope_raise('b' || OLD.organisation_id);
        IF OLD.source_workstream_id IS NOT NULL THEN
            PERFORM content_scope_raise('w' || OLD.source_workstream_id);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM content_scope_raise('b' || NEW.organisation_id);
        IF NEW.source_workstream_id IS NOT NULL THEN
            PERFORM content_scope_raise('w' || NEW.source_workstream_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION content_scope_of_library_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o integer;
    w integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT organisation_id, source_workstream_id INTO o, w FROM library_entry
        WHERE id = OLD.entry_id;
        IF o IS NOT NULL THEN
            PERFORM content_scope_raise('b' || o);
        END IF;
        IF w IS NOT NULL THEN
            PERFORM content_scope_raise('w' || w);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT organisation_id, source_workstream_id INTO o, w FROM library_entry
        WHERE id = NEW.entry_id;
        IF o IS NOT NULL THEN
            PERFORM content_scope_raise('b' || o);
        END IF;
        IF w IS NOT NULL THEN
            PERFORM content_scope_raise('w' || w);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    # The workstream thread's activity (its agenda's special-cause signals); other threads'
    # activity shows on no remembered page.
    """
CREATE FUNCTION content_scope_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.thread_type = 'workstream' THEN
        PERFORM content_scope_raise('w' || OLD.thread_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.thread_type = 'workstream' THEN
        PERFORM content_scope_raise('w' || NEW.thread_id);
    END IF;
    RETURN NULL;
END
$$
""",
]
PG_TRIGGERS = {
    'workstream': 'content_scope_workstream',
    **{table: 'content_scope_of_workstream' for table in WORKSTREAM_CHILDREN},
    'measure_point': 'content_scope_of_measure',
    'library_entry': 'content_scope_library_entry',
    **{table: 'content_scope_of_library_entry' for table in LIBRARY_CHILDREN},
    'activity': 'content_scope_activity',
}
PG_FUNCTION_NAMES = (
    'content_scope_workstream()',
    'content_scope_of_workstream()',
    'content_scope_of_measure()',
    'content_scope_library_entry()',
    'content_scope_of_library_entry()',
    'content_scope_activity()',
)

# --- SQLite: raised with each row (one writer at a time anyway).
_RAISE = "ON CONFLICT(scope) DO UPDATE SET version = version + 1;"


def _raise(expression: str, when: str = "1") -> str:
    # SELECT ... WHERE: an upsert from a SELECT needs a WHERE before ON CONFLICT.
    return f"INSERT INTO content_scope (scope, version) SELECT {expression}, 1 WHERE {when} {_RAISE}"


def _raise_from(expression: str, source: str, when: str) -> str:
    return (
        f"INSERT INTO content_scope (scope, version) SELECT {expression}, 1 FROM {source} "
        f"WHERE {when} {_RAISE}"
    )


def _sqlite_statements(table: str, row: str) -> list[str]:
    """What one row (NEW or OLD) of `table` raises."""
    if table == 'workstream':
        return [_raise(f"'w' || {row}.id")]
    if table in WORKSTREAM_CHILDREN:
        return [_raise(f"'w' || {row}.workstream_id")]
    if table == 'measure_point':
        return [_raise_from("'w' || m.workstream_id", "measure m", f"m.id = {row}.measure_id")]
    if table == 'activity':
        return [_raise(f"'w' || {row}.thread_id", f"{row}.thread_type = 'workstream'")]
    if table == 'library_entry':
        return [
            _raise(f"'b' || {row}.organisation_id"),
            _raise(f"'w' || {row}.source_workstream_id", f"{row}.source_workstream_id IS NOT NULL"),
        ]
    return [
        _raise_from("'b' || e.organisation_id", "library_entry e", f"e.id = {row}.entry_id"),
        _raise_from(
            "'w' || e.source_workstream_id",
            "library_entry e",
            f"e.id = {row}.entry_id AND e.source_workstream_id IS NOT NULL",
        ),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending events where triggers change
        for function in PG_FUNCTIONS:
            op.execute(function)
        for table, function in PG_TRIGGERS.items():
            op.execute(
                f"CREATE CONSTRAINT TRIGGER content_scope_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
            op.execute(
                f"CREATE TRIGGER content_scope_{table}_truncate AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION content_scope_all()"
            )
    else:
        for table in PG_TRIGGERS:
            for event in ('insert', 'update', 'delete'):
                rows = {'insert': ['NEW'], 'update': ['OLD', 'NEW'], 'delete': ['OLD']}[event]
                body = " ".join(s for row in rows for s in _sqlite_statements(table, row))
                op.execute(
                    f"CREATE TRIGGER content_scope_{table}_{event} AFTER {event.upper()} "
                    f"ON {table} BEGIN {body} END"
                )
    # Whatever was remembered before these tables had triggers is stale now.
    op.execute(
        "UPDATE content_scope SET version = version + 1 WHERE scope = 'all'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER content_scope_{table} ON {table}")
            op.execute(f"DROP TRIGGER content_scope_{table}_truncate ON {table}")
        for function in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {function}")
    else:
        for table in PG_TRIGGERS:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER content_scope_{table}_{event}")

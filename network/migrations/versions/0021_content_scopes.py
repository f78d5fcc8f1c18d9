"""content versions by scope: a board's content, a person's access, everything else

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 03:00:00

One global number, raised by any change, emptied every process's read cache whenever anyone
anywhere wrote. Now each scope has its number (network/content.py says which change raises
which): `b<board>` for the problems on a board, their tags and signals; `p<person>` for a
person's memberships; `all` for organisations and people.
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

OLD_TABLES = ('problem', 'problem_tag', 'affected_practice', 'organisation', 'person', 'membership')

# --- PostgreSQL: raised at commit (deferred constraint triggers), once per scope and
# transaction: a scope's row whose xmin is this transaction has been raised by it already.
PG_FUNCTIONS = [
    """
CREATE FUNCTION content_scope_raise(s text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO content_scope (scope, version) VALUES (s, 1)
    ON CONFLICT (scope) DO UPDATE SET version = content_scope.version + 1
    WHERE content_scope.xmin <> pg_current_xact_id()::xid
$$
""",
    """
CREATE FUNCTION content_scope_problem() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_scope_raise('b' || OLD.board_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.board_id IS DISTINCT FROM OLD.board_id) THEN
        PERFORM content_scope_raise('b' || NEW.board_id);
    END IF;
    RETURN NULL;
END
$$
""",
    # Tags and signals: their problem's board. A problem deleted in the same transaction is not
    # found, and needs nothing: its own deletion raised its board.
    """
CREATE FUNCTION content_scope_of_problem() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT board_id INTO b FROM problem WHERE id = OLD.problem_id;
        IF b IS NOT NULL THEN
            PERFORM content_scope_raise('b' || b);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.problem_id IS DISTINCT FROM OLD.problem_id) THEN
        SELECT board_id INTO b FROM problem WHERE id = NEW.problem_id;
        IF b IS NOT NULL THEN
            PERFORM content_scope_raise('b' || b);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION content_scope_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_scope_raise('p' || OLD.person_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.person_id IS DISTINCT FROM OLD.person_id) THEN
        PERFORM content_scope_raise('p' || NEW.person_id);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION content_scope_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM content_scope_raise('all');
    RETURN NULL;
END
$$
""",
]
PG_TRIGGERS = {
    'problem': 'content_scope_problem',
    'problem_tag': 'content_scope_of_problem',
    'affected_practice': 'content_scope_of_problem',
    'membership': 'content_scope_membership',
    'organisation': 'content_scope_all',
    'person': 'content_scope_all',
}
PG_FUNCTION_NAMES = (
    'content_scope_problem()',
    'content_scope_of_problem()',
    'content_scope_membership()',
    'content_scope_all()',
    'content_scope_raise(text)',
)

# --- SQLite: raised with each row (one writer at a time anyway).
_RAISE = "ON CONFLICT(scope) DO UPDATE SET version = version + 1;"


def _raise_value(expression: str, when: str = "1") -> str:
    # SELECT ... WHERE: an upsert from a SELECT needs a WHERE before ON CONFLICT.
    return (
        f"INSERT INTO content_scope (scope, version) SELECT {expression}, 1 WHERE {when} {_RAISE}"
    )


def _problem_board(problem: str) -> str:
    return f"SELECT 'b' || pr.board_id, 1 FROM problem pr WHERE pr.id = {problem}"


def _sqlite_body(table: str, row: str, event: str) -> list[str]:
    if table == 'problem':
        scope = f"'b' || {row}.board_id"
        if event == 'update':
            return [
                _raise_value(scope.replace('NEW.', 'OLD.')),
                _raise_value(scope, "NEW.board_id IS NOT OLD.board_id"),
            ]
        return [_raise_value(scope)]
    if table in ('problem_tag', 'affected_practice'):
        statements = [f"INSERT INTO content_scope (scope, version) {_problem_board(f'{row}.problem_id')} {_RAISE}"]
        if event == 'update':
            statements.insert(
                0,
                f"INSERT INTO content_scope (scope, version) {_problem_board('OLD.problem_id')} {_RAISE}",
            )
        return statements
    if table == 'membership':
        statements = [_raise_value(f"'p' || {row}.person_id")]
        if event == 'update':
            statements.insert(0, _raise_value("'p' || OLD.person_id"))
        return statements
    return [_raise_value("'all'")]


def upgrade() -> None:
    op.create_table('content_scope',
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_content_scope'))
    )
    # Every process's remembered results were stamped with the old single number: start
    # every scope past anything they could match.
    op.execute("INSERT INTO content_scope (scope, version) VALUES ('all', 1)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending events where triggers change
        for table in OLD_TABLES:
            op.execute(f"DROP TRIGGER content_version_{table} ON {table}")
            op.execute(f"DROP TRIGGER content_version_{table}_truncate ON {table}")
        op.execute("DROP FUNCTION content_version_raise()")
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
        for table in OLD_TABLES:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER content_version_{table}_{event}")
        for table in PG_TRIGGERS:
            for event in ('insert', 'update', 'delete'):
                row = 'OLD' if event == 'delete' else 'NEW'
                body = " ".join(_sqlite_body(table, row, event))
                op.execute(
                    f"CREATE TRIGGER content_scope_{table}_{event} AFTER {event.upper()} "
                    f"ON {table} BEGIN {body} END"
                )
    op.drop_table('content_version')


def downgrade() -> None:
    op.create_table('content_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_content_version_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version'))
    )
    op.execute(
        "INSERT INTO content_version (id, version) "
        "SELECT 1, COALESCE(SUM(version), 0) + 1 FROM content_scope"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER content_scope_{table} ON {table}")
            op.execute(f"DROP TRIGGER content_scope_{table}_truncate ON {table}")
        for function in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {function}")
        op.execute(
            """
CREATE FUNCTION content_version_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content_version SET version = version + 1
    WHERE id = 1 AND xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$
"""
        )
        for table in OLD_TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER content_version_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION content_version_raise()"
            )
            op.execute(
                f"CREATE TRIGGER content_version_{table}_truncate AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION content_version_raise()"
            )
    else:
        for table in PG_TRIGGERS:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER content_scope_{table}_{event}")
        for table in OLD_TABLES:
            for event in ('insert', 'update', 'delete'):
                op.execute(
                    f"CREATE TRIGGER content_version_{table}_{event} AFTER {event.upper()} "
                    f"ON {table} BEGIN "
                    f"UPDATE content_version SET version = version + 1 WHERE id = 1; END"
                )
    op.drop_table('content_scope')

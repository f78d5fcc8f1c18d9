"""a practice-anonymous author's practice is counted, not signalled; signals raise the version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:40:00.000000
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# "my_practice_affected" reads affected_practice: the content version must move with it
# (0008's function on PostgreSQL, the same triggers on SQLite).
TABLE = 'affected_practice'

# The author's practice of a practice-anonymous problem stops being a signal: the count keeps
# it, and its colleagues signal (and withdraw) like any other practice.
DROP_AUTHORS_SIGNALS = """
DELETE FROM affected_practice
WHERE EXISTS (
    SELECT 1 FROM problem
    WHERE problem.id = affected_practice.problem_id
      AND problem.anonymity = 'practice'
      AND problem.author_practice_id = affected_practice.practice_id
)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f"CREATE CONSTRAINT TRIGGER content_version_{TABLE} "
            f"AFTER INSERT OR UPDATE OR DELETE ON {TABLE} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION content_version_raise()"
        )
        op.execute(
            f"CREATE TRIGGER content_version_{TABLE}_truncate AFTER TRUNCATE ON {TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION content_version_raise()"
        )
    else:
        for event in ('insert', 'update', 'delete'):
            op.execute(
                f"CREATE TRIGGER content_version_{TABLE}_{event} AFTER {event.upper()} "
                f"ON {TABLE} BEGIN "
                f"UPDATE content_version SET version = version + 1 WHERE id = 1; END"
            )
    op.execute(DROP_AUTHORS_SIGNALS)
    if op.get_bind().dialect.name == 'postgresql':
        # The deletions' deferred triggers (the content version) fire now: PostgreSQL refuses
        # to alter or index a table with pending trigger events, and later migrations of the
        # same upgrade do (0012).
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")


def downgrade() -> None:
    op.execute(
        "INSERT INTO affected_practice (problem_id, practice_id, signalled_by_id, created_at) "
        "SELECT p.id, p.author_practice_id, p.author_id, p.created_at FROM problem p "
        "WHERE p.anonymity = 'practice' AND p.author_practice_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM affected_practice a "
        "WHERE a.problem_id = p.id AND a.practice_id = p.author_practice_id)"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending events where triggers go
        op.execute(f"DROP TRIGGER content_version_{TABLE} ON {TABLE}")
        op.execute(f"DROP TRIGGER content_version_{TABLE}_truncate ON {TABLE}")
    else:
        for event in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER content_version_{TABLE}_{event}")

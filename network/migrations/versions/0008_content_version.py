"""content version raised by the database with every change people read

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 10:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# What people read is made of these tables' rows (network/content.py keeps the same list).
VERSIONED_TABLES = ('problem', 'problem_tag', 'organisation', 'person', 'membership')

# PostgreSQL: raised at commit, once per transaction. The row's xmin is this transaction once
# it has raised the number, so later triggers of the same commit update nothing.
PG_FUNCTION = """
CREATE FUNCTION content_version_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content_version SET version = version + 1
    WHERE id = 1 AND xmin <> pg_current_xact_id()::xid;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table('content_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_content_version_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version'))
    )
    op.execute("INSERT INTO content_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for table in VERSIONED_TABLES:
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
        for table in VERSIONED_TABLES:
            for event in ('insert', 'update', 'delete'):
                op.execute(
                    f"CREATE TRIGGER content_version_{table}_{event} AFTER {event.upper()} "
                    f"ON {table} BEGIN "
                    f"UPDATE content_version SET version = version + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in VERSIONED_TABLES:
            op.execute(f"DROP TRIGGER content_version_{table} ON {table}")
            op.execute(f"DROP TRIGGER content_version_{table}_truncate ON {table}")
        op.execute("DROP FUNCTION content_version_raise()")
    else:
        for table in VERSIONED_TABLES:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER content_version_{table}_{event}")
    op.drop_table('content_version')

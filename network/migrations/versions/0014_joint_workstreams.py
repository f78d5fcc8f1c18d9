"""joint workstreams

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:58:09.169016
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workstream',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('aim', sa.Text(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'active', 'paused', 'completed', name='workstreamstatus', native_enum=False, length=16), nullable=False),
    sa.Column('meeting_rule', sa.String(length=500), nullable=True),
    sa.Column('meeting_minutes', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_workstream_created_by_id_person')),
    sa.ForeignKeyConstraint(['lead_id'], ['person.id'], name=op.f('fk_workstream_lead_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_workstream_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstream'))
    )
    with op.batch_alter_table('workstream', schema=None) as batch_op:
        batch_op.create_index('ix_workstream_organisation_id_id', ['organisation_id', 'id'], unique=False)

    op.create_table('workstream_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'dropped', name='actionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['completed_by_id'], ['person.id'], name=op.f('fk_workstream_action_completed_by_id_person')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_workstream_action_created_by_id_person')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_workstream_action_owner_id_person')),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_workstream_action_practice_id_organisation')),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_workstream_action_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstream_action'))
    )
    with op.batch_alter_table('workstream_action', schema=None) as batch_op:
        batch_op.create_index('ix_workstream_action_owner_id_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index('ix_workstream_action_workstream_id_due_on_id', ['workstream_id', 'due_on', 'id'], unique=False)

    op.create_table('workstream_check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_workstream_check_in_author_id_person')),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_workstream_check_in_practice_id_organisation')),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_workstream_check_in_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstream_check_in'))
    )
    with op.batch_alter_table('workstream_check_in', schema=None) as batch_op:
        batch_op.create_index('ix_workstream_check_in_workstream_id_created_at', ['workstream_id', 'created_at', 'id'], unique=False)

    op.create_table('workstream_practice',
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('joined_by_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('left_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['joined_by_id'], ['person.id'], name=op.f('fk_workstream_practice_joined_by_id_person')),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_workstream_practice_practice_id_organisation')),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_workstream_practice_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workstream_id', 'practice_id', name=op.f('pk_workstream_practice'))
    )
    with op.batch_alter_table('workstream_practice', schema=None) as batch_op:
        batch_op.create_index('ix_workstream_practice_practice_id', ['practice_id'], unique=False)

    op.create_table('workstream_problem',
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['linked_by_id'], ['person.id'], name=op.f('fk_workstream_problem_linked_by_id_person')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_workstream_problem_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_workstream_problem_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workstream_id', 'problem_id', name=op.f('pk_workstream_problem'))
    )
    with op.batch_alter_table('workstream_problem', schema=None) as batch_op:
        batch_op.create_index('ix_workstream_problem_problem_id', ['problem_id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workstream_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('action_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('check_in_id', sa.Integer(), nullable=True))
        batch_op.alter_column('problem_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_report_workstream_id_workstream'), 'workstream', ['workstream_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_report_check_in_id_workstream_check_in'), 'workstream_check_in', ['check_in_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_report_action_id_workstream_action'), 'workstream_action', ['action_id'], ['id'], ondelete='CASCADE')
        # A report is about a problem's thread or a workstream's, never both, never neither.
        batch_op.create_check_constraint(
            'one_thread', '(problem_id IS NULL) <> (workstream_id IS NULL)'
        )


def downgrade() -> None:
    # Reports of workstreams go with them (the table keeps only problems' reports).
    op.execute("DELETE FROM report WHERE workstream_id IS NOT NULL")
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_one_thread'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_report_action_id_workstream_action'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_check_in_id_workstream_check_in'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_workstream_id_workstream'), type_='foreignkey')
        batch_op.alter_column('problem_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('check_in_id')
        batch_op.drop_column('action_id')
        batch_op.drop_column('workstream_id')

    with op.batch_alter_table('workstream_problem', schema=None) as batch_op:
        batch_op.drop_index('ix_workstream_problem_problem_id')

    op.drop_table('workstream_problem')
    with op.batch_alter_table('workstream_practice', schema=None) as batch_op:
        batch_op.drop_index('ix_workstream_practice_practice_id')

    op.drop_table('workstream_practice')
    with op.batch_alter_table('workstream_check_in', schema=None) as batch_op:
        batch_op.drop_index('ix_workstream_check_in_workstream_id_created_at')

    op.drop_table('workstream_check_in')
    with op.batch_alter_table('workstream_action', schema=None) as batch_op:
        batch_op.drop_index('ix_workstream_action_workstream_id_due_on_id')
        batch_op.drop_index('ix_workstream_action_owner_id_status')

    op.drop_table('workstream_action')
    with op.batch_alter_table('workstream', schema=None) as batch_op:
        batch_op.drop_index('ix_workstream_organisation_id_id')

    op.drop_table('workstream')

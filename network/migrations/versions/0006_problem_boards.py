"""problem boards

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 00:49:35.377489
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('author_practice_id', sa.Integer(), nullable=True),
    sa.Column('anonymity', sa.Enum('none', 'person', 'practice', name='anonymity', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'discussing', 'in_workstream', 'solved', 'closed', name='problemstatus', native_enum=False, length=16), nullable=False),
    sa.Column('affected_count', sa.Integer(), nullable=False),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_comment_id', sa.Integer(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('affected_count >= 0', name=op.f('ck_problem_affected_count_not_negative')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['person.id'], name=op.f('fk_problem_accepted_by_id_person')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_problem_author_id_person')),
    sa.ForeignKeyConstraint(['author_practice_id'], ['organisation.id'], name=op.f('fk_problem_author_practice_id_organisation')),
    sa.ForeignKeyConstraint(['board_id'], ['organisation.id'], name=op.f('fk_problem_board_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_board_id'), ['board_id'], unique=False)
        batch_op.create_index('ix_problem_board_id_created_at', ['board_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_problem_hot', ['affected_count', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index('ix_problem_updated_at', ['updated_at', 'id'], unique=False)

    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_practice_id', sa.Integer(), nullable=True),
    sa.Column('anonymity', sa.Enum('none', 'person', 'practice', name='anonymity', native_enum=False, length=16), nullable=False),
    sa.Column('verb', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_activity_actor_id_person')),
    sa.ForeignKeyConstraint(['actor_practice_id'], ['organisation.id'], name=op.f('fk_activity_actor_practice_id_organisation')),
    sa.ForeignKeyConstraint(['board_id'], ['organisation.id'], name=op.f('fk_activity_board_id_organisation')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_activity_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_activity_board_id_at_id', ['board_id', 'at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_problem_id'), ['problem_id'], unique=False)

    op.create_table('affected_practice',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('signalled_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_affected_practice_practice_id_organisation')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_affected_practice_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signalled_by_id'], ['person.id'], name=op.f('fk_affected_practice_signalled_by_id_person')),
    sa.PrimaryKeyConstraint('problem_id', 'practice_id', name=op.f('pk_affected_practice'))
    )
    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('author_practice_id', sa.Integer(), nullable=True),
    sa.Column('anonymity', sa.Enum('none', 'person', 'practice', name='anonymity', native_enum=False, length=16), nullable=False),
    sa.Column('kind', sa.Enum('comment', 'idea', name='commentkind', native_enum=False, length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_comment_author_id_person')),
    sa.ForeignKeyConstraint(['author_practice_id'], ['organisation.id'], name=op.f('fk_comment_author_practice_id_organisation')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_comment_problem_id_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_problem_id_created_at', ['problem_id', 'created_at', 'id'], unique=False)

    op.create_table('problem_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['editor_id'], ['person.id'], name=op.f('fk_problem_revision_editor_id_person')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_revision_problem_id_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_revision'))
    )
    with op.batch_alter_table('problem_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_revision_problem_id'), ['problem_id'], unique=False)

    op.create_table('problem_tag',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_tag_problem_id_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('problem_id', 'tag', name=op.f('pk_problem_tag'))
    )
    with op.batch_alter_table('problem_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_tag_tag'), ['tag'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', 'dismissed', name='reportstatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['organisation.id'], name=op.f('fk_report_board_id_organisation')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_report_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_report_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['person.id'], name=op.f('fk_report_reporter_id_person')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['person.id'], name=op.f('fk_report_resolved_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_board_id_status_id', ['board_id', 'status', 'id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Full-text search of problems; the expression matches network.problems.queries.SEARCH_DOCUMENT.
        op.execute(
            "CREATE INDEX ix_problem_search ON problem USING gin ("
            "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, '')))"
        )



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_problem_search")
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_board_id_status_id')

    op.drop_table('report')
    with op.batch_alter_table('problem_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_tag_tag'))

    op.drop_table('problem_tag')
    with op.batch_alter_table('problem_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_revision_problem_id'))

    op.drop_table('problem_revision')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_problem_id_created_at')

    op.drop_table('comment')
    op.drop_table('affected_practice')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_problem_id'))
        batch_op.drop_index('ix_activity_board_id_at_id')
        batch_op.drop_index('ix_activity_at_id')

    op.drop_table('activity')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_updated_at')
        batch_op.drop_index('ix_problem_hot')
        batch_op.drop_index('ix_problem_board_id_created_at')
        batch_op.drop_index(batch_op.f('ix_problem_board_id'))

    op.drop_table('problem')

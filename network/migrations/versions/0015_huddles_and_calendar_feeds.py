"""huddles and calendar feeds

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:03:03.346039
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feed',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_calendar_feed_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_calendar_feed')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_token_hash'))
    )
    op.create_table('workstream_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('notes_html', sa.Text(), nullable=True),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('attended_practice_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'held', 'cancelled', name='meetingstatus', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_workstream_meeting_created_by_id_person')),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_workstream_meeting_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstream_meeting')),
    sa.UniqueConstraint('workstream_id', 'starts_at', name='uq_workstream_meeting_starts_at')
    )
    with op.batch_alter_table('workstream_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_workstream_action_meeting_decision', ['meeting_id', 'decision'])
        batch_op.create_foreign_key(batch_op.f('fk_workstream_action_meeting_id_workstream_meeting'), 'workstream_meeting', ['meeting_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('workstream_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workstream_action_meeting_id_workstream_meeting'), type_='foreignkey')
        batch_op.drop_constraint('uq_workstream_action_meeting_decision', type_='unique')
        batch_op.drop_column('decision')
        batch_op.drop_column('meeting_id')

    op.drop_table('workstream_meeting')
    op.drop_table('calendar_feed')

"""digests follows and notifications

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:06:17.627583
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('claimed', 'sent', 'empty', 'failed', name='digeststatus', native_enum=False, length=16), nullable=False),
    sa.Column('window_start', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_digest_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest')),
    sa.UniqueConstraint('person_id', 'period', name='uq_digest_person_period')
    )
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.create_index('ix_digest_person_id_window_end', ['person_id', 'window_end'], unique=False)

    op.create_table('digest_follow',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('thread_type', sa.String(length=32), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Enum('follow', 'mute', name='threadchoice', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_digest_follow_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'thread_type', 'thread_id', name=op.f('pk_digest_follow'))
    )
    with op.batch_alter_table('digest_follow', schema=None) as batch_op:
        batch_op.create_index('ix_digest_follow_thread', ['thread_type', 'thread_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('claimed', 'sent', 'empty', 'failed', name='digeststatus', native_enum=False, length=16), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_notification_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('person_id', 'key', name='uq_notification_person_key')
    )
    with op.batch_alter_table('digest_preference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_action_assigned', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_agenda', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('unsubscribe_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('unsubscribe_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('unsubscribed_at', network.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_digest_preference_unsubscribe_hash'), ['unsubscribe_hash'])



def downgrade() -> None:
    with op.batch_alter_table('digest_preference', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_digest_preference_unsubscribe_hash'), type_='unique')
        batch_op.drop_column('unsubscribed_at')
        batch_op.drop_column('unsubscribe_hash')
        batch_op.drop_column('unsubscribe_nonce')
        batch_op.drop_column('notify_agenda')
        batch_op.drop_column('notify_action_assigned')

    with op.batch_alter_table('digest_follow', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_follow_thread')

    op.drop_table('digest_follow')
    op.drop_table('notification')
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_person_id_window_end')

    op.drop_table('digest')

"""outbox rows live until their job is done

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 03:00:00
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispatched_at', network.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', network.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('runs', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_at', network.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_job_outbox_job_id', ['job_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_job_outbox_job_id')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('runs')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('dispatched_at')

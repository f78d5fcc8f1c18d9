"""used authorization codes are remembered (replay revokes their tokens); refresh tokens carry
the sign-in time (auth_time of refreshed ID tokens)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Codes in flight are all unused: until now a code was deleted when it was exchanged.
    with op.batch_alter_table('authorization_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('used_at', network.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('family_id', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_authorization_code_expires_at', ['expires_at'], unique=False)

    # Tokens issued before this revision have no recorded sign-in time (left NULL).
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_time', network.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_column('auth_time')

    # The code before this revision treats every stored code as unused: forget the used ones,
    # or they could be exchanged again.
    op.execute("DELETE FROM authorization_code WHERE used_at IS NOT NULL")
    with op.batch_alter_table('authorization_code', schema=None) as batch_op:
        batch_op.drop_index('ix_authorization_code_expires_at')
        batch_op.drop_column('family_id')
        batch_op.drop_column('used_at')

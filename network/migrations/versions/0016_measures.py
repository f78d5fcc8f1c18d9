"""measures

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:51:33.308410
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workstream_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('better', sa.Enum('up', 'down', 'neutral', name='better', native_enum=False, length=16), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('aggregate', sa.Enum('sum', 'mean', 'ratio', name='aggregate', native_enum=False, length=16), nullable=False),
    sa.Column('rebase_periods', sa.JSON(), nullable=False),
    sa.Column('fix_after', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_measure_created_by_id_person')),
    sa.ForeignKeyConstraint(['workstream_id'], ['workstream.id'], name=op.f('fk_measure_workstream_id_workstream'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure'))
    )
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.create_index('ix_measure_workstream_id_id', ['workstream_id', 'id'], unique=False)

    op.create_table('measure_point',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('posted_by_id', sa.Integer(), nullable=False),
    sa.Column('posted_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], name=op.f('fk_measure_point_measure_id_measure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['posted_by_id'], ['person.id'], name=op.f('fk_measure_point_posted_by_id_person')),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_measure_point_practice_id_organisation')),
    sa.PrimaryKeyConstraint('measure_id', 'practice_id', 'period', name=op.f('pk_measure_point'))
    )


def downgrade() -> None:
    op.drop_table('measure_point')
    with op.batch_alter_table('measure', schema=None) as batch_op:
        batch_op.drop_index('ix_measure_workstream_id_id')

    op.drop_table('measure')

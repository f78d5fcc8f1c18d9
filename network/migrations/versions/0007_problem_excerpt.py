"""problem excerpt kept with the body

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:10:00.000000
"""

from alembic import op
import sqlalchemy as sa

from network.safety import excerpt


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excerpt', sa.String(length=200), server_default='', nullable=False))

    # Existing problems: the excerpt of their body, in batches (bodies are not all in memory at once).
    problem = sa.table('problem', sa.column('id', sa.Integer), sa.column('body', sa.Text), sa.column('excerpt', sa.String))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(problem.c.id, problem.c.body).where(problem.c.id > last).order_by(problem.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            problem.update().where(problem.c.id == sa.bindparam('pid')).values(excerpt=sa.bindparam('text')),
            [{'pid': pid, 'text': excerpt(body)} for pid, body in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_column('excerpt')

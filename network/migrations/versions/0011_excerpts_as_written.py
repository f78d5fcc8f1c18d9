"""excerpts keep what people write; problems and comments render as GitHub-flavoured Markdown

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 14:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from network.safety import excerpt, render_markdown


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BATCH = 2000

# Lightweight tables: the columns this migration reads and writes, as they are at 0010.
problem = sa.table(
    'problem',
    sa.column('id', sa.Integer),
    sa.column('body', sa.Text),
    sa.column('body_html', sa.Text),
    sa.column('excerpt', sa.String),
)
comment = sa.table(
    'comment', sa.column('id', sa.Integer), sa.column('body', sa.Text), sa.column('body_html', sa.Text)
)


def _recompute(table: sa.TableClause, derive) -> None:
    """Every row's derived columns from its body, in batches (bodies are not all in memory at
    once). Only rows whose stored values differ are written, so running it again writes nothing
    (and raises no content version)."""
    derived = [c for c in table.c if c.name not in ('id', 'body')]
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.body, *derived)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        changes = []
        for row in rows:
            values = derive(row.body)
            if any(getattr(row, name) != value for name, value in values.items()):
                changes.append({'rid': row.id, **values})
        if changes:
            bind.execute(
                table.update()
                .where(table.c.id == sa.bindparam('rid'))
                .values({name: sa.bindparam(name) for name in changes[0] if name != 'rid'}),
                changes,
            )
        last = rows[-1].id


def upgrade() -> None:
    _recompute(problem, lambda body: {'excerpt': excerpt(body), 'body_html': render_markdown(body)})
    _recompute(comment, lambda body: {'body_html': render_markdown(body)})


def downgrade() -> None:
    # Data only: the previous rules' output is not kept, and the columns are unchanged. The
    # bodies are the source; what this rendered stays until they are written again.
    pass

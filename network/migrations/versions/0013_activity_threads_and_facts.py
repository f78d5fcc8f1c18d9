"""activity for every feature: a thread (type + id) and the facts it is described from

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:00:00.000000

Until now a row named its problem (`problem_id`) and carried its description as English prose
(`summary`), written when it happened. From here a row names its thread, of any kind, and the
facts a description is rendered from when read (`data`, JSON): the title as it was, a status,
an excerpt of what was written. Existing rows get their facts back from their prose (which
quoted the title as it was then); a row whose prose does not read as expected falls back to the
problem's title now.
"""

import re

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 2000
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

# How each verb's prose read when it was written, and how it reads again after a downgrade.
PROSE = {
    'posted': 'posted “{title}”',
    'edited': 'edited “{title}”',
    'status_changed': 'marked “{title}” {status}',
    'deleted': 'removed “{title}”',
    'signalled': 'a practice has “{title}” too',
    'withdrew': 'a practice no longer has “{title}”',
    'comment': 'commented on “{title}”',
    'idea': 'suggested an idea on “{title}”',
    'accepted': 'accepted an idea: “{title}” is solved',
}


def _reader(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape('{title}'), '(?P<title>.*)')
    pattern = pattern.replace(re.escape('{status}'), '(?P<status>[a-z ]+)')
    return re.compile(pattern, re.DOTALL)


READERS = {verb: _reader(template) for verb, template in PROSE.items()}

activity = sa.table(
    'activity',
    sa.column('id', sa.Integer),
    sa.column('verb', sa.String),
    sa.column('subject_type', sa.String),
    sa.column('subject_id', sa.Integer),
    sa.column('problem_id', sa.Integer),
    sa.column('summary', sa.Text),
    sa.column('thread_type', sa.String),
    sa.column('thread_id', sa.Integer),
    sa.column('data', JSON),
)
problem = sa.table(
    'problem', sa.column('id', sa.Integer), sa.column('title', sa.String),
    sa.column('excerpt', sa.Text),
)
comment = sa.table('comment', sa.column('id', sa.Integer), sa.column('body', sa.Text))


def facts(verb, summary, title_now, problem_excerpt, comment_body):
    """The facts of a row, from its prose and what the database holds now."""
    from network.safety import excerpt

    match = READERS[verb].fullmatch(summary) if verb in READERS else None
    data = {'title': match['title'] if match else (title_now or '')}
    if verb == 'status_changed' and match:
        data['status'] = match['status'].replace(' ', '_')
    if verb == 'posted' and problem_excerpt:  # as it reads now: the prose never held it
        data['excerpt'] = problem_excerpt
    if verb in ('comment', 'idea') and comment_body:
        data['excerpt'] = excerpt(comment_body)
    return data


def upgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('thread_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('data', JSON, nullable=True))

    conn = op.get_bind()
    rows = (
        sa.select(
            activity.c.id, activity.c.verb, activity.c.subject_type, activity.c.subject_id,
            activity.c.problem_id, activity.c.summary, problem.c.title, problem.c.excerpt,
            comment.c.body,
        )
        .outerjoin(problem, problem.c.id == activity.c.problem_id)
        .outerjoin(
            comment,
            sa.and_(activity.c.subject_type == 'comment', comment.c.id == activity.c.subject_id),
        )
        .order_by(activity.c.id)
    )
    update = (
        activity.update()
        .where(activity.c.id == sa.bindparam('row_id'))
        .values(
            thread_type=sa.bindparam('new_thread_type'),
            thread_id=sa.bindparam('new_thread_id'),
            data=sa.bindparam('new_data', type_=JSON),
        )
    )
    last = 0
    while True:
        batch = conn.execute(rows.where(activity.c.id > last).limit(BATCH)).all()
        if not batch:
            break
        conn.execute(update, [
            {
                'row_id': row.id,
                # Every row so far is about a problem; one without (none are known) keeps its
                # subject as its thread.
                'new_thread_type': 'problem' if row.problem_id is not None else row.subject_type,
                'new_thread_id': row.problem_id if row.problem_id is not None else row.subject_id,
                'new_data': facts(row.verb, row.summary, row.title, row.excerpt, row.body),
            }
            for row in batch
        ])
        last = batch[-1].id

    if conn.dialect.name == 'postgresql':
        # Deferred triggers of this upgrade's earlier steps fire now: PostgreSQL refuses to
        # alter a table with pending trigger events (dropping the key alters `problem` too).
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.alter_column('thread_type', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('thread_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('data', existing_type=JSON, nullable=False)
        batch_op.drop_index('ix_activity_problem_id')
        batch_op.drop_constraint('fk_activity_problem_id_problem', type_='foreignkey')
        batch_op.drop_column('problem_id')
        batch_op.drop_column('summary')
        batch_op.create_index(
            'ix_activity_thread_type_thread_id', ['thread_type', 'thread_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('problem_id', sa.Integer(), nullable=True))

    conn = op.get_bind()
    rows = sa.select(
        activity.c.id, activity.c.verb, activity.c.thread_type, activity.c.thread_id,
        activity.c.data,
    ).order_by(activity.c.id)
    update = (
        activity.update()
        .where(activity.c.id == sa.bindparam('row_id'))
        .values(problem_id=sa.bindparam('old_problem_id'), summary=sa.bindparam('old_summary'))
    )
    last = 0
    while True:
        batch = conn.execute(rows.where(activity.c.id > last).limit(BATCH)).all()
        if not batch:
            break
        conn.execute(update, [
            {
                'row_id': row.id,
                'old_problem_id': row.thread_id if row.thread_type == 'problem' else None,
                'old_summary': PROSE.get(row.verb, row.verb).format(
                    title=(row.data or {}).get('title', ''),
                    status=str((row.data or {}).get('status', '')).replace('_', ' '),
                ),
            }
            for row in batch
        ])
        last = batch[-1].id

    if conn.dialect.name == 'postgresql':
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in upgrade: no pending events here
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_thread_type_thread_id')
        batch_op.alter_column('summary', existing_type=sa.Text(), nullable=False)
        batch_op.create_foreign_key(
            'fk_activity_problem_id_problem', 'problem', ['problem_id'], ['id']
        )
        batch_op.create_index('ix_activity_problem_id', ['problem_id'], unique=False)
        batch_op.drop_column('data')
        batch_op.drop_column('thread_id')
        batch_op.drop_column('thread_type')

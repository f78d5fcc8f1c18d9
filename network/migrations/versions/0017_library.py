"""best-practice library

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:35:08.966284
"""

from alembic import op
import sqlalchemy as sa

import network.db  # noqa: F401  (custom column types)


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ONE_OF_THREE = (
    "(CASE WHEN problem_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN workstream_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN library_entry_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table('library_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'withdrawn', name='entrystatus', native_enum=False, length=16), nullable=False),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('review_by', sa.Date(), nullable=True),
    sa.Column('source_problem_id', sa.Integer(), nullable=True),
    sa.Column('source_workstream_id', sa.Integer(), nullable=True),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('adopted_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', network.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('adopted_count >= 0', name=op.f('ck_library_entry_adopted_count_not_negative')),
    sa.CheckConstraint('source_problem_id IS NULL OR source_workstream_id IS NULL', name=op.f('ck_library_entry_one_source')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_library_entry_author_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_library_entry_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['source_problem_id'], ['problem.id'], name=op.f('fk_library_entry_source_problem_id_problem'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_workstream_id'], ['workstream.id'], name=op.f('fk_library_entry_source_workstream_id_workstream'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_entry'))
    )
    with op.batch_alter_table('library_entry', schema=None) as batch_op:
        batch_op.create_index('ix_library_entry_adopted', ['adopted_count', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_library_entry_organisation_id_updated_at', ['organisation_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_entry_source_problem_id'), ['source_problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_entry_source_workstream_id'), ['source_workstream_id'], unique=False)
        batch_op.create_index('ix_library_entry_updated_at', ['updated_at', 'id'], unique=False)

    op.create_table('library_adoption',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('considering', 'trialling', 'adopted', 'adapted', 'declined', 'stopped', name='adoptionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['library_entry.id'], name=op.f('fk_library_adoption_entry_id_library_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['organisation.id'], name=op.f('fk_library_adoption_practice_id_organisation')),
    sa.ForeignKeyConstraint(['set_by_id'], ['person.id'], name=op.f('fk_library_adoption_set_by_id_person')),
    sa.PrimaryKeyConstraint('entry_id', 'practice_id', name=op.f('pk_library_adoption'))
    )
    with op.batch_alter_table('library_adoption', schema=None) as batch_op:
        batch_op.create_index('ix_library_adoption_practice_id', ['practice_id', 'entry_id'], unique=False)

    op.create_table('library_tag',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['library_entry.id'], name=op.f('fk_library_tag_entry_id_library_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'tag', name=op.f('pk_library_tag'))
    )
    with op.batch_alter_table('library_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_tag_tag'), ['tag'], unique=False)

    op.create_table('library_version',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'withdrawn', name='entrystatus', native_enum=False, length=16), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=True),
    sa.Column('created_at', network.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_library_version_author_id_person')),
    sa.ForeignKeyConstraint(['entry_id'], ['library_entry.id'], name=op.f('fk_library_version_entry_id_library_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'number', name=op.f('pk_library_version'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('library_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_library_entry_id_library_entry'), 'library_entry', ['library_entry_id'], ['id'], ondelete='CASCADE')
        # A report is about exactly one thread: a problem's, a workstream's or an entry's.
        batch_op.drop_constraint(batch_op.f('ck_report_one_thread'), type_='check')
        batch_op.create_check_constraint(op.f('ck_report_one_thread'), ONE_OF_THREE)
    if op.get_bind().dialect.name == 'postgresql':
        # Search (network/library/queries.py SEARCH_DOCUMENT: the same expression).
        op.execute(
            "CREATE INDEX ix_library_entry_search ON library_entry USING gin ("
            "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(summary, '') || ' ' "
            "|| coalesce(body, '')))"
        )



def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_library_entry_search")
    # Reports of entries go with them.
    op.execute("DELETE FROM report WHERE library_entry_id IS NOT NULL")
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_one_thread'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_report_one_thread'), '(problem_id IS NULL) <> (workstream_id IS NULL)'
        )
        batch_op.drop_constraint(batch_op.f('fk_report_library_entry_id_library_entry'), type_='foreignkey')
        batch_op.drop_column('library_entry_id')

    op.drop_table('library_version')
    with op.batch_alter_table('library_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_tag_tag'))

    op.drop_table('library_tag')
    with op.batch_alter_table('library_adoption', schema=None) as batch_op:
        batch_op.drop_index('ix_library_adoption_practice_id')

    op.drop_table('library_adoption')
    with op.batch_alter_table('library_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_library_entry_updated_at')
        batch_op.drop_index(batch_op.f('ix_library_entry_source_workstream_id'))
        batch_op.drop_index(batch_op.f('ix_library_entry_source_problem_id'))
        batch_op.drop_index('ix_library_entry_organisation_id_updated_at')
        batch_op.drop_index('ix_library_entry_adopted')

    op.drop_table('library_entry')

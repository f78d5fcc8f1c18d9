"""Migrations: one head, and a migrated schema that matches the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from network.db import Base, load_models
from network.migrate import alembic_config, include_name
from tests import factories


def test_migrations_have_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {heads}; merge them"


def test_models_match_the_migrated_schema(engine):
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_every_revision_downgrades_and_upgrades_again(database_url, tmp_path):
    """Only on a scratch SQLite database: the shared test database stays at head."""
    from alembic import command

    from network.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """An empty database on the backend under test, beside the shared one (left at head)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    with factories.fresh_database(
        database_url, f"{make_url(database_url).database}_scratch"
    ) as url:
        yield url


def test_0007_fills_in_the_excerpt_of_existing_problems(scratch_database_url):
    from network.db import make_engine
    from network.migrate import upgrade
    from network.safety import excerpt

    bodies = {
        1: "# Discharge letters\n\nThey arrive as **five** separate documents, see [the list](x).",
        2: "- one\n- two\n\n> quoted `code` ~~struck~~ | cell |",
        3: " ".join(f"Sentence {n} about referrals." for n in range(40)),
        4: "",
    }
    upgrade(scratch_database_url, revision="0006")
    engine = make_engine(scratch_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisation (id, kind, name, active, created_at, updated_at)"
                    " VALUES (1, 'federation', 'Federation A', :yes, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"yes": True},
            )
            conn.execute(
                text(
                    "INSERT INTO person (id, email, name, staff_group, is_superuser, is_active,"
                    " created_at) VALUES (1, 'ana@example.org', 'Ana', 'gp', :no, :yes,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"yes": True, "no": False},
            )
            conn.execute(
                text(
                    "INSERT INTO problem (id, board_id, author_id, anonymity, title, body,"
                    " body_html, tags, status, affected_count, comment_count, version, hidden,"
                    " created_at, updated_at, last_activity_at) VALUES (:id, 1, 1, 'none',"
                    " :title, :body, '', '[]', 'open', 0, 0, 1, :no, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [
                    {"id": pid, "title": f"Problem {pid}", "body": body, "no": False}
                    for pid, body in bodies.items()
                ],
            )
        upgrade(scratch_database_url)
        with engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, excerpt FROM problem")).all())
    finally:
        engine.dispose()
    assert stored == {pid: excerpt(body) for pid, body in bodies.items()}
    assert stored[1] == (
        "Discharge letters They arrive as five separate documents, see the list x ."
    )
    assert len(stored[3]) == 200 and stored[3].endswith("…")
    assert stored[4] == ""

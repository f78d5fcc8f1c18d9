"""Migrations: one head, and a migrated schema that matches the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from network.db import Base, load_models
from network.migrate import alembic_config, include_name


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

"""Schema migrations, run from code (the CLI, the tests, the container's start)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

# Made by migrations for one backend only (PostgreSQL full-text search), so not in the models.
MIGRATION_ONLY_INDEXES = frozenset({"ix_problem_search", "ix_library_entry_search"})


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Autogenerate and schema checks leave the migration-only indexes alone."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "network:migrations")
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "head"
) -> None:
    command.upgrade(alembic_config(url, connection), revision)

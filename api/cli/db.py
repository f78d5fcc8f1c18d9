"""`commons db`: the database schema (migrations)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from api.cli.operator import one_line
from api.context import commons
from network import migrate


@click.group(cls=AppGroup)
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the latest revision."""
    url = commons().settings.database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(url, revision=revision)
    except Exception as exc:
        raise click.ClickException(f"migration failed: {one_line(exc)}") from None
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True, show_default=True)
@with_appcontext
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration (for developers): compares the models with the migrated schema."""
    from alembic import command

    config = migrate.alembic_config(commons().settings.database_url)
    command.revision(config, message=message, autogenerate=autogenerate)

"""The `commons` command: a Flask CLI bound to the app factory, plus the operator commands, one
module per group. `commons worker` comes from the workers, as a plugin (the `flask.commands`
entry point in pyproject.toml), so that the API never imports them."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from api.app import create_app
from api.cli import db, issuer, ods, openapi, problems, seed, users


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Commons: the shared space of a primary care network."""


for command in (
    db.db,
    users.users,
    issuer.clients,
    issuer.token,
    issuer.keys,
    seed.seed,
    ods.import_ods,
    problems.problems,
    openapi.openapi,
):
    main.add_command(command)

"""`commons problems`: what an operator does to problem boards (abuse investigations)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from api.cli.operator import unit_of_work
from network.errors import DomainError
from network.problems import moderation


@click.group(cls=AppGroup)
def problems() -> None:
    """Problem boards."""


@problems.command("reveal-author")
@click.argument("problem_id", type=int)
@click.option("--superuser", "superuser_email", required=True, help="Your superuser email.")
@click.option("--reason", required=True, help="Why: recorded in the audit log.")
@with_appcontext
def problems_reveal_author(problem_id: int, superuser_email: str, reason: str) -> None:
    """Who posted a problem, even an anonymous one (abuse investigations; audited)."""
    with unit_of_work() as uow:
        try:
            found = moderation.reveal_author(
                uow, problem_id, superuser_email=superuser_email, reason=reason
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
    for key, value in found.items():
        click.echo(f"{key}: {value}")

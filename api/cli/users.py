"""`commons users`: creating people, their two-step sign-in, and stopping them signing in."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from api.cli.operator import unit_of_work
from network.errors import DomainError
from network.people import services as people
from network.people.models import StaffGroup
from network.signin import totp as signin


@click.group(cls=AppGroup)
def users() -> None:
    """People."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", default=None, help="Leave out to let them set one when invited.")
@click.option("--superuser", is_flag=True)
@click.option(
    "--staff-group",
    type=click.Choice([g.value for g in StaffGroup]),
    default=StaffGroup.other.value,
    show_default=True,
)
@with_appcontext
def users_create(
    email: str, name: str, password: str | None, superuser: bool, staff_group: str
) -> None:
    """Create a person."""
    with unit_of_work() as uow:
        try:
            person = people.create(
                uow,
                email=email,
                name=name,
                password=password,
                is_superuser=superuser,
                staff_group=StaffGroup(staff_group),
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
        click.echo(
            f"created person {person.id} <{person.email}>{' (superuser)' if superuser else ''}"
        )


@users.command("mfa")
@click.argument("email")
@click.option("--code", default=None, help="A code from the app, to confirm the set-up.")
@with_appcontext
def users_mfa(email: str, code: str | None) -> None:
    """Set up two-step sign-in for a person (superusers must have it): without --code, print a
    new secret to add to an authenticator app; with --code, confirm it and turn it on."""
    with unit_of_work() as uow:
        try:
            person = people.find_by_email(uow, email)
            if person is None:
                raise click.ClickException(f"no person with email {email}")
            if code is None:
                secret, uri = signin.start_totp(uow, person)
                uow.commit()
                click.echo(f"secret: {secret}\notpauth: {uri}")
                click.echo(f"then: commons users mfa {person.email} --code CODE")
                return
            signin.confirm_totp(uow, person, code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
        click.echo(f"two-step sign-in is on for {person.email}")


@users.command("deactivate")
@click.argument("email")
@with_appcontext
def users_deactivate(email: str) -> None:
    """Stop a person signing in; their sign-ins end at once and their content stays."""
    with unit_of_work() as uow:
        try:
            person = people.deactivate(uow, email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
        click.echo(f"deactivated {person.email}; their refresh tokens are revoked")

"""The built-in issuer's commands: `commons clients` (OAuth clients), `commons keys` (signing
keys) and `commons token` (an access token for a person, for scripts and benchmarks)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from api.auth import keys as signing_keys
from api.auth.tokens import ACCESS_TOKEN_MINUTES, mint_access_token
from api.cli.operator import unit_of_work
from api.context import commons
from network.audit import services as audit
from network.errors import DomainError
from network.people import services as people
from network.signin import clients as signin

CLI_CLIENT_ID = "commons-cli"


@click.group(cls=AppGroup)
def clients() -> None:
    """OAuth clients of the built-in issuer."""


@clients.command("create")
@click.option("--name", required=True)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Exact redirect URI; repeat for several.",
)
@click.option(
    "--public/--confidential",
    default=True,
    show_default=True,
    help="A single-page app is public (PKCE, no secret); a server is confidential.",
)
@with_appcontext
def clients_create(name: str, redirect_uris: tuple[str, ...], public: bool) -> None:
    """Register a client and print its id (and, for a confidential client, its secret, once)."""
    with unit_of_work() as uow:
        try:
            client, secret = signin.create_client(
                uow, name=name, redirect_uris=list(redirect_uris), confidential=not public
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
    click.echo(f"client_id: {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")


@click.command("token")
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option(
    "--minutes", type=click.IntRange(1, 24 * 60), default=ACCESS_TOKEN_MINUTES, show_default=True
)
@with_appcontext
def token(emails: tuple[str, ...], minutes: int) -> None:
    """Print an access token for the person with each EMAIL, one per line, in order (nothing is
    printed unless every EMAIL is an active person)."""
    with unit_of_work() as uow:
        subjects = []
        for email in emails:
            try:
                person = people.find_by_email(uow, email)
            except DomainError as exc:
                raise click.ClickException(exc.message) from None
            if person is None or not person.is_active:
                raise click.ClickException(f"no active person with email {email}")
            subjects.append(str(person.id))
    settings = commons().settings
    for subject in subjects:
        click.echo(
            mint_access_token(
                commons().keys,
                issuer=settings.issuer,
                audience=settings.audience,
                subject=subject,
                client_id=CLI_CLIENT_ID,
                scope="openid profile email",
                minutes=minutes,
            )
        )


@click.group(cls=AppGroup)
def keys() -> None:
    """The issuer's signing keys."""


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Add a new signing key; the old ones stay published so their tokens verify until expiry."""
    path = commons().settings.signing_key_file
    try:
        kid = signing_keys.rotate(path)
    except signing_keys.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    with unit_of_work() as uow:
        audit.record(
            uow, "keys.rotated", actor_id=None, actor_label="operator", details={"kid": kid}
        )
        uow.commit()
    click.echo(f"new signing key {kid} in {path}; running processes sign with it within seconds")

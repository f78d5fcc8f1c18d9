"""The `commons` command: a Flask CLI bound to the app factory, plus the operator commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from api.app import create_app
from api.auth import keys as signing_keys
from api.auth.tokens import ACCESS_TOKEN_MINUTES, mint_access_token
from api.context import commons
from network import bench, migrate, seed
from network.audit import services as audit
from network.errors import DomainError
from network.organisations import ods
from network.people import services as people
from network.people.models import StaffGroup
from network.problems import moderation
from network.signin import services as signin
from network.uow import Origin, UnitOfWork
from workers.cli import worker as worker_command

CLI_CLIENT_ID = "commons-cli"


def _uow() -> UnitOfWork:
    c = commons()
    return UnitOfWork(c.session_factory, c.dispatch, Origin("cli"))


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Commons: the shared space of a primary care network."""


@main.group()
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
        raise click.ClickException(f"migration failed: {_one_line(exc)}") from None
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


@main.group()
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
    with _uow() as uow:
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
    with _uow() as uow:
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
    with _uow() as uow:
        try:
            person = people.deactivate(uow, email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
        click.echo(f"deactivated {person.email}; their refresh tokens are revoked")


@main.group()
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
    with _uow() as uow:
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


@main.command("token")
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option(
    "--minutes", type=click.IntRange(1, 24 * 60), default=ACCESS_TOKEN_MINUTES, show_default=True
)
@with_appcontext
def token(emails: tuple[str, ...], minutes: int) -> None:
    """Print an access token for the person with each EMAIL, one per line, in order (nothing is
    printed unless every EMAIL is an active person)."""
    with _uow() as uow:
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


@main.group()
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
    with _uow() as uow:
        audit.record(
            uow, "keys.rotated", actor_id=None, actor_label="operator", details={"kid": kid}
        )
        uow.commit()
    click.echo(f"new signing key {kid} in {path}; running processes sign with it within seconds")


@main.group()
def seed_group() -> None:
    """Example data."""


main.add_command(seed_group, "seed")


@seed_group.command("demo")
@with_appcontext
def seed_demo() -> None:
    """A small demo network: a federation, two PCNs, five practices and their people."""
    with _uow() as uow:
        summary = seed.seed_demo(uow, progress=click.echo)
        uow.commit()
    if summary.created:
        click.echo(f"seeded the demo network ({summary.people} people)")
    else:
        click.echo(f"the demo network is already there ({summary.people} people); nothing changed")
    click.echo(f"demo app client_id: {summary.client_id} (public, PKCE)")


@seed_group.command("bench")
@click.option(
    "--scale",
    type=click.Choice(["S", "M", "L", "T"], case_sensitive=False),
    default="S",
    show_default=True,
    help="S: 60 practices, 10,000 problems; M: 3x S; L: 300 practices, 100,000 problems. "
    "T is a tiny one for tests.",
)
@with_appcontext
def seed_bench(scale: str) -> None:
    """A large, realistic network for benchmarks (bulk inserts; progress on standard error)."""
    scale = scale.upper()
    try:
        with _uow() as uow:
            summary = bench.seed_bench(
                uow, scale, progress=lambda message: click.echo(message, err=True)
            )
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"seeding failed: {_one_line(exc)}") from None
    rows = ", ".join(f"{n:,} {table}" for table, n in summary.counts.items())
    click.echo(f"seeded {bench.federation_name(scale)!r} in {summary.seconds:.1f}s: {rows}")
    click.echo(f"practice member for benchmarks: {summary.member_email}")


@main.command("import-ods")
@click.option(
    "--practices",
    "practices_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="epraccur.csv: GP practices (no header, 27 columns).",
)
@click.option(
    "--pcns",
    "pcns_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PCN core partner details as CSV; without it practices go directly under the federation.",
)
@click.option("--federation", "federation_name", required=True, help="Created when there is none.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_ods(
    practices_file: Path, pcns_file: Path | None, federation_name: str, as_json: bool
) -> None:
    """Import practices and PCNs from NHS ODS files into a federation (idempotent)."""
    with _uow() as uow:
        try:
            summary = ods.import_ods(
                uow,
                federation_name=federation_name,
                practices_file=practices_file,
                pcns_file=pcns_file,
                progress=lambda message: click.echo(message, err=True),
            )
            counts = summary.as_dict()
            audit.record(
                uow,
                "ods.imported",
                actor_id=None,
                actor_label="operator",
                organisation_id=summary.federation_id,
                details={
                    key: counts[key] for key in ("created", "updated", "unchanged") if key in counts
                },
            )
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"import failed: {_one_line(exc)}") from None
    if as_json:
        click.echo(orjson.dumps(summary.as_dict()).decode())
        return
    for line in _import_summary_lines(summary):
        click.echo(line)


def _import_summary_lines(summary: ods.ImportSummary, shown: int = 10) -> list[str]:
    federation = "created" if summary.federation_created else "existing"
    lines = [f"Federation {summary.federation_name!r} ({federation}, id {summary.federation_id})"]
    for label, counts in (("practices", summary.practices), ("PCNs", summary.pcns)):
        lines.append(
            f"  {label + ':':<11}{counts.created:>6,} created {counts.updated:>6,} updated "
            f"{counts.unchanged:>6,} unchanged"
        )
    lines.append(f"  {'skipped:':<11}{len(summary.skipped):>6,}")
    for reason, codes in summary.skipped_by_reason().items():
        listed = ", ".join(codes[:shown])
        if len(codes) > shown:
            listed += f" and {len(codes) - shown:,} more (--json lists every code)"
        lines.append(f"    {reason} ({len(codes):,}): {listed}")
    if summary.changed:
        lines.append(
            f"Done: {summary.created:,} created, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged, {len(summary.skipped):,} skipped."
        )
    else:
        lines.append(
            f"Nothing changed: all {summary.unchanged:,} organisations were already up to date "
            f"({len(summary.skipped):,} skipped)."
        )
    return lines


@main.group()
def problems() -> None:
    """Problem boards."""


@problems.command("reveal-author")
@click.argument("problem_id", type=int)
@click.option("--superuser", "superuser_email", required=True, help="Your superuser email.")
@click.option("--reason", required=True, help="Why: recorded in the audit log.")
@with_appcontext
def problems_reveal_author(problem_id: int, superuser_email: str, reason: str) -> None:
    """Who posted a problem, even an anonymous one (abuse investigations; audited)."""
    with _uow() as uow:
        try:
            found = moderation.reveal_author(
                uow, problem_id, superuser_email=superuser_email, reason=reason
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
    for key, value in found.items():
        click.echo(f"{key}: {value}")


@main.group()
def openapi() -> None:
    """The OpenAPI document."""


@openapi.command("write")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def openapi_write(path: str) -> None:
    """Export the OpenAPI document to PATH (- for standard output)."""
    spec = current_app.extensions["commons_api"].spec.to_dict()
    data = orjson.dumps(spec, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(data)
        return
    Path(path).write_bytes(data)
    click.echo(f"wrote {path}")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


main.add_command(worker_command)

"""`commons seed`: example data, the demo network and the benchmark data set."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from api.cli.operator import one_line, unit_of_work
from network.errors import DomainError
from network.seed import bench, demo


@click.group("seed", cls=AppGroup)
def seed() -> None:
    """Example data."""


@seed.command("demo")
@with_appcontext
def seed_demo() -> None:
    """A small demo network: a federation, two PCNs, five practices and their people."""
    with unit_of_work() as uow:
        summary = demo.seed_demo(uow, progress=click.echo)
        uow.commit()
    if summary.created:
        click.echo(f"seeded the demo network ({summary.people} people)")
    else:
        click.echo(f"the demo network is already there ({summary.people} people); nothing changed")
    click.echo(f"demo app client_id: {summary.client_id} (public, PKCE)")


@seed.command("bench")
@click.option(
    "--scale",
    type=click.Choice(list(bench.SCALES), case_sensitive=False),
    default="S",
    show_default=True,
    help="S: 60 practices, 10,000 problems; M: 3x S; L: 300 practices, 100,000 problems; "
    "N: every active GP practice in England (6,830, from the NHS epraccur file) in 42 "
    "federations, 170,000 people, 400,000 problems. T and NT are tiny ones for tests.",
)
@click.option(
    "--epraccur",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="N's practices from this epraccur file (plain or .gz) instead of the one shipped.",
)
@with_appcontext
def seed_bench(scale: str, epraccur: Path | None) -> None:
    """A large, realistic network for benchmarks (bulk inserts; progress on standard error)."""
    scale = scale.upper()
    try:
        with unit_of_work() as uow:
            summary = bench.seed_bench(
                uow,
                scale,
                progress=lambda message: click.echo(message, err=True),
                epraccur=epraccur,
            )
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"seeding failed: {one_line(exc)}") from None
    rows = ", ".join(f"{n:,} {table}" for table, n in summary.counts.items())
    click.echo(f"seeded {bench.federation_name(scale)!r} in {summary.seconds:.1f}s: {rows}")
    click.echo(f"practice member for benchmarks: {summary.member_email}")

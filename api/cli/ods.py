"""`commons import-ods`: practices and PCNs from NHS ODS files, with a summary for the operator."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from api.cli.operator import one_line, unit_of_work
from network.audit import services as audit
from network.errors import DomainError
from network.organisations import ods


@click.command("import-ods")
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
    with unit_of_work() as uow:
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
            raise click.ClickException(f"import failed: {one_line(exc)}") from None
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

"""`commons worker`: an RQ worker on the named queues.

A plugin of the `commons` command (the `flask.commands` entry point in pyproject.toml): it reads
its settings from the environment, as the API does, and needs nothing of the API."""

from __future__ import annotations

import click
from rq import Worker

from dispatch import runtime
from dispatch.queues import QUEUES, connection


@click.command("worker")
@click.option(
    "--queue", "queues", multiple=True, type=click.Choice(QUEUES), help="Default: every queue."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run jobs from Redis (REDIS_URL) until stopped."""
    settings = runtime.current().settings
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs already run inline")
    conn = connection(settings)
    try:
        conn.ping()
    except Exception as exc:
        raise click.ClickException(f"Redis at REDIS_URL does not answer: {exc}") from None
    names = list(queues or QUEUES)
    click.echo(f"worker on queues {', '.join(names)}", err=True)
    Worker(names, connection=conn).work(burst=burst, with_scheduler=True)


@click.group("digests")
def digests() -> None:
    """Digests: one email per person per period."""


@digests.command("run")
@click.option("--now", "everyone", is_flag=True, help="Everyone who takes digests, due or not.")
def run_digests(everyone: bool) -> None:
    """Build and send the digests that are due, and the agendas of huddles in the next two
    hours (to the file outbox unless MAIL_URL is set)."""
    from workers import digests as sending

    settings = runtime.current().settings
    where = settings.mail_url or str(settings.outbox_path)
    click.echo(f"digests: {'everyone' if everyone else 'those due'}, to {where}", err=True)
    from workers import notifications

    summary = sending.run(everyone=everyone, echo=lambda line: click.echo(line, err=True))
    click.echo(
        f"{summary.due} due: {summary.sent} sent, {summary.empty} with nothing new, "
        f"{summary.skipped} already claimed, {len(summary.failed)} failed"
    )
    agendas = notifications.send_agendas()
    click.echo(
        f"agendas of huddles in the next two hours: {agendas.get('sent', 0)} sent, "
        f"{agendas.get('failed', 0)} failed"
    )
    if summary.failed:
        raise click.ClickException(
            f"not sent to person {', '.join(summary.failed)} (see `digest.error`)"
        )
    if agendas.get("failed"):
        raise click.ClickException(
            f"{agendas['failed']} agendas not sent (see `notification.error`)"
        )

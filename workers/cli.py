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

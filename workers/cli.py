"""`commons worker`: an RQ worker on the named queues."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from rq import Worker

from api.context import commons
from workers import runtime
from workers.queues import QUEUES, connection


@click.command("worker")
@click.option(
    "--queue", "queues", multiple=True, type=click.Choice(QUEUES), help="Default: every queue."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run jobs from Redis (REDIS_URL) until stopped."""
    settings = commons().settings
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs already run inline")
    runtime.configure(settings, commons().session_factory)
    conn = connection(settings)
    try:
        conn.ping()
    except Exception as exc:
        raise click.ClickException(f"Redis at REDIS_URL does not answer: {exc}") from None
    names = list(queues or QUEUES)
    click.echo(f"worker on queues {', '.join(names)}", err=True)
    Worker(names, connection=conn).work(burst=burst, with_scheduler=True)

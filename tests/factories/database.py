"""Databases of their own, for tests that need commits another connection can see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database(server_url: str, name: str, *, timezone: str | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database called `name` on `server_url`'s server (one a crashed
    run left behind is dropped first), dropped afterwards; yields its URL. `timezone` sets the
    database's default session time zone."""
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            if timezone:
                conn.execute(text(f"ALTER DATABASE \"{name}\" SET TimeZone = '{timezone}'"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(drop)
    finally:
        admin.dispose()

"""Fixtures shared by the integration tests."""

import pytest

from tests import factories


@pytest.fixture
def committed_database_url(database_url):
    """A migrated PostgreSQL database of its own, where two connections see each other's
    commits (the shared test database runs each test in a transaction that never commits)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    from sqlalchemy.engine import make_url

    from network.migrate import upgrade

    with factories.fresh_database(database_url, f"{make_url(database_url).database}_races") as url:
        upgrade(url)
        yield url

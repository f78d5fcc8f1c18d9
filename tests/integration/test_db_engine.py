"""`make_engine` on PostgreSQL: sessions in UTC whatever the server's default, datetimes read
back aware and in UTC, and pooled connections pinged only after sitting idle, a dead one
replaced before anyone sees it. (SQLite has neither time zones nor server connections.)"""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from network import db
from network.db import UTCDateTime, make_engine
from tests import factories

# Far from UTC all year, so a session left in it cannot pass for UTC.
SERVER_ZONE = "Pacific/Kiritimati"  # UTC+14


@pytest.fixture
def pg_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    return database_url


@pytest.fixture
def zoned_database_url(pg_url):
    """A scratch database whose sessions default to SERVER_ZONE."""
    name = f"{make_url(pg_url).database}_zoned"
    with factories.fresh_database(pg_url, name, timezone=SERVER_ZONE) as url:
        yield url


@pytest.fixture
def admin(pg_url):
    """Another connection to the server, to do to the pool's connections what the world does."""
    engine = create_engine(pg_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pings(monkeypatch):
    """`pings(engine)` -> the DBAPI connections its dialect pinged from now on."""

    def spy_on(engine) -> list:
        calls = []
        real = engine.dialect.do_ping

        def do_ping(dbapi_connection):
            calls.append(dbapi_connection)
            return real(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", do_ping)
        return calls

    return spy_on


def _backend_pid(conn) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_sessions_are_in_utc_whatever_the_servers_default(zoned_database_url):
    plain = create_engine(zoned_database_url, poolclass=NullPool)
    engine = make_engine(zoned_database_url)
    try:
        with plain.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == SERVER_ZONE
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
    finally:
        plain.dispose()
        engine.dispose()


def test_datetimes_are_read_back_aware_and_in_utc(zoned_database_url):
    stamps = Table(
        "stamps",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    written = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    engine = make_engine(zoned_database_url)
    try:
        with engine.begin() as conn:
            stamps.create(conn)
            conn.execute(insert(stamps).values(id=1, at=written))
        with engine.connect() as conn:
            read = conn.execute(select(stamps.c.at)).scalar_one()
            server_now = conn.execute(
                text("SELECT now() AS at").columns(at=UTCDateTime())
            ).scalar_one()
    finally:
        engine.dispose()
    assert read == written
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert (read.hour, read.minute) == (4, 0)
    assert server_now.utcoffset() == timedelta(0)
    assert abs(server_now - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_connection_returned_moments_ago_is_not_pinged(pg_url, pings):
    engine = make_engine(pg_url)
    try:
        calls = pings(engine)
        pids = set()
        for _ in range(5):
            with engine.connect() as conn:
                pids.add(_backend_pid(conn))
        assert len(pids) == 1, "the pool should have re-used its one connection"
        assert calls == []
    finally:
        engine.dispose()


def test_a_connection_idle_in_the_pool_is_pinged_before_use(pg_url, pings, monkeypatch):
    from psycopg.pq import TransactionStatus

    engine = make_engine(pg_url)
    try:
        calls = pings(engine)
        with engine.connect() as conn:
            first = _backend_pid(conn)
        assert calls == [], "a new connection needs no ping"
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            dbapi_connection = conn.connection.dbapi_connection
            # The ping leaves no transaction open behind it.
            assert dbapi_connection.info.transaction_status is TransactionStatus.IDLE
            assert _backend_pid(conn) == first
        assert calls == [dbapi_connection]
    finally:
        engine.dispose()


def _terminate(admin, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        deadline = time.monotonic() + 10
        gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        while conn.execute(gone, {"pid": pid}).scalar_one():
            assert time.monotonic() < deadline, f"backend {pid} did not exit"
            time.sleep(0.02)


def test_an_idle_connection_whose_backend_died_is_replaced_at_checkout(
    pg_url, admin, pings, monkeypatch
):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            dead = _backend_pid(conn)
        _terminate(admin, dead)
        calls = pings(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert _backend_pid(conn) != dead
        assert len(calls) >= 1
    finally:
        engine.dispose()


def test_without_the_idle_ping_a_dead_connection_reaches_the_caller(pg_url, admin, monkeypatch):
    """The test above is not vacuous: unpinged, the same dead connection fails the statement."""
    from sqlalchemy.exc import DBAPIError

    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            dead = _backend_pid(conn)
        _terminate(admin, dead)
        with pytest.raises(DBAPIError) as failure, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert failure.value.connection_invalidated
    finally:
        engine.dispose()


def test_pool_pre_ping_replaces_the_idle_ping(pg_url, pings, monkeypatch):
    """Asked for explicitly, SQLAlchemy's own ping runs on every checkout instead."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_engine(pg_url, pool_pre_ping=True)
    try:
        calls = pings(engine)
        for _ in range(3):
            with engine.connect() as conn:
                _backend_pid(conn)
        assert len(calls) == 2  # every checkout of a connection that was already in the pool
    finally:
        engine.dispose()

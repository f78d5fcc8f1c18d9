"""Declarative base, engine and session factories."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    MetaData,
    Select,
    any_,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            # psycopg already returns aware datetimes, in the session's time zone, which
            # make_engine sets to UTC: nothing to do per value (lists read thousands).
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


# How long a request waits for a row another transaction holds (PostgreSQL) or for SQLite's
# write lock, before it answers 503 with Retry-After: well inside gunicorn's 30 s timeout, which
# would otherwise kill the process and answer 500.
LOCK_TIMEOUT_SECONDS = 5


def make_engine(url: str, *, lock_timeout: float | None = None, **kwargs) -> Engine:
    """An engine for `url`. `lock_timeout` (seconds; PostgreSQL) bounds each wait for a lock, so
    a request blocked by a long transaction fails cleanly (SQLSTATE 55P03) instead of hanging."""
    # JSON columns (tags on every listed problem) through orjson, several times faster.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    elif url.startswith("postgresql"):
        # Datetimes come back in the session's time zone: UTC, whatever the server's default
        # (added to any options the caller gives; a pooler in front must pass it through).
        connect_args = dict(kwargs.get("connect_args") or {})
        options = f"{connect_args.get('options', '')} -c TimeZone=UTC"
        if lock_timeout is not None:
            options += f" -c lock_timeout={int(lock_timeout * 1000)}"
        connect_args["options"] = options.strip()
        kwargs["connect_args"] = connect_args
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine)
    return engine


# A pooled connection idle longer than this is pinged before use (see `_ping_after_idle`).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_after_idle(engine: Engine) -> None:
    """Check a connection before use when it has sat idle in the pool: the server may have
    restarted or a firewall dropped it meanwhile. SQLAlchemy's `pool_pre_ping` pings on every
    checkout, one more round trip for every request; a connection returned moments ago
    (a busy server) is not pinged. A dead one is replaced before the request sees it."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("checked_in_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or returned moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and checks out another (or connects anew).
                raise DisconnectionError(str(error)) from error
            raise


def _sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT: let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # A deferred transaction that reads first and then writes cannot wait for the write lock:
    # SQLite refuses the upgrade at once ("database is locked") whatever the busy timeout, since
    # the snapshot it read may be stale. A unit that will write takes the lock when it begins,
    # where the busy timeout applies, so writers queue instead of failing.
    if connection.get_execution_options().get(WRITES_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


WRITES_OPTION = "commons_writes"
_writer_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def writer_bind(engine: Engine) -> Engine:
    """The engine a unit that writes uses: on SQLite its transactions begin IMMEDIATE (they
    hold the write lock from the start); elsewhere the engine itself (PostgreSQL's row locks
    and constraints order writers)."""
    if engine.dialect.name != "sqlite":
        return engine
    writer = _writer_engines.get(engine)
    if writer is None:
        writer = _writer_engines[engine] = engine.execution_options(**{WRITES_OPTION: True})
    return writer


def writer_session(session_factory: sessionmaker) -> Session:
    """A session of `session_factory` for a transaction that writes (`writer_bind`); a factory
    bound to one connection (the tests') is used as it is."""
    bind = getattr(session_factory, "kw", {}).get("bind")
    if isinstance(bind, Engine):
        return session_factory(bind=writer_bind(bind))
    return session_factory()


def insert_or_get(session: Session, row: T, find: Callable[[], T | None]) -> tuple[T, bool]:
    """Insert `row`, or return the row that a simultaneous request inserted with the same
    unique key first: (row, created). Looking first and inserting after is not enough — two
    requests both look, both find nothing, both insert — so the unique constraint decides, in a
    savepoint that keeps the rest of the transaction. `find` looks the winner up afterwards (it
    has committed: PostgreSQL makes the loser wait for it; SQLite runs one writer at a time)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = find()
        if existing is None:  # another constraint failed: not a race for this key
            raise
        return existing, False
    return row, True


def insert_unless_present(session: Session, model: type[T], values: Mapping[str, Any]) -> T | None:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING` the new row, as one statement: the row
    (in the session) when it was inserted, None when the table already holds one with the same
    primary key or unique key. For a table that a simultaneous request may insert into with the
    same key, where `insert_or_get` would cost a lookup and a savepoint's two round trips more.
    A row inserted by a transaction that has not committed yet makes PostgreSQL wait for it
    (then nothing if it commits, the insert if it rolls back); SQLite runs one writer at a
    time. Any other constraint (a foreign key, a check) still raises."""
    statement = insert_into(session, model).values(dict(values))
    return session.scalars(statement.on_conflict_do_nothing().returning(model)).one_or_none()


def insert_into(session: Session, model: type) -> PostgresqlInsert | SqliteInsert:
    """`insert(model)` in the session's database's dialect, for its `ON CONFLICT` clauses
    (PostgreSQL and SQLite write DO NOTHING the same way)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(model)
    return sqlite_insert(model)


def among(
    session: Session, column: ColumnElement | InstrumentedAttribute, values: Iterable
) -> ColumnElement[bool]:
    """`column IN values`, for a list that may be long (a digest batch's people, boards or
    thousands of threads). On PostgreSQL one array parameter, `column = ANY(%(x)s)`: the
    statement's text is the same whatever the count, so SQLAlchemy does not write, nor the
    driver parse, one placeholder per value (measured on a batch of 200 digests: more than the
    queries took to run); the planner reads both forms the same way. Elsewhere an IN list."""
    wanted = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, wanted, type_=ARRAY(column.type)))
    return column.in_(wanted)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def load_models() -> None:
    """Import every model module so the metadata is complete (migrations, schema checks)."""
    from network import content as _content  # noqa: F401
    from network import outbox as _outbox  # noqa: F401
    from network.activity import models as _activity  # noqa: F401
    from network.audit import models as _audit  # noqa: F401
    from network.digests import models as _digests  # noqa: F401
    from network.library import models as _library  # noqa: F401
    from network.measures import models as _measures  # noqa: F401
    from network.organisations import models as _organisations  # noqa: F401
    from network.people import models as _people  # noqa: F401
    from network.problems import models as _problems  # noqa: F401
    from network.signin import models as _signin  # noqa: F401
    from network.workstreams import models as _workstreams  # noqa: F401


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def commit_without_waiting_for_disk(session: Session) -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL's
    `synchronous_commit = off`, for this transaction only; nothing on SQLite). The change is
    atomic and visible at once as ever; only a crash of the database server itself (not of
    the client) may lose the last fraction of a second of such commits. For marks that are
    frequent and may be repeated (a digest marked sent: losing the mark means one repeat under
    the same Message-ID), never for anything a person asked for."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


@contextmanager
def statements_committing_alone(session: Session) -> Iterator[Connection | None]:
    """On PostgreSQL, a connection of the session's engine on which each statement commits by
    itself, without waiting for the disk (`commit_without_waiting_for_disk`, for all of them):
    one round trip a statement, where a transaction of its own costs four (BEGIN, SET LOCAL,
    the statement, COMMIT). None on SQLite and where the session is bound to one connection
    (the tests'): the caller then commits a transaction of its own per change, as before.

    For marks that are frequent, small and may be repeated, such as a digest marked sent the
    moment the mail server took it."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        yield None
        return
    with bind.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET synchronous_commit TO OFF")
        try:
            yield conn
        finally:
            try:  # back to the pool as it came
                conn.exec_driver_sql("RESET synchronous_commit")
            except Exception:
                conn.invalidate()


class DriverSelect:
    """A Core SELECT that a hot read runs on the database driver's own connection: compiled by
    SQLAlchemy once per dialect, each run expands its parameters (expanding and literal ones
    written in, as SQLAlchemy would) and hands the same SQL to the driver, without SQLAlchemy's
    execution and result machinery (which costs more than the query on a page of 25 rows).

    Only for a statement whose columns need no conversion on the way out on that dialect (no
    result processor: ints, strings, JSON, UTC datetimes on PostgreSQL, enums read as text);
    `compiled_for` says None otherwise and `UnitOfWork.read` runs it through SQLAlchemy. Rows
    are tuples, read by position (a Row reads the same way)."""

    # Runs expanded already, per statement: a reader reads the same page again and again.
    EXPANDED_MAX = 1024

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self._compiled: dict[str, SQLCompiler | None] = {}
        self._expanded: dict[tuple, tuple[str, dict]] = {}

    def compiled_for(self, dialect: Dialect) -> SQLCompiler | None:
        if dialect.name not in self._compiled:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            plain = not compiled.escaped_bind_names and all(
                column.type.dialect_impl(dialect).result_processor(dialect, None) is None
                for column in self.statement.selected_columns
            )
            self._compiled[dialect.name] = compiled if plain else None
        return self._compiled[dialect.name]

    def expand(self, compiled: SQLCompiler, params: Mapping[str, Any] | None) -> tuple[str, dict]:
        """The SQL and the driver's parameters for one run, as SQLAlchemy would send them (the
        same parameters give the same SQL: remembered, at most EXPANDED_MAX of them)."""
        try:
            # Types too: equal values of other types (1 and True, 1 and 1.0) may render apart.
            key: tuple | None = (
                id(compiled),
                *(
                    (name, value, type(value), *map(type, value))
                    if isinstance(value, tuple)
                    else (name, value, type(value))
                    for name, value in sorted((params or {}).items())
                ),
            )
            hash(key)
        except TypeError:  # a value that is not hashable: expanded every time
            key = None
        found = self._expanded.get(key) if key is not None else None
        if found is not None:
            return found
        state = compiled.construct_expanded_state(dict(params or {}), escape_names=False)
        processors = state.processors
        values = {
            name: processors[name](value) if name in processors else value
            for name, value in state.parameters.items()
        }
        if key is not None:
            if len(self._expanded) >= self.EXPANDED_MAX:
                self._expanded.clear()
            self._expanded[key] = (state.statement, values)
        return state.statement, values

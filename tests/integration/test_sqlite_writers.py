"""SQLite, the embedded default: a unit of work that writes takes the write lock when it begins
(BEGIN IMMEDIATE), so a second writer waits its turn (busy timeout) instead of failing with
"database is locked" when it reads first and then writes; units that only read do not lock."""

import threading

import pytest
from sqlalchemy import event, text

from network.db import make_engine, make_session_factory
from network.uow import UnitOfWork


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    yield engine
    engine.dispose()


def _begins(engine, writes: bool) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with UnitOfWork(make_session_factory(engine), writes=writes) as uow:
            uow.session.execute(text("SELECT n FROM counter"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_writing_unit_begins_immediate_and_a_reading_one_does_not(sqlite_engine):
    assert _begins(sqlite_engine, writes=True) == ["BEGIN IMMEDIATE"]
    assert _begins(sqlite_engine, writes=False) == ["BEGIN"]


def test_read_then_write_units_side_by_side_all_succeed(sqlite_engine):
    """Each unit reads the counter, pauses, then writes it: with deferred transactions the
    later writers fail at once ("database is locked"); begun IMMEDIATE, they queue."""
    factory = make_session_factory(sqlite_engine)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def bump():
        try:
            start.wait()
            with UnitOfWork(factory) as uow:
                n = uow.session.execute(text("SELECT n FROM counter")).scalar_one()
                threading.Event().wait(0.02)
                uow.session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
                uow.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM counter").scalar_one() == 8  # none lost

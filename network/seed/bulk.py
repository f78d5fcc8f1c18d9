"""Writing generated rows in bulk, by column name: PostgreSQL `COPY ... FROM STDIN` through
psycopg in the caller's transaction, elsewhere SQLAlchemy Core `insert()` in batches.

A row is a mapping of column name to value; every row of a table has the columns of its first
row. JSON columns are found from the table, not named by the caller."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, KeysView, Mapping
from itertools import chain, islice
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON, Connection, Table, func, insert, select, text

from network.content import VERSIONED_TABLES
from network.db import Base

BATCH = 10_000

Row = dict[str, Any]


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # each of our mapped classes has one table
    return table


class BulkWriter:
    """Bulk rows into one connection, counting the rows written to each table."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        self._held = False

    def next_id(self, model: type[Base]) -> int:
        """The first id after those the table holds (the generator assigns ids, so that rows
        refer to each other without round trips)."""
        table = table_of(model)
        return (self.conn.scalar(select(func.max(table.c.id))) or 0) + 1

    def write(self, model: type[Base], rows: Iterable[Mapping[str, Any]]) -> int:
        """Write `rows` into the model's table; returns how many there were."""
        table = table_of(model)
        it = iter(rows)
        first = next(it, None)
        n = 0
        if first is not None:
            unknown = set(first) - set(table.c.keys())
            if unknown:
                raise ValueError(f"{table.name} has no column {', '.join(sorted(unknown))}")
            write = self._copy if self.pg else self._insert
            n = write(table, _alike(table, first.keys(), chain([first], it)))
        self.counts[table.name] = self.counts.get(table.name, 0) + n
        return n

    def _copy(self, table: Table, rows: Iterator[Mapping[str, Any]]) -> int:
        first = next(rows)
        columns = list(first)
        json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
        names = ", ".join(f'"{c}"' for c in columns)
        driver = self.conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)  # the one PostgreSQL driver we use
        n = 0
        with driver.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as cp:
            for row in chain([first], rows):
                cp.write_row(
                    [
                        orjson.dumps(row[c]).decode() if c in json_columns else row[c]
                        for c in columns
                    ]
                )
                n += 1
        return n

    def _insert(self, table: Table, rows: Iterator[Mapping[str, Any]]) -> int:
        n = 0
        stmt = insert(table)
        while batch := list(islice(rows, BATCH)):
            self.conn.execute(stmt, batch)
            n += len(batch)
        return n

    def hold_content_triggers(self) -> None:
        """PostgreSQL: no content-scope trigger fires for the rows written until
        `release_content_triggers` (each would run at commit, once per row). The tables stay
        locked (ALTER TABLE) until the caller's transaction ends."""
        if self.pg:
            for table in VERSIONED_TABLES:
                self.conn.execute(
                    text(f'ALTER TABLE "{table}" DISABLE TRIGGER content_scope_{table}')
                )
            self._held = True

    def release_content_triggers(self) -> None:
        """The triggers on again, and every remembered read made stale at once (`all`): what
        was written may show anywhere."""
        if self.pg and self._held:
            for table in VERSIONED_TABLES:
                self.conn.execute(
                    text(f'ALTER TABLE "{table}" ENABLE TRIGGER content_scope_{table}')
                )
            self.conn.execute(text("SELECT content_scope_raise('all')"))
            self._held = False

    def move_sequences_on(self, *models: type[Base]) -> None:
        """PostgreSQL: let each table's id sequence continue after the ids written here."""
        for model in models:
            name = table_of(model).name
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608 - our table names
                    f'(SELECT max(id) FROM "{name}"))'
                )
            )


def _alike(
    table: Table, columns: KeysView[str], rows: Iterable[Mapping[str, Any]]
) -> Iterator[Mapping[str, Any]]:
    # A row with other columns than the first would be written wrongly (executemany takes the
    # first row's keys) or fail far from its cause (COPY): refuse it where it is made.
    for row in rows:
        if row.keys() != columns:
            raise ValueError(f"a row of {table.name} with other columns than the first: {row}")
        yield row

"""Keyset pagination: opaque cursors over the ordering columns of a list."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Select, tuple_

from network.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a key of ints, strings and aware datetimes (`decode_cursor` reads
    the datetimes back when told to expect them)."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    if all(type(v) is int or (type(v) is str and v.isascii()) for v in values):
        # The same bytes as json.dumps below (which escapes non-ASCII text; orjson does not),
        # faster: every list's cursor is made of ids, counts and times.
        raw = orjson.dumps(values)
    else:
        raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Every integer a list orders by is an `Integer` column (ids, counts): 32 bits in PostgreSQL,
# which refuses a larger value in a comparison outright (a DataError, not an empty page).
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def decode_cursor(cursor: str | None, types: Sequence[type]) -> tuple[Any, ...] | None:
    """The key a cursor carries, checked against the types the list orders by (`int`, `str`,
    or `datetime`, carried as ISO 8601 text with an offset), and against what the database
    holds: integers within int32, datetimes that exist in UTC (returned in UTC), text that is
    valid Unicode without NUL. Anything else is Invalid (422), never a database error."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # Strict base64 (no characters silently skipped), and orjson: strict JSON (no NaN, no
        # lone surrogates, a depth limit of its own), integers beyond 64 bits read as floats.
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        key = orjson.loads(raw)
        if not isinstance(key, list) or len(key) != len(types):
            raise ValueError("wrong shape")
        return tuple(_value(v, t) for v, t in zip(key, types, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError):
        # orjson.JSONDecodeError is a ValueError; OverflowError: a time beyond UTC's calendar.
        raise Invalid(
            "The cursor is not one this list gave out.", field="cursor", location="query"
        ) from None


def _value(value: Any, kind: type) -> Any:
    if isinstance(value, bool):
        raise ValueError("booleans are not keys")
    if kind is int and isinstance(value, int) and INT32_MIN <= value <= INT32_MAX:
        return value
    if kind is str and isinstance(value, str) and "\x00" not in value:
        return value
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        # 0001-01-01T00:00:00+05:00 and 9999-12-31T23:59:59-05:00 are not times in UTC: the
        # conversion raises OverflowError here rather than when the value is bound.
        return parsed.astimezone(UTC)
    raise ValueError("wrong type")


def newest_first(
    stmt: Select, at: Any, id_: Any, *, since, cursor: str | None, limit: int
) -> Select:
    """A log read newest first: entries since a time, after a cursor of (time, id), one extra
    row to tell whether there is more (see `page_from_rows`)."""
    if since is not None:
        stmt = stmt.where(at >= since)
    after = decode_cursor(cursor, (datetime, int))
    if after is not None:
        stmt = stmt.where(tuple_(at, id_) < tuple_(*after))
    return stmt.order_by(at.desc(), id_.desc()).limit(limit + 1)


def page_from_rows(rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
    """Make a page from `limit + 1` fetched rows: the extra row only says there is more."""
    if len(rows) > limit:
        items = list(rows[:limit])
        return Page(items=items, next_cursor=encode_cursor(key(items[-1])))
    return Page(items=list(rows), next_cursor=None)

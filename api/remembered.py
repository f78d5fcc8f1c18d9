"""Whole responses remembered while what they show stands (`network.content`).

A page read again and again (a workstream, its actions, its agenda, a chart, a library search)
is worked out, serialised and its ETag taken once, then served from memory for as long as the
content scopes it depends on keep their numbers: no statement beyond the numbers themselves,
no schema, no JSON encoding. The key names everything the body depends on: the reader (their
person, boards and practices: what they may see and do there), the path's ids, the query, and
the day in Europe/London wherever "overdue" or "today" shows. A body that depends on the time
more finely than that (an agenda: which huddle is next) carries the moment it stops being
usable and is worked out again from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Response, current_app

from api import etags
from api.context import principal, uow
from network import access, content
from network.db import utcnow


@dataclass(frozen=True)
class Body:
    """A serialised response: its bytes, its headers (an ETag, when it has one), and the moment
    from which it must be worked out afresh (None: only a change of its content)."""

    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    until: datetime | None = None


def json_body(dumped: Any, headers: dict[str, str] | None = None, until=None) -> Body:
    """Bytes exactly as Flask would answer `dumped` (the app's JSON provider)."""
    return Body(current_app.json.response(dumped).get_data(), headers or {}, until)


def reader_key() -> tuple:
    """Who reads: their person, the boards they read, their practices."""
    reader = principal()
    return (
        reader.person_id,
        tuple(sorted(access.readable_board_ids(reader))),
        tuple(sorted(reader.practices)),
    )


def reader_scopes() -> list[str]:
    """The scopes anything a reader sees depends on: their boards, their own access."""
    reader = principal()
    return [content.person(reader.person_id)] + [
        content.board(b) for b in sorted(access.readable_board_ids(reader))
    ]


def respond(
    key: Hashable, scopes: Iterable[str], compute: Callable[[], Body], status: int = 200
) -> Response:
    """The body remembered under `key` while `scopes` (and the reader's) stand, or computed now;
    answered 304 when the request's If-None-Match names its ETag."""
    body = uow().cached(
        (key, reader_key()),
        compute,
        [*reader_scopes(), *scopes],
        usable=lambda b: b.until is None or utcnow() < b.until,
    )
    tag = body.headers.get("ETag")
    if tag is not None and etags.none_match(tag):
        return Response(status=304, headers=body.headers)
    return Response(body.data, status=status, headers=body.headers, mimetype="application/json")

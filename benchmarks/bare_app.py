"""The two yardsticks the hot list is measured against, on the same gunicorn settings:

- `GET /bare`: a bare Flask endpoint returning a fixed JSON body (the size of the API's answer,
  read from `BARE_BODY_FILE`): the floor of Flask + gunicorn + HTTP on this machine;
- `GET /sql`: the same 25 problems by hand-written SQL through psycopg (no ORM, no marshmallow,
  no token check): the principal's boards from their memberships, then the list with the same
  visibility filter, anonymity joins, "my practice" signal and order as
  `network.problems.queries.get_all(sort="hot")`, serialised with orjson into the same shape.

    BENCH_DATABASE_URL=postgresql://... BENCH_PERSON_ID=2 BARE_BODY_FILE=/tmp/body.json \\
        gunicorn -c python:api.gunicorn_conf -b 127.0.0.1:8101 benchmarks.bare_app:app
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import psycopg
from flask import Flask, Response
from psycopg import sql as sql_text

app = Flask(__name__)
_BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes() if os.environ.get("BARE_BODY_FILE") else b""
_PERSON = int(os.environ.get("BENCH_PERSON_ID") or 0)
_conn: psycopg.Connection | None = None

BELONGS = """
SELECT m.organisation_id, o.parent_id, p.parent_id, o.kind = 'practice'
FROM membership m JOIN organisation o ON o.id = m.organisation_id
LEFT JOIN organisation p ON p.id = o.parent_id
WHERE m.person_id = %s
"""

HOT = """
SELECT pr.id, pr.title, pr.excerpt, pr.tags, pr.status, pr.anonymity, pr.affected_count,
       pr.comment_count, pr.created_at, pr.updated_at, pr.author_id,
       b.id, b.kind, b.name, a.id, a.name, pc.id, pc.name,
       EXISTS (SELECT 1 FROM affected_practice ap
               WHERE ap.problem_id = pr.id AND ap.practice_id IN ({practices}))
FROM problem pr
JOIN organisation b ON b.id = pr.board_id
LEFT JOIN person a ON a.id = pr.author_id AND pr.anonymity = 'none'
LEFT JOIN organisation pc ON pc.id = pr.author_practice_id AND pr.anonymity != 'practice'
WHERE pr.board_id IN ({boards}) AND pr.deleted_at IS NULL AND pr.hidden = false
ORDER BY pr.affected_count DESC, pr.last_activity_at DESC, pr.id DESC
LIMIT 26
"""


def _db() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
    return _conn


@app.get("/bare")
def bare() -> Response:
    return Response(_BODY, mimetype="application/json")


@app.get("/sql")
def sql() -> Response:
    conn = _db()
    memberships = conn.execute(BELONGS, (_PERSON,)).fetchall()
    boards = {i for row in memberships for i in row[:3] if i is not None}
    practices = sorted(row[0] for row in memberships if row[3]) or [0]  # 0: no practice
    # The ids written into the statement, as the API does, so each board set's plan is made
    # once and re-used (as parameters, PostgreSQL re-plans the prepared statement each time).
    statement = sql_text.SQL(HOT).format(
        boards=sql_text.SQL(", ").join(sql_text.Literal(b) for b in sorted(boards)),
        practices=sql_text.SQL(", ").join(sql_text.Literal(p) for p in practices),
    )
    rows = conn.execute(statement).fetchall()
    items = [
        {
            "id": r[0],
            "board": {"id": r[11], "kind": r[12], "name": r[13]},
            "title": r[1],
            "excerpt": r[2],
            "tags": r[3],
            "status": r[4],
            "author": None if r[14] is None else {"id": r[14], "name": r[15]},
            "practice": None if r[16] is None else {"id": r[16], "name": r[17]},
            "anonymity": r[5],
            "affected_count": r[6],
            "my_practice_affected": r[18],
            "comment_count": r[7],
            "created_at": r[8].isoformat(),
            "updated_at": r[9].isoformat(),
            "can_edit": r[10] == _PERSON,
        }
        for r in rows[:25]
    ]
    # The API's cursor is opaque; a same-length stand-in keeps the bodies comparable.
    body = {"items": items, "next_cursor": "x" * 60 if len(rows) > 25 else None}
    return Response(orjson.dumps(body), mimetype="application/json")

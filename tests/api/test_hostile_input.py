"""Hostile input gets a clear 4xx with the API's error body, nothing is stored, and never a 5xx.

One section per class of input, each where it meets something that can overflow or refuse it:
the JSON parser (depth, number size, lone surrogates), `int()` (non-ASCII digits in path ids and
query arguments), the database's column types (cursor values beyond int32 or datetimes beyond
UTC's calendar, strings that grow past their column when lowercased), a flush outside its
savepoint, and the length of the request target. Each class has a property-based test."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.blueprint import MAX_ID
from network.problems.models import Problem

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _cursor(key) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _assert_error(response, status: int | tuple[int, ...]) -> dict:
    """The response is the API's error body with one of the statuses."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert body["code"] == response.status_code
    assert body["status"] and body["message"]
    return body


def _assert_422_naming(response, location: str, field: str) -> dict:
    body = _assert_error(response, 422)
    assert field in body["errors"][location], body
    return body


def _get(client, url: str, headers: dict, **params):
    """GET `url` (which may carry a query string of its own) with more query arguments."""
    path, _, query = url.partition("?")
    args = dict(pair.split("=", 1) for pair in query.split("&") if pair) | params
    return client.get(path, query_string=args, headers=headers)


def _problem(client, auth, person, board, **extra) -> dict:
    body = {"board_id": board.id, "title": "Letters arrive late", "body": "Every week."} | extra
    response = client.post("/api/v1/problems", json=body, headers=auth(person))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def problem(client, net, auth) -> dict:
    return _problem(client, auth, net.members["practice1"], net.pcn1)


def _problem_count(session) -> int:
    return session.query(Problem).count()


# --- The JSON parser: depth, numbers, lone surrogates ------------------------------------------


def _nested(depth: int, leaf: str = '"x"') -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("depth", [65, 900, 1000, 3000, 100_000])
def test_json_nested_deeper_than_the_limit_is_400(client, net, auth, session, depth):
    headers = auth(net.members["practice1"])
    before = _problem_count(session)
    for data in (
        _nested(depth),
        f'{{"board_id": {net.pcn1.id}, "title": "t", "body": "b", "tags": {_nested(depth)}}}',
    ):
        response = client.post(
            "/api/v1/problems", data=data, content_type="application/json", headers=headers
        )
        body = _assert_error(response, 400)
        assert "nested deeper" in body["message"] or "depth" in body["message"]
    assert _problem_count(session) == before


def test_json_nested_within_the_limit_is_read(client, net, auth):
    data = f'{{"name": {_nested(60)}}}'
    response = client.patch(
        "/api/v1/me",
        data=data,
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    _assert_422_naming(response, "json", "name")  # a list, not a name: but read, not refused


@pytest.mark.parametrize(
    "number",
    [
        "9" * 5000,  # beyond any float: orjson refuses it; the standard library's int() raises
        "-" + "9" * 5000,
        "9" * 400,
        str(2**64),
        str(-(2**63) - 1),
        str(2**63 - 1),
        str(MAX_ID + 1),
        "1e400",
        "NaN",
        "Infinity",
        "-Infinity",
    ],
)
def test_numbers_beyond_any_column_are_refused(client, net, auth, session, number):
    before = _problem_count(session)
    data = f'{{"board_id": {number}, "title": "t", "body": "b"}}'
    response = client.post(
        "/api/v1/problems",
        data=data,
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    body = _assert_error(response, (400, 422))
    if response.status_code == 422:
        assert "board_id" in body["errors"]["json"]
    assert _problem_count(session) == before


@pytest.mark.parametrize("text", ["\\ud800", "a\\udfffb", "\\udc00\\ud800"])
def test_lone_surrogates_in_json_text_are_400(client, net, auth, session, text):
    before = _problem_count(session)
    data = f'{{"board_id": {net.pcn1.id}, "title": "{text}", "body": "b"}}'
    response = client.post(
        "/api/v1/problems",
        data=data,
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    _assert_error(response, 400)
    assert _problem_count(session) == before


def test_the_app_json_provider_refuses_what_the_parser_refuses(app):
    assert app.json.loads(_nested(64)) is not None
    for bad in (_nested(65), _nested(5000), "9" * 5000, '"\\ud800"', "NaN"):
        with pytest.raises(ValueError):
            app.json.loads(bad)


_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
)
JSON_VALUES = st.recursive(
    _JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@PROPERTY
@given(
    depth=st.integers(min_value=0, max_value=3000),
    opener=st.sampled_from(["[", '{"a":', '[{"b":[']),
    where=st.sampled_from(["top", "name"]),
)
def test_any_nesting_depth_is_a_4xx_or_read(client, net, auth, depth, opener, where):
    closer = {"[": "]", '{"a":': "}", '[{"b":[': "]}]"}[opener]
    nested = opener * depth + "1" + closer * depth
    data = nested if where == "top" else f'{{"name": {nested}}}'
    response = client.patch(
        "/api/v1/me",
        data=data,
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    assert response.status_code in (400, 422), response.get_data()[:300]
    _assert_error(response, (400, 422))


@PROPERTY
@given(value=JSON_VALUES, field=st.sampled_from(["board_id", "title", "body", "tags", None]))
def test_any_json_body_is_a_4xx_or_stored(client, net, auth, value, field):
    body = {"board_id": net.pcn1.id, "title": "A title", "body": "A body"}
    if field is None:
        body = value
    else:
        body[field] = value
    response = client.post(
        "/api/v1/problems",
        data=json.dumps(body),  # NaN, Infinity and lone surrogates as written by Python
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    assert response.status_code in (201, 400, 403, 404, 422), response.get_data()[:300]
    if response.status_code != 201:
        _assert_error(response, response.status_code)


@PROPERTY
@given(digits=st.integers(min_value=1, max_value=6000), sign=st.sampled_from(["", "-"]))
def test_any_integer_literal_beyond_an_id_is_refused(client, net, auth, digits, sign):
    number = sign + "9" * digits
    response = client.post(
        "/api/v1/problems",
        data=f'{{"board_id": {number}, "title": "t", "body": "b"}}',
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    if sign == "" and digits <= 10 and int(number) <= MAX_ID:
        assert response.status_code in (403, 404), response.get_json()
    else:
        _assert_error(response, (400, 422))


# --- int(): ids and integer arguments are ASCII digits -----------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


def test_a_path_id_in_non_ascii_digits_is_404(client, net, auth):
    headers = auth(net.members["practice1"])
    problem = _problem(client, auth, net.members["practice1"], net.pcn1)
    ascii_id = str(problem["id"])
    assert client.get(f"/api/v1/problems/{ascii_id}", headers=headers).status_code == 200
    for table in (ARABIC_INDIC, FULLWIDTH):
        foreign = ascii_id.translate(table)
        for url in (
            f"/api/v1/problems/{foreign}",
            f"/api/v1/problems/{foreign}/comments",
            f"/api/v1/organisations/{str(net.practice1.id).translate(table)}",
        ):
            _assert_error(client.get(url, headers=headers), 404)


@pytest.mark.parametrize(
    "value", ["٢٥", "25".translate(FULLWIDTH), "2_5", " 25", "25 ", "+25", "٢5", "²", "25.0"]
)
def test_limit_in_anything_but_ascii_digits_is_422(client, net, auth, value):
    response = client.get(
        "/api/v1/organisations",
        query_string={"limit": value},
        headers=auth(net.members["practice1"]),
    )
    _assert_422_naming(response, "query", "limit")


def test_integer_filters_in_non_ascii_digits_are_422(client, net, auth, post):
    member = auth(net.members["practice1"])
    admin = auth(net.admins["fed_a"])
    post(net.members["practice1"], net.pcn1)
    for url, name, value, headers in (
        ("/api/v1/problems", "board_id", str(net.pcn1.id), member),
        ("/api/v1/organisations", "parent_id", str(net.pcn1.id), member),
        ("/api/v1/audit", "organisation_id", str(net.practice1.id), admin),
        ("/api/v1/activity", "organisation_id", str(net.pcn1.id), member),
        ("/api/v1/reports", "organisation_id", str(net.pcn1.id), admin),
    ):
        assert client.get(url, query_string={name: value}, headers=headers).status_code in (
            200,
            403,
        )
        for table in (ARABIC_INDIC, FULLWIDTH):
            response = client.get(url, query_string={name: value.translate(table)}, headers=headers)
            _assert_422_naming(response, "query", name)


@PROPERTY
@given(text=st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=12))
def test_any_digits_as_a_path_id_are_404_unless_ascii(client, net, auth, text):
    headers = auth(net.members["practice1"])
    response = client.get(f"/api/v1/organisations/{text}", headers=headers)
    if not text.isascii():
        _assert_error(response, 404)
    else:  # the organisation of that id, visible or not
        same = client.get(f"/api/v1/organisations/{int(text)}", headers=headers)
        assert response.status_code == same.status_code and response.status_code in (200, 404)


@PROPERTY
@given(
    text=st.text(
        alphabet=st.characters(categories=["Nd", "No"]) | st.sampled_from("0123456789+-_ ."),
        min_size=1,
        max_size=8,
    )
)
def test_any_limit_is_read_only_from_ascii_digits(client, net, auth, text):
    response = client.get(
        "/api/v1/organisations",
        query_string={"limit": text},
        headers=auth(net.members["practice1"]),
    )
    if re.fullmatch(r"-?[0-9]+", text) and 1 <= int(text) <= 100:
        assert response.status_code == 200
    else:
        _assert_422_naming(response, "query", "limit")


# --- Cursors: every value within its column's type ---------------------------------------------


def test_cursor_ids_beyond_int32_are_422(client, net, auth):
    member = auth(net.members["practice1"])
    admin = auth(net.admins["fed_a"])
    now = datetime.now(UTC).isoformat()
    for url, key, headers in (
        ("/api/v1/organisations", ["Practice", MAX_ID + 1], member),
        ("/api/v1/organisations", ["Practice", -(2**31) - 1], member),
        (f"/api/v1/organisations/{net.practice1.id}/members", ["A", 2**40], member),
        ("/api/v1/audit", [now, MAX_ID + 1], admin),
        ("/api/v1/problems?sort=hot", [2**31, now, 1], member),
        ("/api/v1/problems?sort=new", [now, 2**62], member),
        ("/api/v1/activity", [now, 2**32], member),
        ("/api/v1/reports", [2**31], admin),
    ):
        response = _get(client, url, headers, cursor=_cursor(key))
        _assert_422_naming(response, "query", "cursor")


@pytest.mark.parametrize(
    "at",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59.999999-00:00:01",
        "2026-01-01T00:00:00",  # naive
    ],
)
def test_cursor_times_beyond_the_utc_calendar_are_422(client, net, auth, post, at):
    problem = post(net.members["practice1"], net.pcn1)
    member = auth(net.members["practice1"])
    base = f"/api/v1/problems/{problem['id']}"
    for url, key, headers in (
        ("/api/v1/audit", [at, 1], auth(net.admins["fed_a"])),
        ("/api/v1/problems?sort=hot", [1, at, 1], member),
        ("/api/v1/problems?sort=updated", [at, 1], member),
        (f"{base}/comments", [at, 1], member),
        (f"{base}/affected", [at, 1], member),
        ("/api/v1/activity", [at, 1], member),
    ):
        response = _get(client, url, headers, cursor=_cursor(key))
        _assert_422_naming(response, "query", "cursor")


def test_cursor_text_with_lone_surrogates_is_422(client, net, auth):
    for key in (["\ud800", 1], ["Practice \udfff", 1]):
        response = client.get(
            "/api/v1/organisations",
            query_string={"cursor": _cursor(key)},
            headers=auth(net.members["practice1"]),
        )
        _assert_422_naming(response, "query", "cursor")


_OFFSETS = st.timedeltas(
    min_value=-timedelta(hours=23, minutes=59, seconds=59),
    max_value=timedelta(hours=23, minutes=59, seconds=59),
).map(timezone)
AWARE_DATETIMES = st.datetimes(timezones=_OFFSETS | st.timezones() | st.just(UTC))
_KEY_PARTS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=-(2**31) - 2, max_value=2**31 + 2)
    | AWARE_DATETIMES.map(datetime.isoformat)
    | st.datetimes().map(datetime.isoformat)
    | st.text(max_size=20)
    | st.floats()
    | st.booleans()
    | st.none()
)
CURSOR_KEYS = st.lists(_KEY_PARTS, min_size=0, max_size=4) | JSON_VALUES


@PROPERTY
@given(
    key=CURSOR_KEYS,
    endpoint=st.sampled_from(
        [
            ("/api/v1/organisations", "member"),
            ("/api/v1/organisations/{practice}/members", "member"),
            ("/api/v1/audit", "admin"),
            ("/api/v1/problems?sort=hot", "member"),
            ("/api/v1/problems?sort=new", "member"),
            ("/api/v1/problems?sort=updated", "member"),
            ("/api/v1/problems/{problem}/comments", "member"),
            ("/api/v1/problems/{problem}/affected", "member"),
            ("/api/v1/activity", "member"),
            ("/api/v1/reports", "admin"),
        ]
    ),
)
def test_any_cursor_is_200_or_422(client, net, auth, problem, key, endpoint):
    url, who = endpoint
    url = url.format(practice=net.practice1.id, problem=problem["id"])
    person = net.members["practice1"] if who == "member" else net.admins["pcn1"]
    response = _get(client, url, auth(person), cursor=_cursor(key))
    assert response.status_code in (200, 422), response.get_data()[:300]
    if response.status_code == 422:
        _assert_422_naming(response, "query", "cursor")


# --- Datetime query arguments: they must fit in UTC --------------------------------------------


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-00:01"]
)
@pytest.mark.parametrize("url", ["/api/v1/audit", "/api/v1/activity"])
def test_since_beyond_the_utc_calendar_is_422(client, net, auth, since, url):
    response = client.get(url, query_string={"since": since}, headers=auth(net.admins["fed_a"]))
    _assert_422_naming(response, "query", "since")


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+00:00", "0001-01-01T05:00:00+05:00", "9999-12-31T23:59:59Z"]
)
def test_since_at_the_very_edges_of_utc_is_read(client, net, auth, since):
    for url in ("/api/v1/audit", "/api/v1/activity"):
        response = client.get(url, query_string={"since": since}, headers=auth(net.admins["fed_a"]))
        assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    "since",
    [
        "2026-01-01T00:00:00Z".translate(ARABIC_INDIC),
        "2026-01-01T00:00:00+00:00".translate(FULLWIDTH),
    ],
)
def test_since_in_non_ascii_digits_is_422(client, net, auth, since):
    response = client.get(
        "/api/v1/audit", query_string={"since": since}, headers=auth(net.admins["fed_a"])
    )
    _assert_422_naming(response, "query", "since")


@PROPERTY
@given(at=AWARE_DATETIMES, url=st.sampled_from(["/api/v1/audit", "/api/v1/activity"]))
def test_any_since_is_200_or_422(client, net, auth, at, url):
    response = client.get(
        url, query_string={"since": at.isoformat()}, headers=auth(net.admins["fed_a"])
    )
    try:
        at.astimezone(UTC)
        fits = True
    except OverflowError:
        fits = False
    if fits:
        assert response.status_code == 200, response.get_json()
    else:
        _assert_422_naming(response, "query", "since")


# --- The database: a flush outside its savepoint, strings that grow past their column ----------


def test_a_taken_ods_code_with_a_move_is_409_naming_the_code(client, net, auth):
    headers = auth(net.admins["fed_a"])
    url = f"/api/v1/organisations/{net.practice1.id}"
    response = client.patch(
        url, json={"ods_code": "P10002", "parent_id": net.pcn2.id}, headers=headers
    )
    body = _assert_error(response, 409)
    assert "ODS code" in body["message"] and "P10002" in body["message"]
    after = client.get(url, headers=headers).get_json()
    assert after["ods_code"] == "P10001" and after["parent_id"] == net.pcn1.id


@PROPERTY
@given(
    changes=st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["Renamed", "Practice One"]),
            "ods_code": st.sampled_from(["P10001", "P10002", "p10002", "NEW001", None]),
            "parent_id": st.sampled_from(["pcn1", "pcn2", "pcn3", "fed_a", "practice2"]),
            "active": st.booleans(),
        },
    )
)
def test_any_update_of_an_organisation_is_answered_without_a_5xx(client, net, auth, changes):
    if "parent_id" in changes:
        changes["parent_id"] = getattr(net, changes["parent_id"]).id
    headers = auth(net.admins["fed_a"])
    url = f"/api/v1/organisations/{net.practice1.id}"
    before = client.get(url, headers=headers).get_json()
    response = client.patch(url, json=changes, headers=headers)
    assert response.status_code in (200, 403, 404, 409, 422), response.get_data()[:300]
    if response.status_code != 200:
        assert client.get(url, headers=headers).get_json() == before
    if response.status_code == 409:
        assert "ODS code" in response.get_json()["message"]


def test_tags_that_grow_past_their_column_when_lowercased_are_422(client, net, auth, session):
    before = _problem_count(session)
    body = {"board_id": net.pcn1.id, "title": "t", "body": "b", "tags": ["İ" * 40]}
    response = client.post("/api/v1/problems", json=body, headers=auth(net.members["practice1"]))
    _assert_422_naming(response, "json", "tags")
    assert _problem_count(session) == before


@PROPERTY
@given(tag=st.text(min_size=1, max_size=40))
def test_any_tag_is_stored_within_its_column_or_refused(client, net, auth, tag):
    body = {"board_id": net.pcn1.id, "title": "t", "body": "b", "tags": [tag]}
    response = client.post("/api/v1/problems", json=body, headers=auth(net.members["practice1"]))
    assert response.status_code in (201, 400, 422), response.get_data()[:300]
    if response.status_code == 201:
        assert all(len(t) <= 40 for t in response.get_json()["tags"])


def test_an_email_that_grows_when_lowercased_is_422(client, net, auth, session):
    email = "İ" * 200 + "@example.org"
    response = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": email},
        headers=auth(net.admins["practice1"]),
    )
    _assert_422_naming(response, "json", "email")


# --- The request target: over 8 KiB is a JSON 414 ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/problems?q=" + "a" * 9000,
        "/api/v1/problems/" + "1" * 9000,
        "/api/v1/" + "x" * 9000,
        "/healthz?" + "a=1&" * 3000,
    ],
)
def test_an_over_long_request_target_is_a_json_414(client, net, auth, url):
    response = client.get(url, headers=auth(net.members["practice1"]))
    body = _assert_error(response, 414)
    assert body["status"] == "Request URI Too Long"
    assert body["message"] == (
        "The request target (path and query string) is longer than 8192 bytes."
    )


def test_a_request_target_just_within_the_limit_is_served(client, net, auth):
    url = "/api/v1/organisations?q=abc&pad=" + "a" * 8000
    assert len(url) <= 8192
    assert client.get(url, headers=auth(net.members["practice1"])).status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_get(port: int, target: str) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # The server may answer before reading it all: its answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if length and len(rest) >= int(length.group(1)):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """The API under gunicorn with its own settings (api/gunicorn_conf.py), one worker."""
    instance = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = os.environ | {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'commons.db'}",
        "WEB_CONCURRENCY": "1",
    }
    for name in ("REDIS_URL", "SIGNING_KEY_FILE", "OIDC_ISSUERS", "TRUSTED_PROXIES"):
        env.pop(name, None)
    log = instance / "gunicorn.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(  # noqa: S603 (this interpreter's gunicorn, fixed arguments)
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "python:api.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "api.wsgi:app",
            ],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except (OSError, urllib.error.URLError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.parametrize("length", [8_200, 9_000, 20_000, 200_000])
def test_under_gunicorn_an_over_long_request_target_is_a_json_414(gunicorn, length):
    target = "/api/v1/problems?q=" + "a" * (length - len("/api/v1/problems?q="))
    status, headers, body = _raw_get(gunicorn, target)
    assert status == 414, body[:300]
    assert headers["content-type"].startswith("application/json")
    # The same body as the app's own 414 (gunicorn refuses the request line before the app).
    assert json.loads(body) == {
        "code": 414,
        "status": "Request URI Too Long",
        "message": "The request target (path and query string) is longer than 8192 bytes.",
    }
    assert headers["x-content-type-options"] == "nosniff"


def test_under_gunicorn_a_target_within_the_limit_reaches_the_api(gunicorn):
    status, _headers, body = _raw_get(gunicorn, "/api/v1/problems?q=" + "a" * 7000)
    assert status == 401 and json.loads(body)["code"] == 401


def test_under_gunicorn_its_other_refusals_are_json_too(gunicorn):
    with socket.create_connection(("127.0.0.1", gunicorn), timeout=10) as sock:
        sock.sendall(b"GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400"
    error = json.loads(body)
    assert error["code"] == 400 and error["status"] == "Bad Request" and error["message"]

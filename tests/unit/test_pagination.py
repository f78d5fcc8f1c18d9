from datetime import UTC, datetime, timedelta

import pytest

from network.errors import Invalid
from network.pagination import decode_cursor, encode_cursor, page_from_rows


def test_cursor_round_trips_its_key():
    assert decode_cursor(encode_cursor(["Practice One", 7]), (str, int)) == ("Practice One", 7)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        encode_cursor([1, 2]),
        encode_cursor(["a"]),
        encode_cursor(["a", True]),
        "e30",
    ],
)
def test_a_cursor_the_list_did_not_give_out_is_refused(cursor):
    with pytest.raises(Invalid) as raised:
        decode_cursor(cursor, (str, int))
    assert raised.value.field == "cursor"


def test_page_has_a_next_cursor_only_when_more_rows_exist():
    rows = [("a", 1), ("b", 2), ("c", 3)]
    full = page_from_rows(rows, 2, key=lambda r: r)
    assert full.items == rows[:2]
    assert decode_cursor(full.next_cursor, (str, int)) == ("b", 2)
    last = page_from_rows(rows[:2], 2, key=lambda r: r)
    assert last.next_cursor is None


def _raw_cursor(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "types"),
    [
        (encode_cursor(["a", 2**31]), (str, int)),  # beyond an Integer column: int32
        (encode_cursor(["a", -(2**31) - 1]), (str, int)),
        (encode_cursor([2**63, "2026-01-01T00:00:00+00:00", 1]), (int, str, int)),
        (encode_cursor(["9999-12-31T23:59:59-05:00", 1]), (datetime, int)),  # past UTC's end
        (encode_cursor(["0001-01-01T00:00:00+05:00", 1]), (datetime, int)),  # before its start
        (encode_cursor(["2026-01-01T00:00:00", 1]), (datetime, int)),  # naive
        (_raw_cursor('["\\ud800", 1]'), (str, int)),  # a lone surrogate: no database stores it
        (_raw_cursor("[NaN, 1]"), (int, int)),
        (_raw_cursor("[" * 2000 + "]" * 2000), (int,)),  # deeper than any parser should recurse
        (_raw_cursor('["a", ' + "9" * 5000 + "]"), (str, int)),
        (encode_cursor(["a", 1]) + "!", (str, int)),  # base64 is read strictly, nothing skipped
        ("٠١٢٣", (str, int)),
    ],
)
def test_a_cursor_beyond_what_the_columns_hold_is_refused(cursor, types):
    with pytest.raises(Invalid):
        decode_cursor(cursor, types)


def test_cursor_edges_that_the_columns_hold_are_read():
    assert decode_cursor(encode_cursor(["a", 2**31 - 1]), (str, int)) == ("a", 2**31 - 1)
    assert decode_cursor(encode_cursor(["a", -(2**31)]), (str, int)) == ("a", -(2**31))
    start, end = (
        decode_cursor(encode_cursor([at, 1]), (datetime, int))[0]
        for at in ("0001-01-01T05:00:00+05:00", "9999-12-31T18:59:59-05:00")
    )
    assert start == datetime(1, 1, 1, tzinfo=UTC)
    assert end == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert start.utcoffset() == end.utcoffset() == timedelta(0)


def test_a_cursor_is_the_same_text_whichever_encoder_writes_it():
    import base64
    import json
    from datetime import UTC, datetime, timedelta, timezone

    def by_json(key) -> str:
        values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
        raw = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    at = datetime(2026, 12, 7, 9, 30, 1, 123456, tzinfo=UTC)
    for key in (
        [3, at, 2**31 - 1],
        [at.astimezone(timezone(timedelta(hours=5, minutes=30))), -7],
        ["Practice One", 7],
        ["Pr\u00e4xis \u2603 \U0001f600", 7],  # non-ASCII: escaped as json escapes it
        ['quote " and \\ and \n', 1],
        [True, None, 1.5],
    ):
        assert encode_cursor(key) == by_json(key)

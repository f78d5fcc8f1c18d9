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

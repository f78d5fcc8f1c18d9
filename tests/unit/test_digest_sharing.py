"""A digest's news is sorted once per set of boards and shared by its readers
(`network.digests.build._Shared`): for any reader — whatever they follow, muted or wrote — what
they see must be exactly what sorting every row for them alone gives (the rule, written out
plainly below)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from network.digests import build
from network.digests.build import MAX_ITEMS, Item, _Row, _Shared

VERBS = {
    "problem": ["posted", "signalled", "comment", "idea", "status_changed"],
    "workstream": ["workstream_created", "checked_in", "comment", "action_added"],
    "library_entry": ["published", "adopted"],
    "activity": ["other"],
}
START = datetime(2026, 11, 30, 7, tzinfo=UTC)


@st.composite
def news(draw):
    """Rows newest first, on a few threads of each kind, by a few actors (None: anonymous)."""
    n = draw(st.integers(0, 80))
    rows = []
    for i in range(n):
        kind = draw(st.sampled_from(sorted(VERBS)))
        thread = (kind, draw(st.integers(1, 12)))
        verb = draw(st.sampled_from(VERBS[kind]))
        actor = draw(st.one_of(st.none(), st.integers(1, 6)))
        item = Item(line=f"{verb} {i}", link=f"/{kind}/{thread[1]}")
        rows.append(
            _Row(
                id=n - i,
                at=START + timedelta(minutes=n - i),
                actor_id=actor,
                thread=thread,
                verb=verb,
                title=f"Title of {thread}",
                item=item,
                titles_item=item,
            )
        )
    return rows


threads = st.sets(
    st.tuples(st.sampled_from(["problem", "workstream", "library_entry"]), st.integers(1, 12)),
    max_size=8,
)


def alone(rows, person_id, followed, muted, counts):
    """The rule, row by row, for one reader."""
    mine = [r for r in rows if r.actor_id != person_id and r.thread not in muted]
    following, workstreams, library, problems = [], [], [], {}
    for row in mine:
        kind = row.thread[0]
        if row.thread in followed:
            following.append(row)
        elif kind == "problem" and row.verb in ("posted", "signalled"):
            entry = problems.setdefault(
                row.thread[1], {"title": row.title, "new": False, "signals": 0}
            )
            entry["new"] |= row.verb == "posted"
            entry["signals"] += row.verb == "signalled"
        elif kind == "workstream" and row.verb in build._WORKSTREAM_NEWS:
            workstreams.append(row)
        elif kind == "library_entry":
            library.append(row)
    ranked = sorted(problems, key=lambda pid: (-counts.get(pid, 0), -pid))
    return {
        "following": (following[:MAX_ITEMS], len(following)),
        "problems": ([(p, problems[p]) for p in ranked][:MAX_ITEMS], len(problems)),
        "workstreams": (workstreams[:MAX_ITEMS], len(workstreams)),
        "library": (library[:MAX_ITEMS], len(library)),
    }


@settings(max_examples=400, deadline=None)
@given(
    rows=news(),
    person_id=st.integers(1, 7),
    followed=threads,
    muted=threads,
    counts=st.dictionaries(st.integers(1, 12), st.integers(0, 9)),
)
def test_a_reader_of_shared_news_sees_what_their_news_alone_gives(
    rows, person_id, followed, muted, counts
):
    shared = _Shared(rows, counts)
    seen = shared.seen_by(person_id, followed, muted)
    expected = alone(rows, person_id, followed, muted, counts)
    assert (seen.following, seen.sizes["following"]) == expected["following"]
    assert (seen.problems, seen.sizes["problems"]) == expected["problems"]
    assert (seen.workstreams, seen.sizes["workstreams"]) == expected["workstreams"]
    assert (seen.library, seen.sizes["library"]) == expected["library"]


def test_readers_of_the_same_news_do_not_change_what_the_next_one_sees():
    """`seen_by` leaves the shared news as it found it: a busy reader, then a quiet one."""
    item = Item(line="x", link="/")
    rows = [
        _Row(3, START, 1, ("problem", 1), "posted", "One", item, item),
        _Row(2, START, 2, ("library_entry", 4), "published", "Four", item, item),
        _Row(1, START, 2, ("problem", 2), "signalled", "Two", item, item),
    ]
    shared = _Shared(rows, {1: 3, 2: 5})
    busy = shared.seen_by(2, {("problem", 1)}, {("problem", 2)})
    assert [r.id for r in busy.following] == [3] and busy.sizes["problems"] == 0
    quiet = shared.seen_by(9, set(), set())
    assert [pid for pid, _e in quiet.problems] == [2, 1]
    assert quiet.sizes == {"following": 0, "problems": 2, "workstreams": 0, "library": 1}

"""The personal calendar feed of huddles (API.md: `POST /me/calendar-token`, and
`GET /calendar/{feed_token}.ics`, public): one recurring event per workstream in London time, its
stored meetings as overrides or extra events, for the workstreams the person takes part in."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from dateutil import rrule
from icalendar import Calendar
from sqlalchemy import select, update

from network.db import utcnow
from network.uow import UnitOfWork
from network.workstreams import calendar as feeds
from network.workstreams import meetings as meeting_rules
from network.workstreams.models import (
    CalendarFeed,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
    WorkstreamStatus,
)
from tests import factories

BASE = "/api/v1/workstreams"
TOKEN_URL = "/api/v1/me/calendar-token"
HUDDLE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30"
LONDON = zoneinfo.ZoneInfo("Europe/London")
NOTES = "Dr Khan's locum cover is the sticking point"


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def api_url(app) -> str:
    return app.extensions["commons"].settings.api_url


@pytest.fixture
def host(api_url) -> str:
    return urlsplit(api_url).hostname


@pytest.fixture
def subscribe(client, auth, api_url):
    """`subscribe(person)` -> the path of their new feed (from the 201's `url`)."""

    def _subscribe(person) -> str:
        response = client.post(TOKEN_URL, headers=auth(person))
        assert response.status_code == 201, response.get_json()
        url = response.get_json()["url"]
        assert response.headers["Location"] == url
        assert url.startswith(f"{api_url}/api/v1/calendar/") and url.endswith(".ics")
        return url.removeprefix(api_url)

    return _subscribe


@pytest.fixture
def read_feed(client):
    """`read_feed(path)` -> the parsed calendar, read without a token."""

    def _read(path: str) -> Calendar:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        return Calendar.from_ical(response.data)

    return _read


@pytest.fixture
def start(client, auth, net, session):
    """`start(created_at=..., **fields)` -> the id of a workstream of PCN One, started by its
    admin through the API and then dated `created_at` (the rule counts from that day)."""

    def _start(created_at: datetime | None = None, **fields) -> int:
        body = {"organisation_id": net.pcn1.id, "title": "Workflow", "purpose": "Letters."}
        response = client.post(BASE, json=body | fields, headers=auth(net.admins["pcn1"]))
        assert response.status_code == 201, response.get_json()
        workstream_id = response.get_json()["id"]
        if created_at is not None:
            _set(session, workstream_id, created_at=created_at, updated_at=created_at)
        return workstream_id

    return _start


def _set(session, workstream_id: int, **values) -> None:
    session.execute(update(Workstream).where(Workstream.id == workstream_id).values(**values))
    session.flush()


def _join(client, auth, net, workstream_id: int, practice) -> None:
    response = client.put(
        f"{BASE}/{workstream_id}/practices/{practice.id}", headers=auth(net.admins["pcn1"])
    )
    assert response.status_code == 201, response.get_json()


def _meeting(session, net, workstream_id: int, starts_at: datetime, **fields) -> Meeting:
    meeting = Meeting(
        workstream_id=workstream_id,
        starts_at=starts_at.replace(second=0, microsecond=0),
        created_by_id=net.admins["pcn1"].id,
        **({"minutes": 30, "decisions": [], "attended_practice_ids": []} | fields),
    )
    session.add(meeting)
    session.flush()
    return meeting


def _events(calendar: Calendar, workstream_id: int | None = None):
    events = calendar.walk("VEVENT")
    if workstream_id is None:
        return events
    return [e for e in events if str(e["UID"]).startswith(f"workstream-{workstream_id}-")]


def _master(calendar: Calendar, workstream_id: int):
    [master] = [
        e for e in _events(calendar, workstream_id) if "RRULE" in e and "RECURRENCE-ID" not in e
    ]
    return master


def _expand(calendar: Calendar, master, start: datetime, end: datetime) -> list[datetime]:
    """The master's occurrences between two UTC times, in UTC: its DTSTART read in the zone its
    TZID names, as the calendar's own VTIMEZONE defines it, and its RRULE expanded by dateutil
    in that zone's wall-clock time."""
    dtstart = master["DTSTART"]
    [vtimezone] = [t for t in calendar.timezones if t.tz_name == dtstart.params["TZID"]]
    local = master.decoded("DTSTART").replace(tzinfo=vtimezone.to_tz())
    text = master["RRULE"].to_ical().decode()
    rule = rrule.rrulestr(text, dtstart=local)
    return [at.astimezone(UTC) for at in rule.between(start, end, inc=True)]


# --- the token ---------------------------------------------------------------------------------


def test_a_new_token_gives_a_feed_url_and_ends_the_old_one(
    client, auth, net, session, subscribe, read_feed
):
    person = net.members["practice1"]
    old = subscribe(person)
    read_feed(old)
    new = subscribe(person)
    assert new != old
    assert client.get(old).status_code == 404
    read_feed(new)
    rows = session.scalars(select(CalendarFeed).where(CalendarFeed.person_id == person.id)).all()
    token = new.removeprefix("/api/v1/calendar/").removesuffix(".ics")
    assert len(token) == 43
    # Only the hash is kept.
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]


def test_getting_a_token_needs_signing_in_and_records_no_activity(client, auth, net, subscribe):
    assert client.post(TOKEN_URL).status_code == 401
    person = net.admins["pcn1"]
    before = client.get("/api/v1/activity", headers=auth(person)).get_json()
    subscribe(person)
    assert client.get("/api/v1/activity", headers=auth(person)).get_json() == before


def test_a_token_given_while_another_request_inserted_the_row_replaces_that_row(
    session, net, monkeypatch
):
    """Two first tokens at once: both find no row to replace; the primary key lets one insert,
    and the other replaces what it inserted. One row, holding the later token."""
    from network.access import load_principal

    person = net.members["practice2"]
    principal = load_principal(session, person)
    unit = UnitOfWork(lambda: session)
    first = feeds.new_token(unit, principal)
    real = feeds.changed_rows
    calls = []

    def as_if_no_row_yet(s, statement):
        calls.append(statement)
        return 0 if len(calls) == 1 else real(s, statement)

    monkeypatch.setattr(feeds, "changed_rows", as_if_no_row_yet)
    second = feeds.new_token(unit, principal)
    assert len(calls) == 2  # the insert lost to the existing row, which was then replaced
    rows = session.scalars(select(CalendarFeed).where(CalendarFeed.person_id == person.id)).all()
    assert [r.token_hash for r in rows] == [feeds.token_hash(second)]
    assert feeds.token_hash(first) != rows[0].token_hash


BAD_TOKENS = [
    "A" * 43,  # well formed, never given out
    "short",
    "A" * 42 + "=",
    "A" * 8000,
    "%00" + "A" * 40,
    "%FF%FE" + "A" * 41,
    "%C3%BC" * 43,
    "..%2F..%2Fetc%2Fpasswd",
    "A" * 43 + ".ics",
    "%20",
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_token_that_is_not_a_feeds_is_404_saying_nothing_more(client, net, subscribe, token):
    subscribe(net.members["practice1"])  # a feed exists: the answer is the same
    response = client.get(f"/api/v1/calendar/{token}.ics")
    assert response.status_code == 404, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert body["code"] == 404
    if "%2F" not in token:  # a slash in the path: no route matches, Flask's own 404 message
        assert body["message"] == feeds.NOT_FOUND


def test_a_10000_character_token_is_the_apis_414_not_a_500(client):
    """Every request target over 8 KiB is refused before routing (api.blueprint): 414 with the
    API's error body, whatever the route."""
    response = client.get(f"/api/v1/calendar/{'A' * 10_000}.ics")
    assert response.status_code == 414
    assert response.get_json()["code"] == 414


def test_a_deactivated_persons_feed_is_404(client, net, session, subscribe):
    person = net.members["practice1"]
    path = subscribe(person)
    person.is_active = False
    session.flush()
    assert client.get(path).status_code == 404


# --- the calendar ------------------------------------------------------------------------------


def test_the_feed_is_public_and_names_itself_and_how_often_to_refresh(client, net, subscribe):
    response = client.get(subscribe(net.members["practice1"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    text = response.data.decode()
    assert "\r\n" in text
    calendar = Calendar.from_ical(response.data)
    name = "Commons huddles — Member of Practice One"
    assert str(calendar["X-WR-CALNAME"]) == name and str(calendar["NAME"]) == name
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    assert str(calendar["CALSCALE"]) == "GREGORIAN" and str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text


def test_the_timezone_is_two_yearly_rules_that_agree_with_the_tz_database(
    net, read_feed, subscribe
):
    calendar = read_feed(subscribe(net.members["practice1"]))
    [vtimezone] = calendar.timezones
    text = vtimezone.to_ical().decode()
    assert str(vtimezone["TZID"]) == "Europe/London"
    assert "RDATE" not in text
    parts = {c.name: c for c in vtimezone.subcomponents}
    assert [c.name for c in vtimezone.subcomponents] == ["DAYLIGHT", "STANDARD"]
    assert parts["DAYLIGHT"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert parts["STANDARD"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    # What a client makes of it is Europe/London from 2000 on: every hour around every change,
    # and noon every ten days between.
    tz = vtimezone.to_tz()
    instants = [datetime(2000, 1, 1, 12, tzinfo=UTC) + timedelta(days=10 * n) for n in range(1400)]
    for year in range(2000, 2038):
        for month in (3, 10):
            change = max(
                datetime(year, month, day, 1, tzinfo=UTC)
                for day in range(25, 32)
                if datetime(year, month, day).weekday() == 6
            )
            instants += [change + timedelta(hours=h) for h in range(-3, 4)]
    for at in instants:
        assert at.astimezone(tz).utcoffset() == at.astimezone(LONDON).utcoffset(), at
        assert at.astimezone(tz).replace(tzinfo=None) == at.astimezone(LONDON).replace(
            tzinfo=None
        ), at


def test_a_1230_huddle_is_at_1230_in_london_either_side_of_the_2027_clock_changes(
    net, start, subscribe, read_feed, host, app
):
    workstream_id = start(
        created_at=datetime(2027, 1, 1, 9, tzinfo=UTC), meeting_rule=HUDDLE, title="Letters"
    )
    calendar = read_feed(subscribe(net.admins["pcn1"]))
    master = _master(calendar, workstream_id)
    assert str(master["UID"]) == f"workstream-{workstream_id}-huddle@{host}"
    assert master["DTSTART"].params["TZID"] == "Europe/London"
    # The first Tuesday from the day it began.
    assert master.decoded("DTSTART") == datetime(2027, 1, 5, 12, 30, tzinfo=LONDON)
    assert master.decoded("DURATION") == timedelta(minutes=30)
    assert "UNTIL" not in master["RRULE"] and "COUNT" not in master["RRULE"]
    assert str(master["SUMMARY"]) == "Huddle: Letters"
    public_url = app.extensions["commons"].settings.public_url
    agenda = f"{public_url}/workstreams/{workstream_id}/agenda"
    assert str(master["URL"]) == agenda and agenda in str(master["DESCRIPTION"])
    assert master.decoded("SEQUENCE") == 1
    assert master["DTSTAMP"] and master["LAST-MODIFIED"]

    spring = _expand(
        calendar, master, datetime(2027, 3, 20, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert spring == [
        datetime(2027, 3, 23, 12, 30, tzinfo=UTC),  # GMT
        datetime(2027, 3, 30, 11, 30, tzinfo=UTC),  # BST: 12:30 in London
    ]
    autumn = _expand(
        calendar, master, datetime(2027, 10, 25, tzinfo=UTC), datetime(2027, 11, 3, tzinfo=UTC)
    )
    assert autumn == [
        datetime(2027, 10, 26, 11, 30, tzinfo=UTC),
        datetime(2027, 11, 2, 12, 30, tzinfo=UTC),
    ]


def test_the_recurring_event_gives_the_huddles_the_api_computes(
    net, session, start, subscribe, read_feed
):
    workstream_id = start(
        created_at=datetime(2027, 2, 17, 15, tzinfo=UTC),
        meeting_rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=8,17;BYMINUTE=15",
        meeting_minutes=45,
    )
    calendar = read_feed(subscribe(net.admins["pcn1"]))
    master = _master(calendar, workstream_id)
    # Two hours: the rule keeps them; one minute, the first huddle's, is left to DTSTART.
    assert master["RRULE"]["BYHOUR"] == [8, 17] and "BYMINUTE" not in master["RRULE"]
    span = (datetime(2027, 2, 1, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC))
    workstream = session.get(Workstream, workstream_id)
    computed = [o.starts_at for o in meeting_rules.occurrences(workstream, *span)]
    assert len(computed) > 80
    assert _expand(calendar, master, *span) == computed


def test_a_rule_of_one_time_leaves_the_time_to_dtstart(net, start, subscribe, read_feed):
    workstream_id = start(created_at=datetime(2027, 1, 1, tzinfo=UTC), meeting_rule=HUDDLE)
    master = _master(read_feed(subscribe(net.admins["pcn1"])), workstream_id)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=TU"


def test_a_paused_workstreams_huddles_end_at_the_last_one_before_it_paused(
    net, session, start, subscribe, read_feed
):
    workstream_id = start(
        created_at=datetime(2027, 1, 1, tzinfo=UTC), meeting_rule=HUDDLE + ";COUNT=100"
    )
    # Paused on Thursday 1 April 2027: the last huddle was Tuesday 30 March, 12:30 BST.
    _set(
        session,
        workstream_id,
        status=WorkstreamStatus.paused,
        updated_at=datetime(2027, 4, 1, 9, tzinfo=UTC),
    )
    never = start(created_at=datetime(2027, 1, 1, tzinfo=UTC), meeting_rule=HUDDLE, title="No")
    _set(
        session,
        never,
        status=WorkstreamStatus.completed,
        updated_at=datetime(2027, 1, 4, tzinfo=UTC),  # before its first huddle
    )
    calendar = read_feed(subscribe(net.admins["pcn1"]))
    master = _master(calendar, workstream_id)
    rule = master["RRULE"]
    assert "COUNT" not in rule
    assert rule["UNTIL"] == [datetime(2027, 3, 30, 11, 30, tzinfo=UTC)]
    assert "UNTIL:" not in master.to_ical().decode()  # the rule's, not a property
    assert b"UNTIL=20270330T113000Z" in rule.to_ical()
    expanded = _expand(
        calendar, master, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert len(expanded) == 13 and expanded[-1] == datetime(2027, 3, 30, 11, 30, tzinfo=UTC)
    assert _events(calendar, never) == []


def test_stored_meetings_override_their_occurrence_or_stand_on_their_own(
    net, session, start, subscribe, read_feed, host
):
    now = utcnow()
    workstream_id = start(created_at=now - timedelta(days=200), meeting_rule=HUDDLE)
    workstream = session.get(Workstream, workstream_id)
    ahead = meeting_rules.occurrences(workstream, now, now + timedelta(days=60))
    long_ago = meeting_rules.occurrences(
        workstream, now - timedelta(days=150), now - timedelta(days=120)
    )
    cancelled = _meeting(
        session,
        net,
        workstream_id,
        ahead[1].starts_at,
        status=MeetingStatus.cancelled,
        notes=NOTES,
        version=3,
        location="Riverside Surgery, room 2",
    )
    moved_on = _meeting(
        session, net, workstream_id, ahead[2].starts_at, minutes=60, location="Teams"
    )
    extra_at = ahead[3].starts_at + timedelta(days=1, hours=2)
    extra = _meeting(session, net, workstream_id, extra_at, notes=NOTES, decisions=["Fax no more"])
    _meeting(session, net, workstream_id, long_ago[0].starts_at, notes=NOTES)  # over 90 days ago

    calendar = read_feed(subscribe(net.admins["pcn1"]))
    events = _events(calendar, workstream_id)
    assert len(events) == 4  # the master, two overrides, one extra: nothing from long ago
    series_uid = f"workstream-{workstream_id}-huddle@{host}"
    overrides = {e.decoded("RECURRENCE-ID"): e for e in events if "RECURRENCE-ID" in e}
    assert set(overrides) == {ahead[1].starts_at, ahead[2].starts_at}

    off = overrides[ahead[1].starts_at]
    assert str(off["UID"]) == series_uid
    assert off["RECURRENCE-ID"].params["TZID"] == "Europe/London"
    assert off.decoded("RECURRENCE-ID").tzinfo.key == "Europe/London"
    assert str(off["STATUS"]) == "CANCELLED"
    assert off.decoded("SEQUENCE") == 1 + 3
    assert str(off["LOCATION"]) == "Riverside Surgery, room 2"
    assert off.decoded("DTSTART") == ahead[1].starts_at
    assert off.decoded("DTEND") == ahead[1].starts_at + timedelta(minutes=30)

    longer = overrides[ahead[2].starts_at]
    assert str(longer["STATUS"]) == "CONFIRMED" and str(longer["LOCATION"]) == "Teams"
    assert longer.decoded("DTEND") - longer.decoded("DTSTART") == timedelta(minutes=60)
    assert longer.decoded("SEQUENCE") == 1 + moved_on.version

    [own] = [e for e in events if "RRULE" not in e and "RECURRENCE-ID" not in e]
    assert str(own["UID"]) == f"workstream-{workstream_id}-meeting-{extra.id}@{host}"
    assert own.decoded("DTSTART") == extra_at and own["DTSTART"].params["TZID"] == "Europe/London"
    assert str(own["STATUS"]) == "CONFIRMED"
    assert own.decoded("SEQUENCE") == 1 + extra.version
    assert cancelled.id != extra.id


def test_no_notes_or_decisions_reach_the_feed(net, session, start, client, subscribe):
    now = utcnow()
    workstream_id = start(meeting_rule=HUDDLE, purpose="Purpose: private words")
    _meeting(
        session,
        net,
        workstream_id,
        now + timedelta(days=3, minutes=7),
        notes=NOTES,
        notes_html=f"<p>{NOTES}</p>",
        decisions=["Stop faxing Dr Khan"],
    )
    text = client.get(subscribe(net.admins["pcn1"])).get_data(as_text=True)
    assert "Huddle: Workflow" in text
    assert "Khan" not in text and "private words" not in text


def test_sequence_rises_when_the_workstream_changes(client, auth, net, start, subscribe, read_feed):
    workstream_id = start(meeting_rule=HUDDLE)
    path = subscribe(net.admins["pcn1"])
    assert _master(read_feed(path), workstream_id).decoded("SEQUENCE") == 1
    changed = client.patch(
        f"{BASE}/{workstream_id}",
        json={"title": "Letters, renamed"},
        headers=auth(net.admins["pcn1"]) | {"If-Match": "*"},
    )
    assert changed.status_code == 200, changed.get_json()
    master = _master(read_feed(path), workstream_id)
    assert master.decoded("SEQUENCE") == 2
    assert str(master["SUMMARY"]) == "Huddle: Letters, renamed"


# --- whose workstreams ---------------------------------------------------------------------------


def test_the_feed_holds_the_workstreams_the_person_takes_part_in_and_reads(
    client, auth, net, session, start, subscribe, read_feed
):
    lead = factories.person(session, name="Lena Lead", member_of=net.practice2)
    joined = start(meeting_rule=HUDDLE, title="Joined by practice one")
    _join(client, auth, net, joined, net.practice1)
    start(meeting_rule=HUDDLE, title="Led", lead_id=lead.id)
    left = start(meeting_rule=HUDDLE, title="Left")
    _join(client, auth, net, left, net.practice1)
    session.execute(
        update(Participation).where(Participation.workstream_id == left).values(left_at=utcnow())
    )
    hidden = start(meeting_rule=HUDDLE, title="Hidden")
    _join(client, auth, net, hidden, net.practice1)
    factories.hide_workstream(session, net.admins["pcn1"], session.get(Workstream, hidden))

    def titles(person) -> set[str]:
        calendar = read_feed(subscribe(person))
        return {str(e["SUMMARY"]).removeprefix("Huddle: ") for e in _events(calendar)}

    assert titles(net.members["practice1"]) == {"Joined by practice one"}
    assert titles(lead) == {"Led"}
    # Administrators of the owner manage every one of its workstreams they read; a hidden one
    # stays out even for them.
    assert titles(net.admins["pcn1"]) == {"Joined by practice one", "Led", "Left"}
    # Reading is not taking part: the practice next door, another PCN, another federation.
    assert titles(net.members["practice2"]) == set()
    assert titles(net.members["pcn1"]) == set()
    assert titles(net.members["practice3"]) == set()
    assert titles(net.admins["pcn2"]) == set()
    assert titles(net.members["practice4"]) == set()
    # Administering a practice that takes part is taking part through it, not managing.
    assert titles(net.admins["practice1"]) == {"Joined by practice one"}


def test_a_workstream_the_person_no_longer_reads_leaves_the_feed(
    client, auth, net, session, start, subscribe, read_feed
):
    person = factories.person(session, name="Moving On", member_of=net.practice1)
    joined = start(meeting_rule=HUDDLE)
    _join(client, auth, net, joined, net.practice1)
    path = subscribe(person)
    assert len(_events(read_feed(path), joined)) == 1
    # Its owner is now PCN Two, whose board people of practice one do not read.
    session.execute(
        update(Workstream).where(Workstream.id == joined).values(organisation_id=net.pcn2.id)
    )
    session.flush()
    assert _events(read_feed(path), joined) == []


def test_statements_do_not_grow_with_workstreams_or_meetings(
    client, auth, net, session, start, subscribe, count_statements
):
    path = subscribe(net.members["practice1"])

    def add_one(n: int) -> None:
        workstream_id = start(meeting_rule=HUDDLE, title=f"Workstream {n}")
        _join(client, auth, net, workstream_id, net.practice1)
        _meeting(session, net, workstream_id, utcnow() + timedelta(days=2, minutes=n))

    def statements() -> int:
        with count_statements() as counter:
            assert client.get(path).status_code == 200
        return counter.count

    add_one(0)
    one = statements()
    for n in range(1, 5):
        add_one(n)
    assert statements() == one

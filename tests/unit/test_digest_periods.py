"""When a digest is due, in the person's time zone, across the clock changes (API.md: an hour
the change skips sends at the next hour that exists, one that repeats sends once)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from network.digests.models import Frequency
from network.digests.periods import due_on, latest_due

LONDON = ZoneInfo("Europe/London")


def test_an_hour_the_spring_change_skips_sends_at_the_next_one():
    # 28 March 2027: 01:00 GMT becomes 02:00 BST; 01:30 does not exist, nor does 01:00.
    assert due_on(datetime(2027, 3, 28).date(), 1, LONDON) == datetime(2027, 3, 28, 1, tzinfo=UTC)
    assert due_on(datetime(2027, 3, 28).date(), 7, LONDON) == datetime(2027, 3, 28, 6, tzinfo=UTC)


def test_an_hour_the_autumn_change_repeats_sends_once_at_its_first():
    # 25 October 2026: 01:00 happens twice (BST, then GMT); the first is 00:00 UTC.
    assert due_on(datetime(2026, 10, 25).date(), 1, LONDON) == datetime(2026, 10, 25, 0, tzinfo=UTC)


def test_daily_periods_are_local_dates_and_a_missed_send_is_still_due():
    now = datetime(2026, 12, 7, 6, 59, tzinfo=UTC)
    assert latest_due(Frequency.daily, 0, 7, "Europe/London", now) == (
        "2026-12-06",
        datetime(2026, 12, 6, 7, tzinfo=UTC),
    )
    later = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert latest_due(Frequency.daily, 0, 7, "Europe/London", later)[0] == "2026-12-07"
    # Auckland is 13 hours ahead: 07:00 on the 8th there is 18:00 on the 7th in UTC.
    there = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert latest_due(Frequency.daily, 0, 7, "Pacific/Auckland", there)[0] == "2026-12-08"


def test_weekly_periods_are_iso_weeks_of_the_chosen_weekday():
    sunday = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert latest_due(Frequency.weekly, 0, 7, "Europe/London", sunday) == (
        "2026-W49",
        datetime(2026, 11, 30, 7, tzinfo=UTC),
    )
    monday_at_eight = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert latest_due(Frequency.weekly, 0, 7, "Europe/London", monday_at_eight)[0] == "2026-W50"
    # ISO weeks cross the year: Monday 28 December 2026 is in 2026-W53.
    new_year = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    assert latest_due(Frequency.weekly, 0, 7, "Europe/London", new_year)[0] == "2026-W53"

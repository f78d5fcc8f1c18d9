"""Which of the network's latest periods a signal is judged on: those that combine as many
practices as recently posted (a week half the practices have posted is not news)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from network.measures.series import SeriesPoint
from network.measures.services import _settled


def _series(counts):
    return [
        SeriesPoint(date(2026, 1, 5) + timedelta(weeks=k), 1.0, n) for k, n in enumerate(counts)
    ]


@pytest.mark.parametrize(
    ("counts", "kept"),
    [
        ([], 0),
        ([1], 1),
        ([3, 3, 3], 3),
        ([3, 3, 3, 1], 3),  # the latest week: one practice of three so far
        ([3, 3, 1, 1], 2),  # two weeks only one has posted
        ([3, 3, 3, 4], 4),  # a practice joined
        ([3, 3, 3, 3, 3, 2], 5),  # a practice left: its first week waits
        ([3, 3, 3, 3, 2, 2, 2, 2, 2], 9),  # ... and four weeks on, the network's signals count
        ([2, 3, 2, 3], 4),  # practices posting some weeks only: judged on what recent weeks held
    ],
)
def test_settled_drops_the_latest_periods_fewer_practices_have_posted(counts, kept):
    assert [p.practices for p in _settled(_series(counts))] == counts[:kept]

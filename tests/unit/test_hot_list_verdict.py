"""The hot-list benchmark's verdict: the budget holds in a round only when that round meets every
part of it, and the summary is the median of the rounds."""

import argparse

import pytest

from benchmarks.hot_list import report

ARGS = argparse.Namespace(
    connections=16, duration=10, rounds=2, workers=2, worker_class="sync", threads=None
)


def _run(rps, p50, p99):
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": 0}


def _results(api_l, api_s):
    steady = _run(2000, 5.0, 9.0)
    return {
        "api S": api_s,
        "api L": api_l,
        "bare S": [steady] * 2,
        "bare L": [steady] * 2,
        "sql S": [steady] * 2,
        "sql L": [steady] * 2,
    }


def _verdict(capsys, api_l, api_s):
    report(_results(api_l, api_s), ["S", "L"], ARGS)
    return capsys.readouterr().out.splitlines()[-1]


def test_met_when_every_round_meets_every_part(capsys):
    line = _verdict(capsys, [_run(1100, 11.0, 40.0)] * 2, [_run(1200, 10.0, 30.0)] * 2)
    assert line.endswith(": met (2 of 2 rounds)")


@pytest.mark.parametrize(
    ("api_l", "why"),
    [
        (_run(990, 11.0, 40.0), "too few requests/s"),
        (_run(1100, 11.0, 51.0), "p99 too long"),
        (_run(1100, 12.5, 40.0), "p50 at L more than 1.2 x p50 at S"),
    ],
)
def test_not_met_when_one_round_misses_one_part(capsys, api_l, why):
    line = _verdict(capsys, [_run(1100, 11.0, 40.0), api_l], [_run(1200, 10.0, 30.0)] * 2)
    assert line.endswith(": NOT met (1 of 2 rounds)"), why


def test_the_summary_is_the_median_with_the_range(capsys):
    report(
        _results([_run(1000, 11.0, 40.0), _run(1400, 13.0, 44.0)], [_run(1200, 10.0, 30.0)] * 2),
        ["S", "L"],
        ARGS,
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("api L"))
    assert "1200 (1000-1400)" in row and "12.00 (11.00-13.00)" in row

"""The hot-list benchmark's verdict: the budget holds in a round only when that round meets every
part of it, and the summary is the median of the rounds."""

import argparse

import pytest

from benchmarks import hot_list
from benchmarks.hot_list import Endpoint, report

ARGS = argparse.Namespace(
    connections=16, duration=10, rounds=2, workers=2, worker_class="sync", threads=None, slices=5
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
    missed = report(_results(api_l, api_s), ["S", "L"], ARGS)
    line = capsys.readouterr().out.splitlines()[-1]
    assert missed == (0 if line.endswith(": met (2 of 2 rounds)") else 1)  # the exit status's
    return line


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


def test_the_national_run_has_a_verdict_while_writing_and_the_uncached_ratio(capsys):
    args = argparse.Namespace(**vars(ARGS), writes_elsewhere=20.0)
    steady = _run(2000, 5.0, 9.0)
    results = {
        "api N": [steady] * 2,
        "api-nc N": [_run(700, 20.0, 40.0), _run(860, 18.0, 40.0)],
        "bare N": [steady] * 2,
        "sql N": [_run(1000, 10.0, 20.0)] * 2,
        "api N x1000": [steady] * 2,
        "api N x1000 +20/2w/s": [_run(1200, 8.0, 45.0), _run(1100, 9.0, 55.0)],
        "agenda N": [_run(510, 20.0, 45.0)] * 2,
        "spc N": [_run(499, 20.0, 45.0)] * 2,
    }
    missed = report(results, ["N"], args)
    out = capsys.readouterr().out
    assert missed == 3  # uncached, while writing, spc: the command exits 1
    assert (
        "budget uncached (API/SQL req/s >= 0.8 at scale N, side by side in 5 slices each): "
        "0.78 (0.70-0.86), NOT met (1 of 2 rounds)" in out
    )
    assert (
        "budget while writing (api N x1000 +20/2w/s: >= 1,000 req/s, p99 <= 50 ms): NOT met "
        "(1 of 2 rounds)" in out
    )
    assert "budget for agenda (>= 500 req/s, p99 <= 50 ms at scale N): met (2 of 2" in out
    assert "budget for spc (>= 500 req/s, p99 <= 50 ms at scale N): NOT met (0 of 2" in out
    assert out.splitlines()[-1].endswith(": met (2 of 2 rounds)")


def test_the_uncached_list_and_the_sql_endpoint_are_measured_in_turn(monkeypatch):
    """A B B A A B ...: each slice of one beside a slice of the other, the same length, and
    each one's figures from its own slices only (median req/s and p50, worst p99)."""
    calls = []
    figures = {"a": iter([100, 130, 120]), "b": iter([200, 20, 210])}

    def fake_wrk(endpoint, args, duration, script):
        calls.append((endpoint.name, duration))
        rps = next(figures[endpoint.name])
        return {**_run(rps, rps / 10, rps / 5), "socket_errors": "", "writes": 0}

    monkeypatch.setattr(hot_list, "wrk", fake_wrk)
    args = argparse.Namespace(duration=9, slices=3)
    got = hot_list.interleaved(Endpoint("a", "http://a"), Endpoint("b", "http://b"), args, None)
    assert calls == [("a", 3), ("b", 3), ("b", 3), ("a", 3), ("a", 3), ("b", 3)]
    assert got["a"]["rps"] == 120 and got["b"]["rps"] == 200  # a stalled slice does not decide
    assert got["a"]["p50"] == 12 and got["b"]["p99"] == 42
    assert got["a"]["slices"] == [100, 130, 120]

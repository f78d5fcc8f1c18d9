"""The SPC engine against worked examples (DESIGN.md quotes NHSRplotthedots' deviations
vignette; the others are derived by hand in the comments) and properties that hold for any
series."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network.measures import spc

START = date(2026, 1, 5)


def series(values, start=START):
    return [(start + timedelta(weeks=i), float(v)) for i, v in enumerate(values)]


def flagged(chart, rule):
    return [i for i, p in enumerate(chart.points) if rule in p.signals]


DEVIATIONS = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


@pytest.mark.parametrize(
    ("screen", "mr_mean", "lcl", "ucl"),
    [(False, 1.882, -3.06, 6.95), (True, 1.0, -0.72, 4.60)],
)
def test_nhsrplotthedots_deviations_vignette(screen, mr_mean, lcl, ucl):
    chart = spc.analyse(series(DEVIATIONS), better="up", screen_outliers=screen)
    assert round(chart.mean, 3) == 1.944
    assert round(chart.mr_mean, 3) == mr_mean
    assert (round(chart.lcl, 2), round(chart.ucl, 2)) == (lcl, ucl)
    assert [i for i, p in enumerate(chart.points) if p.signals] == [4]
    assert chart.points[4].signals == ("astronomical",)
    assert chart.points[4].point_type == "improvement"  # high, and higher is better


def test_seven_on_one_side_is_a_shift_and_six_is_not():
    # Limits fixed from 12 points alternating 12, 10 (mean 11, ending low), then 7 at 11.5 on
    # the high side.
    base = [12, 10] * 6
    chart = spc.analyse(series(base + [11.5] * 7), better="down", fix_after=12)
    assert flagged(chart, "shift") == list(range(12, 19))
    assert {chart.points[i].point_type for i in range(12, 19)} == {"concern"}
    six = spc.analyse(series(base + [11.5] * 6), better="down", fix_after=12)
    assert flagged(six, "shift") == []


def test_a_point_on_the_mean_breaks_a_run():
    # Mean of [10, 12]*6 + [11.5]*3 + [mean] + [11.5]*3 stays above 11 but the point equal to
    # the mean breaks the run into 3 and 3.
    values = [10, 12] * 6 + [11.5] * 3 + [0.0] + [11.5] * 3
    mean = sum(values) / len(values)
    values[15] = mean
    chart = spc.analyse(series(values), better="up")
    assert flagged(chart, "shift") == []


def test_seven_rising_is_a_trend_and_a_repeat_breaks_it():
    chart = spc.analyse(series([5, 6, 7, 8, 9, 10, 11]), better="up")
    assert flagged(chart, "trend") == list(range(7))
    assert chart.limits is False and chart.ucl is None  # fewer than 12: a run chart
    broken = spc.analyse(series([5, 6, 7, 7, 8, 9, 10]), better="up")
    assert flagged(broken, "trend") == []


def test_two_of_three_beyond_two_sigma_flags_those_beyond():
    # Limits fixed from 12 points alternating 12, 10: mean 11, mR̄ 2, the upper 2-sigma line at
    # 11 + 1.7733 * 2 = 14.5466, the upper limit at 11 + 2.66 * 2 = 16.32. Then 14.7, 12, 14.8:
    # all above the mean, two beyond 14.5466, none beyond 16.32.
    chart = spc.analyse(series([12, 10] * 6 + [14.7, 12, 14.8]), better="up", fix_after=12)
    seg = chart.segments[0]
    assert seg.upper_2sigma == pytest.approx(14.5466) and seg.ucl == pytest.approx(16.32)
    assert flagged(chart, "two_of_three") == [12, 14]
    assert flagged(chart, "astronomical") == []


def test_a_rebase_starts_new_limits_from_its_own_points():
    before, after = [40, 42] * 7, [30, 31] * 6
    chart = spc.analyse(series(before + after), better="down", rebase=[START + timedelta(weeks=14)])
    assert [s.start for s in chart.segments] == [0, 14]
    assert chart.segments[0].mean == 41 and chart.segments[1].mean == 30.5
    assert chart.mr_mean == 1.0 and chart.ucl == pytest.approx(30.5 + 2.66)
    assert all(p.segment == 1 for p in chart.points[14:])
    # No shift across the boundary: each segment's points sit around their own mean.
    assert flagged(chart, "shift") == []


def test_fix_after_takes_limits_from_the_first_points():
    values = [10, 12] * 6 + [20, 22] * 3
    fixed = spc.analyse(series(values), better="up", fix_after=12)
    assert fixed.mean == 11 and fixed.mr_mean == 2
    assert flagged(fixed, "astronomical") == list(range(12, 18))
    free = spc.analyse(series(values), better="up")
    assert free.mean == pytest.approx(sum(values) / len(values))


@pytest.mark.parametrize(
    ("better", "target", "assurance"),
    [
        ("up", 100, "fail"),  # beyond the upper limit, the good side: it cannot get there
        ("up", 0, "pass"),  # beyond the lower limit: it always does better
        ("up", 11, "inconsistent"),
        ("down", 0, "fail"),
        ("down", 100, "pass"),
        ("neutral", 11, None),
        ("up", None, None),
    ],
)
def test_assurance_against_the_target(better, target, assurance):
    chart = spc.analyse(series([10, 12] * 6), better=better, target=target)
    assert chart.assurance == assurance
    assert chart.variation == "common_cause"


def test_no_assurance_without_limits_and_variation_from_the_last_point():
    chart = spc.analyse(series([1, 2, 3, 4, 5, 6, 7]), better="down", target=0)
    assert chart.assurance is None and chart.variation == "concern_high"
    neutral = spc.analyse(series([7, 6, 5, 4, 3, 2, 1]), better="neutral")
    assert neutral.variation == "neutral_low"
    assert spc.analyse([], better="up").variation is None


def test_one_value_per_period():
    with pytest.raises(ValueError):
        spc.analyse([(START, 1.0), (START, 2.0)], better="up")


values = st.lists(st.integers(min_value=-1000, max_value=1000).map(float), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(values, st.integers(min_value=-500, max_value=500))
def test_adding_a_constant_moves_mean_and_limits_and_no_signal(ys, shift):
    a = spc.analyse(series(ys), better="up")
    b = spc.analyse(series([y + shift for y in ys]), better="up")
    assert [p.signals for p in a.points] == [p.signals for p in b.points]
    for x, y in zip(a.segments, b.segments, strict=True):
        assert y.mean == pytest.approx(x.mean + shift, abs=1e-6)
        if x.limits:
            assert y.ucl == pytest.approx(x.ucl + shift, abs=1e-6)
            assert y.mr_mean == pytest.approx(x.mr_mean, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(values)
def test_reversing_better_swaps_improvement_and_concern(ys):
    up = spc.analyse(series(ys), better="up", target=0)
    down = spc.analyse(series(ys), better="down", target=0)
    swap = {"improvement": "concern", "concern": "improvement", "common_cause": "common_cause"}
    assert [p.signals for p in up.points] == [p.signals for p in down.points]
    assert [swap[p.point_type] for p in up.points] == [p.point_type for p in down.points]
    if up.variation and up.variation != "common_cause":
        kind, side = up.variation.rsplit("_", 1)
        assert down.variation == f"{swap[kind]}_{side}"


@settings(max_examples=100, deadline=None)
@given(values, st.lists(st.integers(min_value=0, max_value=45), max_size=4))
def test_one_segment_per_distinct_rebase_inside_the_series(ys, weeks):
    rebases = [START + timedelta(weeks=w) for w in weeks]
    chart = spc.analyse(series(ys), better="up", rebase=rebases)
    effective = {w for w in weeks if w < len(ys)} | {0}
    assert len(chart.segments) == len(effective)

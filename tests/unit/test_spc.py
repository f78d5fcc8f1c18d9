"""The SPC engine against NHSRplotthedots' worked example (quoted in DESIGN.md), examples derived
by hand (the arithmetic is in the comments), and properties that hold for any series."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network.measures import spc

START = date(2026, 1, 5)  # a Monday; the series are weekly


def week(n):
    return START + timedelta(weeks=n)


def series(values):
    return [(week(i), float(v)) for i, v in enumerate(values)]


def flagged(chart, rule):
    return [i for i, p in enumerate(chart.points) if rule in p.signals]


def special(chart):
    return [i for i, p in enumerate(chart.points) if p.signals]


# Twelve points alternating 12, 10 (or 10, 12): mean 132 / 12 = 11, every moving range 2, so
# mR̄ = 2; process limits 11 ± 2.66·2 = 5.68 / 16.32; 2-sigma lines 11 ± 1.7733·2 = 7.4534 /
# 14.5466. With fix_after=12 the points after them are judged against these limits.
ENDS_LOW = [12, 10] * 6
ENDS_HIGH = [10, 12] * 6


# --- NHSRplotthedots' deviations vignette --------------------------------------------------

DEVIATIONS = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


@pytest.mark.parametrize(
    ("screen", "mr_mean", "lcl", "ucl"),
    [(False, 1.882, -3.06, 6.95), (True, 1.0, -0.72, 4.60)],
)
def test_nhsrplotthedots_deviations_vignette(screen, mr_mean, lcl, ucl):
    # Mean 35 / 18 = 1.944. Moving ranges: 1, 1, 1, 8, 9, then twelve 1s: 32 / 17 = 1.882,
    # limits 1.944 ± 2.66·1.882 = -3.06 / 6.95. Screened: 8 and 9 are >= 3.267·1.882 = 6.15,
    # dropped; the fifteen 1s left give mR̄ 1.0 and limits 1.944 ± 2.66 = -0.72 / 4.60.
    chart = spc.analyse(series(DEVIATIONS), better="up", screen_outliers=screen)
    assert len(chart.points) == 18 and len(chart.segments) == 1 and chart.limits
    assert round(chart.mean, 3) == 1.944
    assert round(chart.mr_mean, 3) == mr_mean
    assert (round(chart.lcl, 2), round(chart.ucl, 2)) == (lcl, ucl)
    assert special(chart) == [4]
    assert chart.points[4].signals == ("astronomical",)
    assert chart.points[4].point_type == "improvement"  # high, and higher is better
    assert chart.variation == "common_cause"  # the last point is common cause


def test_limits_are_not_clamped():
    # The unscreened vignette's lower limit is below zero and stays there.
    chart = spc.analyse(series(DEVIATIONS), better="up")
    assert chart.lcl < 0 and chart.segments[0].lower_2sigma < 0


# --- shift ---------------------------------------------------------------------------------


def test_seven_on_one_side_is_a_shift_and_six_is_not():
    # After ENDS_LOW (the last of them, 10, below the mean 11): 11.5 is above the mean, inside
    # the 2-sigma line 14.5466, and repeats (no trend). Seven of them are a shift; six are not.
    seven = spc.analyse(series(ENDS_LOW + [11.5] * 7), better="down", fix_after=12)
    assert special(seven) == flagged(seven, "shift") == list(range(12, 19))
    assert {seven.points[i].point_type for i in range(12, 19)} == {"concern"}  # high, bad
    assert seven.variation == "concern_high"
    six = spc.analyse(series(ENDS_LOW + [11.5] * 6), better="down", fix_after=12)
    assert special(six) == []
    assert six.variation == "common_cause"


def test_a_shift_below_the_mean_and_the_point_before_it_joins():
    # After ENDS_HIGH, six points at 10.5 (below 11); the 10 at index 10 ends high at 12 (index
    # 11), so the run below is only indexes 12..17: six, no shift. After ENDS_LOW the 10 at
    # index 11 is below the mean too: 11..17 is a run of seven.
    assert special(spc.analyse(series(ENDS_HIGH + [10.5] * 6), better="up", fix_after=12)) == []
    chart = spc.analyse(series(ENDS_LOW + [10.5] * 6), better="up", fix_after=12)
    assert flagged(chart, "shift") == list(range(11, 18))
    assert chart.points[11].point_type == "concern" and chart.variation == "concern_low"


def test_a_point_on_the_mean_breaks_a_shift():
    # Limits fixed at mean 11; three points at 11.5, one at exactly 11, three more at 11.5: two
    # runs of three (after ENDS_LOW's final 10, which is below). Without the point on the mean:
    # seven in a row. A point within rounding (1e-12) of the mean is on it too.
    broken = spc.analyse(
        series(ENDS_LOW + [11.5] * 3 + [11] + [11.5] * 3), better="up", fix_after=12
    )
    assert broken.mean == 11 and special(broken) == []
    rounding = ENDS_LOW + [11.5] * 3 + [11 + 1e-12] + [11.5] * 3
    assert special(spc.analyse(series(rounding), better="up", fix_after=12)) == []
    whole = spc.analyse(series(ENDS_LOW + [11.5] * 7), better="up", fix_after=12)
    assert flagged(whole, "shift") == list(range(12, 19))


# --- trend ---------------------------------------------------------------------------------


def test_seven_rising_is_a_trend_six_are_not_and_a_repeat_breaks_one():
    # Seven points, a run chart (fewer than 12): 5..11 each 1 higher than the one before.
    chart = spc.analyse(series([5, 6, 7, 8, 9, 10, 11]), better="up")
    assert flagged(chart, "trend") == list(range(7)) and flagged(chart, "shift") == []
    assert chart.limits is False and chart.ucl is None
    assert special(spc.analyse(series([5, 6, 7, 8, 9, 10]), better="up")) == []
    # 7 repeated: the steps are +1, +1, 0, +1, +1, +1: the longest rise spans four points.
    assert special(spc.analyse(series([5, 6, 7, 7, 8, 9, 10]), better="up")) == []


def test_a_trend_goes_its_own_way_whichever_side_of_the_mean():
    # Mean of 5..11 is 8: 5, 6, 7 are below it, 8 on it. As NHSRplotthedots does, every point of
    # a rising trend is high: with better up all seven are improvements; falling, all concerns.
    rising = spc.analyse(series([5, 6, 7, 8, 9, 10, 11]), better="up")
    assert {p.point_type for p in rising.points} == {"improvement"}
    assert rising.variation == "improvement_high"
    falling = spc.analyse(series([11, 10, 9, 8, 7, 6, 5]), better="up")
    assert {p.point_type for p in falling.points} == {"concern"}
    assert falling.variation == "concern_low"
    neutral = spc.analyse(series([11, 10, 9, 8, 7, 6, 5]), better="neutral")
    assert {p.point_type for p in neutral.points} == {"neutral"}
    assert neutral.variation == "neutral_low"


def test_a_trend_outranks_a_shift_for_the_direction():
    # After ENDS_LOW (mean 11, lower 2-sigma 7.4534, lower limit 5.68): 7.6, 8.0, .. 10.0 rise by
    # 0.4 each (7 points, a trend), all below 11 — with index 11 (10) a shift of eight below.
    # Index 11 is only in the shift: low, a concern when up is better. 12..18 are in both; the
    # trend decides: rising, so improvements, and the variation is improvement_high although
    # the last point is below the mean. Nothing is beyond a 2-sigma line.
    rise = [7.6, 8.0, 8.4, 8.8, 9.2, 9.6, 10.0]
    chart = spc.analyse(series(ENDS_LOW + rise), better="up", fix_after=12)
    assert flagged(chart, "shift") == list(range(11, 19))
    assert flagged(chart, "trend") == list(range(12, 19))
    assert flagged(chart, "two_of_three") == flagged(chart, "astronomical") == []
    assert chart.points[11].point_type == "concern"
    assert {chart.points[i].point_type for i in range(12, 19)} == {"improvement"}
    assert chart.variation == "improvement_high"


def test_a_point_ending_one_trend_and_starting_the_next_goes_the_later_ones_way():
    # Limits from [0, 40] * 6: mean 20, mR̄ 40, limits 20 ± 106.4, 2-sigma 20 ± 70.93, so
    # nothing after is beyond a line. Then 21..27 (a rising trend, indexes 12..18) and 27..21
    # (a falling one, 18..24): the peak at index 18 is in both and goes down with the later.
    values = [0, 40] * 6 + [21, 22, 23, 24, 25, 26, 27, 26, 25, 24, 23, 22, 21]
    chart = spc.analyse(series(values), better="up", fix_after=12)
    assert flagged(chart, "trend") == list(range(12, 25))
    assert [chart.points[i].point_type for i in range(12, 25)] == ["improvement"] * 6 + [
        "concern"
    ] * 7
    assert chart.variation == "concern_low"


def test_runs_and_trends_do_not_cross_a_rebase():
    # 1..10 rising: a trend of ten. Rebased at the sixth point: two run charts of five rising
    # points each, neither a trend.
    values = list(range(1, 11))
    assert flagged(spc.analyse(series(values), better="up"), "trend") == list(range(10))
    split = spc.analyse(series(values), better="up", rebase=[week(5)])
    assert [s.size for s in split.segments] == [5, 5] and special(split) == []


# --- two_of_three --------------------------------------------------------------------------


def test_two_of_three_beyond_two_sigma_flags_only_those_beyond():
    # After ENDS_LOW: 14.7, 12, 14.8 are all above the mean 11; 14.7 and 14.8 are beyond the
    # upper 2-sigma line 14.5466 (and inside the limit 16.32), 12 is not: 12 and 14 flagged.
    chart = spc.analyse(series([*ENDS_LOW, 14.7, 12, 14.8]), better="up", fix_after=12)
    seg = chart.segments[0]
    assert seg.upper_2sigma == pytest.approx(14.5466) and seg.ucl == pytest.approx(16.32)
    assert seg.lower_2sigma == pytest.approx(7.4534) and seg.lcl == pytest.approx(5.68)
    assert special(chart) == flagged(chart, "two_of_three") == [12, 14]
    assert [chart.points[i].point_type for i in (12, 13, 14)] == [
        "improvement",
        "common_cause",
        "improvement",
    ]
    assert chart.variation == "improvement_high"


def test_two_of_three_counts_a_point_beyond_the_limit_and_needs_one_side():
    # 17 is beyond the limit 16.32 (astronomical) and counts as beyond 2-sigma with 14.8.
    beyond = spc.analyse(series([*ENDS_LOW, 17, 12, 14.8]), better="down", fix_after=12)
    assert beyond.points[12].signals == ("astronomical", "two_of_three")
    assert beyond.points[14].signals == ("two_of_three",)
    assert beyond.variation == "concern_high"
    # 10.5 is below the mean: the three are not on one side, nothing fires.
    mixed = spc.analyse(series([*ENDS_LOW, 14.7, 10.5, 14.8]), better="up", fix_after=12)
    assert special(mixed) == []
    # One beyond 2-sigma of three is not enough; below the mean, 7.4 and 7.3 are beyond 7.4534.
    one = spc.analyse(series([*ENDS_LOW, 14.7, 12, 13]), better="up", fix_after=12)
    assert special(one) == []
    low = spc.analyse(series([*ENDS_HIGH, 7.4, 9, 7.3]), better="up", fix_after=12)
    assert flagged(low, "two_of_three") == [12, 14] and low.variation == "concern_low"


# --- segments, rebase, fix_after ------------------------------------------------------------


def test_a_rebase_starts_new_limits_from_its_own_points():
    # Before: [40, 42] * 7, mean 41, mR̄ 2. After (from week 14): [30, 31] * 6, mean 30.5, mR̄ 1,
    # limits 30.5 ± 2.66 = 27.84 / 33.16. One segment instead: mean 940 / 26 = 36.15, the first
    # fourteen above it and the last twelve below: two shifts.
    before, after = [40, 42] * 7, [30, 31] * 6
    chart = spc.analyse(series(before + after), better="down", rebase=[week(14)])
    assert [(s.start, s.from_period, s.size) for s in chart.segments] == [
        (0, week(0), 14),
        (14, week(14), 12),
    ]
    assert chart.segments[0].mean == 41 and chart.segments[0].mr_mean == 2
    assert (chart.mean, chart.mr_mean) == (30.5, 1.0)
    assert (chart.lcl, chart.ucl) == (pytest.approx(27.84), pytest.approx(33.16))
    assert [p.segment for p in chart.points] == [0] * 14 + [1] * 12
    assert special(chart) == []
    whole = spc.analyse(series(before + after), better="down")
    assert flagged(whole, "shift") == list(range(26))


def test_rebase_dates_map_to_the_first_point_on_or_after_them():
    values = [40, 42] * 7 + [30, 31] * 6
    # A Wednesday between weeks 13 and 14 starts the segment at week 14; so does week 14 itself
    # (one segment start); dates before the first point or after the last change nothing.
    chart = spc.analyse(
        series(values),
        better="up",
        rebase=[week(13) + timedelta(days=2), week(14), week(-3), week(30)],
    )
    assert [s.start for s in chart.segments] == [0, 14]
    assert len(spc.analyse(series(values), better="up", rebase=[week(-1)]).segments) == 1


def test_a_short_last_segment_has_no_limits_and_the_chart_says_so():
    # Rebased at week 20: the last segment has six points, a run chart; the chart's top-level
    # numbers are its (all None), the first segment keeps its limits.
    values = [10, 12] * 10 + [20, 21, 20, 21, 20, 21]
    chart = spc.analyse(series(values), better="up", target=0, rebase=[week(20)])
    first, last = chart.segments
    assert first.limits and first.mean == 11 and first.ucl == pytest.approx(16.32)
    assert not last.limits and last.mean == 20.5 and last.mr_mean is None and last.ucl is None
    assert chart.limits is False
    assert (chart.mean, chart.mr_mean, chart.ucl, chart.lcl) == (None, None, None, None)
    assert chart.assurance is None


def test_fix_after_takes_limits_from_the_first_points():
    # [10, 12] * 6 then [20, 22] * 3. Fixed after 12: mean 11, mR̄ 2, upper limit 16.32, so the
    # last six are beyond it. Not fixed: mean 258 / 18 = 14.33; ranges eleven 2s, one 8, five
    # 2s: mR̄ 40 / 17 = 2.353.
    values = [10, 12] * 6 + [20, 22] * 3
    fixed = spc.analyse(series(values), better="up", fix_after=12)
    assert (fixed.mean, fixed.mr_mean) == (11, 2)
    assert flagged(fixed, "astronomical") == list(range(12, 18))
    free = spc.analyse(series(values), better="up")
    assert free.mean == pytest.approx(258 / 18) and free.mr_mean == pytest.approx(40 / 17)
    # fix_after beyond the segment's size: limits from all its points.
    assert spc.analyse(series(values), better="up", fix_after=30) == free


def test_fix_after_applies_to_each_segment():
    # Each segment: [10, 12] * 6 then [30, 32] * 2; fixed after 12 both have mean 11.
    segment = [10, 12] * 6 + [30, 32] * 2
    chart = spc.analyse(series(segment * 2), better="up", fix_after=12, rebase=[week(16)])
    assert [(s.mean, s.mr_mean) for s in chart.segments] == [(11, 2), (11, 2)]
    assert flagged(chart, "astronomical") == [12, 13, 14, 15, 28, 29, 30, 31]


def test_fix_after_below_twelve_is_refused():
    with pytest.raises(ValueError):
        spc.analyse(series(DEVIATIONS), better="up", fix_after=11)


def test_fewer_than_twelve_points_have_no_limits_and_only_shift_and_trend():
    # Eleven points with a spike: a run chart, mean 114 / 11, no astronomical point however far
    # out 100 is, and no two_of_three.
    spike = spc.analyse(series([1, 2, 1, 2, 1, 100, 1, 2, 1, 2, 1]), better="up", target=5)
    assert not spike.limits and spike.segments[0].mean == pytest.approx(114 / 11)
    assert special(spike) == [] and spike.assurance is None
    # Seven 5s then four 0s: mean 35 / 11 = 3.18, the seven above it are a shift.
    shift = spc.analyse(series([5] * 7 + [0] * 4), better="up")
    assert flagged(shift, "shift") == list(range(7)) and shift.variation == "common_cause"
    # Twelve points: limits.
    assert spc.analyse(series([1, 2] * 6), better="up").limits


# --- variation and assurance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("better", "variation"),
    [("up", "improvement_high"), ("down", "concern_high"), ("neutral", "neutral_high")],
)
def test_variation_is_the_last_points_type_and_side(better, variation):
    chart = spc.analyse(series(ENDS_LOW + [11.5] * 7), better=better, fix_after=12)
    assert chart.variation == variation


@pytest.mark.parametrize(
    ("better", "target", "assurance"),
    [
        ("up", 100, "fail"),  # beyond the upper limit 16.32, the good side: it cannot get there
        ("up", 0, "pass"),  # beyond the lower limit 5.68: it always does better
        ("up", 11, "inconsistent"),  # between them
        ("up", 11 + 2.66 * 2, "inconsistent"),  # on the upper limit: between them, inclusive
        ("up", 11 - 2.66 * 2, "inconsistent"),
        ("down", 0, "fail"),  # below the lower limit, the good side for down
        ("down", 100, "pass"),
        ("down", 16, "inconsistent"),
        ("neutral", 11, None),  # no direction
        ("up", None, None),  # no target
    ],
)
def test_assurance_against_the_target(better, target, assurance):
    chart = spc.analyse(series(ENDS_HIGH), better=better, target=target)
    assert (chart.lcl, chart.ucl) == (pytest.approx(5.68), pytest.approx(16.32))
    assert chart.assurance == assurance
    assert chart.variation == "common_cause"


def test_no_assurance_without_limits():
    chart = spc.analyse(series([1, 2, 3, 4, 5, 6, 7]), better="down", target=100)
    assert chart.assurance is None and chart.variation == "concern_high"


def test_an_empty_series():
    chart = spc.analyse([], better="up", target=1)
    assert chart == spc.Chart((), (), False, None, None, None, None, None, None)


def test_points_are_sorted_and_one_value_per_period():
    shuffled = list(reversed(series(DEVIATIONS)))
    assert spc.analyse(shuffled, better="up") == spc.analyse(series(DEVIATIONS), better="up")
    with pytest.raises(ValueError):
        spc.analyse([(START, 1.0), (week(1), 3.0), (START, 2.0)], better="up")
    with pytest.raises(ValueError):
        spc.analyse([(START, math.nan)], better="up")


# --- properties -------------------------------------------------------------------------------

values = st.lists(st.integers(min_value=-1000, max_value=1000).map(float), min_size=1, max_size=40)
rebase_days = st.lists(st.integers(min_value=-20, max_value=7 * 45), max_size=4)
options = st.fixed_dictionaries(
    {
        "fix_after": st.sampled_from([None, 12, 15]),
        "screen_outliers": st.booleans(),
    }
)


def rebases(days):
    return [START + timedelta(days=d) for d in days]


def signals(chart):
    return [p.signals for p in chart.points]


@settings(max_examples=100, deadline=None)
@given(values, rebase_days, options, st.integers(min_value=-10_000, max_value=10_000))
def test_adding_a_constant_moves_mean_and_limits_and_no_signal(ys, days, opts, k):
    a = spc.analyse(series(ys), better="up", rebase=rebases(days), **opts)
    b = spc.analyse(series([y + k for y in ys]), better="up", rebase=rebases(days), **opts)
    assert signals(a) == signals(b)
    assert [p.point_type for p in a.points] == [p.point_type for p in b.points]
    assert a.variation == b.variation
    for x, y in zip(a.segments, b.segments, strict=True):
        assert (x.start, x.size, x.limits) == (y.start, y.size, y.limits)
        assert y.mean == pytest.approx(x.mean + k, abs=1e-6)
        if x.limits:
            assert y.mr_mean == pytest.approx(x.mr_mean, abs=1e-6)
            for line in ("ucl", "lcl", "upper_2sigma", "lower_2sigma"):
                assert getattr(y, line) == pytest.approx(getattr(x, line) + k, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(values, rebase_days, options, st.floats(min_value=0.01, max_value=1000))
def test_multiplying_by_a_positive_constant_scales_them_and_changes_no_signal(ys, days, opts, c):
    a = spc.analyse(series(ys), better="down", rebase=rebases(days), **opts)
    b = spc.analyse(series([y * c for y in ys]), better="down", rebase=rebases(days), **opts)
    assert signals(a) == signals(b)
    assert [p.point_type for p in a.points] == [p.point_type for p in b.points]
    assert a.variation == b.variation
    for x, y in zip(a.segments, b.segments, strict=True):
        assert y.mean == pytest.approx(x.mean * c, rel=1e-9, abs=1e-9)
        if x.limits:
            for attr in ("mr_mean", "ucl", "lcl", "upper_2sigma", "lower_2sigma"):
                assert getattr(y, attr) == pytest.approx(getattr(x, attr) * c, rel=1e-9, abs=1e-9)


SWAP = {"improvement": "concern", "concern": "improvement", "common_cause": "common_cause"}
SWAP_ASSURANCE = {"pass": "fail", "fail": "pass", "inconsistent": "inconsistent", None: None}


@settings(max_examples=100, deadline=None)
@given(values, rebase_days, options, st.integers(min_value=-1500, max_value=1500))
def test_reversing_better_swaps_improvement_and_concern(ys, days, opts, target):
    up, down, neutral = (
        spc.analyse(series(ys), better=b, target=target, rebase=rebases(days), **opts)
        for b in ("up", "down", "neutral")
    )
    assert signals(up) == signals(down) == signals(neutral)
    assert [SWAP[p.point_type] for p in up.points] == [p.point_type for p in down.points]
    assert [p.point_type != "common_cause" for p in up.points] == [
        p.point_type == "neutral" for p in neutral.points
    ]
    assert down.assurance == SWAP_ASSURANCE[up.assurance] and neutral.assurance is None
    if up.variation == "common_cause":
        assert down.variation == neutral.variation == "common_cause"
    else:
        kind, side = up.variation.rsplit("_", 1)
        assert down.variation == f"{SWAP[kind]}_{side}"
        assert neutral.variation == f"neutral_{side}"


@settings(max_examples=100, deadline=None)
@given(values, rebase_days)
def test_one_segment_and_one_more_per_distinct_effective_rebase(ys, days):
    chart = spc.analyse(series(ys), better="up", rebase=rebases(days))
    # A date d days after the first point falls on point ceil(d / 7); it starts a segment when
    # that is a point after the first.
    effective = {math.ceil(d / 7) for d in days if 0 < math.ceil(d / 7) < len(ys)}
    assert len(chart.segments) == 1 + len(effective)
    assert [s.start for s in chart.segments] == [0, *sorted(effective)]
    assert sum(s.size for s in chart.segments) == len(ys)
    for n, s in enumerate(chart.segments):
        assert s.from_period == week(s.start)
        assert [p.segment for p in chart.points[s.start : s.start + s.size]] == [n] * s.size

"""Statistical process control the NHS England "Making Data Count" way: XmR charts per segment,
the special-cause rules, and the variation and assurance icons. Pure: numbers in, numbers out.

The rules (DESIGN.md, "Measures and SPC"):

- XmR per segment. A segment starts at the first point and at each rebase: the first point whose
  period is on or after a rebase date (rebase dates before the first point or after the last are
  ignored; two falling on the same point start one segment). `fix_after` = N (N >= 12) fixes the
  limits from the segment's first N points (from all of them when it has fewer).
- Mean; moving ranges mR_i = |y_i - y_(i-1)| within the segment; mR̄ their mean (with
  `screen_outliers`, as NHSRplotthedots does: drop mR >= 3.267·mR̄ and recompute once; NHS
  England's own tool does not screen, and that is the default). Process limits mean ± 2.66·mR̄;
  2-sigma lines mean ± 1.7733·mR̄. Limits are never clamped (at 0, 100 % or anything else).
- Special-cause rules, judged within a segment (runs and trends never cross a rebase: a rebase
  says the process changed, so a run is measured against its own segment's mean):
  `astronomical` a point strictly beyond a process limit; `shift` 7 or more consecutive points on
  one side of the mean (a point on the mean breaks the run), all of them flagged; `trend` 7 or
  more consecutive points each strictly higher (or lower) than the one before (a repeat breaks
  it), all flagged; `two_of_three` 2 of 3 consecutive points beyond the same 2-sigma line, all 3 on
  that side of the mean — counting points beyond the process limit too (MDC's November 2023
  rule), the ones beyond 2-sigma flagged.
- Fewer than 12 points in a segment: no limits (`limits` False, a run chart; its mean is still
  the mean of its points), only `shift` and `trend` apply.
- A point's type: common cause when no rule fired; else improvement or concern by `better` and
  the point's direction (neutral when `better` is neutral). Its direction, as NHSRplotthedots
  (0.2+) decides it: a point beyond a process limit is on that limit's side; else a point in a
  trend goes the trend's way (up: high, down: low — whichever side of the mean it is on; a point
  that ends one trend and starts the next goes the later one's way); else its side of the mean.
- Variation icon = the last point's type and direction: `common_cause`, or `improvement_high`,
  `improvement_low`, `concern_high`, `concern_low`, `neutral_high`, `neutral_low`.
- Assurance (needs a target, `better` up or down, and limits in the last segment): target beyond
  the process limits on the good side → `fail` (the process cannot reach it), beyond them on the
  bad side → `pass` (it always meets it), between them (inclusive) → `inconsistent`.

Numbers are compared with a tolerance of 1e-9 of the segment's scale, max(1, |mean|): a point
within it of the mean is on the mean, one within it of a line is not beyond it, two points within
it of each other are a repeat. Exact arithmetic's ties stay ties despite rounding."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

Better = Literal["up", "down", "neutral"]
MIN_POINTS = 12  # fewer in a segment: no limits (a run chart)
LIMIT_FACTOR = 2.66
SIGMA2_FACTOR = 1.7733
SCREEN_FACTOR = 3.267
RUN = 7  # points in a shift or a trend
RULES = ("astronomical", "shift", "trend", "two_of_three")
RELATIVE_TOLERANCE = 1e-9
# How people read the rules and icons, in agendas, activity and digests.
RULE_WORDS = {
    "astronomical": "a point beyond the limits",
    "shift": "a run of 7 on one side",
    "trend": "7 rising or falling",
    "two_of_three": "2 of 3 near a limit",
}
_KIND_WORDS = {"improvement": "improvement", "concern": "concern", "neutral": "change"}


def variation_words(variation: str | None) -> str:
    """ "improvement (low)", "concern (high)", "change (high)", "common cause"."""
    kind, _, side = (variation or "common_cause").partition("_")
    if kind == "common":
        return "common cause"
    return f"{_KIND_WORDS.get(kind, kind)} ({side})" if side else kind


def rule_words(rules: Sequence[str] | None) -> str:
    return ", ".join(RULE_WORDS.get(rule, rule) for rule in rules or [])


@dataclass(frozen=True)
class Segment:
    """The points from one rebase to the next, and their limits."""

    start: int  # index of its first point
    from_period: date  # its first point's period
    size: int  # number of points in it
    limits: bool  # False: fewer than MIN_POINTS points (a run chart)
    mean: float  # of the points the limits are computed from (all of them without limits)
    mr_mean: float | None  # None without limits
    ucl: float | None
    lcl: float | None
    upper_2sigma: float | None
    lower_2sigma: float | None

    @property
    def tolerance(self) -> float:
        """How close two numbers of this segment must be to count as equal."""
        return RELATIVE_TOLERANCE * max(1.0, abs(self.mean))


@dataclass(frozen=True)
class ChartPoint:
    period: date
    value: float
    segment: int  # index into Chart.segments
    signals: tuple[str, ...]  # rules that fired for this point, in RULES order
    point_type: str  # common_cause | improvement | concern | neutral


@dataclass(frozen=True)
class Chart:
    points: tuple[ChartPoint, ...]
    segments: tuple[Segment, ...]
    limits: bool  # the last segment's
    mean: float | None  # mean .. lcl: the last segment's, all None when it has no limits
    mr_mean: float | None
    ucl: float | None
    lcl: float | None
    variation: str | None  # None with no points
    assurance: str | None  # None without a target, with better "neutral", or without limits


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _compare(a: float, b: float, tolerance: float) -> int:
    """+1 when a is above b, -1 below, 0 when they are within the tolerance."""
    if math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance):
        return 0
    return 1 if a > b else -1


def _starts(periods: Sequence[date], rebase: Sequence[date]) -> list[int]:
    """Indexes of the segments' first points: 0, and for each rebase date the first point on or
    after it (none after the last point); distinct, in order."""
    if not periods:
        return []
    found = {0}
    for day in rebase:
        index = bisect.bisect_left(periods, day)
        if index < len(periods):
            found.add(index)
    return sorted(found)


def _segment(
    start: int,
    periods: Sequence[date],
    values: Sequence[float],
    *,
    fix_after: int | None,
    screen_outliers: bool,
) -> Segment:
    """A segment's mean and limits: from its first `fix_after` points (all without it), moving
    ranges within them, screened when asked; none below MIN_POINTS points."""
    size = len(values)
    if size < MIN_POINTS:
        return Segment(start, periods[0], size, False, _mean(values), *(None,) * 5)
    basis = values[:fix_after] if fix_after is not None else values
    mean = _mean(basis)
    ranges = [abs(b - a) for a, b in itertools.pairwise(basis)]
    mr_mean = _mean(ranges)
    if screen_outliers:
        kept = [r for r in ranges if r < SCREEN_FACTOR * mr_mean]
        if kept:  # all ranges 0: nothing to screen
            mr_mean = _mean(kept)
    return Segment(
        start=start,
        from_period=periods[0],
        size=size,
        limits=True,
        mean=mean,
        mr_mean=mr_mean,
        ucl=mean + LIMIT_FACTOR * mr_mean,
        lcl=mean - LIMIT_FACTOR * mr_mean,
        upper_2sigma=mean + SIGMA2_FACTOR * mr_mean,
        lower_2sigma=mean - SIGMA2_FACTOR * mr_mean,
    )


def _runs(keys: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first, last, key) of each maximal run of equal non-zero keys."""
    found = []
    for key, group in itertools.groupby(enumerate(keys), key=lambda item: item[1]):
        members = [i for i, _ in group]
        if key != 0:
            found.append((members[0], members[-1], key))
    return found


@dataclass
class _Marks:
    """What the rules found for one segment's points."""

    signals: list[set[str]]
    beyond: list[int]  # the side of the process limit a point is beyond, 0: within
    trend: list[int]  # the direction of the trend a point is in, 0: none


def _rules(values: Sequence[float], segment: Segment) -> _Marks:
    """The special-cause rules on one segment's points (all indexes relative to the segment)."""
    n = len(values)
    tolerance = segment.tolerance
    marks = _Marks([set() for _ in values], [0] * n, [0] * n)
    sides = [_compare(v, segment.mean, tolerance) for v in values]

    # shift: 7 or more consecutive points on one side of the mean; one on it breaks the run.
    for first, last, _side in _runs(sides):
        if last - first + 1 >= RUN:
            for i in range(first, last + 1):
                marks.signals[i].add("shift")

    # trend: 7 or more consecutive points each strictly higher (lower) than the one before. A
    # step k joins points k-1 and k; a run of equal steps first..last spans points first-1..last.
    steps = [0] + [_compare(values[k], values[k - 1], tolerance) for k in range(1, n)]
    for first, last, direction in _runs(steps):
        if last - first + 2 >= RUN:
            for i in range(first - 1, last + 1):
                marks.signals[i].add("trend")
                marks.trend[i] = direction  # a later trend wins the point they share

    if segment.limits:
        assert segment.ucl is not None and segment.lcl is not None
        assert segment.upper_2sigma is not None and segment.lower_2sigma is not None
        # astronomical: strictly beyond a process limit.
        for i, v in enumerate(values):
            if _compare(v, segment.ucl, tolerance) > 0:
                marks.beyond[i] = 1
            elif _compare(v, segment.lcl, tolerance) < 0:
                marks.beyond[i] = -1
            if marks.beyond[i]:
                marks.signals[i].add("astronomical")
        # two_of_three: of 3 consecutive points, all on one side of the mean, 2 or more beyond
        # that side's 2-sigma line (beyond the process limit counts); those beyond are flagged.
        lines = {1: segment.upper_2sigma, -1: segment.lower_2sigma}
        for first in range(n - 2):
            window = range(first, first + 3)
            side = sides[first]
            if side == 0 or any(sides[k] != side for k in window):
                continue
            outside = [k for k in window if _compare(values[k], lines[side], tolerance) == side]
            if len(outside) >= 2:
                for k in outside:
                    marks.signals[k].add("two_of_three")
    return marks


def _direction(value: float, segment: Segment, beyond: int, trend: int) -> int:
    """Which way a special-cause point goes: a limit's side, else a trend's way, else its side
    of the mean."""
    if beyond:
        return beyond
    if trend:
        return trend
    return _compare(value, segment.mean, segment.tolerance)


def _point_type(better: Better, direction: int) -> str:
    if better == "neutral":
        return "neutral"
    good = 1 if better == "up" else -1
    return "improvement" if direction == good else "concern"


def _assurance(segment: Segment, better: Better, target: float | None) -> str | None:
    """Where the target is against the last segment's process limits."""
    if target is None or better == "neutral" or not segment.limits:
        return None
    assert segment.ucl is not None and segment.lcl is not None
    above = _compare(target, segment.ucl, segment.tolerance) > 0
    below = _compare(target, segment.lcl, segment.tolerance) < 0
    good_beyond, bad_beyond = (above, below) if better == "up" else (below, above)
    if good_beyond:
        return "fail"  # the process cannot reach it
    if bad_beyond:
        return "pass"  # it always meets it
    return "inconsistent"  # hit and miss


def analyse(
    points: Sequence[tuple[date, float]],
    *,
    better: Better,
    target: float | None = None,
    rebase: Sequence[date] = (),
    fix_after: int | None = None,
    screen_outliers: bool = False,
) -> Chart:
    """The XmR chart of a series of (period, value): its segments with their limits, each point's
    signals and type, and the variation and assurance icons.

    Raises ValueError for two values of one period, a value that is not finite, `better` not up,
    down or neutral, or `fix_after` below MIN_POINTS."""
    if better not in get_args(Better):
        raise ValueError(f"better: up, down or neutral, not {better!r}.")
    if fix_after is not None and fix_after < MIN_POINTS:
        raise ValueError(f"fix_after: limits are fixed from {MIN_POINTS} points or more.")
    ordered = sorted(((period, float(value)) for period, value in points), key=lambda p: p[0])
    periods = [period for period, _ in ordered]
    values = [value for _, value in ordered]
    for earlier, later in itertools.pairwise(periods):
        if earlier == later:
            raise ValueError(f"One value per period: {later.isoformat()} has two.")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("Values must be finite numbers.")

    starts = _starts(periods, rebase)
    segments: list[Segment] = []
    chart_points: list[ChartPoint] = []
    directions: list[int] = []
    for n, (a, b) in enumerate(itertools.pairwise([*starts, len(values)])):
        segment = _segment(
            a, periods[a:b], values[a:b], fix_after=fix_after, screen_outliers=screen_outliers
        )
        segments.append(segment)
        marks = _rules(values[a:b], segment)
        for k, found in enumerate(marks.signals):
            value = values[a + k]
            direction = _direction(value, segment, marks.beyond[k], marks.trend[k]) if found else 0
            kind = _point_type(better, direction) if found else "common_cause"
            signals = tuple(rule for rule in RULES if rule in found)
            chart_points.append(ChartPoint(periods[a + k], value, n, signals, kind))
            directions.append(direction)

    if not segments:
        return Chart((), (), False, None, None, None, None, None, None)
    last = segments[-1]
    point = chart_points[-1]
    variation = (
        "common_cause"
        if point.point_type == "common_cause"
        else f"{point.point_type}_{'high' if directions[-1] > 0 else 'low'}"
    )
    limits = last.limits
    return Chart(
        points=tuple(chart_points),
        segments=tuple(segments),
        limits=limits,
        mean=last.mean if limits else None,
        mr_mean=last.mr_mean,
        ucl=last.ucl,
        lcl=last.lcl,
        variation=variation,
        assurance=_assurance(last, better, target),
    )

"""Statistical process control the NHS England "Making Data Count" way: XmR charts per segment,
the special-cause rules, and the variation and assurance icons. Pure: numbers in, numbers out.

- A segment starts at the first point and at each rebase (the first point on or after a rebase
  date). Moving ranges mR_i = |y_i - y_(i-1)| are taken within a segment; mR̄ is their mean
  (with `screen_outliers`, as NHSRplotthedots does: ranges >= 3.267·mR̄ are dropped and mR̄
  worked out once more; NHS England's own tool does not screen, the default). `fix_after` = N
  (>= 12) works the mean and mR̄ out from the segment's first N points only.
- Process limits mean ± 2.66·mR̄, 2-sigma lines mean ± 1.7733·mR̄, never clamped.
- Rules: `astronomical` a point strictly beyond a process limit; `shift` 7 or more consecutive
  points on one side of the mean (a point on the mean breaks the run), all flagged; `trend` 7 or
  more consecutive points each strictly higher (or lower) than the one before, all flagged;
  `two_of_three` 2 of 3 consecutive points beyond the same 2-sigma line (beyond the limit
  counts), all 3 on that side of the mean, those beyond 2-sigma flagged. Runs and trends are
  judged within a segment. Fewer than 12 points in a segment: no limits, only `shift` and `trend`.
- A point with a signal is an improvement or a concern by `better` and its side of the mean
  (neutral when `better` is neutral), else common cause. The variation icon is the last point's
  type and side; assurance compares the target with the last segment's limits."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Better = Literal["up", "down", "neutral"]
MIN_POINTS = 12
LIMIT_FACTOR = 2.66
SIGMA2_FACTOR = 1.7733
SCREEN_FACTOR = 3.267
RUN = 7
RULES = ("astronomical", "shift", "trend", "two_of_three")


@dataclass(frozen=True)
class Segment:
    start: int  # index of its first point
    from_period: date
    size: int
    limits: bool  # False: fewer than MIN_POINTS points (a run chart)
    mean: float
    mr_mean: float | None
    ucl: float | None
    lcl: float | None
    upper_2sigma: float | None
    lower_2sigma: float | None


@dataclass(frozen=True)
class ChartPoint:
    period: date
    value: float
    segment: int
    signals: tuple[str, ...]  # in RULES order
    point_type: str  # common_cause | improvement | concern | neutral


@dataclass(frozen=True)
class Chart:
    points: tuple[ChartPoint, ...]
    segments: tuple[Segment, ...]
    limits: bool
    mean: float | None
    mr_mean: float | None
    ucl: float | None
    lcl: float | None
    variation: str | None
    assurance: str | None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _segment(
    start: int,
    periods: Sequence[date],
    values: Sequence[float],
    *,
    fix_after: int | None,
    screen_outliers: bool,
) -> Segment:
    size = len(values)
    basis = values[:fix_after] if fix_after is not None and size >= MIN_POINTS else values
    mean = _mean(basis)
    if size < MIN_POINTS:
        return Segment(start, periods[0], size, False, mean, None, None, None, None, None)
    ranges = [abs(b - a) for a, b in itertools.pairwise(basis)]
    mr_mean = _mean(ranges)
    if screen_outliers:
        kept = [r for r in ranges if r < SCREEN_FACTOR * mr_mean]
        mr_mean = _mean(kept) if kept else mr_mean
    return Segment(
        start,
        periods[0],
        size,
        True,
        mean,
        mr_mean,
        mean + LIMIT_FACTOR * mr_mean,
        mean - LIMIT_FACTOR * mr_mean,
        mean + SIGMA2_FACTOR * mr_mean,
        mean - SIGMA2_FACTOR * mr_mean,
    )


def _side(value: float, mean: float) -> int:
    """+1 above the mean, -1 below, 0 on it."""
    if math.isclose(value, mean, rel_tol=0.0, abs_tol=1e-9 * max(1.0, abs(mean))):
        return 0
    return 1 if value > mean else -1


def _runs(values: Sequence[float], key) -> list[bool]:
    """Flags for the points of runs of RUN or more consecutive points that `key` says continue
    one another (`key(i)`: the run's direction at point i, 0 breaking it)."""
    flags = [False] * len(values)
    start = 0
    for i in range(1, len(values) + 1):
        same = i < len(values) and key(i) != 0 and key(i) == key(start)
        if not same:
            if key(start) != 0 and i - start >= RUN:
                for j in range(start, i):
                    flags[j] = True
            start = i
    return flags


def _signals(values: Sequence[float], segment: Segment) -> list[set[str]]:
    found: list[set[str]] = [set() for _ in values]
    mean = segment.mean
    sides = [_side(v, mean) for v in values]
    for i, flagged in enumerate(_runs(values, lambda i: sides[i])):
        if flagged:
            found[i].add("shift")
    # A trend: each point strictly higher (lower) than the one before; the first point of the
    # run is the one the rise starts from.
    steps = [0] + [
        (values[i] > values[i - 1]) - (values[i] < values[i - 1]) for i in range(1, len(values))
    ]
    i = 1
    while i < len(values):
        if steps[i] == 0:
            i += 1
            continue
        j = i
        while j + 1 < len(values) and steps[j + 1] == steps[i]:
            j += 1
        if j - i + 2 >= RUN:  # points i-1 .. j
            for k in range(i - 1, j + 1):
                found[k].add("trend")
        i = j + 1
    if segment.limits:
        assert segment.ucl is not None and segment.lcl is not None
        assert segment.upper_2sigma is not None and segment.lower_2sigma is not None
        for i, v in enumerate(values):
            if v > segment.ucl or v < segment.lcl:
                found[i].add("astronomical")
        for i in range(len(values) - 2):
            window = range(i, i + 3)
            for side, beyond in (
                (1, lambda v: v > segment.upper_2sigma),
                (-1, lambda v: v < segment.lower_2sigma),
            ):
                if all(sides[k] == side for k in window):
                    outside = [k for k in window if beyond(values[k])]
                    if len(outside) >= 2:
                        for k in outside:
                            found[k].add("two_of_three")
    return found


def _type(better: Better, side: int) -> str:
    if better == "neutral":
        return "neutral"
    good = 1 if better == "up" else -1
    return "improvement" if side == good else "concern"


def analyse(
    points: Sequence[tuple[date, float]],
    *,
    better: Better,
    target: float | None = None,
    rebase: Sequence[date] = (),
    fix_after: int | None = None,
    screen_outliers: bool = False,
) -> Chart:
    ordered = sorted(points, key=lambda p: p[0])
    periods = [p[0] for p in ordered]
    values = [float(p[1]) for p in ordered]
    if len(set(periods)) != len(periods):
        raise ValueError("one value per period")
    starts = {0} if ordered else set()
    for day in rebase:
        first = next((i for i, p in enumerate(periods) if p >= day), None)
        if first is not None:
            starts.add(first)
    bounds = [*sorted(starts), len(values)]
    segments: list[Segment] = []
    chart_points: list[ChartPoint] = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        segment = _segment(
            a, periods[a:b], values[a:b], fix_after=fix_after, screen_outliers=screen_outliers
        )
        segments.append(segment)
        for offset, signals in enumerate(_signals(values[a:b], segment)):
            i = a + offset
            side = _side(values[i], segment.mean)
            if signals and "trend" in signals and side == 0:
                # On the mean: a trend's direction says which way it is going.
                side = 1 if i > a and values[i] > values[i - 1] else -1
            kind = _type(better, side) if signals else "common_cause"
            ordered_signals = tuple(r for r in RULES if r in signals)
            chart_points.append(ChartPoint(periods[i], values[i], n, ordered_signals, kind))
    last = segments[-1] if segments else None
    variation = None
    if chart_points:
        point = chart_points[-1]
        if point.point_type == "common_cause":
            variation = "common_cause"
        else:
            assert last is not None
            high = point.value >= last.mean
            variation = f"{point.point_type}_{'high' if high else 'low'}"
    assurance = None
    if last is not None and last.limits and target is not None and better != "neutral":
        assert last.ucl is not None and last.lcl is not None
        good_beyond = target > last.ucl if better == "up" else target < last.lcl
        bad_beyond = target < last.lcl if better == "up" else target > last.ucl
        assurance = "fail" if good_beyond else "pass" if bad_beyond else "inconsistent"
    limits = last is not None and last.limits
    return Chart(
        tuple(chart_points),
        tuple(segments),
        limits,
        last.mean if limits and last else None,
        last.mr_mean if limits and last else None,
        last.ucl if limits and last else None,
        last.lcl if limits and last else None,
        variation,
        assurance,
    )

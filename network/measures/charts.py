"""SPC charts as people see them: SVG for the app, PNG for email (Outlook and Gmail do not show
SVG), drawn with matplotlib in NHS England's "Making Data Count" style — the data line in grey,
special-cause points orange (concern), blue (improvement) or purple (neutral), the mean solid
and the process limits dashed per segment, a break at each rebase, the target in red, and the
two icons (variation, assurance) in the corner. Readable at 600 px wide."""

from __future__ import annotations

import io

# Figures made directly (not through pyplot) need no display and hold no global state, so
# several requests draw at once safely; savefig picks the Agg or SVG renderer by format.
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from network.measures.spc import Chart

# Making Data Count's colours.
GREY, BLUE, ORANGE, PURPLE, RED = "#7B7D7D", "#289DE0", "#FAB428", "#361475", "#DE1B1B"
LINE, MEAN = "#A6A6A6", "#000000"
POINT_COLOURS = {"common_cause": GREY, "improvement": BLUE, "concern": ORANGE, "neutral": PURPLE}
WIDTH_INCHES, HEIGHT_INCHES = 6.0, 3.4  # 600 by 340 px at 100 dpi
PNG_DPI = 200  # sharp when shown 600 px wide on a high-density screen

# The variation icon: colour and letter; the assurance icon likewise.
VARIATION_ICONS = {
    "common_cause": (GREY, "~"),
    "improvement_high": (BLUE, "H"),
    "improvement_low": (BLUE, "L"),
    "concern_high": (ORANGE, "H"),
    "concern_low": (ORANGE, "L"),
    "neutral_high": (PURPLE, "H"),
    "neutral_low": (PURPLE, "L"),
}
ASSURANCE_ICONS = {"pass": (BLUE, "P"), "fail": (ORANGE, "F"), "inconsistent": (GREY, "?")}
VARIATION_WORDS = {
    "common_cause": "common\ncause",
    "improvement_high": "improvement\n(high)",
    "improvement_low": "improvement\n(low)",
    "concern_high": "concern\n(high)",
    "concern_low": "concern\n(low)",
    "neutral_high": "special\ncause (high)",
    "neutral_low": "special\ncause (low)",
}
ASSURANCE_WORDS = {
    "pass": "meets the\ntarget",
    "fail": "misses the\ntarget",
    "inconsistent": "hit and\nmiss",
}


def _icon(figure: Figure, x: float, colour: str, letter: str, words: str) -> None:
    """A round icon in the figure's top right, its meaning written under it."""
    axes = figure.add_axes((x, 0.80, 0.07, 0.07 * WIDTH_INCHES / HEIGHT_INCHES))
    axes.set_axis_off()
    axes.set_xlim(-1, 1)
    axes.set_ylim(-1, 1)
    axes.add_patch(Circle((0, 0), 0.95, facecolor="white", edgecolor=colour, linewidth=2.5))
    axes.text(0, -0.05, letter, ha="center", va="center", fontsize=11, color=colour, weight="bold")
    figure.text(
        x + 0.035,
        0.78,
        words,
        ha="center",
        va="top",
        fontsize=6.5,
        color="#425563",
        linespacing=1.1,
    )


def draw(
    chart: Chart, *, title: str, unit: str, target: float | None, subtitle: str = ""
) -> Figure:
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES))
    axes = figure.add_axes((0.09, 0.14, 0.68, 0.66))
    figure.text(0.02, 0.96, title, fontsize=10.5, weight="bold", va="top", color="#212B32")
    if subtitle:
        figure.text(0.02, 0.895, subtitle, fontsize=8, va="top", color="#425563")
    periods = [float(date2num(p.period)) for p in chart.points]
    values = [p.value for p in chart.points]
    if not chart.points:
        axes.text(0.5, 0.5, "No data yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    axes.plot(periods, values, color=LINE, linewidth=1.5, zorder=2)
    for point in chart.points:
        axes.scatter(
            [float(date2num(point.period))],
            [point.value],
            s=22,
            color=POINT_COLOURS.get(point.point_type, GREY),
            zorder=3,
        )
    for n, segment in enumerate(chart.segments):
        members = [p for p in chart.points if p.segment == n]
        span = [float(date2num(members[0].period)), float(date2num(members[-1].period))]
        axes.plot(span, [segment.mean] * 2, color=MEAN, linewidth=1, zorder=1)
        if segment.limits and segment.ucl is not None and segment.lcl is not None:
            for limit in (segment.ucl, segment.lcl):
                axes.plot(span, [limit] * 2, color=GREY, linewidth=1, linestyle="--", zorder=1)
        if n > 0:
            axes.axvline(span[0], color=GREY, linewidth=0.8, linestyle=":", zorder=0)
    if target is not None:
        axes.axhline(target, color=RED, linewidth=1, linestyle="-.", zorder=1)
    axes.set_ylabel(unit, fontsize=8)
    axes.tick_params(labelsize=7.5)
    locator = AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.xaxis.get_offset_text().set_fontsize(7.5)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not chart.limits:
        axes.text(
            0.01,
            0.98,
            "Too few points for limits: a run chart",
            transform=axes.transAxes,
            fontsize=7,
            va="top",
            color="#425563",
        )
    key = [
        Line2D([], [], color=MEAN, linewidth=1, label="mean"),
        Line2D([], [], color=GREY, linewidth=1, linestyle="--", label="process limits"),
        Line2D([], [], marker="o", linestyle="", color=BLUE, label="improvement"),
        Line2D([], [], marker="o", linestyle="", color=ORANGE, label="concern"),
    ]
    if target is not None:
        key.append(Line2D([], [], color=RED, linewidth=1, linestyle="-.", label="target"))
    if len(chart.segments) > 1:
        key.append(Line2D([], [], color=GREY, linewidth=0.8, linestyle=":", label="rebase"))
    figure.legend(
        handles=key, loc="lower left", bbox_to_anchor=(0.79, 0.14), fontsize=6.5, frameon=False
    )
    if chart.variation in VARIATION_ICONS:
        colour, letter = VARIATION_ICONS[chart.variation]
        _icon(figure, 0.80, colour, letter, VARIATION_WORDS[chart.variation])
    if chart.assurance in ASSURANCE_ICONS:
        colour, letter = ASSURANCE_ICONS[chart.assurance]
        _icon(figure, 0.905, colour, letter, ASSURANCE_WORDS[chart.assurance])
    return figure


def svg(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=PNG_DPI, facecolor="white")
    return out.getvalue()

"""Score charts for printed reports, drawn with matplotlib (print quality, PNG).

matplotlib is imported when a chart is drawn, and only its object interface is used
(``Figure`` with an Agg canvas): no global pyplot state, safe in a web server's threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

INK = "#0b5cad"
RESPONSE = "#8a5a00"
REMISSION = "#1d6b35"


@dataclass(frozen=True)
class ScoreSeries:
    """One instrument's totals over time, with the lines it is judged against."""

    name: str
    points: Sequence[tuple[datetime, int]]  # (when, in the clinic's zone; total)
    max_total: int | None
    response_line: float | None  # the score a response must reach (at or below)
    remission_max: int | None  # remission: at or below this score


def score_chart_png(series: ScoreSeries, *, dpi: int = 150) -> bytes:
    """A line of the scores with the response and remission lines dashed across it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7.0, 2.6), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    moments = [when for when, _ in series.points]
    xs = date2num(moments)
    ys = [total for _, total in series.points]
    axes.plot(xs, ys, color=INK, marker="o", linewidth=1.6, markersize=4, label=series.name)
    if series.response_line is not None:
        axes.axhline(
            series.response_line,
            color=RESPONSE,
            linestyle="--",
            linewidth=1.1,
            label=f"Response (at or below {series.response_line:g})",
        )
    if series.remission_max is not None:
        axes.axhline(
            series.remission_max,
            color=REMISSION,
            linestyle=":",
            linewidth=1.4,
            label=f"Remission (at or below {series.remission_max})",
        )
    top = series.max_total if series.max_total is not None else max(ys, default=1)
    axes.set_ylim(0, top)
    # Whole-number ticks (a score is a whole number): no 5.4 or 47 on the axis.
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, steps=[1, 2, 5, 10]))
    # Days as a reader writes them (Oct 06), the zone the points are already in.
    zone = moments[0].tzinfo if moments else None
    axes.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=7, tz=zone))
    axes.xaxis.set_major_formatter(DateFormatter("%b %d", tz=zone))
    axes.set_ylabel("Total score")
    axes.set_title(series.name, fontsize=10, loc="left")
    axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="upper right", fontsize=7, frameon=False)
    figure.tight_layout()
    out = BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()

"""Small server-rendered SVG line charts for pages (no script, no CDN, CSP-safe).

Pages embed the returned markup with ``|safe``; every text is escaped here. Reports
that need print quality use matplotlib instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#0b5cad", "#a3261a", "#1d6b35", "#8a5a00", "#6b3fa0", "#00727a")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False
    band: Sequence[tuple[float, float, float]] = ()  # (x, low, high) shaded around the line


@dataclass(frozen=True)
class Rule:
    """A horizontal reference line (a threshold, a baseline, a remission cut-off)."""

    label: str
    y: float


@dataclass(frozen=True)
class Marker:
    """A vertical marker (a session, an event)."""

    label: str
    x: float


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    y_min: float | None = None
    y_max: float | None = None
    width: int = 720
    height: int = 300


# Tick steps are 1, 2 or 5 times a power of ten (the steps of matplotlib's MaxNLocator
# with steps [1, 2, 5, 10]), at most ``TICKS_AT_MOST`` intervals on an axis.
NICE_STEPS = (1.0, 2.0, 5.0, 10.0)
TICKS_AT_MOST = 6


def nice_step(low: float, high: float, most: int = TICKS_AT_MOST) -> float:
    """The smallest 1-2-5 step whose multiples cover [low, high] in ``most`` intervals."""
    span = high - low
    if span <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    for factor in NICE_STEPS + (20.0,):
        step = factor * magnitude
        if math.ceil(high / step - 1e-9) - math.floor(low / step + 1e-9) <= most:
            return step
    return 20.0 * magnitude  # pragma: no cover - 20 x magnitude always fits


def nice_ticks(low: float, high: float, most: int = TICKS_AT_MOST) -> list[float]:
    """Round tick values from the last multiple of the step at or below ``low`` to the
    first at or above ``high`` (5.4 to 95 gives 0, 20, ..., 100)."""
    if high <= low:
        return [low]
    step = nice_step(low, high, most)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [_round(i * step, step) for i in range(first, last + 1)]


def _round(value: float, step: float) -> float:
    # 0.1 * 3 is 0.30000000000000004: round to the step's own decimals.
    return round(value, _decimals(step)) + 0.0


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0


def _axis(low: float, high: float, fixed_low: bool, fixed_high: bool) -> tuple[float, float]:
    """The axis range: a bound the chart fixes stays, a free one widens to a round tick."""
    ticks = nice_ticks(low, high)
    return (low if fixed_low else ticks[0], high if fixed_high else ticks[-1])


def _ticks(low: float, high: float) -> list[float]:
    """The round ticks that lie on the axis [low, high]."""
    return [t for t in nice_ticks(low, high) if low - 1e-9 <= t <= high + 1e-9]


def _label(tick: float, step: float) -> str:
    """A tick as written on its axis: as many decimals as its step has (20, 0.5, 0.02)."""
    return f"{tick:.{_decimals(step)}f}"


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def render_svg(chart: Chart) -> str:
    xs = [x for s in chart.series for x, _ in s.points] + [m.x for m in chart.markers]
    ys = [y for s in chart.series for _, y in s.points] + [r.y for r in chart.rules]
    ys += [v for s in chart.series for _, low, high in s.band for v in (low, high)]
    title = escape(chart.title)
    if not xs or not ys:
        return (
            f'<svg role="img" aria-label="{title}: no data yet" width="{chart.width}" '
            f'height="40" class="chart"><text x="0" y="25">{title}: no data yet</text></svg>'
        )
    x0, x1 = min(xs), max(xs)
    y0 = chart.y_min if chart.y_min is not None else min(ys)
    y1 = chart.y_max if chart.y_max is not None else max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    x0, x1 = _axis(x0, x1, False, False)
    y0, y1 = _axis(y0, y1, chart.y_min is not None, chart.y_max is not None)
    x_step = nice_step(x0, x1)
    y_step = nice_step(y0, y1)
    left, right, top, bottom = 56, 16, 28, 44
    plot_w, plot_h = chart.width - left - right, chart.height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{title}" viewBox="0 0 {chart.width} {chart.height}" '
        f'width="{chart.width}" height="{chart.height}">',
        f"<title>{title}</title>",
        f'<text x="{left}" y="16" font-weight="600" font-size="13">{title}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        f'stroke="#d5dbe5"/>',
    ]
    for tick in _ticks(y0, y1):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" '
            f'y2="{py(tick):.1f}" stroke="#eef1f5"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{_label(tick, y_step)}</text>'
        )
    for tick in _ticks(x0, x1):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{_label(tick, x_step)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{chart.height - 6}" font-size="12" '
        f'text-anchor="middle">{escape(chart.x_label)}</text>'
    )
    parts.append(
        f'<text x="12" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2})">{escape(chart.y_label)}</text>'
    )
    for marker in chart.markers:
        x = px(marker.x)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="#9aa5b5" stroke-dasharray="2 3"><title>{escape(marker.label)}'
            f"</title></line>"
        )
    for rule in chart.rules:
        y = py(rule.y)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#8a5a00" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{left + plot_w - 4}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#8a5a00">{escape(rule.label)}</text>'
        )
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        if series.band:
            upper = " ".join(f"{px(x):.1f},{py(h):.1f}" for x, _, h in series.band)
            lower = " ".join(f"{px(x):.1f},{py(lo):.1f}" for x, lo, _ in reversed(series.band))
            parts.append(
                f'<polygon points="{upper} {lower}" fill="{colour}" '
                f'fill-opacity="0.15" stroke="none"/>'
            )
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in series.points)
        dash = ' stroke-dasharray="5 4"' if series.dashed else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}><title>{escape(series.label)}</title></polyline>'
        )
        if len(series.points) <= 60:
            for x, y in series.points:
                parts.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" '
                    f'fill="{colour}"><title>{escape(series.label)}: {_fmt(y)} at '
                    f"{_fmt(x)}</title></circle>"
                )
        legend_y = top + 14 + index * 14
        parts.append(
            f'<text x="{left + 8}" y="{legend_y}" font-size="11" fill="{colour}">'
            f"{escape(series.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

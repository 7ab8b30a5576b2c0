"""The session screen's trend chart drawn on the server as SVG (no script needed to see
it, no CDN): blood pressure, heart rate and SpO2 on one fixed 0-220 scale against the
clinic's clock. The same geometry is written on the chart (``data-*``) so the page's
script redraws it the same way when live readings arrive (``static/js/cockpit.js``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from ketaclinic.sessions.service.cockpit import TREND, TrendPoint

WIDTH, HEIGHT = 560, 190
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 8, 22
Y_MAX = 220.0  # the scale's top: every plausible pressure, rate and saturation fits
Y_TICKS = (0, 50, 100, 150, 200)
# Clock ticks: the first step (minutes) that gives at most 7 of them.
STEPS_MIN = (5, 10, 15, 30, 60, 120, 240)
# The chart spans at least half an hour, so a few readings do not fill it edge to edge.
MIN_SPAN = timedelta(minutes=30)
# Each point is marked with a dot while there are few (a lone reading shows at all).
DOTS_UP_TO = 40
CSS = {"systolic_bp": "t-sbp", "diastolic_bp": "t-dbp", "heart_rate": "t-hr", "spo2": "t-spo2"}
NAMES = {
    "systolic_bp": "systolic",
    "diastolic_bp": "diastolic",
    "heart_rate": "heart rate",
    "spo2": "SpO2",
}


def _span(points: Sequence[TrendPoint], start: datetime | None) -> tuple[datetime, datetime]:
    times = [p.at for p in points] + ([start] if start else [])
    if not times:
        now = datetime.now(UTC)
        return now, now + MIN_SPAN
    t0, t1 = min(times), max(times)
    return t0, max(t1, t0 + MIN_SPAN)


def clock_ticks(t0: datetime, t1: datetime, zone: ZoneInfo) -> list[datetime]:
    """Round clock times between ``t0`` and ``t1`` (10:00, 10:15, ...), at most 7."""
    span_min = (t1 - t0).total_seconds() / 60
    step = next((s for s in STEPS_MIN if span_min / s <= 7), STEPS_MIN[-1])
    local = t0.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes_in = (local - midnight).total_seconds() / 60
    first = midnight + timedelta(minutes=-(-minutes_in // step) * step)
    out = []
    tick = first
    while tick <= t1:
        out.append(tick)
        tick += timedelta(minutes=step)
    return out


def render(points: Sequence[TrendPoint], *, start: datetime | None, zone: ZoneInfo) -> str:
    """The chart: one polyline per parameter through the points' means, the range of a
    point that groups several readings shaded around it."""
    t0, t1 = _span(points, start)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (t1 - t0).total_seconds()

    def px(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    def py(value: float) -> float:
        return TOP + (1 - min(value, Y_MAX) / Y_MAX) * plot_h

    data = [
        {
            "t": int(p.at.timestamp() * 1000),
            **{k: [round(x, 1) for x in v] for k, v in p.values.items() if v is not None},
        }
        for p in points
    ]
    label = "Trend of systolic and diastolic blood pressure, heart rate and SpO2"
    parts = [
        f'<svg id="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{label}" data-t0="{int(t0.timestamp() * 1000)}" '
        f'data-t1="{int(t1.timestamp() * 1000)}" data-points="{escape(json.dumps(data))}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="trend-frame"/>',
    ]
    for value in Y_TICKS:
        y = py(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="trend-grid"/><text x="{LEFT - 4}" y="{y + 4:.1f}" '
            f'text-anchor="end" class="trend-tick">{value}</text>'
        )
    for tick in clock_ticks(t0, t1, zone):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" class="trend-tick" '
            f'data-t="{int(tick.timestamp() * 1000)}">{tick.astimezone(zone):%H:%M}</text>'
        )
    for name in TREND:
        shown = [(p.at, p.values[name]) for p in points if p.values.get(name) is not None]
        if not shown:
            continue
        css = CSS[name]
        if any(v[1] != v[2] for _, v in shown if v is not None):
            upper = " ".join(f"{px(at):.1f},{py(v[2]):.1f}" for at, v in shown if v)
            lower = " ".join(f"{px(at):.1f},{py(v[1]):.1f}" for at, v in reversed(shown) if v)
            parts.append(f'<polygon points="{upper} {lower}" class="trend-band {css}"/>')
        coords = " ".join(f"{px(at):.1f},{py(v[0]):.1f}" for at, v in shown if v)
        parts.append(
            f'<polyline points="{coords}" class="trend-line {css}" data-series="{name}">'
            f"<title>{NAMES[name]}</title></polyline>"
        )
        if len(shown) <= DOTS_UP_TO:
            parts += [
                f'<circle cx="{px(at):.1f}" cy="{py(v[0]):.1f}" r="2.5" class="trend-dot {css}"/>'
                for at, v in shown
                if v
            ]
    parts.append("</svg>")
    return "".join(parts)

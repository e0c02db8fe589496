"""Server-rendered SVG charts for the console: a line chart and a stacked bar chart.

Why our own and not a library: the console's pages must work without JavaScript and
under a CSP that allows no inline style, and two chart types with axes, ticks and a
legend are ~200 lines. Every chart is `role="img"` with a <title> and a <desc> that
says what it shows in words; the page puts the same numbers in a table beside it
(the fallback for screen readers and for anyone who wants the exact figure).

Colours are the Okabe-Ito palette (told apart with the common colour-vision
deficiencies); series keep their colour across charts by their position. No `style`
attributes anywhere: presentation attributes only (the CSP forbids inline styles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

from markupsafe import Markup

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#7A5C00", "#56B4E9", "#000000")
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, BOTTOM = 78, 16, 44  # plot margins: tick labels left, months below (the top fits the legend)
LEGEND_ROW = 18
Value = float | int | None
Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Value]


@dataclass(frozen=True)
class Chart:
    """One chart: `labels` name the x categories (e.g. "Mar 2026": the year shows under
    the first and every January; "Dec–Feb\n2025/26": both lines always), each series has a value
    per label (None: no value, a gap in a line). `fmt` writes a value for people (the
    tooltips), `tick` an axis tick (shorter)."""

    key: str
    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    kind: Literal["line", "stacked"] = "line"
    fmt: Formatter = str
    tick: Formatter | None = None
    axis_label: str = ""

    def svg(self) -> Markup:
        return render(self)


def nice_step(span: float, count: int = 5) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten giving about `count` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover  (the loop always returns)


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] and always 0 (bars and MRR start from zero).

    An empty or flat range still gets an axis (0..1), so an empty chart reads as zero."""
    low, high = min(low, 0.0), max(high, 0.0)
    if low == high:
        high = 1.0
    step = nice_step(high - low, count)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [_clean(k * step) for k in range(first, last + 1)]


def _clean(value: float) -> float:
    """Ticks such as 0.30000000000000004 read as 0.3 (and -0.0 as 0)."""
    rounded = round(value, 9)
    return 0.0 if rounded == 0 else rounded


def value_range(chart: Chart) -> tuple[float, float]:
    """(lowest, highest) the axis must show: stacked bars stack positives up and negatives
    down from zero, so their extremes are the per-label sums of each sign."""
    if chart.kind == "stacked":
        ups = [sum(v for v in col if v and v > 0) for col in _columns(chart)]
        downs = [sum(v for v in col if v and v < 0) for col in _columns(chart)]
        return (min(downs, default=0.0), max(ups, default=0.0))
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    return (min(values, default=0.0), max(values, default=0.0))


def _columns(chart: Chart) -> list[list[Value]]:
    return [[s.values[i] if i < len(s.values) else None for s in chart.series] for i in range(len(chart.labels))]


class _Scale:
    """Maps values to y pixels in the plot area and label indexes to band centres."""

    def __init__(self, tick_values: list[float], count: int, top: float) -> None:
        self.low, self.high, self.top = tick_values[0], tick_values[-1], top
        self.band = (WIDTH - LEFT - RIGHT) / max(count, 1)

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return round(self.top + (self.high - value) / span * (HEIGHT - self.top - BOTTOM), 1)

    def x(self, index: int) -> float:
        return round(LEFT + self.band * (index + 0.5), 1)


def render(chart: Chart) -> Markup:
    """The chart as an inline <svg> element (safe markup: every text is escaped)."""
    tick_values = ticks(*value_range(chart))
    legend, legend_height = _legend(chart)
    scale = _Scale(tick_values, len(chart.labels), legend_height + 22)
    title_id, desc_id = f"{chart.key}-title", f"{chart.key}-desc"
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{title_id}">{escape(chart.title)}</title>',
             f'<desc id="{desc_id}">{escape(chart.description)}</desc>']
    parts += _axes(chart, tick_values, scale)
    parts += _bars(chart, scale) if chart.kind == "stacked" else _lines(chart, scale)
    parts += legend
    parts.append("</svg>")
    return Markup("".join(parts))


def _axes(chart: Chart, tick_values: list[float], scale: _Scale) -> list[str]:
    tick = chart.tick or chart.fmt
    out = ['<g class="axis y" font-size="12" fill="#333">']
    for value in tick_values:
        y = scale.y(value)
        colour, width = ("#555", "1.2") if value == 0 else ("#ddd", "1")
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="{width}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{escape(tick(value))}</text>')
    if chart.axis_label:
        out.append(f'<text x="4" y="{scale.top - 8}" font-weight="bold">{escape(chart.axis_label)}</text>')
    out.append("</g>")
    out.append('<g class="axis x" font-size="12" fill="#333">')
    every = max(1, math.ceil(len(chart.labels) * 46 / (WIDTH - LEFT - RIGHT)))
    for i, label in enumerate(chart.labels):
        if i % every:
            continue
        explicit = "\n" in label
        first, _, second = label.partition("\n" if explicit else " ")
        x, y = scale.x(i), HEIGHT - BOTTOM + 16
        out.append(f'<text x="{x}" y="{y}" text-anchor="middle">{escape(first)}</text>')
        if second and (explicit or i == 0 or first.startswith("Jan")):
            out.append(f'<text x="{x}" y="{y + 15}" text-anchor="middle">{escape(second)}</text>')
    out.append("</g>")
    return out


def _lines(chart: Chart, scale: _Scale) -> list[str]:
    out = []
    for n, series in enumerate(chart.series):
        colour = PALETTE[n % len(PALETTE)]
        out.append(f'<g class="series" fill="{colour}" stroke="{colour}">')
        for run in _runs(series.values):
            points = " ".join(f"{scale.x(i)},{scale.y(float(v))}" for i, v in run)
            if len(run) > 1:
                out.append(f'<polyline points="{points}" fill="none" stroke-width="2.5"/>')
        for i, v in enumerate(series.values[:len(chart.labels)]):
            if v is not None:
                tip = f"{series.name}, {_words(chart.labels[i])}: {chart.fmt(float(v))}"
                out.append(f'<circle cx="{scale.x(i)}" cy="{scale.y(float(v))}" r="3.5" stroke="none">'
                           f'<title>{escape(tip)}</title></circle>')
        out.append("</g>")
    return out


def _words(label: str) -> str:
    return label.replace("\n", " ")


def _runs(values: Sequence[Value]) -> list[list[tuple[int, float]]]:
    """Consecutive points with values (a None breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((i, float(v)))
    return [r for r in runs if r]


def _bars(chart: Chart, scale: _Scale) -> list[str]:
    width = round(scale.band * 0.62, 1)
    out = []
    for i, column in enumerate(_columns(chart)):
        up = down = 0.0
        for n, v in enumerate(column):
            if not v:
                continue
            base = up if v > 0 else down
            top, bottom = (base + v, base) if v > 0 else (base, base + v)
            if v > 0:
                up += v
            else:
                down += v
            y, height = scale.y(top), round(scale.y(bottom) - scale.y(top), 1)
            tip = f"{chart.series[n].name}, {_words(chart.labels[i])}: {chart.fmt(float(v))}"
            out.append(f'<rect x="{round(scale.x(i) - width / 2, 1)}" y="{y}" width="{width}" '
                       f'height="{max(height, 0.5)}" fill="{PALETTE[n % len(PALETTE)]}">'
                       f'<title>{escape(tip)}</title></rect>')
    return out


def _legend(chart: Chart) -> tuple[list[str], int]:
    """Swatches and names in rows above the plot (a line or a square, as drawn); a row
    wraps before it would leave the chart. Returns the parts and the rows' height."""
    out, x, y = ['<g class="legend" font-size="12" fill="#222">'], float(LEFT), 14
    for n, series in enumerate(chart.series):
        width = 34 + 7 * len(series.name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + LEGEND_ROW
        colour = PALETTE[n % len(PALETTE)]
        if chart.kind == "line":
            out.append(f'<line x1="{x}" x2="{x + 18}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="3"/>')
        else:
            out.append(f'<rect x="{x + 3}" y="{y - 6}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 23}" y="{y + 4}">{escape(series.name)}</text>')
        x += width
    out.append("</g>")
    return out, y + 6

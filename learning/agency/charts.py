"""Chart geometry for server-rendered SVG: pure functions, so tests check the numbers.

Templates draw the shapes with classes from the stylesheet (no inline styles, no
JavaScript), so the charts pass the strict CSP and print like the rest of the page.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 420  # narrow enough that labels stay readable when a phone scales the chart down
LABEL_WIDTH = 150  # room for a unit's name left of its bar
ROW = 30
PLOT_HEIGHT = 160
TOP, BOTTOM = 24, 30  # room for values above columns and labels below them


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its rectangle, its label and the value printed beside it."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    label_x: float
    label_y: float
    value_x: float
    value_y: float


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart's viewBox size and bars, and the gridlines (y, text) of columns charts."""

    width: int
    height: int
    bars: list[Bar]
    grid: list[tuple[float, str]]


def shorten(text: str, limit: int = 18) -> str:
    """A label short enough for the chart; the table after it has the full text."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def horizontal_percent(items: list[tuple[str, int]]) -> Chart:
    """One horizontal bar per (label, percent 0-100), a row each."""
    span = WIDTH - LABEL_WIDTH - 50
    bars = []
    for n, (label, percent) in enumerate(items):
        y = n * ROW + 4
        length = span * max(0, min(100, percent)) / 100
        bars.append(Bar(LABEL_WIDTH, y, length, ROW - 10, shorten(label), f"{percent} %",
                        LABEL_WIDTH - 8, y + ROW / 2, LABEL_WIDTH + length + 6, y + ROW / 2))
    return Chart(WIDTH, max(1, len(items)) * ROW + 4, bars, [])


def columns(items: list[tuple[str, float, str]], maximum: float, ticks: list[float],
            tick_format: str = "{:g}") -> Chart:
    """One column per (label, value, value text), scaled so ``maximum`` fills the plot."""
    maximum = maximum or 1
    slot = (WIDTH - 50) / max(1, len(items))
    bars = []
    for n, (label, value, text) in enumerate(items):
        height = PLOT_HEIGHT * max(0.0, min(value, maximum)) / maximum
        x = 50 + n * slot + slot * 0.15
        y = TOP + PLOT_HEIGHT - height
        bars.append(Bar(x, y, slot * 0.7, height, label, text, x + slot * 0.35,
                        TOP + PLOT_HEIGHT + 20, x + slot * 0.35, y - 6))
    grid = [(TOP + PLOT_HEIGHT - PLOT_HEIGHT * tick / maximum, tick_format.format(tick))
            for tick in ticks]
    return Chart(WIDTH, TOP + PLOT_HEIGHT + BOTTOM, bars, grid)


def count_ticks(maximum: int) -> list[float]:
    """Three whole-number gridlines from 0 to at least ``maximum`` (the last is the top)."""
    step = max(1, -(-maximum // 2))
    return [0.0, float(step), float(2 * step)]

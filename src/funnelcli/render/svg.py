"""The charts of the HTML pages as inline SVG: drawn here, with no chart library and no script.

Each chart is a value (what to draw, already worded and in the artifact's numbers) and `svg()`
draws it at a fixed design width that scales down with the page (`viewBox`, `max-width:100%`).
Everything is presentation attributes, never a stylesheet or a `url(…)` reference, so a mail
client that drops CSS still draws it; every mark carries `data-kind` (bar, drop, line, band,
cell, bin) so tests count what was drawn. No chart library is used: the ones that write static
SVG without a browser (pygal, matplotlib) are heavy imports for six small figures, and pygal's
output relies on CSS and scripts for its labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from unicodedata import east_asian_width

WIDTH = 640  # design width in px: fits a 700 px e-mail with its margins
_FONT = 'font-family="Helvetica,Arial,sans-serif" font-size="12"'
_INK, _MUTED, _GRID = "#111827", "#6b7280", "#e5e7eb"
_BLUE, _PALE = "#2563eb", "#bfdbfe"
# Lines: colour and dash both differ, so the series part without colour too.
_SERIES = (("#2563eb", ""), ("#d97706", "6 3"), ("#059669", "2 3"), ("#7c3aed", "8 3 2 3"))


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    text: str  # e.g. "1,317 · 43.9% of previous · 1,683 dropped"
    dropped: int  # from the previous stage (0 on the first)
    faint: bool = False  # provisional (an immature period)


@dataclass(frozen=True)
class FunnelChart:
    """One bar per stage (width ∝ count) and, beside it, the drop-off from the previous one."""

    title: str
    steps: tuple[FunnelStep, ...]


@dataclass(frozen=True)
class Line:
    name: str
    values: tuple[float | None, ...]  # one per x label; None: no point
    lows: tuple[float | None, ...]  # the interval's band, same length
    highs: tuple[float | None, ...]


@dataclass(frozen=True)
class LineChart:
    """Rates (0–1) by period, each with its interval as a band; periods from `faint_from` on
    are provisional (drawn on a shaded background)."""

    title: str
    x_labels: tuple[str, ...]
    lines: tuple[Line, ...]
    faint_from: int | None = None


@dataclass(frozen=True)
class HeatMap:
    """Rows × columns of rates, each shaded against its column's best row, the text inside."""

    title: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    rates: tuple[tuple[float | None, ...], ...]
    texts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class DivergingBars:
    """Signed values around a zero line: gains solid to the right, losses hollow and dashed to
    the left with a "loss" label, so sign reads without colour."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class BinChart:
    """A histogram: one row per bin (its range, a bar ∝ its count, the count written beside
    it); an empty bin keeps its row and label and draws no bar."""

    title: str
    labels: tuple[str, ...]  # each bin's range in the unit, e.g. "0–2 weeks"
    counts: tuple[int, ...]
    texts: tuple[str, ...]  # each count as written, e.g. "1,317"


Chart = FunnelChart | LineChart | HeatMap | DivergingBars | BinChart


def svg(chart: Chart) -> str:
    """`chart` as one inline <svg> element."""
    if isinstance(chart, FunnelChart):
        height, body = _funnel(chart)
    elif isinstance(chart, LineChart):
        height, body = _lines(chart)
    elif isinstance(chart, HeatMap):
        height, body = _heat(chart)
    elif isinstance(chart, BinChart):
        height, body = _bins(chart)
    else:
        height, body = _diverging(chart)
    return (
        f'<svg role="img" aria-label="{escape(chart.title)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" style="max-width:100%;height:auto;display:block">'
        f"<title>{escape(chart.title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = _INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {_FONT}>'
        f"{escape(text)}</text>"
    )


def _rect(kind: str, x: float, y: float, w: float, h: float, extra: str) -> str:
    return (
        f'<rect data-kind="{kind}" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
        f'height="{h:.1f}" {extra}/>'
    )


def _funnel(chart: FunnelChart) -> tuple[int, list[str]]:
    label_w, bar_w, row_h = 110, WIDTH - 120, 38
    top = max((step.count for step in chart.steps), default=0)
    body = []
    for index, step in enumerate(chart.steps):
        y = 6 + index * row_h
        width = bar_w * step.count / top if top else 0.0
        dropped = bar_w * step.dropped / top if top else 0.0
        fill = _PALE if step.faint else _BLUE
        body.append(_text(0, y + 13, _clip(step.label, 16)))
        body.append(
            _rect(
                "bar", label_w, y + 2, max(width, 1.0 if step.count else 0.0), 14, f'fill="{fill}"'
            )
        )
        if step.dropped:
            body.append(
                _rect(
                    "drop",
                    label_w + width,
                    y + 2,
                    dropped,
                    14,
                    f'fill="#ffffff" stroke="{_MUTED}" stroke-dasharray="3 2"',
                )
            )
        body.append(_text(label_w, y + 30, step.text, fill=_MUTED))
    return 6 + len(chart.steps) * row_h, body


def _lines(chart: LineChart) -> tuple[int, list[str]]:
    left, right, top, plot_h = 44, 12, 10, 180
    n = len(chart.x_labels)
    plot_w = WIDTH - left - right
    highest = max(
        (v for line in chart.lines for v in (*line.highs, *line.values) if v is not None),
        default=0.0,
    )
    ceiling = _nice_ceiling(highest)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / ceiling)

    body = []
    if chart.faint_from is not None and n:
        start = left + plot_w * chart.faint_from / n
        body.append(
            _rect("provisional", start, top, left + plot_w - start, plot_h, 'fill="#f3f4f6"')
        )
        body.append(_text(left + plot_w - 2, top + 12, "provisional", anchor="end", fill=_MUTED))
    for tick in range(5):
        value = ceiling * tick / 4
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{_GRID}"/>'
        )
        body.append(_text(left - 4, y(value) + 4, f"{value * 100:.0f}%", anchor="end", fill=_MUTED))
    step = max(1, -(-n // 8))  # at most ~8 period labels
    for i in range(0, n, step):
        body.append(_text(x(i), top + plot_h + 14, chart.x_labels[i], anchor="middle", fill=_MUTED))
    for index, line in enumerate(chart.lines):
        colour, dash = _SERIES[index % len(_SERIES)]
        for run in _runs(line.lows, line.highs):
            upper = " ".join(f"{x(i):.1f},{y(line.highs[i] or 0):.1f}" for i in run)
            lower = " ".join(f"{x(i):.1f},{y(line.lows[i] or 0):.1f}" for i in reversed(run))
            body.append(
                f'<polygon data-kind="band" points="{upper} {lower}" fill="{colour}" '
                'fill-opacity="0.12" stroke="none"/>'
            )
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(line.values, line.values):
            points = " ".join(f"{x(i):.1f},{y(line.values[i] or 0):.1f}" for i in run)
            body.append(
                f'<polyline data-kind="line" points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dashes}/>'
            )
    legend_y = top + plot_h + 34
    for index, line in enumerate(chart.lines):
        colour, dash = _SERIES[index % len(_SERIES)]
        lx = left + index * 150
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{lx}" x2="{lx + 24}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dashes}/>'
        )
        body.append(_text(lx + 30, legend_y, _clip(line.name, 18)))
    return legend_y + 8, body


def _runs(lows: Sequence[float | None], highs: Sequence[float | None]) -> list[list[int]]:
    """Consecutive indexes where both values exist (a gap breaks a line and its band)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
        if low is None or high is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _nice_ceiling(value: float) -> float:
    """The smallest of 5%, 10%, 20%, 25%, 50%, 100% at or above `value`."""
    for ceiling in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= ceiling:
            return ceiling
    return value


def _heat(chart: HeatMap) -> tuple[int, list[str]]:
    label_w, row_h = 120, 20
    columns = max(1, len(chart.column_labels))
    cell_w = (WIDTH - label_w) / columns
    peaks = [
        max((row[c] or 0.0 for row in chart.rates if c < len(row)), default=0.0)
        for c in range(columns)
    ]
    body = [
        _text(label_w + cell_w * (c + 0.5), 14, _clip(name, int(cell_w / 7)), anchor="middle")
        for c, name in enumerate(chart.column_labels)
    ]
    for r, (label, rates, texts) in enumerate(
        zip(chart.row_labels, chart.rates, chart.texts, strict=True)
    ):
        y = 22 + r * row_h
        body.append(_text(0, y + 14, _clip(label, 18)))
        for c, (rate, text) in enumerate(zip(rates, texts, strict=True)):
            level = rate / peaks[c] if rate is not None and peaks[c] > 0 else 0.0
            ink = "#ffffff" if level > 0.6 else _INK
            body.append(
                _rect(
                    "cell",
                    label_w + c * cell_w + 1,
                    y + 1,
                    cell_w - 2,
                    row_h - 2,
                    f'fill="{_BLUE}" fill-opacity="{0.08 + 0.87 * level:.2f}"',
                )
            )
            body.append(
                _text(label_w + (c + 0.5) * cell_w, y + 14, text, anchor="middle", fill=ink)
            )
    return 26 + len(chart.row_labels) * row_h, body


def _diverging(chart: DivergingBars) -> tuple[int, list[str]]:
    label_w, row_h = 110, 24
    plot_w = WIDTH - label_w - 10
    widest = max((abs(v) for v in chart.values if v is not None), default=0.0)
    negative = any(v is not None and v < 0 for v in chart.values)
    zero = label_w + (plot_w / 2 if negative else 0)
    half = plot_w / 2 if negative else plot_w - 70
    body = []
    for index, (label, value, text) in enumerate(
        zip(chart.labels, chart.values, chart.texts, strict=True)
    ):
        y = 6 + index * row_h
        body.append(_text(0, y + 13, _clip(label, 16)))
        if value is None or widest <= 0:
            body.append(_text(zero + 4, y + 13, text, fill=_MUTED))
            continue
        length = max(1.0, half * abs(value) / widest) if value else 0.0
        if value >= 0:
            body.append(_rect("bar", zero, y + 2, length, 14, f'fill="{_BLUE}" data-sign="gain"'))
            body.append(_text(min(zero + length + 4, WIDTH - 60), y + 13, text))
        else:
            body.append(
                _rect(
                    "bar",
                    zero - length,
                    y + 2,
                    length,
                    14,
                    'fill="#ffffff" stroke="#b91c1c" stroke-width="1.5" '
                    'stroke-dasharray="4 2" data-sign="loss"',
                )
            )
            body.append(_text(zero + 4, y + 13, f"{text} (loss)", fill="#b91c1c"))
    height = 10 + len(chart.labels) * row_h
    body.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="2" y2="{height - 4}" stroke="{_INK}"/>')
    return height, body


def _bins(chart: BinChart) -> tuple[int, list[str]]:
    label_w, row_h = 120, 22
    bar_w = WIDTH - label_w - 70  # room for the count beside the longest bar
    most = max(chart.counts, default=0)
    body = []
    for index, (label, count, text) in enumerate(
        zip(chart.labels, chart.counts, chart.texts, strict=True)
    ):
        y = 6 + index * row_h
        body.append(_text(0, y + 13, _clip(label, 18)))
        width = max(1.0, bar_w * count / most) if count and most else 0.0
        if count:
            body.append(_rect("bin", label_w, y + 2, width, 14, f'fill="{_BLUE}"'))
        body.append(_text(label_w + width + 4, y + 13, text, fill=_INK if count else _MUTED))
    height = 10 + len(chart.labels) * row_h
    body.append(f'<line x1="{label_w}" x2="{label_w}" y1="2" y2="{height - 4}" stroke="{_INK}"/>')
    return height, body


def cells(text: str) -> int:
    """How many Latin characters `text` is as wide as: a CJK (wide) character counts two."""
    return sum(2 if east_asian_width(char) in "WF" else 1 for char in text)


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` cells with "…" (an SVG label cannot wrap)."""
    if cells(text) <= limit:
        return text
    kept = ""
    for char in text:
        if cells(kept + char) > limit - 1:
            break
        kept += char
    return kept + "…"

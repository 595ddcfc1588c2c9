"""Artifacts → text. One registry says, for each artifact type, which formats it offers and
which renderer draws each; `render()` dispatches through it.

Renderers are split by format (markdown.py, csv_out.py, json_out.py, html.py, xlsx_out.py,
terminal/), share one set of words (wording.py), one set of table cells (views.py) and one page
model (document.py: what html and xlsx draw), and never compute a number. They are imported on
first use, so `funnel --help` pays for none of them, nor for rich.

A new artifact plugs in with one `_REGISTRY` entry; html and xlsx come with a `document()`
builder for it in document.py (its tables, charts and notes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any

from funnelcli.errors import UsageError

if TYPE_CHECKING:
    from rich.console import RenderableType

    # What a renderer returns: text, bytes (xlsx), or for `table` the Rich renderables a
    # console prints.
    Drawing = str | bytes | Sequence[RenderableType]


class Format(StrEnum):
    """Every output format; each artifact offers some of them (formats())."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    xlsx = "xlsx"


BINARY = frozenset({Format.xlsx})  # formats drawn as bytes (render_bytes())


def render(artifact: object, fmt: Format | str, *, width: int = 100) -> str:
    """The whole output of `artifact` in `fmt` as text; `table` is the terminal view without
    colour at `width` columns. A format the artifact does not offer is a UsageError."""
    drawing = draw(artifact, fmt)
    if isinstance(drawing, bytes):
        raise UsageError(f"--format {fmt} is a binary file: use render_bytes()")
    return as_text(drawing, width=width)


def render_bytes(artifact: object, fmt: Format | str) -> bytes:
    """A binary format's file (an .xlsx workbook) as bytes."""
    drawing = draw(artifact, fmt)
    if not isinstance(drawing, bytes):
        raise UsageError(f"--format {fmt} is text: use render()")
    return drawing


def draw(artifact: object, fmt: Format | str) -> Drawing:
    """`artifact` as `fmt`'s renderer draws it: text, or for `table` the Rich renderables a
    live console prints in colour at its own width (as_text() makes them text)."""
    renderers = _renderers_of(type(artifact))
    try:
        renderer = renderers[Format(fmt)]
    except (KeyError, ValueError):
        offered = ", ".join(renderers)
        raise UsageError(f"--format {fmt}: {type(artifact).__name__} offers {offered}") from None
    return renderer(artifact)


def as_text(drawing: Drawing, *, width: int) -> str:
    """A drawing as text: renderables through a colourless console of `width` columns."""
    if isinstance(drawing, str):
        return drawing
    if isinstance(drawing, bytes):
        raise TypeError("a binary drawing has no text")
    from funnelcli.render.terminal.console import plain_text

    return plain_text(drawing, width=width)


def formats(artifact_type: type) -> tuple[Format, ...]:
    """The formats an artifact type offers, in the order `--help` lists them."""
    return tuple(_renderers_of(artifact_type))


def _renderers_of(artifact_type: type) -> dict[Format, Callable[[Any], Drawing]]:
    offered = _REGISTRY.get(artifact_type.__name__)
    if offered is None:
        raise TypeError(f"no renderers for {artifact_type.__name__}")
    return {fmt: _renderer(*where) for fmt, where in offered.items()}


# Per artifact type (by name, so that no artifact or renderer module is imported before it is
# drawn: `--format json` imports only json_out), the formats it offers in `--help` order and,
# for each, the module under funnelcli.render and the function that draws it.
_REGISTRY: dict[str, dict[Format, tuple[str, str]]] = {
    "FunnelReport": {
        Format.table: ("terminal.report", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "report_markdown"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "Summary": {
        Format.table: ("terminal.summary", "draw"),
        Format.markdown: ("markdown", "summary_markdown"),
        Format.html: ("html", "page"),
        Format.json: ("json_out", "json_text"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "CohortMatrix": {
        Format.table: ("terminal.cohorts", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "cohorts_markdown"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "RoiReport": {
        Format.table: ("terminal.roi", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "roi_markdown"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "CacheInfo": {
        Format.table: ("terminal.cache", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "cache_markdown"),
    },
    "StalledList": {
        Format.table: ("terminal.lists", "draw_stalled"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("lists", "stalled_markdown"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "Trace": {
        Format.table: ("terminal.lists", "draw_trace"),
        Format.json: ("json_out", "json_text"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "Drivers": {
        Format.table: ("terminal.lists", "draw_drivers"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("lists", "drivers_markdown"),
        Format.html: ("html", "page"),
        Format.xlsx: ("xlsx_out", "workbook"),
    },
    "CacheBuild": {Format.table: ("terminal.cache", "draw_build")},
    "CacheCleared": {Format.table: ("terminal.cache", "draw_cleared")},
    "ValidationResult": {
        Format.table: ("terminal.validation", "draw"),
        Format.json: ("json_out", "json_text"),
    },
}


def _renderer(module: str, function: str) -> Callable[[Any], Drawing]:
    """funnelcli.render.<module>.<function>, imported when first drawn (terminal views import
    rich)."""

    def draw_with(artifact: Any) -> Drawing:
        drawing: Drawing = getattr(import_module(f"funnelcli.render.{module}"), function)(artifact)
        return drawing

    return draw_with

"""Artifacts → text. One registry says, for each artifact type, which formats it offers and
which renderer draws each; `render()` dispatches through it.

Renderers are split by format (markdown.py, csv_out.py, json_out.py, html.py, terminal/), share
one set of words (wording.py) and one set of table cells (views.py), and never compute a number.
They are imported on first use, so `funnel --help` pays for none of them, nor for rich.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any

from funnelcli.errors import UsageError

if TYPE_CHECKING:
    from rich.console import RenderableType

    # What a renderer returns: text, or for `table` the Rich renderables a console prints.
    Drawing = str | Sequence[RenderableType]


class Format(StrEnum):
    """Every output format; each artifact offers some of them (formats())."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


def render(artifact: object, fmt: Format | str, *, width: int = 100) -> str:
    """The whole output of `artifact` in `fmt` as text; `table` is the terminal view without
    colour at `width` columns. A format the artifact does not offer is a UsageError."""
    return as_text(draw(artifact, fmt), width=width)


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
    },
    "Summary": {
        Format.table: ("terminal.summary", "draw"),
        Format.markdown: ("markdown", "summary_markdown"),
        Format.html: ("html", "summary_html"),
        Format.json: ("json_out", "json_text"),
    },
    "CohortMatrix": {
        Format.table: ("terminal.cohorts", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "cohorts_markdown"),
    },
    "RoiReport": {
        Format.table: ("terminal.roi", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("markdown", "roi_markdown"),
    },
    "RiskReport": {
        Format.table: ("terminal.risk", "draw"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("risk_views", "risk_csv"),
        Format.markdown: ("risk_pages", "risk_markdown"),
        Format.html: ("risk_pages", "risk_html"),
    },
    "CacheInfo": {
        Format.table: ("terminal.cache", "draw"),
        Format.json: ("json_out", "json_text"),
    },
    "StalledList": {
        Format.table: ("terminal.lists", "draw_stalled"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("lists", "stalled_markdown"),
    },
    "Trace": {
        Format.table: ("terminal.lists", "draw_trace"),
        Format.json: ("json_out", "json_text"),
    },
    "Drivers": {
        Format.table: ("terminal.lists", "draw_drivers"),
        Format.json: ("json_out", "json_text"),
        Format.csv: ("csv_out", "tidy_csv"),
        Format.markdown: ("lists", "drivers_markdown"),
    },
    "CacheBuild": {Format.table: ("terminal.cache", "draw_build")},
    "CacheCleared": {Format.table: ("terminal.cache", "draw_cleared")},
    "ValidationResult": {Format.table: ("terminal.validation", "draw")},
}


def _renderer(module: str, function: str) -> Callable[[Any], Drawing]:
    """funnelcli.render.<module>.<function>, imported when first drawn (terminal views import
    rich)."""

    def draw_with(artifact: Any) -> Drawing:
        drawing: Drawing = getattr(import_module(f"funnelcli.render.{module}"), function)(artifact)
        return drawing

    return draw_with

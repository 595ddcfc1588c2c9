"""Artifacts → text. One registry says, for each artifact type, which formats it offers and
which renderer draws each; `render()` dispatches through it.

Renderers are split by format (markdown.py, csv_out.py, json_out.py, html.py, terminal/), share
one set of words (wording.py) and one set of table cells (views.py), and never compute a number.
They are imported on first use, so `funnel --help` pays for none of them, nor for rich.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import cache
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
    try:
        return _registry()[artifact_type]
    except KeyError:
        raise TypeError(f"no renderers for {artifact_type.__name__}") from None


@cache
def _registry() -> dict[type, dict[Format, Callable[[Any], Drawing]]]:
    """Per artifact type, the formats it offers and the renderer of each."""
    from funnelcli.outputs.cache import CacheBuild, CacheCleared, CacheInfo
    from funnelcli.outputs.cohorts import CohortMatrix
    from funnelcli.outputs.report import FunnelReport
    from funnelcli.outputs.roi import RoiReport
    from funnelcli.outputs.summary import Summary
    from funnelcli.outputs.validation import ValidationResult
    from funnelcli.render import csv_out, html, json_out, markdown

    table, json, csv, md = Format.table, Format.json, Format.csv, Format.markdown
    return {
        FunnelReport: {
            table: _terminal("report"),
            json: json_out.json_text,
            csv: csv_out.tidy_csv,
            md: markdown.report_markdown,
        },
        Summary: {
            table: _terminal("summary"),
            md: markdown.summary_markdown,
            Format.html: html.summary_html,
            json: json_out.json_text,
        },
        CohortMatrix: {
            table: _terminal("cohorts"),
            json: json_out.json_text,
            csv: csv_out.tidy_csv,
            md: markdown.cohorts_markdown,
        },
        RoiReport: {
            table: _terminal("roi"),
            json: json_out.json_text,
            csv: csv_out.tidy_csv,
            md: markdown.roi_markdown,
        },
        CacheInfo: {table: _terminal("cache"), json: json_out.json_text},
        CacheBuild: {table: _terminal("cache", "draw_build")},
        CacheCleared: {table: _terminal("cache", "draw_cleared")},
        ValidationResult: {table: _terminal("validation")},
    }


def _terminal(view: str, function: str = "draw") -> Callable[[Any], Drawing]:
    """render/terminal/<view>.py's draw() (or `function`), imported when first drawn (it may
    import rich)."""

    def draw_in_terminal(artifact: Any) -> Drawing:
        module = import_module(f"funnelcli.render.terminal.{view}")
        drawing: Drawing = getattr(module, function)(artifact)
        return drawing

    return draw_in_terminal

"""Renderers of a FunnelReport: one module per output format, plus the wording they share."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelcli.outputs.report import FunnelReport


class Format(StrEnum):
    """The output formats of `funnel report --format`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def render_text(report: FunnelReport, fmt: Format, *, width: int = 100) -> str:
    """The whole output of `report` in `fmt` as text; `table` is the Rich view without colour."""
    # Renderers are imported here so that `funnel --help` never pays for rich.
    if fmt == Format.table:
        from funnelcli.render.terminal import report_plain_text

        return report_plain_text(report, width=width)
    if fmt == Format.json:
        from funnelcli.render.json_out import report_json

        return report_json(report)
    if fmt == Format.csv:
        from funnelcli.render.csv_out import report_csv

        return report_csv(report)
    if fmt == Format.markdown:
        from funnelcli.render.markdown import report_markdown

        return report_markdown(report)
    raise ValueError(f"unknown format {fmt!r}")


class SummaryFormat(StrEnum):
    """The output formats of `funnel summary --format` (html is for e-mail delivery)."""

    table = "table"
    markdown = "markdown"
    html = "html"
    json = "json"

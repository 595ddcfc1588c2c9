"""The funnel report's charts for its page (document.py): the funnel with drop-off, and the
`--histogram STAGE` time-to-convert histogram, worded from the numbers the report holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from funnelcli.render.svg import BinChart, FunnelChart, FunnelStep
from funnelcli.render.wording import (
    format_count,
    format_percent,
    histogram_labels,
    histogram_title,
)

if TYPE_CHECKING:
    from funnelcli.outputs.report import FunnelReport, Histogram, StageRow


def funnel_chart(title: str, stages: Sequence[StageRow], faint: bool = False) -> FunnelChart:
    """One bar per stage with its step conversion and what dropped since the previous one."""
    steps = []
    for index, stage in enumerate(stages):
        parts = [format_count(stage.count)]
        if index:
            parts.append(f"{format_percent(stage.conversion_from_previous)} of previous")
            parts.append(f"{format_percent(stage.conversion_from_entry)} of entries")
            parts.append(f"{format_count(stage.dropped)} dropped")
        steps.append(
            FunnelStep(
                stage.label, stage.count, " · ".join(parts), stage.dropped or 0, faint and index > 0
            )
        )
    return FunnelChart(f"Funnel: {title}", tuple(steps))


def histogram_chart(report: FunnelReport, histogram: Histogram) -> BinChart:
    """One row per bin, titled as the terminal and Markdown title it (no bins: no rows)."""
    names = [stage.name for stage in report.overall.stages]  # the rows (order: any: stages_k)
    previous = names[names.index(histogram.stage) - 1]
    return BinChart(
        histogram_title(histogram, previous),
        tuple(histogram_labels(histogram)),
        tuple(found.count for found in histogram.bins),
        tuple(format_count(found.count) for found in histogram.bins),
    )

"""`--format csv`: the report in tidy long form, one row per (breakdown, group, stage)."""

from __future__ import annotations

import csv
import io
import math
from numbers import Integral

from funnelcli.outputs.report import FunnelReport, GroupResult
from funnelcli.render.wording import breakdown_name, group_name

OVERALL = "overall"
HEADER = (
    "breakdown",
    "group",
    "stage",
    "label",
    "count",
    "conversion_from_previous",
    "conversion_from_entry",
    "dropped",
    "median_days_from_previous",
    "p90_days_from_previous",
    "median_days_from_entry",
    "p90_days_from_entry",
    "value_sum",
    "entered",
    "below_min_n",
    "value_n",
    "value_avg",
    "value_median",
    # The group's sales metrics (docs/sales.md), repeated on each of its stage rows.
    "won",
    "lost",
    "open",
    "win_rate_closed",
    "win_rate_open",
    "cycle_median_days",
    "average_deal_value",
    "sales_velocity",
)


def report_csv(report: FunnelReport) -> str:
    """The report as CSV text: the overall funnel (breakdown `overall`), then each group's."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(_group_rows(OVERALL, "", report.overall))
    for breakdown in report.breakdowns:
        name = breakdown_name(breakdown.by)
        for group in breakdown.groups:
            writer.writerows(_group_rows(name, group_name(group.key), group))
    return buffer.getvalue()


def _group_rows(breakdown: str, group: str, result: GroupResult) -> list[list[str]]:
    return [
        [
            breakdown,
            group,
            stage.name,
            stage.label,
            _cell(stage.count),
            _cell(stage.conversion_from_previous),
            _cell(stage.conversion_from_entry),
            _cell(stage.dropped),
            _cell(stage.time_from_previous.median_days),
            _cell(stage.time_from_previous.p90_days),
            _cell(stage.time_from_entry.median_days),
            _cell(stage.time_from_entry.p90_days),
            _cell(stage.value_sum),
            _cell(result.entered),
            "true" if result.below_min_n else "false",
            _cell(stage.value_n),
            _cell(stage.value_avg),
            _cell(stage.value_median),
            *_sales_cells(result),
        ]
        for stage in result.stages
    ]


def _sales_cells(result: GroupResult) -> list[str]:
    sales = result.sales
    if sales is None:
        return [""] * 8
    return [
        _cell(sales.won),
        _cell(sales.lost),
        _cell(sales.open),
        _cell(sales.win_rate_closed),
        _cell(sales.win_rate_open),
        _cell(sales.cycle_median_days),
        _cell(sales.average_deal_value),
        _cell(sales.sales_velocity),
    ]


def _cell(value: float | None) -> str:
    """Numbers unrounded (repr), null and non-finite as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, Integral):
        return str(int(value))
    number = float(value)
    return repr(number) if math.isfinite(number) else ""

"""Every artifact's tables as typed sheets (`Sheet`): the numbers as the artifact holds them,
each column with the kind that picks its Excel number format. What xlsx_out.py writes.

A new artifact gets sheets from a builder in `_SHEETS`; without one, its tidy records become
one sheet with each column's kind guessed from its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from funnelcli.render.wording import breakdown_name, group_name, verdict_text

if TYPE_CHECKING:
    from funnelcli.outputs.base import Artifact
    from funnelcli.outputs.cohorts import CohortMatrix
    from funnelcli.outputs.report import FunnelReport
    from funnelcli.outputs.roi import ChannelRoi, RoiReport
    from funnelcli.outputs.summary import StageComparison, Summary


class Kind(StrEnum):
    """What a column holds, hence its number format."""

    text = "@"
    whole = "#,##0"
    percent = "0.0%"
    money = "#,##0.00"
    days = "0.0"
    ratio = "0.00"
    p_value = "0.000"
    flag = "General"


@dataclass(frozen=True)
class Sheet:
    """One table: a title (the sheet's name), typed columns and rows of plain values."""

    title: str
    columns: tuple[tuple[str, Kind], ...]
    rows: tuple[tuple[Any, ...], ...]


def sheets(artifact: Artifact) -> list[Sheet]:
    """The artifact's tables as sheets (its builder, else its tidy records)."""
    return _SHEETS.get(type(artifact).__name__, _tidy_sheets)(artifact)


# funnel report ---------------------------------------------------------------------------------


def _report(report: FunnelReport) -> list[Sheet]:
    columns: tuple[tuple[str, Kind], ...] = (
        ("Stage", Kind.text),
        ("Count", Kind.whole),
        ("Step %", Kind.percent),
        ("Overall %", Kind.percent),
        ("Dropped", Kind.whole),
        ("Median days from previous", Kind.days),
        ("P90 days from previous", Kind.days),
        ("Median days from entry", Kind.days),
        ("Value", Kind.money),
    )
    each = report.funnel.per_attempt  # counts are attempts: the keys (ids) beside them
    columns = (*columns[:2], *(("Ids", Kind.whole),) * each, *columns[2:])
    rows = tuple(
        (
            s.label,
            s.count,
            *(s.ids,) * each,
            s.conversion_from_previous,
            s.conversion_from_entry,
            s.dropped,
            s.time_from_previous.median_days,
            s.time_from_previous.p90_days,
            s.time_from_entry.median_days,
            s.value_sum,
        )
        for s in report.overall.stages
    )
    sheets = [Sheet("Funnel", columns, rows)]
    for breakdown in report.breakdowns:
        if not breakdown.groups:
            continue
        labels = [s.label for s in breakdown.groups[0].stages]
        cols = [("Group", Kind.text), ("Entered", Kind.whole), ("Below min n", Kind.flag)]
        for label in labels:
            cols += [(label, Kind.whole), (f"{label} %", Kind.percent)]
        grows = []
        for group in breakdown.groups:
            cells: list[Any] = [group_name(group.key), group.entered, group.below_min_n]
            for stage in group.stages:
                cells += [stage.count, stage.conversion_from_entry]
            grows.append(tuple(cells))
        sheets.append(Sheet(f"By {breakdown_name(breakdown.by)}", tuple(cols), tuple(grows)))
    if report.overall.sales is not None:
        sales_rows = [("All", report.overall.sales)]
        for breakdown in report.breakdowns:
            sales_rows += [
                (f"{breakdown_name(breakdown.by)}: {group_name(g.key)}", g.sales)
                for g in breakdown.groups
                if g.sales is not None
            ]
        sheets.append(
            Sheet(
                "Sales",
                (
                    ("Group", Kind.text),
                    ("Won", Kind.whole),
                    ("Lost", Kind.whole),
                    ("Open", Kind.whole),
                    ("Closed win %", Kind.percent),
                    ("Open win %", Kind.percent),
                    ("Cycle days", Kind.days),
                    ("Avg deal", Kind.money),
                    ("Velocity per day", Kind.money),
                ),
                tuple(
                    (
                        name,
                        m.won,
                        m.lost,
                        m.open,
                        m.win_rate_closed,
                        m.win_rate_open,
                        m.cycle_median_days,
                        m.average_deal_value,
                        m.sales_velocity,
                    )
                    for name, m in sales_rows
                ),
            )
        )
    return sheets


# summary ---------------------------------------------------------------------------------------


def _summary(summary: Summary) -> list[Sheet]:
    sheets = [_comparison(summary, f"vs {summary.previous.label}", summary.stages)]
    if summary.year_ago is not None and summary.year_ago_stages is not None:
        sheets.append(_comparison(summary, f"vs {summary.year_ago.label}", summary.year_ago_stages))
    if summary.groups:
        labels = [s.label for s in summary.stages[1:]]
        cols = [
            (breakdown_name(summary.breakdown), Kind.text),
            ("Entered", Kind.whole),
            ("Entered before", Kind.whole),
        ]
        for label in labels:
            cols += [(f"{label} %", Kind.percent), (f"{label} Δ", Kind.percent)]
        rows = []
        for group in summary.groups:
            cells: list[Any] = [
                group_name(group.key),
                group.entered_current,
                group.entered_previous,
            ]
            for stage in group.stages[1:]:
                change = stage.metrics["conversion_from_entry"]
                cells += [change.current, change.delta]
            rows.append(tuple(cells))
        sheets.append(Sheet(f"By {breakdown_name(summary.breakdown)}", tuple(cols), tuple(rows)))
    return sheets


def _comparison(summary: Summary, title: str, stages: Sequence[StageComparison]) -> Sheet:
    columns = (
        ("Stage", Kind.text),
        ("Count", Kind.whole),
        ("Count before", Kind.whole),
        ("Step %", Kind.percent),
        ("95% CI low", Kind.percent),
        ("95% CI high", Kind.percent),
        ("Step % before", Kind.percent),
        ("Step Δ", Kind.percent),
        ("p", Kind.p_value),
        ("Verdict", Kind.text),
        ("Median days", Kind.days),
        ("Median days before", Kind.days),
        ("Value", Kind.money),
        ("Value before", Kind.money),
    )
    rows = []
    for stage in stages:
        count, step = stage.metrics["count"], stage.metrics["conversion_from_previous"]
        median, value = stage.metrics["median_days_from_previous"], stage.metrics["value_sum"]
        interval = step.current_interval
        rows.append(
            (
                stage.label,
                _whole(count.current),
                _whole(count.previous),
                step.current,
                interval.low if interval else None,
                interval.high if interval else None,
                step.previous,
                step.delta,
                step.p_value,
                verdict_text(step, summary.min_n),
                median.current,
                median.previous,
                value.current,
                value.previous,
            )
        )
    return Sheet(title, columns, tuple(rows))


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


# cohorts ---------------------------------------------------------------------------------------


def _cohorts(matrix: CohortMatrix) -> list[Sheet]:
    cols = [
        ("Cohort", Kind.text),
        ("Start", Kind.text),
        ("End", Kind.text),
        ("Entered", Kind.whole),
        ("Immature", Kind.flag),
        ("Partial", Kind.flag),
    ]
    for stage in matrix.funnel.stages[1:]:
        cols += [(stage.label, Kind.whole), (f"{stage.label} %", Kind.percent)]
    rows = []
    for row in matrix.rows:
        cells: list[Any] = [row.label, row.start, row.end, row.entered, row.immature, row.partial]
        for cell in row.cells[1:]:
            cells += [cell.count, cell.conversion_from_entry]
        rows.append(tuple(cells))
    return [Sheet(f"Cohorts by {matrix.period}", tuple(cols), tuple(rows))]


# roi -------------------------------------------------------------------------------------------


def _roi(report: RoiReport) -> list[Sheet]:
    columns = (
        ("Channel", Kind.text),
        ("Spend", Kind.money),
        ("Leads", Kind.whole),
        ("Qualified", Kind.whole),
        ("CPL", Kind.money),
        ("CPQL", Kind.money),
        ("Customers", Kind.whole),
        ("CAC", Kind.money),
        ("First-period revenue", Kind.money),
        ("Renewal revenue", Kind.money),
        ("Revenue", Kind.money),
        ("ROI", Kind.percent),
        ("Payback months", Kind.ratio),
        ("LTV", Kind.money),
        ("LTV:CAC", Kind.ratio),
    )
    sheets = [
        Sheet("Channels", columns, tuple(_channel(r) for r in (*report.channels, report.blended)))
    ]
    named = [(row.channel, row.renewals) for row in (*report.channels, report.blended)]
    named += [(f"cohort {c.cohort}", c.renewals) for c in report.renewals_by_cohort]
    renewals = [(name, item) for name, item in named if item is not None]
    if renewals:
        sheets.append(
            Sheet(
                "Renewals",
                (
                    ("Group", Kind.text),
                    ("Up for renewal", Kind.whole),
                    ("Renewed", Kind.whole),
                    ("Renewal rate", Kind.percent),
                    ("Logo churn", Kind.percent),
                    ("GRR", Kind.percent),
                    ("NRR", Kind.percent),
                    ("Amount up", Kind.money),
                    ("Amount retained", Kind.money),
                    ("Amount next", Kind.money),
                ),
                tuple(
                    (
                        name,
                        r.up_for_renewal,
                        r.renewed,
                        r.renewal_rate,
                        r.logo_churn,
                        r.grr,
                        r.nrr,
                        r.amount_up,
                        r.amount_retained,
                        r.amount_next,
                    )
                    for name, r in renewals
                ),
            )
        )
    return sheets


def _channel(row: ChannelRoi) -> tuple[Any, ...]:
    return (
        row.channel,
        row.spend,
        row.leads,
        row.qualified,
        row.cost_per_lead,
        row.cost_per_qualified_lead,
        row.customers,
        row.cac,
        row.first_period_revenue,
        row.renewal_revenue,
        row.attributed_revenue,
        row.roi,
        row.payback_months,
        row.ltv,
        row.ltv_to_cac,
    )


# any other artifact ----------------------------------------------------------------------------


def _tidy_sheets(artifact: Artifact) -> list[Sheet]:
    """An artifact without its own sheets: its tidy records, the kind guessed from each name."""
    names = artifact.tidy_columns()
    rows = tuple(tuple(record[name] for name in names) for record in artifact.tidy_rows())
    return [Sheet("Data", tuple((name, _guess(name)) for name in names), rows)]


def _guess(name: str) -> Kind:
    if name.startswith("p_"):
        return Kind.p_value
    if any(word in name for word in ("conversion", "rate", "roi", "churn", "share")):
        return Kind.percent
    if any(word in name for word in ("spend", "revenue", "value", "amount", "cac", "cost")):
        return Kind.money
    if "days" in name:
        return Kind.days
    return Kind.ratio


_SHEETS: dict[str, Callable[[Any], list[Sheet]]] = {
    "FunnelReport": _report,
    "Summary": _summary,
    "CohortMatrix": _cohorts,
    "RoiReport": _roi,
}

"""`funnel risk` as words and text cells: each reason as a sentence, the ranked accounts, the
groups, the accounts without enough history and the backtest as TableViews (the terminal,
Markdown and HTML lay them out), and the CSV for a CRM import. Nothing here computes a number.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from funnelcli.render.views import Mark, TableView
from funnelcli.render.wording import (
    NULL_TEXT,
    format_count,
    format_number,
    format_percent,
    format_ratio,
    format_whole_amount,
    plural,
)

if TYPE_CHECKING:
    from funnelcli.outputs.risk import Backtest, ChurnWatch, Reason, RiskReport

LEGEND = (
    "score 0-100: the weights of the signals that fired, × the renewal boost · "
    "levels: high ≥ {high:g}, medium ≥ {medium:g} · formulas: docs/risk.md"
)
RULE_NAMES = {
    "drop": "drop",
    "spike": "spike",
    "silence": "silence",
    "contraction": "contraction",
    "medium": "score ≥ medium",
    "high": "score ≥ high",
}


def _signed_percent(change: float | None) -> str:
    if change is None:
        return NULL_TEXT
    text = f"{abs(change) * 100:.0f}%"
    return ("−" if change < 0 else "+") + text


def _z(value: float | None) -> str:
    if value is None:
        return NULL_TEXT
    return ("−" if value < 0 else "") + f"{abs(value):.1f}"


def reason_text(reason: Reason) -> str:
    """One reason as a sentence with its numbers, e.g. "logins −62% vs its 12-week median,
    z = −3.4"."""
    if reason.signal == "drop":
        return (
            f"{reason.metric} {_signed_percent(reason.change)} vs its {reason.weeks}-week "
            f"median, z = {_z(reason.z)}"
        )
    if reason.signal == "spike":
        times = (
            f"{format_ratio(reason.recent / reason.baseline, '×')} its"
            if reason.recent is not None and reason.baseline
            else "against a"
        )
        median = "" if reason.baseline else " of 0"
        return (
            f"{reason.metric} spike: {format_number(reason.recent, 0)} last week, {times} "
            f"{reason.weeks}-week median{median}, z = {_z(reason.z)}"
        )
    if reason.signal == "contraction":
        return (
            f"{reason.metric} {_signed_percent(reason.change)} since the contract started "
            f"({format_number(reason.baseline, 1)} → {format_number(reason.recent, 1)})"
        )
    if reason.signal == "silence":
        return f"no touch for {plural(reason.days or 0, 'day')}"
    return f"renewal in {plural(reason.days or 0, 'day')}"


def short_reason(reason: Reason) -> str:
    """A reason in a few words, for the terminal's table: "logins −62% (z −3.4)"."""
    if reason.signal == "drop":
        return f"{reason.metric} {_signed_percent(reason.change)} (z {_z(reason.z)})"
    if reason.signal == "spike":
        if reason.recent is not None and reason.baseline:
            size = format_ratio(reason.recent / reason.baseline, "×")
        else:
            size = f"{format_number(reason.recent, 0)}/wk"
        return f"{reason.metric} {size} (z {_z(reason.z)})"
    if reason.signal == "contraction":
        return f"{reason.metric} {_signed_percent(reason.change)} since start"
    if reason.signal == "silence":
        return f"no touch {reason.days}d"
    return f"renews in {reason.days}d"


def describe(report: RiskReport) -> str:
    """The line under the title: as-of date, who counts, the grouping."""
    parts = [f"as of {report.as_of}"]
    if report.totals is not None:
        totals = report.totals
        parts.append(
            f"{format_count(totals.scored)} of {plural(totals.accounts, 'account')} with a "
            "running contract scored"
        )
    if report.by:
        parts.append(f"by {report.by}")
    return " · ".join(parts)


def accounts_view(report: RiskReport, *, compact: bool) -> TableView:
    """The ranked accounts: score, level, ARR, renewal, reasons."""
    header = ["#", "Account"]
    if report.by:
        header.append(report.by)
    header += ["Score", "Level", "ARR", "Renewal", "Reasons"]
    rows = []
    for item in report.accounts:
        cells = [str(item.rank), item.account]
        if report.by:
            cells.append(item.group or NULL_TEXT)
        renewal = f"{item.contract_end} ({item.days_to_renewal}d)"
        if compact:  # the renewal column already says when
            joined = "; ".join(short_reason(r) for r in item.reasons if r.signal != "renewal")
        else:
            joined = "; ".join(reason_text(r) for r in item.reasons)
        cells += [f"{item.score:g}", item.level, format_whole_amount(item.arr), renewal, joined]
        rows.append(tuple(cells))
    note = LEGEND.format(**report.settings["levels"])
    return TableView(
        title="Accounts at risk",
        header=tuple(header),
        rows=tuple(rows),
        marks=tuple(Mark.significant if a.level == "high" else None for a in report.accounts),
        note=note,
    )


def totals_view(report: RiskReport) -> TableView | None:
    """Accounts and ARR per level, and how often each signal fired."""
    totals = report.totals
    if totals is None:
        return None
    rows: list[tuple[str, ...]] = [
        (
            level,
            format_count(totals.levels[level].accounts),
            format_whole_amount(totals.levels[level].arr),
        )
        for level in ("high", "medium", "low")
    ]
    rows.append(("not enough history", format_count(totals.not_enough_history), NULL_TEXT))
    signals = ", ".join(f"{name} {count}" for name, count in totals.signals.items())
    note = f"Signals fired: {signals}."
    if totals.usage_without_contract:
        note += (
            f" {plural(totals.usage_without_contract, 'account')} in the usage file "
            "with no contract (not scored)."
        )
    return TableView(
        title="Levels",
        header=("Level", "Accounts", "ARR"),
        rows=tuple(rows),
        marks=(None,) * len(rows),
        note=note,
    )


def groups_view(report: RiskReport) -> TableView | None:
    if not report.groups:
        return None
    rows = tuple(
        (
            g.group,
            format_count(g.accounts),
            format_count(g.high),
            format_count(g.medium),
            format_count(g.low),
            format_whole_amount(g.arr_at_risk),
        )
        for g in report.groups
    )
    return TableView(
        title=f"By {report.by}",
        header=(report.by or "", "Accounts", "High", "Medium", "Low", "ARR at risk"),
        rows=rows,
        marks=(None,) * len(rows),
        note="ARR at risk: high and medium.",
    )


def short_history_view(report: RiskReport) -> TableView | None:
    if not report.not_enough_history:
        return None
    rows = tuple(
        (
            s.account,
            str(s.history_weeks),
            s.first_usage or "no usage",
            format_whole_amount(s.arr),
        )
        for s in report.not_enough_history
    )
    weeks = report.settings["min_history_weeks"]
    return TableView(
        title="Not enough history",
        header=("Account", "Weeks", "First usage", "ARR"),
        rows=rows,
        marks=(None,) * len(rows),
        note=f"Fewer than {weeks} weeks of usage before the as-of date: not scored.",
    )


def backtest_view(backtest: Backtest) -> TableView:
    rows = tuple(
        (
            RULE_NAMES.get(rule.rule, rule.rule),
            format_count(rule.flagged),
            format_count(rule.caught),
            format_percent(rule.precision),
            format_percent(rule.recall),
            format_ratio(rule.lift, "×"),
            format_whole_amount(rule.arr_caught),
            format_percent(rule.arr_caught_share),
        )
        for rule in backtest.rules
    )
    return TableView(
        title=f"Backtest, churn within {backtest.horizon_days} days",
        header=(
            "Rule",
            "Flagged",
            "Churned",
            "Precision",
            "Recall",
            "Lift",
            "ARR caught",
            "of ARR",
        ),
        rows=rows,
        marks=tuple(Mark.total if r.rule in ("medium", "high") else None for r in backtest.rules),
        note=backtest_note(backtest),
    )


def backtest_note(backtest: Backtest) -> str:
    return (
        f"{format_count(backtest.accounts)} account × date pairs over {len(backtest.dates)} "
        f"dates every {backtest.every_days} days; {format_count(backtest.churned)} churned "
        f"(base rate {format_percent(backtest.base_rate)}, ARR "
        f"{format_whole_amount(backtest.churned_arr)}). Churned: the running contract ended "
        f"within the horizon and no contract followed within {backtest.grace_days} days. "
        "Lift: precision ÷ base rate."
    )


def backtest_dates_view(backtest: Backtest) -> TableView:
    rows = tuple(
        (
            d.as_of,
            format_count(d.accounts),
            format_count(d.churned),
            format_percent(d.base_rate),
            format_count(d.flagged),
            format_count(d.caught),
            format_percent(d.precision),
            format_percent(d.recall),
        )
        for d in backtest.dates
    )
    return TableView(
        title="Per as-of date (score ≥ medium)",
        header=("As of", "Accounts", "Churned", "Base", "Flagged", "Caught", "Precision", "Recall"),
        rows=rows,
        marks=(None,) * len(rows),
    )


def churn_watch_view(watch: ChurnWatch) -> TableView:
    """`funnel summary`'s churn watch: the highest scores, their first reason, the levels."""
    rows = tuple(
        (
            a.account,
            f"{a.score:g}",
            a.level,
            format_whole_amount(a.arr),
            a.contract_end,
            reason_text(a.reasons[0]) if a.reasons else NULL_TEXT,
        )
        for a in watch.accounts
    )
    levels = watch.totals.levels
    note = (
        f"high {format_count(levels['high'].accounts)} (ARR "
        f"{format_whole_amount(levels['high'].arr)}), medium "
        f"{format_count(levels['medium'].accounts)} (ARR "
        f"{format_whole_amount(levels['medium'].arr)}) of {format_count(watch.totals.scored)} "
        "scored accounts; the full list: funnel risk"
    )
    return TableView(
        title=f"Churn watch, as of {watch.as_of}",
        header=("Account", "Score", "Level", "ARR", "Renewal", "Main reason"),
        rows=rows,
        marks=tuple(Mark.significant if a.level == "high" else None for a in watch.accounts),
        note=note,
    )


def risk_views(report: RiskReport, *, compact: bool) -> list[TableView]:
    """Every table of the report, in order."""
    if report.backtest is not None:
        return [backtest_view(report.backtest), backtest_dates_view(report.backtest)]
    views = [accounts_view(report, compact=compact)]
    views += [
        v for v in (totals_view(report), groups_view(report), short_history_view(report)) if v
    ]
    return views


def alert_lines(report: RiskReport) -> list[str]:
    return [f"{'ALERT' if a.met else 'ok'}: {a.expression} (is {a.value:g})" for a in report.alerts]


def notes(report: RiskReport) -> list[str]:
    return [
        f"{plural(count, 'row')} of the {source} file set aside (unreadable dates)"
        for source, count in report.rows_rejected.items()
        if count
    ]


def risk_csv(report: RiskReport) -> str:
    """The tidy rows as CSV; an account's reasons in words (for a CRM import)."""
    from funnelcli.render.csv_out import cell

    columns = report.tidy_columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    words = {a.account: "; ".join(reason_text(r) for r in a.reasons) for a in report.accounts}
    for record in report.tidy_rows():
        if "reasons" in record:
            record["reasons"] = words[str(record["account"])]
        writer.writerow([cell(record[name]) for name in columns])
    return buffer.getvalue()

"""`funnel risk` as Markdown, from the TableViews of risk_views.py (its HTML and xlsx pages are
render/document.py's `_risk`, built from the same views)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnelcli.render.markdown import escape, table
from funnelcli.render.risk_views import alert_lines, describe, notes, risk_views

if TYPE_CHECKING:
    from funnelcli.outputs.risk import RiskReport


def title(report: RiskReport) -> str:
    if report.backtest is not None:
        return f"{report.funnel.title}: churn-risk backtest"
    return f"{report.funnel.title}: accounts at risk"


def risk_markdown(report: RiskReport) -> str:
    """Title, alerts, each table with its note, and the notes."""
    lines = [f"## {escape(title(report))}", "", escape(describe(report))]
    lines += ["", *[f"- {escape(line)}" for line in alert_lines(report)]] if report.alerts else []
    for view in risk_views(report, compact=False):
        lines += ["", f"### {escape(view.title)}", "", *table(view)]
        if view.note:
            lines += ["", escape(view.note)]
    lines += ["", *[escape(note) + "." for note in notes(report)]] if notes(report) else []
    return "\n".join(lines) + "\n"

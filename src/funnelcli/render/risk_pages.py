"""`funnel risk` as Markdown and as a self-contained HTML page (inline CSS, no scripts), from
the TableViews of risk_views.py laid out as the summary's page lays out its own."""

from __future__ import annotations

from html import escape as html_escape
from typing import TYPE_CHECKING

from funnelcli.render.html import page, table_html
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


def risk_html(report: RiskReport) -> str:
    """The report as a complete HTML document (UTF-8), ending with a newline."""
    body = [f'<p style="margin:0 0 12px 0;color:#4b5563">{html_escape(describe(report))}</p>']
    for line in alert_lines(report):
        colour = "#991b1b" if line.startswith("ALERT") else "#166534"
        body.append(f'<p style="margin:0 0 8px 0;color:{colour}">{html_escape(line)}</p>')
    for view in risk_views(report, compact=False):
        body += table_html(view)
    for note in notes(report):
        body.append(f'<p style="margin:8px 0 0 0;color:#6b7280">{html_escape(note)}.</p>')
    return page(title(report), body, f"funnelcli {report.version} from {report.funnel.file}")

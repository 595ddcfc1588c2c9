"""`funnel risk` in the terminal: the ranked accounts with a score bar and their reasons, the
levels, the groups and the accounts without enough history; or the backtest's tables."""

from __future__ import annotations

from rich.console import NewLine, RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.risk import RiskReport
from funnelcli.render.risk_pages import title
from funnelcli.render.risk_views import (
    accounts_view,
    alert_lines,
    backtest_dates_view,
    backtest_view,
    describe,
    groups_view,
    notes,
    short_history_view,
    totals_view,
)
from funnelcli.render.terminal.console import add_rows, ruled_table
from funnelcli.render.views import Mark, TableView

BAR_CELLS = 10
SHORT_SHOWN = 10  # accounts without enough history listed here (all in json/csv/markdown)
_LEVEL_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def draw(report: RiskReport) -> list[RenderableType]:
    out: list[RenderableType] = [
        Text.assemble((title(report), "bold"), "\n", (describe(report), "dim"))
    ]
    for line in alert_lines(report):
        out.append(Text(line, style="bold red" if line.startswith("ALERT") else "green"))
    if report.backtest is not None:
        out += [NewLine(), _plain(backtest_view(report.backtest))]
        out += [NewLine(), _plain(backtest_dates_view(report.backtest))]
        return out
    out += [NewLine(), _accounts(report)]
    for view in (totals_view(report), groups_view(report)):
        if view is not None:
            out += [NewLine(), _plain(view)]
    short = short_history_view(report)
    if short is not None:
        more = len(short.rows) - SHORT_SHOWN
        if more > 0:
            short = TableView(
                short.title,
                short.header,
                short.rows[:SHORT_SHOWN],
                short.marks[:SHORT_SHOWN],
                f"{short.note} {more} more in --format csv, json or markdown.",
            )
        out += [NewLine(), _plain(short)]
    out += [Text(note + ".", style="yellow") for note in notes(report)]
    return out


def _accounts(report: RiskReport) -> Table:
    view = accounts_view(report, compact=True)
    table = ruled_table(title=view.title, caption=view.note)
    score_at = view.header.index("Score")
    for index, name in enumerate(view.header):
        last = index == len(view.header) - 1
        table.add_column(
            name,
            justify="right" if name in ("#", "ARR") else "left",
            no_wrap=not last,
            overflow="fold" if last else "ellipsis",
            ratio=1 if last else None,
        )
    for item, cells in zip(report.accounts, view.rows, strict=True):
        filled = round(BAR_CELLS * item.score / 100)
        bar = Text.assemble(
            ("█" * filled, _LEVEL_STYLE[item.level]),
            "░" * (BAR_CELLS - filled),
            f" {cells[score_at]:>3}",
        )
        row: list[Text] = [Text(c) for c in cells]
        row[score_at] = bar
        row[score_at + 1] = Text(cells[score_at + 1], style=_LEVEL_STYLE[item.level])
        table.add_row(*row)
    if not report.accounts:
        table.add_row(*(Text("") for _ in view.header))
    return table


def _plain(view: TableView) -> Table:
    table = ruled_table(title=view.title, caption=view.note or None)
    for index, name in enumerate(view.header):
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=True)
    add_rows(table, view, styles={Mark.total: "bold"})
    return table

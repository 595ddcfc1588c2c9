"""`--format html`: any artifact's page (document.py) as one self-contained file for e-mail and
the browser: inline CSS and inline SVG charts, no scripts, no images, no external links.

Built from plain tables and presentation attributes, so it stays readable where a mail client
drops CSS. A table wider than a 700 px e-mail is split into parts that repeat the row names
(never a horizontal scroll); the page is at most 960 px wide on a large screen.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from funnelcli.render.document import Callout, Document, Tone, document
from funnelcli.render.svg import cells, svg
from funnelcli.render.views import Mark, TableView

if TYPE_CHECKING:
    from funnelcli.outputs.base import Artifact

_FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
_CELL = "padding:4px 6px;border-bottom:1px solid #e5e7eb;white-space:nowrap"
_HEAD = "padding:4px 6px;border-bottom:1px solid #9ca3af;background:#f3f4f6;vertical-align:bottom"
_NOTE = "margin:4px 0 0 0;color:#6b7280;font-size:12px"
_BUDGET_PX = 640  # a table part's widest estimate: a 700 px e-mail less the page's margins
_CHAR_PX = 7.0  # one character of 13 px text, a little generously
_PAD_PX = 14  # a cell's padding and border
_TONES = {
    Tone.alert: "background:#fef2f2;border-left:4px solid #dc2626;color:#991b1b;font-weight:bold",
    Tone.ok: "color:#166534",
    Tone.warn: "background:#fffbeb;border-left:4px solid #d97706;color:#92400e",
}
_ROWS = {
    Mark.significant: "background:#ecfdf5;font-weight:bold",
    Mark.total: "font-weight:bold",
    Mark.few: "color:#6b7280",
}


def page(artifact: Artifact) -> str:
    """The artifact as a complete HTML document (UTF-8), ending with a newline."""
    return html_page(document(artifact))


def html_page(doc: Document) -> str:
    """A page model as a complete HTML document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title>",
        "</head>",
        f'<body style="margin:0;padding:16px;background:#ffffff;color:#111827;{_FONT};'
        'font-size:14px;line-height:1.4">',
        '<div style="max-width:960px;margin:0 auto">',
        f'<h1 style="font-size:20px;margin:0 0 4px 0">{escape(doc.title)}</h1>',
        *(f'<p style="margin:0 0 8px 0;color:#4b5563">{escape(line)}</p>' for line in doc.facts),
        *(_callout(item) for item in doc.callouts),
    ]
    if doc.bullets:
        parts.append('<ul style="margin:12px 0 12px 0;padding-left:20px">')
        parts += [f'<li style="margin:0 0 4px 0">{escape(line)}</li>' for line in doc.bullets]
        parts.append("</ul>")
    for block in doc.blocks:
        if isinstance(block, TableView):
            parts += table(block)
        else:
            parts += [_heading(block.title), svg(block)]
    if doc.quality:
        parts += [_heading("Data quality"), _quality(doc.quality)]
    parts += [
        f'<p style="margin:16px 0 0 0;color:#6b7280;font-size:12px">{escape(doc.footer)}</p>',
        "</div>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


summary_html = page  # the name the summary's page had


def _heading(title: str) -> str:
    return f'<h2 style="font-size:16px;margin:20px 0 6px 0">{escape(title)}</h2>'


def _callout(item: Callout) -> str:
    return (
        f'<p style="margin:0 0 8px 0;padding:8px 12px;{_TONES[item.tone]}">{escape(item.text)}</p>'
    )


def table(view: TableView) -> list[str]:
    """`view` as one table, or as several that each fit a 700 px e-mail, every part starting
    with the rows' names; its note after the last part."""
    lines = [_heading(view.title)] if view.title else []
    parts = split_columns(view)
    for number, columns in enumerate(parts):
        if number:
            lines.append(f'<p style="{_NOTE}">{escape(view.header[0])} (continued)</p>')
        lines += _part(view, [0, *columns])
    if view.note:
        lines.append(f'<p style="{_NOTE}">{escape(view.note)}</p>')
    return lines


def split_columns(view: TableView) -> list[list[int]]:
    """The columns after the first, in parts whose estimated width fits the budget."""

    def width(index: int) -> float:
        longest = max((cells(row[index]) for row in view.rows if index < len(row)), default=0)
        header = max((cells(word) for word in view.header[index].split()), default=0)
        return max(longest, header) * _CHAR_PX + _PAD_PX

    budget = _BUDGET_PX - width(0)
    parts: list[list[int]] = [[]]
    used = 0.0
    for index in range(1, len(view.header)):
        if parts[-1] and used + width(index) > budget:
            parts.append([])
            used = 0.0
        parts[-1].append(index)
        used += width(index)
    return parts


def _part(view: TableView, columns: list[int]) -> list[str]:
    def align(i: int) -> str:
        return "left" if i == 0 else "right"

    header = "".join(
        f'<th align="{align(i)}" style="{_HEAD};text-align:{align(i)}">'
        f"{escape(view.header[i])}</th>"
        for i in columns
    )
    rows = []
    for index, (row, mark) in enumerate(zip(view.rows, view.marks, strict=True)):
        style = _ROWS.get(mark, "") if mark is not None else ""
        if index in view.sections:
            style = ";".join(filter(None, [style, "border-top:2px solid #9ca3af"]))
        cells = []
        for i in columns:
            text = escape(row[i]) if i < len(row) else ""
            if mark is Mark.heading and i == 0:
                text = f"<em>{text}</em>"
            cells.append(
                f'<td align="{align(i)}" style="{_CELL};text-align:{align(i)}">{text}</td>'
            )
        joined = "".join(cells)
        rows.append(f'<tr style="{style}">{joined}</tr>' if style else f"<tr>{joined}</tr>")
    return [
        '<table cellspacing="0" cellpadding="4" border="0" '
        'style="border-collapse:collapse;font-size:13px;margin:0 0 8px 0">',
        f"<tr>{header}</tr>",
        *rows,
        "</table>",
    ]


def _quality(items: tuple[tuple[str, str], ...]) -> str:
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0;text-align:left;'
        f'vertical-align:top;white-space:nowrap">{escape(what)}</th>'
        f'<td style="padding:2px 0">{escape(value)}</td></tr>'
        for what, value in items
    )
    return f'<table cellspacing="0" cellpadding="2" style="border-collapse:collapse">{rows}</table>'

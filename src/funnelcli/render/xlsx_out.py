"""`--format xlsx`: an artifact as an Excel workbook (openpyxl), for sales-ops spreadsheets.

One sheet per table, with real numbers (never numbers as text): rates as percentages, money
with thousands separators, days with one decimal; the header row (and the row names) frozen;
the page's facts and data-quality notes on a sheet of their own ("Notes"). A text that Excel
would read as a formula (starting with = + - @, e.g. a CRM channel named "=HYPERLINK(…)") is
written as text, never as a formula. The bytes are written atomically by the caller.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from funnelcli.render.document import document
from funnelcli.render.sheets import Kind, Sheet, sheets

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from funnelcli.outputs.base import Artifact


_FORMULA_START = ("=", "+", "-", "@")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_FIXED_TIME = datetime(2000, 1, 1)  # document properties: the same bytes' meaning every run


def workbook(artifact: Artifact) -> bytes:
    """The artifact's sheets, then "Notes", as the bytes of an .xlsx file."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.worksheets[0])
    names: set[str] = set()
    for sheet in [*sheets(artifact), _notes(artifact)]:
        ws = book.create_sheet(_sheet_name(sheet.title, names))
        ws.append([name for name, _ in sheet.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append([None] * len(sheet.columns))
            for column, (value, (_, kind)) in enumerate(zip(row, sheet.columns, strict=True), 1):
                _write(ws, ws.max_row, column, value, kind)
        ws.freeze_panes = "B2"
        for index, (name, _kind) in enumerate(sheet.columns, 1):
            width = max([len(name), *(len(str(r[index - 1] or "")) for r in sheet.rows)])
            letter = ws.cell(1, index).column_letter
            ws.column_dimensions[letter].width = min(60, max(8, width + 2))
    book.properties.created = book.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write(ws: Worksheet, row: int, column: int, value: Any, kind: Kind) -> None:
    cell = ws.cell(row, column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return
    cell.value = value
    if isinstance(value, int) and not isinstance(value, bool) and kind is Kind.ratio:
        kind = Kind.whole  # a guessed column's whole numbers
    if value is not None and not isinstance(value, bool):
        cell.number_format = kind.value


def _sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _SHEET_NAME_BAD.sub(" ", title).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" {number}"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _notes(artifact: Artifact) -> Sheet:
    """The page's facts, call-outs and data-quality notes, one per row."""
    page = document(artifact)
    rows = [("Title", page.title), *(("About", line) for line in page.facts)]
    rows += [(item.tone.value.capitalize(), item.text) for item in page.callouts]
    rows += [("Note", line) for line in page.bullets]
    rows += list(page.quality) or [("Data quality", "nothing to note")]
    rows.append(("Generated", page.footer))
    return Sheet("Notes", (("What", Kind.text), ("Detail", Kind.text)), tuple(rows))

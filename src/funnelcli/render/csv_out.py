"""`--format csv`: an artifact's tidy records (Artifact.tidy_rows), one CSV row each.

Numbers are written unrounded (repr), so a spreadsheet gets what the JSON has; null and
non-finite numbers are empty cells, booleans `true`/`false`. Text that a spreadsheet would run
as a formula (`=`, `+`, `-`, `@`, tab or CR first) gets a leading apostrophe (`neutralise`, the
one rule for every CSV funnelcli writes and for other spreadsheet outputs); a text that is a
plain number (`-150`) stays a number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from numbers import Integral
from typing import TYPE_CHECKING

from funnelcli.render.visible import visible_text

if TYPE_CHECKING:
    from funnelcli.outputs.base import Artifact


_FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def neutralise(text: str) -> str:
    """`text` safe to open in a spreadsheet: a cell that would start a formula (or a DDE
    payload) gets a leading apostrophe, which spreadsheets show as text; plain numbers are
    left alone (OWASP's CSV injection advice)."""
    if text and text[0] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def tidy_csv(artifact: Artifact) -> str:
    """The header (tidy_columns) and one line per tidy record."""
    columns = artifact.tidy_columns()
    rows = ([record[name] for name in columns] for record in artifact.tidy_rows())
    return csv_text(columns, rows)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[str | float | Decimal | None]]) -> str:
    """A header and rows as CSV text, every cell through `cell` (spreadsheet-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([cell(name) for name in columns])
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def cell(value: str | float | Decimal | None) -> str:
    """One value as CSV text: text neutralised, numbers unrounded, null and NaN/±inf empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(visible_text(value))
    if isinstance(value, Integral):
        return str(int(value))
    number = float(value)
    return repr(number) if math.isfinite(number) else ""

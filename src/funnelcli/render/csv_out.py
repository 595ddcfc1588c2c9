"""`--format csv`: an artifact's tidy records (Artifact.tidy_rows), one CSV row each.

Numbers are written unrounded (repr), so a spreadsheet gets what the JSON has; null and
non-finite numbers are empty cells, booleans `true`/`false`.
"""

from __future__ import annotations

import csv
import io
import math
from decimal import Decimal
from numbers import Integral
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelcli.outputs.base import Artifact


def tidy_csv(artifact: Artifact) -> str:
    """The header (tidy_columns) and one line per tidy record."""
    columns = artifact.tidy_columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell(record[name]) for name in columns] for record in artifact.tidy_rows())
    return buffer.getvalue()


def cell(value: str | float | Decimal | None) -> str:
    """One value as CSV text: text as is, numbers unrounded, null and NaN/±inf empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Integral):
        return str(int(value))
    number = float(value)
    return repr(number) if math.isfinite(number) else ""

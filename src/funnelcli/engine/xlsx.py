"""Excel (.xlsx) sources: one sheet streamed through openpyxl into a cached UTF-8 CSV copy.

DuckDB's excel extension needs a download, which is not available offline, so the sheet is
converted row by row (openpyxl's read-only mode, never the whole workbook in memory) to a CSV
that DuckDB then reads like any other. Dates stored as Excel dates become ISO text; numbers
keep their value (integral floats lose the `.0`); empty cells become empty fields.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from funnelcli.engine.text import copy_path, writing_copy
from funnelcli.errors import DataError


class SheetNotFound(Exception):
    """The requested sheet is not in the workbook (the caller names the YAML key)."""

    def __init__(self, sheet: str | int, names: list[str]) -> None:
        super().__init__(str(sheet))
        self.sheet = sheet
        self.names = names


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(path: Path, sheet: str | int | None, cache_dir: Path) -> Path:
    """The sheet (name, 0-based index, or the first) as `<cache>/xlsx/<key>.csv`."""
    target = copy_path(cache_dir, "xlsx", path, repr(sheet))
    if target.exists():
        return target
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", file=str(path)) from None
    try:
        names = list(workbook.sheetnames)
        if sheet is None:
            worksheet = workbook[names[0]]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SheetNotFound(sheet, names)
            worksheet = workbook[names[sheet]]
        elif sheet in names:
            worksheet = workbook[sheet]
        else:
            raise SheetNotFound(sheet, names)
        with writing_copy(target) as out:
            writer = csv.writer(out)
            for row in worksheet.iter_rows(values_only=True):
                writer.writerow([_cell(v) for v in row])
    finally:
        workbook.close()
    return target

"""Explaining a CSV that splits into one column: a wrong delimiter, or a ragged row (where)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from funnelcli.errors import DataError

_DELIMITERS = ",;\t|"


def explain_one_column(original: Path, readable: Path, encoding: str, header: str) -> DataError:
    """The error for a file whose header holds delimiters but read as a single column.

    Streams the file with the header's most frequent delimiter and names the first line whose
    field count differs from the header's; otherwise the delimiter itself is the problem.
    """
    counts = Counter(c for c in header if c in _DELIMITERS)
    delimiter = counts.most_common(1)[0][0]
    python_encoding = "latin-1" if encoding == "latin-1" else "utf-8-sig"
    with open(readable, encoding=python_encoding, errors="replace", newline="") as handle:
        rows = csv.reader(handle, delimiter=delimiter)
        width = len(next(rows, []))
        for row in rows:
            if row and len(row) != width:
                return DataError(
                    f"{len(row)} fields where the header has {width} "
                    f"(delimiter {delimiter!r}); fix the row or quote its values",
                    file=str(original),
                    line=rows.line_num,
                )
    return DataError(
        f"the header reads as one column {header!r}: set delimiter: {delimiter!r} "
        "(or check the quoting)",
        file=str(original),
    )


def looks_like_one_column(headers: list[str]) -> bool:
    return len(headers) == 1 and any(c in headers[0] for c in _DELIMITERS)

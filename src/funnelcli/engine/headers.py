"""A file's raw headers: matched to the YAML's names however exports spell them, and explained
when a CSV splits into one column (a wrong delimiter, or a ragged row: where).

Two spellings match when they are equal after NFKC normalisation (full-width `ＩＤ` → `ID`,
the ideographic space → a space), removing byte-order marks, trimming surrounding whitespace
and case-folding (spec.hints.normalize). Exact matches always win over normalised ones.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from funnelcli.errors import DataError
from funnelcli.spec.hints import normalize


def clean(name: str) -> str:
    """A raw header as shown to the user and in SQL: BOM removed and surrounding spaces trimmed."""
    return name.replace("\ufeff", "").strip()


def rename_map(actual: Sequence[str], wanted: Iterable[str]) -> dict[str, str]:
    """raw header → the name the funnel uses for it (the YAML's spelling, else the cleaned one).

    A header keeps its raw spelling when renaming would collide with another column.
    """
    by_key: dict[str, str] = {}
    for name in wanted:
        by_key.setdefault(normalize(name), name)
    exact = set(actual)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for raw in actual:
        target = raw if raw in by_key.values() else by_key.get(normalize(raw), clean(raw))
        if target != raw and (target in exact or target in taken):
            target = raw
        if target in taken:
            target = raw
        out[raw] = target
        taken.add(target)
    return out


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
        start = rows.line_num + 1  # the physical line the next row starts on
        for row in rows:
            line, start = start, rows.line_num + 1
            if row and len(row) != width:
                return DataError(
                    f"{len(row)} fields where the header has {width} "
                    f"(delimiter {delimiter!r}); fix the row or quote its values",
                    file=str(original),
                    line=line,
                )
    return DataError(
        f"the header reads as one column {header!r}: set delimiter: {delimiter!r} "
        "(or check the quoting)",
        file=str(original),
    )


def not_a_table(original: Path) -> DataError:
    """A file that reads as a single column. Its first line is not shown: the path may lead
    anywhere (a symlink to /etc/passwd), and a line that is no header is no help either."""
    return DataError(
        "reads as a single column, not a table with an id and stage columns; check that the "
        "path is the CSV export (its content is not shown)",
        file=str(original),
    )


def looks_like_one_column(headers: list[str]) -> bool:
    return len(headers) == 1 and any(c in headers[0] for c in _DELIMITERS)

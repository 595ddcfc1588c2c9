"""Matching the YAML's column names to a file's raw headers, tolerant of how exports spell them.

Two spellings match when they are equal after NFKC normalisation (full-width `ＩＤ` → `ID`,
the ideographic space → a space), removing byte-order marks, trimming surrounding whitespace
and case-folding. Exact matches always win over normalised ones.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence


def normalize(name: str) -> str:
    """The comparison key of a header: NFKC, no BOM, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip().casefold()


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


def closest(name: str, choices: Sequence[str]) -> str | None:
    """The choice most like `name`, comparing normalised spellings."""
    keys = {normalize(c): c for c in choices}
    hit = difflib.get_close_matches(normalize(name), list(keys), n=1, cutoff=0.5)
    if hit:
        return keys[hit[0]]
    wanted = normalize(name)
    words = [c for k, c in keys.items() if wanted in re.split(r"[\W_]+", k)]
    containing = words or [c for k, c in keys.items() if wanted in k]
    return containing[0] if len(containing) == 1 else None

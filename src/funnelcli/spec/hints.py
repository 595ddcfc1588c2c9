"""Did-you-mean: the one wording of a suggestion for a mistyped key, name or column, and the
one rule for matching a name to a header or a stage name (`find`): NFKC, no byte-order mark,
trimmed, runs of spaces as one, case-folded — full-width `ＣＨＡＮＮＥＬ` and `Channel` match
`channel`. YAML columns, `--by`, `dimensions:`, `breakdown:`, `roi:` columns, lookup keys and
`--fail-on` stage names all match through it."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence


def did_you_mean(
    word: str, choices: Sequence[str], *, guess: str | None = None, known: str = "known"
) -> str:
    """' (did you mean 'x'?)' for `guess` or else the closest choice; without one, the choices.

    `guess` is a caller's own closest match (e.g. a header compared by its normalised
    spelling); `known` names the list shown when nothing is close (`known keys`).
    """
    found = guess or next(iter(difflib.get_close_matches(word, list(choices), n=1)), None)
    return f" (did you mean '{found}'?)" if found else f" ({known}: {', '.join(choices)})"


def normalize(name: str) -> str:
    """The comparison key of a header: NFKC, no BOM, trimmed, runs of spaces as one,
    case-folded."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "")
    return " ".join(text.split()).casefold()


def find(name: str, choices: Iterable[str]) -> str | None:
    """The choice `name` means: itself when present, else the one choice with the same
    normalised spelling; None when there is none or several (then say did-you-mean)."""
    choices = list(choices)
    if name in choices:
        return name
    wanted = normalize(name)
    same = [c for c in choices if normalize(c) == wanted]
    return same[0] if len(same) == 1 else None


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


_DELIMITERS = ",;\t|"

"""Did-you-mean: the one wording of a suggestion for a mistyped key, name or column."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def did_you_mean(
    word: str, choices: Sequence[str], *, guess: str | None = None, known: str = "known"
) -> str:
    """' (did you mean 'x'?)' for `guess` or else the closest choice; without one, the choices.

    `guess` is a caller's own closest match (e.g. a header compared by its normalised
    spelling); `known` names the list shown when nothing is close (`known keys`).
    """
    found = guess or next(iter(difflib.get_close_matches(word, list(choices), n=1)), None)
    return f" (did you mean '{found}'?)" if found else f" ({known}: {', '.join(choices)})"

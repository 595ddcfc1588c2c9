"""Did-you-mean: the one wording of a suggestion for a mistyped key, name or column."""

from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, else the list of choices."""
    hint = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(choices)})"

"""Control characters made visible: one rule for every format and for error lines.

A CRM value, a YAML title or label can hold an ANSI escape (`\x1b[2J` clears a terminal), a
newline (which breaks a Markdown table row and can start a heading), a carriage return (which
overwrites what a terminal printed), or a bidirectional override (which reorders what a reader
sees). Every string an artifact carries is shown with such characters escaped, `\x1b` as the
four characters `\x1b`, a newline as `\n`, before any renderer lays it out (render.draw), so no
output carries a raw control character. `--format json` needs none of this: JSON escapes them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

T = TypeVar("T")

# C0 and C1 controls and DEL; line/paragraph separators; bidi embeddings, overrides, isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_text(text: str) -> str:
    """`text` with every control character written as its escape (`\\x1b`, `\\n`)."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def visible(value: T) -> T:
    """`value` (an artifact: frozen dataclasses, tuples, lists, dicts) with every string in it,
    keys included, through visible_text; unchanged values are returned as they are."""
    return _visible(value)  # type: ignore[no-any-return]


def _visible(value: Any) -> Any:
    if isinstance(value, str):
        return visible_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            if not field.init:
                continue
            old = getattr(value, field.name)
            new = _visible(old)
            if new is not old:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple | list):
        items = [_visible(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if not hasattr(value, "_fields") else type(value)(*items)
    if isinstance(value, dict):
        pairs = [(_visible(k), _visible(v)) for k, v in value.items()]
        if all(k is a and v is b for (k, v), (a, b) in zip(pairs, value.items(), strict=True)):
            return value
        return type(value)(pairs)
    return value

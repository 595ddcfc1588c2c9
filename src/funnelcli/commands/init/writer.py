"""A Draft as commented YAML in the style of funnels/*.yaml: one flow mapping per source and
stage, each with a comment saying what was inferred and why; the choices left to a human as
commented-out keys at the end."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from funnelcli.commands.init.draft import Draft, DraftSource, DraftStage

_PLAIN = re.compile(r"^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff .\-/]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    """A YAML scalar: plain when unambiguous, else a double-quoted (JSON) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if (
        _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and text == text.strip()
        and ": " not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(items: Mapping[str, Any]) -> str:
    parts = []
    for key, value in items.items():
        if value is None:
            continue
        if isinstance(value, list):
            shown = (
                scalar(value[0]) if len(value) == 1 else "[" + ", ".join(map(scalar, value)) + "]"
            )
        else:
            shown = scalar(value)
        parts.append(f"{key}: {shown}")
    return "{" + ", ".join(parts) + "}"


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""


def _source(source: DraftSource) -> dict[str, Any]:
    return {
        "path": source.path,
        "shape": None if source.shape == "wide" else source.shape,
        "id": source.id,
        "account": source.account,
        "stage": source.stage,
        "at": source.at,
        "key": source.key,
        "join": source.join,
    }


def _stage(stage: DraftStage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "source": stage.source,
        "at": stage.at,
        "match": stage.match,
        "value": stage.value,
        "label": stage.label,
    }


def render_yaml(draft: Draft, command: str) -> str:
    """The YAML text of `draft` (`command`: how the header says to run it)."""
    lines = [
        "# Written by `funnel init` from the exports' headers and values. Every choice carries",
        "# a comment saying what was inferred and why; check them, then run:",
        f"#   {command}",
        "sources:",
    ]
    for source in draft.sources:
        lines.append(f"  {source.name}: {flow(_source(source))}{_comment(source.why)}")
    lines.append("stages:                    # in funnel order")
    for stage in draft.stages:
        lines.append(f"  - {flow(_stage(stage))}{_comment(stage.why)}")
    if draft.lost is not None:
        lines.append(f"lost: {flow(draft.lost)}{_comment(draft.lost_why)}")
    if draft.dimensions:
        lines.append(
            f"dimensions: [{', '.join(map(scalar, draft.dimensions))}]"
            f"{_comment(draft.dimensions_why)}"
        )
    if draft.breakdown:
        lines.append(f"breakdown: [{', '.join(map(scalar, draft.breakdown))}]  # the default --by")
    if draft.human:
        lines += ["", "# Left to you (the data cannot tell):"]
        lines += [f"# - {item}" for item in draft.human]
    if draft.notes:
        lines += ["", "# Also seen:"]
        lines += [f"# - {note}" for note in draft.notes]
    return "\n".join(lines) + "\n"

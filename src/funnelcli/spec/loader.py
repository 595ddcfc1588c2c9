"""YAML text → a validated `Funnel`, every problem one SpecError naming file:line: key.

The YAML is read with `yaml.safe_load` only. A first pass over the node tree maps every key path
to its line and rejects duplicate keys (which safe_load would silently overwrite); pydantic's
first error is then worded once, here, and the cross-key rules of `checks` run last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from funnelcli.errors import SpecError
from funnelcli.spec.checks import check_references
from funnelcli.spec.enums import Shape
from funnelcli.spec.exclude import ExcludeSpec, OutcomeSpec
from funnelcli.spec.hints import did_you_mean
from funnelcli.spec.models import (
    SOURCE_SHAPES,
    FunnelSpec,
    RoiSpec,
    SpendSpec,
    StageSpec,
    SubscriptionsSpec,
)
from funnelcli.spec.risk import LevelsSpec, RiskSpec, SignalsSpec, TouchesSpec, UsageSpec


@dataclass(frozen=True)
class Funnel:
    """A validated spec plus where it came from, so later checks can point at the YAML line."""

    spec: FunnelSpec
    file: str
    base_dir: Path
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name or Path(self.file).stem

    def error(self, key: str, message: str) -> SpecError:
        return SpecError(message, file=self.file, line=self.line_of(key), key=key)

    def line_of(self, key: str) -> int | None:
        """Line of `key` (e.g. `stages[2].at`), else of its nearest parent that has one."""
        return _line_of(self.lines, key)


def _line_of(lines: dict[str, int], key: str) -> int | None:
    """The line of a key path in a line map, else of its nearest parent that has one."""
    while key:
        if key in lines:
            return lines[key]
        parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", key)
        if parent == key:
            return None
        key = parent
    return None


def load_funnel(path: str | Path) -> Funnel:
    """Read and validate a funnel YAML file; every problem becomes a SpecError naming file:line."""
    display = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError("funnel definition not found", file=display) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a funnel YAML file", file=display) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text ({exc.reason})", file=display) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=display) from None
    return parse_funnel(text, file=display, base_dir=Path(path).resolve().parent)


def parse_funnel(text: str, *, file: str = "<funnel>", base_dir: Path | None = None) -> Funnel:
    """Validate YAML text as a funnel definition (see `load_funnel`)."""
    # One parse (libyaml's, when PyYAML has it): the node tree gives each key's line and is
    # then constructed as yaml.safe_load would.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        lines = _key_lines(node, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=file) from None
    finally:
        loader.dispose()
    if data is None:
        raise SpecError("empty funnel definition: expected keys sources: and stages:", file=file)
    if not isinstance(data, dict):
        raise SpecError(
            "a funnel definition is a mapping with sources: and stages:", file=file, line=1
        )
    try:
        spec = FunnelSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc, file, lines) from None
    funnel = Funnel(spec=spec, file=file, base_dir=base_dir or Path.cwd(), lines=lines)
    check_references(funnel)
    return funnel


def key_path(loc: tuple[int | str, ...]) -> str:
    """('stages', 2, 'at') → 'stages[2].at'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_DEPTH = 32  # a funnel definition nests five levels deep
MAX_NODES = 100_000  # values after expanding aliases (300 stages use a few thousand)


def _key_lines(node: yaml.Node | None, file: str) -> dict[str, int]:
    """Map every key path in the YAML document to its 1-based line; reject duplicate keys,
    nesting deeper than MAX_DEPTH and aliases that expand past MAX_NODES values (a "billion
    laughs" document), before anything is built from the tree."""
    lines: dict[str, int] = {}
    walked = 0

    def walk(current: yaml.Node, path: str, depth: int = 0) -> None:
        nonlocal walked
        walked += 1
        if walked > MAX_NODES:
            raise SpecError(
                f"more than {MAX_NODES:,} values once its aliases (*name) are expanded; "
                "a funnel definition needs far fewer",
                file=file,
                line=current.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            raise SpecError(
                f"nested more than {MAX_DEPTH} levels deep; a funnel definition needs a few",
                file=file,
                line=current.start_mark.line + 1,
            )
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in current.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                if key in seen:
                    raise SpecError(
                        f"duplicate key '{key}'",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        key=child,
                    )
                seen.add(key)
                lines[child] = key_node.start_mark.line + 1
                walk(value_node, child, depth + 1)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = f"{path}[{index}]"
                lines[child] = item.start_mark.line + 1
                walk(item, child, depth + 1)

    if node is not None:
        walk(node, "")
    return lines


_FIELDS: dict[str, type[BaseModel]] = {
    "stages": StageSpec,
    "roi": RoiSpec,
    "roi.spend": SpendSpec,
    "roi.subscriptions": SubscriptionsSpec,
    "lost": OutcomeSpec,
    "exclude": ExcludeSpec,
    "risk": RiskSpec,
    "risk.usage": UsageSpec,
    "risk.touches": TouchesSpec,
    "risk.contracts": SubscriptionsSpec,
    "risk.signals": SignalsSpec,
    "risk.levels": LevelsSpec,
}


def _spec_error(exc: ValidationError, file: str, lines: dict[str, int]) -> SpecError:
    """The first pydantic error as one readable line (pydantic lists all; one is enough to act)."""
    # An unknown key first: a typo'd required key also reports the required key as missing,
    # and the typo is what the user must see.
    error = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    shape = _source_shape(tuple(error["loc"]))
    loc = _without_tags(tuple(error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        model = SOURCE_SHAPES[shape] if shape is not None else _model_at(loc[:-1])
        hint = did_you_mean(str(loc[-1]), sorted(model.model_fields), known="known keys")
        message = f"unknown key '{loc[-1]}'{hint}"
    elif kind == "union_tag_invalid":  # a `shape:` no source model has: worded as the enum's
        loc = (*loc, "shape")
        message = f"input should be {_choices(Shape)}, got {error['input'].get('shape')!r}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "enum" or kind == "literal_error":
        message = f"{error['msg'].lower()}, got {error['input']!r}"
    elif kind == "string_type" and isinstance(error["input"], bool):
        message = (
            f"expected text, got the boolean {str(error['input']).lower()}: YAML reads an "
            "unquoted on, off, yes, no, true or false as true/false; quote it (e.g. 'on')"
        )
    elif kind == "string_type" and isinstance(error["input"], int | float):
        message = f"expected text, got the number {error['input']!r}; quote it to mean text"
    else:
        message = error["msg"].removeprefix("Value error, ")
    key = key_path(loc)
    return SpecError(message, file=file, line=_line_of(lines, key), key=key)


def _source_shape(loc: tuple[int | str, ...]) -> Shape | None:
    """The shape a source was validated as: pydantic's union tag after `sources.<name>`."""
    if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_SHAPES:
        return Shape(loc[2])
    return None


def _without_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """A pydantic location as a key path's parts: without the source's union tag (the shape in
    `('sources', 'leads', 'wide', 'key')`) nor validator and union-member names."""
    if _source_shape(loc) is not None:
        loc = (*loc[:2], *loc[3:])
    return tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))
    )


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model (other than a source) whose keys `loc` points into."""
    if not loc:
        return FunnelSpec
    if len(loc) >= 2 and f"{loc[0]}.{loc[1]}" in _FIELDS:
        return _FIELDS[f"{loc[0]}.{loc[1]}"]
    return _FIELDS.get(str(loc[0]), FunnelSpec)


def _choices(enum: type[StrEnum]) -> str:
    """'a', 'b' or 'c': an enum's values as pydantic's enum errors list them."""
    names = [repr(member.value) for member in enum]
    return f"{', '.join(names[:-1])} or {names[-1]}"

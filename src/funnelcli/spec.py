"""The funnel definition: YAML → frozen pydantic models, errors that point at file:line: key."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from funnelcli.duration import Duration
from funnelcli.errors import SpecError

_NAME = re.compile(r"^\w+$")


def _parse_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 30d, got {value!r}")
    return Duration.parse(value)


DurationField = Annotated[Duration, BeforeValidator(_parse_duration)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float) else value


def _as_name_list(value: Any) -> Any:
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else value


class Shape(StrEnum):
    wide = "wide"  # one row per id, one column per stage time
    long = "long"  # one row per stage change: id, stage value, time
    snapshot = "snapshot"  # one row per id with its current stage only


class Order(StrEnum):
    backfill = "backfill"
    strict = "strict"


class Grain(StrEnum):
    lead = "lead"
    account = "account"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class SourceSpec(_Model):
    """One input file (or glob of files) and how to read it."""

    path: str
    shape: Shape = Shape.wide
    id: str
    account: str | None = None
    stage: str | None = None
    at: str | None = None
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"
    delimiter: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)

    def column(self, name: str) -> str:
        """The raw header behind a canonical column name (`columns:` maps canonical ← raw)."""
        return self.columns.get(name, name)


class StageSpec(_Model):
    """One funnel stage: where its evidence comes from and the rules for reaching it."""

    name: str
    label: str | None = None
    source: str | None = None
    at: str | None = None
    match: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    when: str | None = None
    within: DurationField | None = None
    value: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_a_word(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"stage name {value!r} must be letters, digits or _ only")
        return value

    @field_validator("match")
    @classmethod
    def _match_values_are_text(cls, value: list[Any] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("match needs at least one stage value")
        return None if value is None else [str(item) for item in value]

    @property
    def title(self) -> str:
        return self.label or self.name


class FunnelSpec(_Model):
    """The whole funnel definition as written in the YAML file."""

    name: str | None = None
    title: str | None = None
    grain: Grain = Grain.lead
    sources: dict[str, SourceSpec] = Field(min_length=1)
    stages: list[StageSpec] = Field(min_length=1)
    window: DurationField | None = None
    order: Order = Order.backfill
    dimensions: Annotated[list[str], BeforeValidator(_as_name_list)] = Field(default_factory=list)
    breakdown: Annotated[list[str], BeforeValidator(_as_name_list)] = Field(default_factory=list)
    filter: str | None = None
    min_n: int = Field(default=30, ge=0)
    cache: bool = False  # read sources through the Parquet cache (cache.py); --cache/--no-cache

    @property
    def primary_source(self) -> str:
        return next(iter(self.sources))

    def stage_source(self, stage: StageSpec) -> str:
        return stage.source or self.primary_source


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
    try:
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader), file)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=file) from None
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


def _key_lines(node: yaml.Node | None, file: str) -> dict[str, int]:
    """Map every key path in the YAML document to its 1-based line; reject duplicate keys."""
    lines: dict[str, int] = {}

    def walk(current: yaml.Node, path: str) -> None:
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
                walk(value_node, child)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = f"{path}[{index}]"
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if node is not None:
        walk(node, "")
    return lines


_FIELDS: dict[str, type[BaseModel]] = {
    "sources": SourceSpec,
    "stages": StageSpec,
    "": FunnelSpec,
}


def _spec_error(exc: ValidationError, file: str, lines: dict[str, int]) -> SpecError:
    """The first pydantic error as one readable line (pydantic lists all; one is enough to act)."""
    # An unknown key first: a typo'd required key also reports the required key as missing,
    # and the typo is what the user must see.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = tuple(error["loc"])
    # Drop pydantic's internal union/validator tags from the location.
    loc = tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))
    )
    key = key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = sorted(model.model_fields)
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        did_you_mean = (
            f" (did you mean '{hint[0]}'?)" if hint else f" (known keys: {', '.join(known)})"
        )
        message = f"unknown key '{loc[-1]}'{did_you_mean}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "enum" or kind == "literal_error":
        message = f"{error['msg'].lower()}, got {error['input']!r}"
    else:
        message = error["msg"].removeprefix("Value error, ")
    return SpecError(message, file=file, line=_line_of(lines, key), key=key)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    if not loc:
        return FunnelSpec
    return _FIELDS.get(str(loc[0]), FunnelSpec)


def check_references(funnel: Funnel) -> None:
    """Cross-key rules pydantic cannot see: stage sources exist, shapes have what they need."""
    spec = funnel.spec
    names: dict[str, int] = {}
    for index, stage in enumerate(spec.stages):
        key = f"stages[{index}]"
        if stage.name in names:
            raise funnel.error(f"{key}.name", f"duplicate stage name '{stage.name}'")
        names[stage.name] = index
        source_name = spec.stage_source(stage)
        if source_name not in spec.sources:
            hint = did_you_mean(source_name, list(spec.sources))
            raise funnel.error(f"{key}.source", f"unknown source '{source_name}'{hint}")
        source = spec.sources[source_name]
        if source.shape is Shape.wide:
            if stage.match is not None:
                raise funnel.error(
                    f"{key}.match",
                    f"source '{source_name}' is wide (one column per stage): use at: or when:, "
                    "or declare shape: long with a stage: column",
                )
            if stage.at is None and stage.when is None:
                raise funnel.error(
                    key, "a stage on a wide source needs at: (a time column) or when: (a condition)"
                )
        elif stage.match is None and stage.when is None:
            raise funnel.error(
                key,
                f"a stage on the {source.shape.value} source '{source_name}' "
                "needs match: (its stage values) or when:",
            )
    for name, source in spec.sources.items():
        key = f"sources.{name}"
        if not _NAME.match(name):
            raise funnel.error(key, f"source name {name!r} must be letters, digits or _ only")
        if source.shape is Shape.wide and source.stage is not None:
            raise funnel.error(f"{key}.stage", "stage: is for shape: long or snapshot sources")
        if source.shape is not Shape.wide and source.stage is None:
            raise funnel.error(
                key,
                f"a {source.shape.value} source needs stage: (the column holding the stage value)",
            )
        if source.delimiter is not None and len(source.delimiter) != 1:
            raise funnel.error(f"{key}.delimiter", "delimiter must be one character")
    if spec.grain is Grain.account and spec.sources[spec.primary_source].account is None:
        raise funnel.error(
            f"sources.{spec.primary_source}",
            "grain: account needs account: (the account id column) on the first source",
        )


def did_you_mean(word: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, else the list of choices."""
    hint = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(choices)})"

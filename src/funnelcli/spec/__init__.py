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

from funnelcli.errors import SpecError
from funnelcli.spec.duration import Duration

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
    lookup = "lookup"  # attributes keyed by a column of the funnel's rows (docs/real-data.md)


class Order(StrEnum):
    backfill = "backfill"
    strict = "strict"


class Grain(StrEnum):
    lead = "lead"
    account = "account"


class WeekStart(StrEnum):
    """The first day of a summary/cohort week (`week_start:`); monday gives ISO weeks."""

    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


def _check_timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an IANA time zone such as Europe/Berlin, got {value!r}")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as UTC, Europe/Berlin, "
            "Asia/Shanghai"
        ) from None
    return value.strip()


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def _match_values(value: list[Any] | None) -> list[str] | None:
    """`match:` values as text (YAML reads `2024` as a number), and never an empty list."""
    if value is not None and not value:
        raise ValueError("match needs at least one stage value")
    return None if value is None else [str(item) for item in value]


# What `encoding:` accepts; auto detects (encodings.py) and is the default everywhere.
Encoding = Literal[
    "auto",
    "utf-8",
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "gb18030",
    "gbk",
    "latin-1",
]


class SourceSpec(_Model):
    """One input file (or glob of files) and how to read it."""

    path: str
    shape: Shape = Shape.wide
    id: str | None = None  # required on every shape but lookup (check_references)
    account: str | None = None
    stage: str | None = None
    at: str | None = None
    encoding: Encoding = "auto"
    delimiter: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    sheet: str | int | None = None  # .xlsx: sheet name or 0-based index (default: the first)
    tz: str | None = None  # time zone of naive date/time values (default UTC)
    day_first: bool | None = None  # 05/03/2024: true = 5 March, false = 3 May, unset = reject
    formats: dict[str, Annotated[list[str], BeforeValidator(_as_list)]] = Field(
        default_factory=dict
    )  # date column → format(s) tried in order (iso, unix_s, unix_ms, excel or strptime)
    # shape: lookup only: the lookup's own key column, the funnel column it is joined on, and
    # funnel-side spellings to rewrite before the join (`GTXPro: GTX Pro`).
    key: str | None = None
    join: str | None = None
    map: dict[str, str] = Field(default_factory=dict)

    @field_validator("map", mode="before")
    @classmethod
    def _map_is_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @property
    def id_column(self) -> str:
        """The id column (present on every non-lookup source; check_references guarantees it)."""
        assert self.id is not None
        return self.id

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
        return _match_values(value)

    @property
    def title(self) -> str:
        return self.label or self.name


class SpendSpec(_Model):
    """The marketing spend file of `roi:`: one row per channel and day or month."""

    path: str
    channel: str = "channel"
    amount: str = "amount"
    date: str | None = None  # a day per row …
    month: str | None = None  # … or a month per row (2025-03 or any date in the month)
    campaign: str | None = None
    encoding: Encoding = "auto"
    delimiter: str | None = None


class SubscriptionsSpec(_Model):
    """Contracts per account (one row per contract period), for renewals, GRR, NRR and churn."""

    path: str
    account: str = "account_id"
    start: str = "start_date"
    end: str = "end_date"
    amount: str = "amount"
    encoding: Encoding = "auto"
    delimiter: str | None = None


class RoiSpec(_Model):
    """`funnel roi`: spend against the revenue of the leads each channel brought (docs/money.md)."""

    spend: SpendSpec
    channel: str = "channel"  # the lead attribute that names the channel
    channel_map: dict[str, str] = Field(default_factory=dict)  # spend name → lead channel value
    qualified: str | None = None  # stage for cost per qualified lead; default: the second stage
    revenue: str  # stage whose value: is the first-period revenue of a new customer
    renewal: str | None = None  # stage whose value: is renewal revenue (attributed revenue)
    subscriptions: SubscriptionsSpec | None = None
    gross_margin: float | None = Field(default=None, gt=0, le=1)
    contract_months: int | None = Field(default=None, ge=1)  # months the revenue value pays for
    renewal_grace: DurationField = Field(default_factory=lambda: Duration.parse("30d"))


class OutcomeSpec(_Model):
    """`lost:`: evidence that a deal was lost, written like a stage (docs/sales.md)."""

    source: str | None = None
    at: str | None = None
    match: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    when: str | None = None

    @field_validator("match")
    @classmethod
    def _match_values_are_text(cls, value: list[Any] | None) -> list[str] | None:
        return _match_values(value)


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
    week_start: WeekStart = WeekStart.monday  # summary/cohorts weeks; monday = ISO weeks
    timezone: Annotated[str, BeforeValidator(_check_timezone)] = "UTC"  # period edges' zone
    currency: str | None = None  # e.g. CNY: the unit of every value: and roi: amount
    roi: RoiSpec | None = None
    won: str | None = None  # the win stage for sales metrics (docs/sales.md); default below
    lost: OutcomeSpec | None = None
    cache: bool = False  # read sources through the Parquet cache (cache.py); --cache/--no-cache

    @property
    def primary_source(self) -> str:
        """The first source that is not a lookup: it defines the ids and a stage's default."""
        return next(n for n, s in self.sources.items() if s.shape is not Shape.lookup)

    @property
    def funnel_sources(self) -> list[str]:
        """Sources that bring ids and evidence (all but lookups), in declared order."""
        return [n for n, s in self.sources.items() if s.shape is not Shape.lookup]

    @property
    def lookup_sources(self) -> list[str]:
        return [n for n, s in self.sources.items() if s.shape is Shape.lookup]

    @property
    def won_stage(self) -> int:
        """1-based index of the win stage: `won:`, else a stage named won, else paid, else last."""
        names = [s.name for s in self.stages]
        for wanted in (self.won, "won", "paid"):
            if wanted in names:
                return names.index(wanted) + 1
        return len(names)

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
    "roi": RoiSpec,
    "roi.spend": SpendSpec,
    "roi.subscriptions": SubscriptionsSpec,
    "lost": OutcomeSpec,
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
    if len(loc) >= 2 and f"{loc[0]}.{loc[1]}" in _FIELDS:
        return _FIELDS[f"{loc[0]}.{loc[1]}"]
    return _FIELDS.get(str(loc[0]), FunnelSpec)


def check_references(funnel: Funnel) -> None:
    """Cross-key rules pydantic cannot see: stage sources exist, shapes have what they need."""
    spec = funnel.spec
    _check_lookups(funnel)
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
        if source.shape is Shape.lookup:
            raise funnel.error(
                f"{key}.source", f"source '{source_name}' is a lookup: it has no stage evidence"
            )
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
        elif stage.match is None and stage.when is None and not _dated_snapshot(source, stage):
            raise funnel.error(
                key,
                f"a stage on the {source.shape.value} source '{source_name}' "
                "needs match: (its stage values) or when:",
            )
    _check_outcome(funnel)
    for name, source in spec.sources.items():
        key = f"sources.{name}"
        if not _NAME.match(name):
            raise funnel.error(key, f"source name {name!r} must be letters, digits or _ only")
        if source.shape is Shape.lookup:
            continue
        if source.id is None:
            raise funnel.error(key, "required key is missing: id (the id column)")
        if source.shape is Shape.wide and source.stage is not None:
            raise funnel.error(f"{key}.stage", "stage: is for shape: long or snapshot sources")
        if source.shape is not Shape.wide and source.stage is None:
            raise funnel.error(
                key,
                f"a {source.shape.value} source needs stage: (the column holding the stage value)",
            )
        if source.delimiter is not None and len(source.delimiter) != 1:
            raise funnel.error(f"{key}.delimiter", "delimiter must be one character")
        _check_dates(funnel, name, source)
    if spec.roi is not None:
        _check_roi(funnel, spec.roi, names)
    if spec.grain is Grain.account and spec.sources[spec.primary_source].account is None:
        raise funnel.error(
            f"sources.{spec.primary_source}",
            "grain: account needs account: (the account id column) on the first source",
        )


def _check_roi(funnel: Funnel, roi: RoiSpec, stages: dict[str, int]) -> None:
    spec = funnel.spec
    for key in ("revenue", "renewal", "qualified"):
        name = getattr(roi, key)
        if name is None:
            continue
        if name not in stages:
            raise funnel.error(
                f"roi.{key}", f"unknown stage '{name}'{did_you_mean(name, list(stages))}"
            )
        if key != "qualified" and spec.stages[stages[name]].value is None:
            raise funnel.error(
                f"roi.{key}",
                f"stage '{name}' has no value: (the amount column to count as revenue)",
            )
    if (roi.spend.date is None) == (roi.spend.month is None):
        raise funnel.error("roi.spend", "spend needs exactly one of date: (a day) or month:")
    if roi.spend.delimiter is not None and len(roi.spend.delimiter) != 1:
        raise funnel.error("roi.spend.delimiter", "delimiter must be one character")
    if roi.subscriptions is not None and spec.sources[spec.primary_source].account is None:
        raise funnel.error(
            "roi.subscriptions",
            "subscriptions are matched to leads by account: declare account: on the first source",
        )


def _dated_snapshot(source: SourceSpec, stage: StageSpec) -> bool:
    """On a snapshot, a stage's own `at:` alone is evidence (a Lost deal's engage date)."""
    return source.shape is Shape.snapshot and stage.at is not None


def _check_lookups(funnel: Funnel) -> None:
    spec = funnel.spec
    if not spec.funnel_sources:
        raise funnel.error("sources", "at least one source must not be a lookup")
    for name, source in spec.sources.items():
        key = f"sources.{name}"
        lookup_keys = {"key": source.key, "join": source.join, "map": source.map or None}
        if source.shape is not Shape.lookup:
            for field_name, given in lookup_keys.items():
                if given is not None:
                    raise funnel.error(f"{key}.{field_name}", f"{field_name}: is for shape: lookup")
            continue
        for field_name in ("key", "join"):
            if lookup_keys[field_name] is None:
                raise funnel.error(
                    key,
                    f"a lookup source needs {field_name}: "
                    + ("(its own key column)" if field_name == "key" else "(the funnel column)"),
                )
        for field_name in ("id", "account", "stage", "at"):
            if getattr(source, field_name) is not None:
                raise funnel.error(f"{key}.{field_name}", f"a lookup source has no {field_name}:")


def _check_outcome(funnel: Funnel) -> None:
    spec = funnel.spec
    if spec.won is not None and spec.won not in [s.name for s in spec.stages]:
        hint = did_you_mean(spec.won, [s.name for s in spec.stages])
        raise funnel.error("won", f"unknown stage '{spec.won}'{hint}")
    lost = spec.lost
    if lost is None:
        return
    source_name = lost.source or spec.primary_source
    if source_name not in spec.funnel_sources:
        hint = did_you_mean(source_name, spec.funnel_sources)
        raise funnel.error("lost.source", f"unknown source '{source_name}'{hint}")
    shape = spec.sources[source_name].shape
    if shape is Shape.wide and lost.match is not None:
        raise funnel.error("lost.match", "match: needs a long or snapshot source; use when:")
    if lost.match is None and lost.when is None and lost.at is None:
        raise funnel.error("lost", "lost: needs match:, when: or at:")


def did_you_mean(word: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, else the list of choices."""
    hint = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(choices)})"


def _check_dates(funnel: Funnel, name: str, source: SourceSpec) -> None:
    """`tz:` is a known time zone; each `formats:` entry is a known name or has a % directive."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if source.tz is not None:
        try:
            ZoneInfo(source.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise funnel.error(
                f"sources.{name}.tz",
                f"unknown time zone {source.tz!r} (use a name such as Asia/Shanghai or UTC)",
            ) from None
    for column, formats in source.formats.items():
        for fmt in formats:
            if fmt not in ("iso", "unix_s", "unix_ms", "excel") and "%" not in fmt:
                raise funnel.error(
                    f"sources.{name}.formats.{column}",
                    f"unknown date format {fmt!r} (use iso, unix_s, unix_ms, excel "
                    "or a strptime pattern such as %d/%m/%Y)",
                )

"""The funnel definition as frozen pydantic models; a source is a union discriminated on `shape:`.

Each source shape is its own model (`WideSource | LongSource | SnapshotSource | LookupSource`,
as sqlmesh's connection configs are one class per `type_`). Every shape declares every source
key, so code that reads `source.stage` or `source.key` works on any source; a key a shape does
not take is typed `None` there and rejected with a message saying which shape it is for.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from funnelcli.spec import enums
from funnelcli.spec.duration import Duration
from funnelcli.spec.enums import Attempts, Evidence, Grain, Order, Shape, WeekStart

WORD = re.compile(r"^\w+$")  # stage and source names


def _reject_limit(value: Any) -> int | str:
    """`max_rejected:` rows (50) or a share of a source's rows (`1%`, `0.5%`)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = value.strip() if isinstance(value, str) else ""
    if re.fullmatch(r"\d+(\.\d+)?%", text) and float(text[:-1]) <= 100:
        return text
    raise ValueError(f"expected a number of rows (50) or a share such as 1%, got {value!r}")


RejectLimit = Annotated[int | str, BeforeValidator(_reject_limit)]


def _parse_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 30d, got {value!r}")
    return Duration.parse(value)


def _time_zone(value: Any) -> str:
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


def _one_character(value: str) -> str:
    if len(value) != 1:
        raise ValueError("delimiter must be one character")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float) else value


def _as_name_list(value: Any) -> Any:
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else value


def _match_values(value: list[Any] | None) -> list[str] | None:
    """`match:` values as text (YAML reads `2024` as a number), and never an empty list."""
    if value is not None and not value:
        raise ValueError("match needs at least one stage value")
    return None if value is None else [str(item) for item in value]


DurationField = Annotated[Duration, BeforeValidator(_parse_duration)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]  # an IANA name, e.g. Asia/Shanghai
Delimiter = Annotated[str, AfterValidator(_one_character)]
MatchValues = Annotated[list[str] | None, BeforeValidator(_as_list), AfterValidator(_match_values)]

# What `encoding:` accepts; auto detects (engine/text.py) and is the default everywhere.
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


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )


class _Source(_Model):
    """The keys of a source, whatever its shape; each shape below narrows what it takes."""

    path: str = ""  # a file or glob, or else (spec/checks.py: one of them) …
    table: str | None = None  # … a table of the engine's catalog (sql/tables.py)
    shape: Shape
    id: str | None = None
    account: str | None = None
    stage: str | None = None
    at: str | None = None
    encoding: Encoding = "auto"
    delimiter: Delimiter | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    sheet: str | int | None = None  # .xlsx: sheet name or 0-based index (default: the first)
    tz: TimeZone | None = None  # time zone of naive date/time values (default UTC)
    day_first: bool | None = None  # 05/03/2024: true = 5 March, false = 3 May, unset = reject
    formats: dict[str, Annotated[list[str], BeforeValidator(_as_list)]] = Field(
        default_factory=dict
    )  # date column → format(s) tried in order (iso, unix_s, unix_ms, excel or strptime)
    # shape: lookup only: the lookup's own key column, the funnel column it is joined on, and
    # funnel-side spellings to rewrite before the join (`GTXPro: GTX Pro`).
    key: str | None = None
    join: str | None = None
    map: dict[str, str] = Field(default_factory=dict)

    @property
    def id_column(self) -> str:
        """The id column (every shape but lookup requires one)."""
        assert self.id is not None
        return self.id

    def column(self, name: str) -> str:
        """The raw header behind a canonical column name (`columns:` maps canonical ← raw)."""
        return self.columns.get(name, name)


def _given(value: Any) -> bool:
    """A key written with a value: `key: null` and an empty `map: {}` say nothing."""
    return value is not None and value != {}


class _FunnelSource(_Source):
    """A source of ids and stage evidence: every shape but lookup."""

    key: None = None
    join: None = None

    @field_validator("key", "join", "map", mode="before")
    @classmethod
    def _lookup_only(cls, value: Any, info: ValidationInfo) -> Any:
        if _given(value):
            raise ValueError(f"{info.field_name}: is for shape: lookup")
        return value

    @model_validator(mode="after")
    def _has_an_id(self) -> Self:
        if self.id is None:
            raise ValueError("required key is missing: id (the id column)")
        return self


class WideSource(_FunnelSource):
    """One row per id, one column per stage time (the default shape)."""

    shape: Literal[Shape.wide] = Shape.wide
    stage: None = None

    @field_validator("stage", mode="before")
    @classmethod
    def _no_stage_column(cls, value: Any) -> Any:
        if _given(value):
            raise ValueError("stage: is for shape: long or snapshot sources")
        return value


class LongSource(_FunnelSource):
    """One row per stage change: id, stage value (its `stage:` column, see checks) and time."""

    shape: Literal[Shape.long]


class SnapshotSource(_FunnelSource):
    """One row per id with its current stage only."""

    shape: Literal[Shape.snapshot]


class LookupSource(_Source):
    """Attributes keyed by a column of the funnel's rows (docs/real-data.md); no ids, no stages."""

    shape: Literal[Shape.lookup]
    id: None = None
    account: None = None
    stage: None = None
    at: None = None

    @field_validator("id", "account", "stage", "at", mode="before")
    @classmethod
    def _not_on_a_lookup(cls, value: Any, info: ValidationInfo) -> Any:
        if _given(value):
            raise ValueError(f"a lookup source has no {info.field_name}:")
        return value

    @field_validator("map", mode="before")
    @classmethod
    def _map_is_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _has_key_and_join(self) -> Self:
        if self.key is None:
            raise ValueError("a lookup source needs key: (its own key column)")
        if self.join is None:
            raise ValueError("a lookup source needs join: (the funnel column)")
        return self


SOURCE_SHAPES: dict[Shape, type[_Source]] = {
    Shape.wide: WideSource,
    Shape.long: LongSource,
    Shape.snapshot: SnapshotSource,
    Shape.lookup: LookupSource,
}


def _shape_tag(value: Any) -> str:
    """The union member for a source: its `shape:`, wide when absent."""
    shape = value.get("shape", Shape.wide) if isinstance(value, dict) else value.shape
    return str(shape)


def _a_mapping(value: Any) -> Any:
    # One error naming the union, not a guess at a member, for a source written as a scalar.
    if isinstance(value, dict | _Source):
        return value
    raise PydanticCustomError(
        "model_type",
        "Input should be a valid dictionary or instance of {class_name}",
        {"class_name": "SourceSpec"},
    )


SourceSpec: TypeAlias = Annotated[
    Annotated[WideSource, Tag(Shape.wide.value)]
    | Annotated[LongSource, Tag(Shape.long.value)]
    | Annotated[SnapshotSource, Tag(Shape.snapshot.value)]
    | Annotated[LookupSource, Tag(Shape.lookup.value)],
    Discriminator(_shape_tag),
    BeforeValidator(_a_mapping),
]


class StageSpec(_Model):
    """One funnel stage: where its evidence comes from and the rules for reaching it."""

    name: str
    label: str | None = None
    source: str | None = None
    at: str | None = None
    match: MatchValues = None
    when: str | None = None
    within: DurationField | None = None
    horizon: DurationField | None = None  # summaries: compare this stage within it of entry
    value: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_a_word(cls, value: str) -> str:
        if not WORD.match(value):
            raise ValueError(f"stage name {value!r} must be letters, digits or _ only")
        return value

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
    delimiter: Delimiter | None = None


class SubscriptionsSpec(_Model):
    """Contracts per account (one row per contract period), for renewals, GRR, NRR and churn."""

    path: str
    account: str = "account_id"
    start: str = "start_date"
    end: str = "end_date"
    amount: str = "amount"
    encoding: Encoding = "auto"
    delimiter: Delimiter | None = None


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


class FunnelSpec(_Model):
    """The whole funnel definition as written in the YAML file."""

    name: str | None = None
    title: str | None = None
    grain: Grain = Grain.lead
    sources: dict[str, SourceSpec] = Field(min_length=1)
    stages: list[StageSpec] = Field(min_length=1)
    window: DurationField | None = None
    order: Order = Order.backfill
    evidence: Evidence = Evidence.shared  # once: a row fills at most one stage
    attempts: Attempts = Attempts.first  # best: the furthest-reaching attempt; each: every one
    dimensions: Annotated[list[str], BeforeValidator(_as_name_list)] = Field(default_factory=list)
    breakdown: Annotated[list[str], BeforeValidator(_as_name_list)] = Field(default_factory=list)
    attribution: Annotated[str, BeforeValidator(enums.attribution_text)] = "entry"  # --by credits
    filter: str | None = None
    min_n: int = Field(default=30, ge=0)
    max_rejected: RejectLimit = "1%"  # rows a source may set aside before a run fails
    week_start: WeekStart = WeekStart.monday  # summary/cohorts weeks; monday = ISO weeks
    timezone: TimeZone = "UTC"  # period edges' zone
    currency: str | None = None  # e.g. CNY: the unit of every value: and roi: amount
    roi: RoiSpec | None = None
    won: str | None = None  # the win stage for sales metrics (docs/sales.md); default below
    lost: OutcomeSpec | None = None
    exclude: list[ExcludeSpec] = Field(default_factory=list)  # spec/exclude.py
    cache: bool = False  # sources read through Parquet copies (engine/copies.py); --cache
    risk: RiskSpec | None = None  # funnel risk: churn early warning (spec/risk.py)

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


from funnelcli.spec.exclude import ExcludeSpec, OutcomeSpec  # noqa: E402  (built on the above)
from funnelcli.spec.risk import RiskSpec  # noqa: E402

"""The `risk:` block of a funnel (`funnel risk`, docs/risk.md) as frozen pydantic models.

The usage, touches and contracts files are read like the funnel's sources (encodings, headers
however exports spell them, date formats, rejects); every signal threshold has a default here
and a YAML override. Durations of the usage windows are whole weeks: the signals compare weekly
totals.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from funnelcli.spec.duration import Duration
from funnelcli.spec.models import (
    Delimiter,
    DurationField,
    Encoding,
    SubscriptionsSpec,
    TimeZone,
    _as_list,
    _Model,
)

DAY = 86400
MetricKind = Literal["count", "level"]
# The metrics of the bundled sample (and the default when `metrics:` is not written).
DEFAULT_METRICS: dict[str, MetricKind] = {
    "logins": "count",
    "active_users": "count",
    "exports": "count",
    "api_calls": "count",
    "seats": "level",
}


def _duration(text: str) -> Duration:
    return Duration.parse(text)


def whole_days(duration: Duration) -> int:
    """A duration in days (months as 30 days: only `grace`-like keys allow them)."""
    return duration.seconds // DAY + 30 * duration.months


class MetricSpec(_Model):
    """One usage metric: its column (wide) or its value in the metric column (long), and how a
    week of it is summed up: `count` (events: a day without a row is zero) or `level` (seats:
    the mean of the days that have a row)."""

    column: str | None = None
    kind: MetricKind = "count"


def _metrics(value: Any) -> Any:
    """`metrics:` as a list of names (counts) or a mapping name → kind or {column, kind}."""
    if isinstance(value, list):
        return {str(name): {"kind": DEFAULT_METRICS.get(str(name), "count")} for name in value}
    if isinstance(value, dict):
        return {
            str(name): {"kind": spec} if isinstance(spec, str) else ({} if spec is None else spec)
            for name, spec in value.items()
        }
    return value


class _RiskInput(_Model):
    """A file of the risk block: where it is and how its text is read (as for a source)."""

    path: str
    account: str = "account_id"
    encoding: Encoding = "auto"
    delimiter: Delimiter | None = None
    sheet: str | int | None = None
    tz: TimeZone | None = None
    day_first: bool | None = None
    formats: dict[str, Annotated[list[str], BeforeValidator(_as_list)]] = Field(
        default_factory=dict
    )


class UsageSpec(_RiskInput):
    """Product usage: one row per account and day (or week), one column per metric (wide), or
    one row per account, time, metric and value (long)."""

    time: str = "date"
    every: Literal["day", "week"] = "day"  # week: a row's time is its week's first day
    shape: Literal["wide", "long"] = "wide"
    metric: str | None = None  # long: the column naming the metric
    value: str | None = None  # long: the column holding its value
    metrics: Annotated[dict[str, MetricSpec], BeforeValidator(_metrics)] = Field(
        default_factory=lambda: {n: MetricSpec(kind=k) for n, k in DEFAULT_METRICS.items()}
    )

    @model_validator(mode="after")
    def _long_columns(self) -> Self:
        if self.shape == "long" and (self.metric is None or self.value is None):
            raise ValueError("a long usage file needs metric: and value: (its two columns)")
        if self.shape == "wide" and (self.metric is not None or self.value is not None):
            raise ValueError("metric: and value: are for shape: long")
        if not self.metrics:
            raise ValueError("metrics: needs at least one metric")
        return self

    def column(self, metric: str) -> str:
        """The wide column (or long metric value) of a metric."""
        return self.metrics[metric].column or metric


class TouchesSpec(_RiskInput):
    """Tickets, requests, meetings, e-mails: one row per touch (account, time)."""

    time: str = "touched_at"


def _weeks(value: Any) -> Duration:
    duration = value if isinstance(value, Duration) else Duration.parse(str(value))
    if duration.months or duration.seconds % (7 * DAY) or duration.seconds == 0:
        raise ValueError(f"expected whole weeks (7d, 28d, 12w), got {duration.text!r}")
    return duration


Weeks = Annotated[Duration, BeforeValidator(_weeks)]


class DropSpec(_Model):
    """A metric's recent weeks against its own baseline weeks: relative change and robust z."""

    metrics: list[str] = Field(default_factory=lambda: ["logins", "active_users"])
    window: Weeks = Field(default_factory=lambda: _duration("28d"))
    baseline: Weeks = Field(default_factory=lambda: _duration("84d"))
    change: float = Field(default=-0.4, lt=0)
    z: float = Field(default=-2.0, lt=0)
    weight: float = Field(default=45, ge=0)


class SpikeSpec(_Model):
    """A metric far above its baseline: z ≥ `z` and at least `ratio` times the median."""

    metrics: list[str] = Field(default_factory=lambda: ["exports", "api_calls"])
    window: Weeks = Field(default_factory=lambda: _duration("7d"))
    baseline: Weeks = Field(default_factory=lambda: _duration("84d"))
    ratio: float = Field(default=3.0, gt=1)
    z: float = Field(default=4.0, gt=0)
    weight: float = Field(default=30, ge=0)


class SilenceSpec(_Model):
    """No touch for `days` where the account had at least `min_touches` in the `lookback`
    before that."""

    days: int = Field(default=45, ge=1)
    lookback: DurationField = Field(default_factory=lambda: _duration("180d"))
    min_touches: int = Field(default=2, ge=1)
    weight: float = Field(default=20, ge=0)


class ContractionSpec(_Model):
    """A level metric (seats) down by ≥ -change since the running contract started."""

    metrics: list[str] = Field(default_factory=lambda: ["seats"])
    window: Weeks = Field(default_factory=lambda: _duration("28d"))
    change: float = Field(default=-0.25, lt=0)
    weight: float = Field(default=25, ge=0)


class RenewalSpec(_Model):
    """A contract ending within `days`: multiplies a score above zero by `boost` (urgency)."""

    days: int = Field(default=90, ge=0)
    boost: float = Field(default=1.2, ge=1)


class SignalsSpec(_Model):
    drop: DropSpec = Field(default_factory=DropSpec)
    spike: SpikeSpec = Field(default_factory=SpikeSpec)
    silence: SilenceSpec = Field(default_factory=SilenceSpec)
    contraction: ContractionSpec = Field(default_factory=ContractionSpec)
    renewal: RenewalSpec = Field(default_factory=RenewalSpec)


class LevelsSpec(_Model):
    """Score cut-offs: high ≥ `high`, medium ≥ `medium`, low below."""

    high: float = Field(default=60, gt=0, le=100)
    medium: float = Field(default=30, gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.medium > self.high:
            raise ValueError("levels: medium must not be above high")
        return self


class RiskSpec(_Model):
    """`funnel risk`: churn early warning from product usage (docs/risk.md)."""

    usage: UsageSpec
    touches: TouchesSpec | None = None
    contracts: SubscriptionsSpec | None = None  # default: roi.subscriptions
    signals: SignalsSpec = Field(default_factory=SignalsSpec)
    levels: LevelsSpec = Field(default_factory=LevelsSpec)
    min_history: Weeks = Field(default_factory=lambda: _duration("8w"))
    grace: DurationField | None = None  # renewal grace; default roi.renewal_grace, else 30d

    @model_validator(mode="after")
    def _known_metrics(self) -> Self:
        signals = self.signals
        for name, metrics in (
            ("drop", signals.drop.metrics),
            ("spike", signals.spike.metrics),
            ("contraction", signals.contraction.metrics),
        ):
            for metric in metrics:
                if metric not in self.usage.metrics:
                    known = ", ".join(self.usage.metrics)
                    raise ValueError(
                        f"signals.{name}: metric '{metric}' is not in usage.metrics ({known})"
                    )
        return self

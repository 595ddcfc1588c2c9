"""`funnel summary` as frozen, JSON-ready values (schema funnelcli.summary/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact
from funnelcli.outputs.report import FunnelInfo
from funnelcli.outputs.risk import ChurnWatch

SUMMARY_SCHEMA = "funnelcli.summary/1"
SIGNIFICANCE_LEVEL = 0.05  # a rate change is significant only when its p-value is below this


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval for a proportion, both ends in [0, 1]."""

    low: float
    high: float


@dataclass(frozen=True)
class Change:
    """One metric in two periods. Rates also carry Wilson intervals and a z-test p-value."""

    current: float | None
    previous: float | None
    delta: float | None  # current − previous (rates: in proportion points, 0.02 = 2 pts)
    relative_delta: float | None  # delta / previous; null when either is null or previous is 0
    current_n: int | None  # a rate's denominator in each period (null for other metrics)
    previous_n: int | None
    current_interval: Interval | None  # Wilson 95%; null unless a rate with n > 0
    previous_interval: Interval | None
    p_value: float | None  # two-sided pooled two-proportion z-test; null unless a rate
    final: bool  # both periods mature for this metric: the change is not provisional
    significant: bool  # final, p < SIGNIFICANCE_LEVEL and both n ≥ min_n
    # What the test says, as a code: "provisional" (not final), "too_few" (an n < min_n),
    # "significant" or "not_significant"; null when there is no test (not a rate, or an n of 0).
    verdict: str | None


@dataclass(frozen=True)
class StageComparison:
    """One stage's metrics, current period against a reference period."""

    name: str
    label: str
    metrics: dict[str, Change]
    # With a comparison horizon (docs/summary.md, "Horizons"): counted within it of entry, on
    # the latest two periods whose ids are all older than it (labels); else all null.
    horizon: str | None = None
    current_period: str | None = None
    previous_period: str | None = None


@dataclass(frozen=True)
class PeriodSummary:
    """One compared entry period: its edges, how many entered, whether it is final."""

    label: str
    start: str  # local wall-clock time in the funnel's timezone
    end: str  # exclusive
    since: str  # the same edges in UTC
    until: str
    entered: int
    immature: bool  # entrants at its end are younger than the window at as_of


@dataclass(frozen=True)
class GroupComparison:
    """One breakdown group, current period against the previous one."""

    key: dict[str, str]
    entered_current: int
    entered_previous: int
    stages: tuple[StageComparison, ...]


@dataclass(frozen=True)
class AlertResult:
    """A `--fail-on` expression and whether the current period meets it."""

    expression: str
    met: bool
    current: float | None
    previous: float | None
    final: bool = True  # the number is judged; a provisional one meets no alert by default


@dataclass(frozen=True)
class Summary(Artifact):
    """Everything `funnel summary` says, in the shape of funnelcli.summary/1."""

    schema: ClassVar[str] = SUMMARY_SCHEMA
    schema_file: ClassVar[str] = "summary-1"

    funnel: FunnelInfo
    period: str  # week | month
    week_start: str
    timezone: str
    as_of: str
    min_n: int
    alerts: tuple[AlertResult, ...]
    current: PeriodSummary
    previous: PeriodSummary
    year_ago: PeriodSummary | None  # null when the data does not reach back a year
    stages: tuple[StageComparison, ...]  # current against previous
    year_ago_stages: tuple[StageComparison, ...] | None  # current against year_ago
    breakdown: tuple[str, ...]  # the attributes of `groups`; empty without a breakdown
    groups: tuple[GroupComparison, ...]  # the biggest groups of the current period
    version: str
    churn_watch: ChurnWatch | None = None  # with a risk: block only (absent from the JSON else)

    def to_dict(self) -> dict[str, Any]:
        document = super().to_dict()
        if document.get("churn_watch") is None:
            del document["churn_watch"]
        return document

    @property
    def alerts_met(self) -> tuple[AlertResult, ...]:
        return tuple(alert for alert in self.alerts if alert.met)

    def tidy_columns(self) -> tuple[str, ...]:
        return TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per (reference period, group, stage, metric): the current period against
        the previous one (and a year earlier), overall (group "") and per shown group."""
        rows = _comparison_records("previous", self.previous.label, "", self.stages)
        if self.year_ago is not None and self.year_ago_stages is not None:
            rows += _comparison_records("year_ago", self.year_ago.label, "", self.year_ago_stages)
        for group in self.groups:
            name = " / ".join(group.key.values())
            rows += _comparison_records("previous", self.previous.label, name, group.stages)
        return rows


TIDY_COLUMNS = (
    "reference",
    "reference_label",
    "group",
    "stage",
    "label",
    "metric",
    "current",
    "previous",
    "delta",
    "relative_delta",
    "current_n",
    "previous_n",
    "current_low",
    "current_high",
    "previous_low",
    "previous_high",
    "p_value",
    "final",
    "significant",
    "verdict",
)


def _comparison_records(
    reference: str, label: str, group: str, stages: tuple[StageComparison, ...]
) -> list[dict[str, Any]]:
    rows = []
    for stage in stages:
        for metric, change in stage.metrics.items():
            now, then = change.current_interval, change.previous_interval
            rows.append(
                {
                    "reference": reference,
                    "reference_label": label,
                    "group": group,
                    "stage": stage.name,
                    "label": stage.label,
                    "metric": metric,
                    "current": change.current,
                    "previous": change.previous,
                    "delta": change.delta,
                    "relative_delta": change.relative_delta,
                    "current_n": change.current_n,
                    "previous_n": change.previous_n,
                    "current_low": now.low if now else None,
                    "current_high": now.high if now else None,
                    "previous_low": then.low if then else None,
                    "previous_high": then.high if then else None,
                    "p_value": change.p_value,
                    "final": change.final,
                    "significant": change.significant,
                    "verdict": change.verdict,
                }
            )
    return rows

"""`funnel risk` as frozen, JSON-ready values (schema funnelcli.risk/1); nothing computes here.

One artifact for both modes: the ranked list of accounts at an as-of date (`accounts`, with
`totals` over every account), or with `--backtest` the replay (`backtest`, accounts empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact
from funnelcli.outputs.report import FunnelInfo

RISK_SCHEMA = "funnelcli.risk/1"
LEVELS = ("high", "medium", "low")
SIGNAL_NAMES = ("drop", "spike", "silence", "contraction", "renewal")


@dataclass(frozen=True)
class Reason:
    """One signal that fired, with its numbers (null where they do not apply to it).

    drop/spike: `recent` (the metric per week over the recent window), `baseline` (the median
    week of the baseline), `change` (recent ÷ baseline − 1), `z` (robust z-score), `weeks`
    (baseline weeks); contraction: `recent` now, `baseline` at the contract's start, `change`;
    silence: `days` since the last touch; renewal: `days` to the contract's end."""

    signal: str
    metric: str | None = None
    recent: float | None = None
    baseline: float | None = None
    change: float | None = None
    z: float | None = None
    weeks: int | None = None
    days: int | None = None


@dataclass(frozen=True)
class AccountRisk:
    """One account with a running contract and enough history, ranked by score."""

    rank: int
    account: str
    group: str | None  # the --by attribute's value; null without --by
    score: float
    level: str  # high | medium | low
    arr: float  # the running contract's amount per year (ARR at stake)
    contract_start: str
    contract_end: str  # the renewal date
    days_to_renewal: int
    signals: tuple[str, ...]  # the signals that fired, renewal included
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ShortHistory:
    """An account with a running contract but fewer weeks of usage than `min_history`."""

    account: str
    group: str | None
    history_weeks: int
    first_usage: str | None  # null: no usage row at all
    arr: float


@dataclass(frozen=True)
class LevelTotal:
    accounts: int
    arr: float


@dataclass(frozen=True)
class RiskTotals:
    """Counts over every account of the as-of date (listed or not)."""

    accounts: int  # with a running contract
    scored: int
    not_enough_history: int
    levels: dict[str, LevelTotal]  # high, medium, low
    signals: dict[str, int]  # accounts each signal fired for (renewal: due within its days)
    usage_without_contract: int  # accounts in the usage file with no contract at all


@dataclass(frozen=True)
class GroupTotals:
    """One --by group's accounts per level and ARR at stake (high + medium)."""

    group: str
    accounts: int
    high: int
    medium: int
    low: int
    arr_at_risk: float


@dataclass(frozen=True)
class RuleResult:
    """One rule of the backtest (a signal alone, or the score at a cut-off), pooled over the
    replayed as-of dates."""

    rule: str
    flagged: int  # account × date pairs flagged
    caught: int  # … of which churned within the horizon
    precision: float | None  # caught / flagged
    recall: float | None  # caught / churned
    lift: float | None  # precision / base churn rate
    arr_caught: float  # Σ ARR of the caught
    arr_caught_share: float | None  # arr_caught / Σ ARR of the churned


@dataclass(frozen=True)
class BacktestDate:
    """One replayed as-of date."""

    as_of: str
    accounts: int
    churned: int
    base_rate: float | None
    flagged: int  # score at the medium cut-off or above
    caught: int
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class Backtest:
    """The replay: every `every_days` back from the as-of date while a horizon fits."""

    horizon_days: int
    grace_days: int
    every_days: int
    accounts: int  # account × date pairs with enough history
    churned: int
    base_rate: float | None
    churned_arr: float
    rules: tuple[RuleResult, ...]
    dates: tuple[BacktestDate, ...]


@dataclass(frozen=True)
class ChurnWatch:
    """`funnel summary`'s churn-watch section: the highest risk scores and the level counts."""

    as_of: str
    totals: RiskTotals
    accounts: tuple[AccountRisk, ...]


@dataclass(frozen=True)
class RiskAlertResult:
    """A `--fail-on` expression, the total it reads and whether it is met."""

    expression: str
    value: float
    met: bool


@dataclass(frozen=True)
class RiskReport(Artifact):
    """Churn early warning at one as-of date, or its backtest (docs/risk.md)."""

    schema: ClassVar[str] = RISK_SCHEMA
    schema_file: ClassVar[str] = "risk-1"

    funnel: FunnelInfo
    as_of: str  # usage of the days before this date counts; touches up to this instant
    by: str | None
    settings: dict[str, Any]  # the thresholds, weights and cut-offs used
    totals: RiskTotals | None  # null for a backtest
    groups: tuple[GroupTotals, ...]
    accounts: tuple[AccountRisk, ...]
    not_enough_history: tuple[ShortHistory, ...]
    backtest: Backtest | None
    rows_rejected: dict[str, int]  # rows of the usage and touches files set aside
    alerts: tuple[RiskAlertResult, ...]
    version: str

    @property
    def alerts_met(self) -> bool:
        return any(alert.met for alert in self.alerts)

    def tidy_columns(self) -> tuple[str, ...]:
        if self.backtest is not None:
            return tuple(RuleResult.__dataclass_fields__)
        return (
            "rank",
            "account",
            "group",
            "score",
            "level",
            "arr",
            "contract_end",
            "days_to_renewal",
            "signals",
            "reasons",
        )

    def tidy_rows(self) -> list[dict[str, Any]]:
        """The backtest's rules, or one row per account (`reasons` as JSON text; the CSV
        renderer words them for a CRM import)."""
        import json

        if self.backtest is not None:
            return [dict(vars(rule)) for rule in self.backtest.rules]
        return [
            {
                "rank": a.rank,
                "account": a.account,
                "group": a.group,
                "score": a.score,
                "level": a.level,
                "arr": a.arr,
                "contract_end": a.contract_end,
                "days_to_renewal": a.days_to_renewal,
                "signals": " ".join(a.signals),
                "reasons": json.dumps(
                    [{k: v for k, v in vars(r).items() if v is not None} for r in a.reasons],
                    ensure_ascii=False,
                ),
            }
            for a in self.accounts
        ]

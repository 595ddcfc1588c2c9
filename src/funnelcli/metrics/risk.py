"""`funnel risk` numbers from the query's rows (docs/risk.md): each account's reasons as
structured values, the backtest's precision, recall, lift and ARR caught, and `--fail-on`
alerts over the totals. Pure: rows in, values out; the signals themselves are computed in SQL
(compile/risk.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from funnelcli.errors import UsageError
from funnelcli.metrics.alerts import OPERATORS
from funnelcli.outputs.risk import (
    BacktestDate,
    Reason,
    RiskAlertResult,
    RiskTotals,
    RuleResult,
)
from funnelcli.spec import did_you_mean


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole; null when whole is 0 or either is null."""
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def reasons(row: Mapping[str, Any]) -> tuple[Reason, ...]:
    """The signals that fired for one account, strongest evidence first within a signal:
    drop and spike per metric, contraction per metric, silence, renewal."""
    out: list[Reason] = []
    for item in row.get("evidence") or ():
        out.append(
            Reason(
                signal=str(item["signal"]),
                metric=str(item["metric"]),
                recent=_float(item["recent"]),
                baseline=_float(item["median"]),
                change=_float(item["change"]),
                z=_float(item["z"]),
                weeks=int(item["weeks"]),
            )
        )
    for item in row.get("contraction_evidence") or ():
        out.append(
            Reason(
                signal="contraction",
                metric=str(item["metric"]),
                recent=_float(item["now"]),
                baseline=_float(item["at_start"]),
                change=_float(item["change"]),
            )
        )
    if row.get("silence_flag"):
        out.append(Reason(signal="silence", days=int(row["days_silent"])))
    if row.get("renewal_flag"):
        out.append(Reason(signal="renewal", days=int(row["days_left"])))
    order = {"drop": 0, "spike": 1, "contraction": 2, "silence": 3, "renewal": 4}
    return tuple(sorted(out, key=lambda r: order[r.signal]))


def fired(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of the signals that fired (renewal included)."""
    names = ("drop", "spike", "silence", "contraction", "renewal")
    return tuple(name for name in names if row.get(f"{name}_flag"))


@dataclass(frozen=True)
class RuleCounts:
    """One backtest rule's counts from the query: flagged, caught, their ARR."""

    flagged: int
    caught: int
    arr_caught: float


def rule_result(
    name: str, counts: RuleCounts, accounts: int, churned: int, churned_arr: float
) -> RuleResult:
    """precision = caught/flagged, recall = caught/churned, lift = precision / base rate
    (churned/accounts), ARR share = caught ARR / churned ARR; null on a zero denominator."""
    precision = ratio(counts.caught, counts.flagged)
    base = ratio(churned, accounts)
    return RuleResult(
        rule=name,
        flagged=counts.flagged,
        caught=counts.caught,
        precision=precision,
        recall=ratio(counts.caught, churned),
        lift=ratio(precision, base),
        arr_caught=counts.arr_caught,
        arr_caught_share=ratio(counts.arr_caught, churned_arr),
    )


def rule_counts(row: Mapping[str, Any], name: str) -> RuleCounts:
    return RuleCounts(
        flagged=int(row[f"{name}_flagged"] or 0),
        caught=int(row[f"{name}_hits"] or 0),
        arr_caught=float(row[f"{name}_arr"] or 0),
    )


def backtest_date(row: Mapping[str, Any], rule: str) -> BacktestDate:
    """One replayed date's base rate and the `rule`'s precision and recall."""
    counts = rule_counts(row, rule)
    accounts, churned = int(row["accounts"]), int(row["churned"])
    return BacktestDate(
        as_of=row["as_of"].isoformat(),
        accounts=accounts,
        churned=churned,
        base_rate=ratio(churned, accounts),
        flagged=counts.flagged,
        caught=counts.caught,
        precision=ratio(counts.caught, counts.flagged),
        recall=ratio(counts.caught, churned),
    )


# --fail-on ------------------------------------------------------------------------------------

_ALERT = re.compile(
    r"^\s*risk\.(?P<name>[A-Za-z_]\w*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))\s*$"
)
ALERT_NAMES = (
    "high",
    "medium",
    "low",
    "accounts",
    "scored",
    "not_enough_history",
    "high_arr",
    "medium_arr",
    "drop",
    "spike",
    "silence",
    "contraction",
    "renewal",
)


@dataclass(frozen=True)
class RiskAlert:
    """`risk.NAME OP NUMBER`, e.g. `risk.high > 5` (NAME: a level's count, a level's ARR as
    `high_arr`, a signal's count, accounts, scored, not_enough_history)."""

    text: str
    name: str
    operator: str
    threshold: float

    def value(self, totals: RiskTotals) -> float:
        if self.name in totals.levels:
            return totals.levels[self.name].accounts
        if self.name.endswith("_arr"):
            return totals.levels[self.name.removesuffix("_arr")].arr
        if self.name in totals.signals:
            return totals.signals[self.name]
        return float(getattr(totals, self.name))

    def is_met(self, totals: RiskTotals) -> bool:
        return OPERATORS[self.operator](self.value(totals), self.threshold)


def parse_risk_alert(text: str) -> RiskAlert:
    """Parse `risk.high > 5`; a UsageError says what is expected."""
    match = _ALERT.match(text)
    if match is None:
        raise UsageError(
            f"--fail-on {text!r}: expected risk.NAME OP NUMBER, e.g. 'risk.high > 5' "
            f"(NAME: {', '.join(ALERT_NAMES)})"
        )
    name = match.group("name")
    if name not in ALERT_NAMES:
        raise UsageError(
            f"--fail-on {text!r}: unknown name {name!r}{did_you_mean(name, list(ALERT_NAMES))}"
        )
    return RiskAlert(text.strip(), name, match.group("op"), float(match.group("number")))


def check_alerts(
    alerts: Sequence[RiskAlert], totals: RiskTotals | None
) -> tuple[RiskAlertResult, ...]:
    """Each alert with the total it reads and whether it is met (none for a backtest)."""
    if totals is None:
        return ()
    return tuple(RiskAlertResult(a.text, a.value(totals), a.is_met(totals)) for a in alerts)

"""`funnel risk` as a library call: the usage, touches and contracts of `risk:` → RiskReport,
the ranked accounts at an as-of date or the backtest (docs/risk.md).

The as-of date is a point in time: usage of the days before it, touches up to the instant and
contracts started before it are the evidence; nothing after it is read. Without --as-of it is
the day after the usage file's last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlglot import exp

from funnelcli import __version__
from funnelcli.commands import risk_inputs as files
from funnelcli.commands.options import RunOptions
from funnelcli.commands.report import funnel_info
from funnelcli.commands.set_aside import enforce
from funnelcli.compile import risk as queries
from funnelcli.compile import risk_select as selects
from funnelcli.compile.resolve import Resolver
from funnelcli.compile.risk_inputs import TOUCHES, USAGE, AsOf
from funnelcli.compile.roi import origin_query
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import DataError, SpecError, UsageError
from funnelcli.metrics import risk as numbers
from funnelcli.outputs.risk import (
    LEVELS,
    AccountRisk,
    Backtest,
    GroupTotals,
    LevelTotal,
    RiskReport,
    RiskTotals,
    ShortHistory,
)
from funnelcli.spec import Funnel, RiskSpec
from funnelcli.spec.risk import whole_days

REPLAY_WEEKS = 4  # the backtest replays every 4 weeks: each date sees the same whole weeks
_NONE = "(none)"


@dataclass(frozen=True)
class RiskRequest:
    """What `funnel risk` is asked (as_of naive UTC; horizon in days, for the backtest)."""

    as_of: datetime | None = None
    by: str | None = None
    top: int | None = None
    min_score: float = 1
    backtest: bool = False
    horizon_days: int = 90
    alerts: tuple[numbers.RiskAlert, ...] = ()


def risk_spec(funnel: Funnel) -> RiskSpec:
    risk = funnel.spec.risk
    if risk is None:
        raise SpecError(
            "no risk: block: declare risk: {usage: …} (see docs/risk.md)", file=funnel.file
        )
    return risk


def build_risk(
    funnel: Funnel, request: RiskRequest | None = None, options: RunOptions | None = None
) -> RiskReport:
    """Read the risk files, run the signals query, and rank the accounts (or replay them)."""
    request = request or RiskRequest()
    options = options or RunOptions()
    risk = risk_spec(funnel)
    extra = files.risk_sources(funnel, risk, options.data_dir)
    folder = options.cache_folder(funnel)
    with open_engine(
        funnel, options.data_dir, extra, parquet_cache=folder, progress=options.progress
    ) as engine:
        usage = files.usage_columns(engine, funnel, risk)
        touches = files.touches_columns(engine, funnel, risk)
        contracts = files.contracts_query(engine, funnel, risk)
        # the first and last day, when the as-of date or the replay needs them; the values
        # themselves are checked in the signals query's own pass over the file (`bad`)
        facts = files.UsageFacts(None, None)
        if request.as_of is None or request.backtest:
            facts = files.usage_days(engine, usage)
        groups = _groups(engine, funnel, request.by)
        inputs = queries.RiskInputs(usage, contracts, touches, groups)
        as_of, at = _as_of(request.as_of, facts, risk, engine.files[USAGE].label)
        grace = _grace_days(funnel, risk)
        if request.backtest:
            backtest = _backtest(engine, risk, inputs, as_of, grace, request, facts)
            enforce(engine, funnel, options, extra=True)
            rows_rejected = _rejected(engine)
            return _report(funnel, risk, request, as_of, grace, rows_rejected, backtest=backtest)
        dates = [AsOf(as_of, at, 0)]
        signals = queries.signals_query(risk, inputs, dates, grace)
        rows = engine.rows(
            selects.list_query(signals, request.min_score, request.top, request.by is not None),
            exact=False,
        )
        if rows[0]["t_bad"]:
            files.require_values(engine, usage)
        enforce(engine, funnel, options, extra=True)
        rows_rejected = _rejected(engine)
    return _report(funnel, risk, request, as_of, grace, rows_rejected, rows=rows)


def _as_of(
    asked: datetime | None, facts: files.UsageFacts, risk: RiskSpec, label: str
) -> tuple[date, datetime]:
    """(the first day whose usage does not count, the instant touches count up to)."""
    if asked is not None:
        return asked.date(), asked
    if facts.last_day is None:
        raise DataError("no usage row with an account and a date", file=label)
    last = facts.last_day + timedelta(days=6 if risk.usage.every == "week" else 0)
    end = last + timedelta(days=1)
    return end, datetime(end.year, end.month, end.day)


def _grace_days(funnel: Funnel, risk: RiskSpec) -> int:
    if risk.grace is not None:
        return whole_days(risk.grace)
    roi = funnel.spec.roi
    return whole_days(roi.renewal_grace) if roi is not None else 30


def _groups(engine: Engine, funnel: Funnel, by: str | None) -> exp.Select | None:
    """account → the --by attribute of its earliest lead (as roi's channel of origin)."""
    if by is None:
        return None
    resolver = Resolver(funnel, engine.schema())
    source, _ = resolver.attribute_source(by, None)
    if funnel.spec.sources[source].account is None:
        raise UsageError(f"--by {by}: source {source} declares no account: column")
    contracts, _ = files.contracts_spec(funnel, risk_spec(funnel))
    return origin_query(funnel, resolver, by, contracts.account)


def _rejected(engine: Engine) -> dict[str, int]:
    by_source, _ = engine.reject_counts()
    names = {USAGE: "usage", TOUCHES: "touches"}
    return {names[s]: n for s, n in by_source.items() if s in names}


def replay_dates(
    as_of: date, first_day: date | None, risk: RiskSpec, horizon_days: int, grace_days: int
) -> list[AsOf]:
    """Every REPLAY_WEEKS back from `as_of` whose horizon (and grace) ended by `as_of`, back
    to the first date with min_history of usage behind it."""
    if first_day is None:
        return []
    earliest = first_day + timedelta(weeks=risk.min_history.seconds // (7 * 86400))
    out = []
    shift = REPLAY_WEEKS
    while True:
        day = as_of - timedelta(weeks=shift)
        if day < earliest:
            break
        if day + timedelta(days=horizon_days + grace_days) <= as_of:
            out.append(AsOf(day, datetime(day.year, day.month, day.day), shift))
        shift += REPLAY_WEEKS
    return out


def _backtest(
    engine: Engine,
    risk: RiskSpec,
    inputs: queries.RiskInputs,
    as_of: date,
    grace: int,
    request: RiskRequest,
    facts: files.UsageFacts,
) -> Backtest:
    dates = replay_dates(as_of, facts.first_day, risk, request.horizon_days, grace)
    if not dates:
        raise UsageError(
            f"--backtest: no as-of date has {risk.min_history} of usage before it and "
            f"{request.horizon_days} days (+{grace} days' grace) of outcome after it"
        )
    signals = queries.signals_query(risk, inputs, dates, grace, request.horizon_days)
    rules = selects.backtest_rules(risk.levels.medium, risk.levels.high)
    rows = engine.rows(selects.backtest_query(signals, rules), exact=False)
    total = next(r for r in rows if not r["per_date"])
    if total["bad"]:
        files.require_values(engine, inputs.usage)
    accounts, churned = int(total["accounts"]), int(total["churned"])
    churned_arr = float(total["churned_arr"] or 0)
    return Backtest(
        horizon_days=request.horizon_days,
        grace_days=grace,
        every_days=7 * REPLAY_WEEKS,
        accounts=accounts,
        churned=churned,
        base_rate=numbers.ratio(churned, accounts),
        churned_arr=churned_arr,
        rules=tuple(
            numbers.rule_result(
                name, numbers.rule_counts(total, name), accounts, churned, churned_arr
            )
            for name, _ in rules
        ),
        dates=tuple(numbers.backtest_date(r, "medium") for r in rows if r["per_date"]),
    )


def _report(
    funnel: Funnel,
    risk: RiskSpec,
    request: RiskRequest,
    as_of: date,
    grace: int,
    rows_rejected: dict[str, int],
    *,
    rows: list[dict[str, Any]] | None = None,
    backtest: Backtest | None = None,
) -> RiskReport:
    listed = _listed(rows, request.by is not None) if rows is not None else None
    totals, groups, accounts, short = listed or (None, (), (), ())
    return RiskReport(
        funnel=funnel_info(funnel),
        as_of=as_of.isoformat(),
        by=request.by,
        settings=settings(risk, grace, request),
        totals=totals,
        groups=groups,
        accounts=accounts,
        not_enough_history=short,
        backtest=backtest,
        rows_rejected=rows_rejected,
        alerts=numbers.check_alerts(request.alerts, totals),
        version=__version__,
    )


def _listed(
    rows: list[dict[str, Any]], grouped: bool
) -> tuple[RiskTotals, tuple[GroupTotals, ...], tuple[AccountRisk, ...], tuple[ShortHistory, ...]]:
    """The list query's rows: totals (every row carries them), per-group totals, the ranked
    accounts and those without enough history."""
    overall = next(r for r in rows if r["t_total"])
    totals = RiskTotals(
        accounts=int(overall["t_accounts"]),
        scored=int(overall["t_scored"]),
        not_enough_history=int(overall["t_short"]),
        levels={
            level: LevelTotal(int(overall[f"t_{level}"]), float(overall[f"t_{level}_arr"] or 0))
            for level in LEVELS
        },
        signals={
            name: int(overall[f"t_{name}"])
            for name in ("drop", "spike", "silence", "contraction", "renewal")
        },
        usage_without_contract=int(overall["t_orphans"]),
    )
    groups = sorted(
        (
            GroupTotals(
                group=str(r["t_group"]),
                accounts=int(r["t_accounts"]),
                high=int(r["t_high"]),
                medium=int(r["t_medium"]),
                low=int(r["t_low"]),
                arr_at_risk=float(r["t_high_arr"] or 0) + float(r["t_medium_arr"] or 0),
            )
            for r in rows
            if grouped and not r["t_total"] and r["account"] is None
        ),
        key=lambda g: (-g.arr_at_risk, -g.high, -g.medium, g.group),
    )
    listed = [r for r in rows if r["t_total"] and r["account"] is not None]
    accounts = tuple(
        AccountRisk(
            rank=int(r["rank"]),
            account=str(r["account"]),
            group=str(r["grp"]) if grouped else None,
            score=float(r["score"]),
            level=str(r["level"]),
            arr=float(r["arr"] or 0),
            contract_start=r["start"].isoformat(),
            contract_end=r["end"].isoformat(),
            days_to_renewal=int(r["days_left"]),
            signals=numbers.fired(r),
            reasons=numbers.reasons(r),
        )
        for r in listed
        if r["enough"]
    )
    short = tuple(
        ShortHistory(
            account=str(r["account"]),
            group=str(r["grp"]) if grouped else None,
            history_weeks=int(r["history_weeks"] or 0),
            first_usage=r["first_day"].isoformat() if r["first_day"] else None,
            arr=float(r["arr"] or 0),
        )
        for r in sorted(listed, key=lambda r: str(r["account"]))
        if not r["enough"]
    )
    return totals, tuple(groups), accounts, short


def settings(risk: RiskSpec, grace: int, request: RiskRequest) -> dict[str, Any]:
    """The thresholds, weights and cut-offs of this run (echoed in the JSON)."""
    s = risk.signals
    return {
        "min_history_weeks": risk.min_history.seconds // (7 * 86400),
        "min_score": request.min_score,
        "top": request.top,
        "levels": {"high": risk.levels.high, "medium": risk.levels.medium},
        "grace_days": grace,
        "drop": {
            "metrics": list(s.drop.metrics),
            "window": str(s.drop.window),
            "baseline": str(s.drop.baseline),
            "change": s.drop.change,
            "z": s.drop.z,
            "weight": s.drop.weight,
        },
        "spike": {
            "metrics": list(s.spike.metrics),
            "window": str(s.spike.window),
            "baseline": str(s.spike.baseline),
            "ratio": s.spike.ratio,
            "z": s.spike.z,
            "weight": s.spike.weight,
        },
        "silence": {
            "days": s.silence.days,
            "lookback": str(s.silence.lookback),
            "min_touches": s.silence.min_touches,
            "weight": s.silence.weight,
        },
        "contraction": {
            "metrics": list(s.contraction.metrics),
            "window": str(s.contraction.window),
            "change": s.contraction.change,
            "weight": s.contraction.weight,
        },
        "renewal": {"days": s.renewal.days, "boost": s.renewal.boost},
    }

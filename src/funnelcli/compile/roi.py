"""The queries of `funnel roi`, as sqlglot ASTs (docs/money.md): the spend and contracts files
typed, each account's channel of origin, and the renewals — from a contracts file or from the
funnel's own stages. Pure: the commands run them and metrics/money.py reads their rows.

Renewals from contracts: a contract is *up for renewal* when it ends in [since, until) and
end + grace ≤ as_of; it is *renewed* when the same account has another contract starting after
its start and no later than end + grace, the earliest such one (by start, end, amount) being
its renewal; sums stay exact DECIMALs; per channel of origin, per cohort (the year of the
account's first contract) and in total, in one GROUPING SETS aggregate (at 10M leads and 1M
contracts this replaced about 5 s of Python). tests/reference_renewals.py states the same rules
in plain Python for a property test.

Renewals from stages: customers of the entry cohort are up for renewal once their first
period is over and the grace has passed (revenue-stage time + contract_months + renewal_grace
≤ as_of); they renewed when they reached the renewal stage, whose value is the next period's
amount. One query over the report's own layers.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlglot
from sqlglot import exp

from funnelcli.compile import layers
from funnelcli.compile.columns import NONE_GROUP, Layer
from funnelcli.compile.funnel import CompiledFunnel
from funnelcli.compile.resolve import Resolver, not_after, stage_plans
from funnelcli.spec import Funnel
from funnelcli.spec.duration import Duration
from funnelcli.sql import amounts
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view

SPEND = "roi_spend"  # the engine views of roi.spend and roi.subscriptions
SUBSCRIPTIONS = "roi_subscriptions"
EXACT = "DECIMAL(38, 6)"


def as_text(raw: str) -> exp.Expr:
    return exp.cast(q.col(raw), "VARCHAR")


def day(raw: str) -> exp.Expr:
    """A date column (any text DuckDB reads as a date or time) as a DATE; NULL when not one."""
    return exp.cast(exp.TryCast(this=as_text(raw), to=exp.DataType.build("TIMESTAMP")), "DATE")


def month(raw: str) -> exp.Expr:
    """`2025-03` (or `2025-3`) or any date in the month → the month's first day."""
    year_month = exp.RegexpLike(
        this=as_text(raw), expression=exp.Literal.string("^[0-9]{4}-[0-9]{1,2}$")
    )
    first_day = exp.TryCast(
        this=exp.DPipe(this=as_text(raw), expression=exp.Literal.string("-01")),
        to=exp.DataType.build("DATE"),
    )
    truncated = exp.cast(exp.func("date_trunc", exp.Literal.string("month"), day(raw)), "DATE")
    return exp.Case(default=truncated).when(year_month, first_day)


def unreadable_time(raw: str, parsed: exp.Expr) -> exp.Expr:
    """A non-empty value the parsed expression cannot read."""
    return exp.and_(q.not_null(q.col(raw)), q.is_null(parsed))


def _known_by(start: exp.Expr, as_of: datetime | None) -> exp.Expr | None:
    """A dated row is known at `as_of` when its day (or month) starts by then."""
    return not_after(exp.cast(start, "TIMESTAMP"), as_of)


def spend_query(
    channel: str, start: exp.Expr, amount: exp.Expr, as_of: datetime | None = None
) -> exp.Select:
    """Spend per channel (as the file spells it) and day or month: channel, start, amount
    (exact), rows; with `as_of`, spend of days or months starting after it is left out."""
    name = q.coalesce(as_text(channel), exp.Literal.string(NONE_GROUP))
    known = q.and_(q.not_null(start.copy()), _known_by(start.copy(), as_of))
    return (
        exp.select(
            q.alias(name, "channel"),
            q.alias(start.copy(), "start"),
            q.alias(exp.Sum(this=amount), "amount"),
            q.alias(exp.Count(this=exp.Star()), "n"),
        )
        .from_(q.table(source_view(SPEND)))
        .where(known)
        .group_by(name.copy(), start.copy())
        .order_by(exp.Literal.number(1), exp.Literal.number(2))
    )


def contracts_query(
    account: str,
    start: str,
    end: str,
    amount: str,
    amount_type: str,
    currency: str | None = None,
    as_of: datetime | None = None,
) -> exp.Select:
    """The contracts (account, start, end as DATEs, amount as DECIMAL or NULL); rows without
    an account, start or end are left out, and with `as_of` contracts starting after it."""
    present = [q.not_null(q.col(account)), q.not_null(q.col(start)), q.not_null(q.col(end))]
    return (
        exp.select(
            q.alias(as_text(account), "account"),
            q.alias(day(start), "start"),
            q.alias(day(end), "end"),
            q.alias(amounts.amount(q.col(amount), amount_type, currency), "amount"),
        )
        .from_(q.table(source_view(SUBSCRIPTIONS)))
        .where(q.and_(*present, _known_by(day(start), as_of)))
    )


def origin_query(
    funnel: Funnel, resolver: Resolver, channel: str, subscription_account: str
) -> exp.Select:
    """Account → channel of origin: the channel of the account's earliest entering row, for
    the accounts of the subscriptions file only."""
    source_name, raw = resolver.attribute_source(channel, "roi.channel")
    source = funnel.spec.sources[source_name]
    if source.account is None:
        raise funnel.error(
            "roi.subscriptions",
            f"the channel column is on source {source_name}, which declares no account:",
        )
    account = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    customers = exp.select(as_text(subscription_account)).from_(q.table(source_view(SUBSCRIPTIONS)))
    first = stage_plans(funnel, resolver)[0]
    order = [first.time] if first.source == source_name and first.time is not None else []
    return (
        exp.select(
            q.alias(as_text(account), "account"),
            q.alias(q.first_by(as_text(raw), *order), "channel"),
        )
        .from_(q.table(source_view(source_name)))
        .where(q.and_(q.not_null(q.col(account)), as_text(account).isin(query=customers)))
        .group_by(as_text(account))
    )


def over(query: exp.Select, aggregate: exp.Expr) -> exp.Select:
    """One aggregate (column `value`) over a query's rows."""
    return exp.select(q.alias(aggregate, "value")).from_(query.subquery("c"))


# `contracts` (account, start, end, amount) and `origin` (account, channel) are CTEs the caller
# attaches; :placeholders are replaced by literals (never formatted into the text).
_CONTRACT_RENEWALS = """
WITH numbered AS (
  SELECT account, start, "end", COALESCE(amount, 0) AS amount, ROW_NUMBER() OVER () AS cid
  FROM contracts
), up AS (
  SELECT * FROM numbered
  WHERE (:since IS NULL OR CAST("end" AS TIMESTAMP) >= :since)
    AND (:until IS NULL OR CAST("end" AS TIMESTAMP) < :until)
    AND "end" + :grace_days <= :as_of
), renewal AS (
  SELECT u.cid, MIN({'s': n.start, 'e': n."end", 'a': n.amount}) AS nxt
  FROM up AS u
  JOIN numbered AS n
    ON n.account = u.account AND n.start > u.start AND n.start <= u."end" + :grace_days
       AND n.cid <> u.cid
  GROUP BY u.cid
), cohorts AS (
  SELECT account, CAST(YEAR(MIN(start)) AS VARCHAR) AS cohort FROM numbered GROUP BY account
), labelled AS (
  SELECT up.cid, up.amount, COALESCE(o.channel, :none) AS channel, c.cohort
  FROM up
  LEFT JOIN origin AS o ON o.account = up.account
  JOIN cohorts AS c ON c.account = up.account
)
SELECT
  GROUPING(l.channel) = 0 AS by_channel,
  GROUPING(l.cohort) = 0 AS by_cohort,
  l.channel,
  l.cohort,
  COUNT(*) AS up,
  COUNT(r.nxt) AS renewed,
  SUM(l.amount) AS amount_up,
  SUM(LEAST(r.nxt.a, l.amount)) FILTER (WHERE r.nxt IS NOT NULL) AS retained,  -- LEAST skips NULL
  SUM(r.nxt.a) AS following
FROM labelled AS l
LEFT JOIN renewal AS r ON r.cid = l.cid
GROUP BY GROUPING SETS ((), (l.channel), (l.cohort))
"""


def contract_renewal_query(
    contracts: exp.Select,
    origin: exp.Select,
    since: datetime | None,
    until: datetime | None,
    as_of: date | None,
    grace_days: int,
) -> exp.Select:
    """Up for renewal, renewed and the three sums, per channel, per cohort and in total.

    `contracts` selects account, start (DATE), end (DATE), amount (DECIMAL or NULL);
    `origin` selects account, channel (NULL or absent: the "(none)" group)."""
    template = sqlglot.parse_one(_CONTRACT_RENEWALS, dialect="duckdb")
    assert isinstance(template, exp.Select)
    query = exp.replace_placeholders(
        template,
        since=_timestamp(since),
        until=_timestamp(until),
        as_of=exp.cast(exp.Literal.string(as_of.isoformat()), "DATE") if as_of else exp.null(),
        grace_days=exp.Literal.number(grace_days),
        none=exp.Literal.string(NONE_GROUP),
    )
    assert isinstance(query, exp.Select)
    with_ctes = query.with_("contracts", as_=contracts).with_("origin", as_=origin)
    # with_() appends: the caller's CTEs must come first, as the template's read them.
    ctes = with_ctes.args["with_"].expressions
    with_ctes.args["with_"].set("expressions", ctes[-2:] + ctes[:-2])
    return with_ctes


def _timestamp(moment: datetime | None) -> exp.Expr:
    if moment is None:
        return exp.cast(exp.null(), "TIMESTAMP")
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")


def stage_renewal_query(
    compiled: CompiledFunnel,
    channel: str,
    revenue_stage: int,
    renewal_stage: int,
    contract_months: int,
    grace: Duration,
) -> exp.Select:
    """Per channel and in total: up for renewal, renewed and the amounts, from `scored`."""
    alias = compiled.columns.per_key(channel)
    cohort = layers.cohort()
    paid_at = q.col(Layer.qualified_time(revenue_stage))
    due = exp.Add(
        this=exp.Add(
            this=paid_at.copy(), expression=q.interval(Duration.parse(f"{contract_months}mo"))
        ),
        expression=q.interval(grace),
    )
    up = exp.and_(
        cohort,
        q.col(Layer.reached(revenue_stage)),
        q.not_null(paid_at.copy()),
        exp.LTE(this=due, expression=q.col(Layer.AS_OF)),
    )
    renewed = exp.and_(up.copy(), q.col(Layer.reached(renewal_stage)))
    exact = exp.DataType.build(EXACT)
    first = exp.cast(
        q.coalesce(q.col(Layer.qualified_value(revenue_stage)), exp.Literal.number(0)), exact
    )
    following = exp.cast(
        q.coalesce(q.col(Layer.qualified_value(renewal_stage)), exp.Literal.number(0)), exact
    )
    select = exp.select(
        q.alias(q.col(alias), "channel"),
        q.alias(q.count_if(up.copy()), "up"),
        q.alias(q.count_if(renewed.copy()), "renewed"),
        q.alias(q.filtered(exp.Sum(this=first.copy()), up.copy()), "amount_up"),
        q.alias(
            q.filtered(exp.Sum(this=q.least(first.copy(), following.copy())), renewed.copy()),
            "retained",
        ),
        q.alias(q.filtered(exp.Sum(this=following.copy()), renewed.copy()), "following"),
        q.alias(exp.func("grouping", q.col(alias)), "is_total"),
    ).from_(q.table(Layer.SCORED))
    select = select.group_by(
        exp.GroupingSets(
            expressions=[exp.Tuple(expressions=[]), exp.Tuple(expressions=[q.col(alias)])]
        )
    )
    with_ = compiled.query.args.get("with_")
    assert with_ is not None
    select.set("with_", with_.copy())
    return select

"""The report query's final aggregate: stage numbers per grouping set, sales columns, quantiles,
and the one-row data-quality aggregate beside it. Column names come from ResultColumns."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.compile.attempts import FIRST
from funnelcli.compile.columns import QUANTILES, Layer, ResultColumns
from funnelcli.compile.layers import cohort
from funnelcli.compile.resolve import StagePlan
from funnelcli.sql import ast as q

# Summed as DECIMAL: exact, so the total does not depend on thread scheduling.
EXACT = "DECIMAL(38, 6)"


def final_aggregate(
    plans: Sequence[StagePlan], columns: ResultColumns, has_window: bool
) -> exp.Select:
    """The stage aggregates of the cohort, per grouping set.

    The cohort is a WHERE, not a FILTER on each aggregate: DuckDB then skips the rows outside
    it once (a weekly report over years of data skips most of them) instead of filtering
    per aggregate, which made this aggregate twice as slow. Counts over every key read are in
    `quality_aggregate`.
    """
    n = len(plans)
    selected: list[exp.Expr] = []
    dimensions = columns.dimensions
    for dimension in dimensions:
        selected.append(q.alias(q.col(columns.per_key(dimension)), columns.group(dimension)))
    if dimensions:
        grouping_id = exp.func("grouping", *[q.col(columns.per_key(d)) for d in dimensions])
        selected.append(q.alias(grouping_id, columns.GROUPING_ID))
    selected.append(q.alias(q.count_if(), columns.ENTERED))
    immature = q.count_if(q.col(Layer.IMMATURE)) if has_window else exp.Literal.number(0)
    selected.append(q.alias(immature, columns.IMMATURE_IDS))
    backwards = [q.col(Layer.backwards(k)) for k in range(2, n + 1)]
    selected.append(q.alias(q.count_if(q.or_(*backwards)), columns.BACKWARDS_IDS))
    selected.append(q.alias(exp.Min(this=q.col(Layer.ENTRY)), columns.FIRST_ENTRY))
    selected.append(q.alias(exp.Max(this=q.col(Layer.ENTRY)), columns.LAST_ENTRY))
    for k in range(1, n + 1):
        selected.append(q.alias(q.count_if(q.col(Layer.reached(k))), columns.count(k)))
        if columns.per_attempt:  # attempts: each: the keys beside the attempts
            key = q.case(q.col(Layer.reached(k)), q.col(Layer.KEY))
            ids = exp.Count(this=exp.Distinct(expressions=[key]))
            selected.append(q.alias(ids, columns.ids(k)))
        decimal = exp.DataType.build(EXACT)
        if plans[k - 1].value is None:  # no value: skip a costly all-NULL aggregate
            selected.append(q.alias(exp.cast(exp.null(), decimal), columns.value_sum(k)))
        else:
            exact = exp.cast(q.col(Layer.qualified_value(k)), decimal.copy())
            value = q.col(Layer.qualified_value(k))
            median = q.quantiles(value.copy(), exp.Literal.number(0.5))
            selected += [
                q.alias(exp.Sum(this=exact), columns.value_sum(k)),
                q.alias(exp.Count(this=value.copy()), columns.value_n(k)),
                q.alias(median, columns.value_median(k)),
            ]
        if k > 1:
            selected.append(
                q.alias(q.count_if(q.col(Layer.backwards(k))), columns.stage_backwards(k))
            )
        for since, origin in (("prev", k - 1), ("entry", 1)):
            if k == 1 or origin < 1:
                continue
            days = _days(q.col(Layer.qualified_time(k)), q.col(Layer.qualified_time(origin)))
            # Both quantiles from one aggregate (one sort), split in the outer select below.
            fractions = exp.Array(expressions=[exp.Literal.number(f) for f in QUANTILES])
            quantiles = q.quantiles(days.copy(), fractions)
            mean = _mean_days(q.col(Layer.qualified_time(k)), q.col(Layer.qualified_time(origin)))
            selected.append(q.alias(mean, columns.time_mean(k, since)))
            selected.append(q.alias(exp.Count(this=days), columns.time_n(k, since)))
            selected.append(q.alias(quantiles, columns.time_quantiles(k, since)))
    select = (
        exp.select(*selected, copy=False)
        .from_(q.table(Layer.SCORED), copy=False)
        .where(cohort(), copy=False)
    )
    if dimensions:
        sets = [exp.Tuple(expressions=[])]
        for grouping in columns.groupings:
            grouped = columns.grouped_on(grouping)
            sets.append(exp.Tuple(expressions=[q.col(columns.per_key(d)) for d in grouped]))
        select = select.group_by(exp.GroupingSets(expressions=sets), copy=False)
    return select


def _mean_days(later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
    """The mean of (later − earlier) in days, from an exact DECIMAL sum of the seconds: AVG of
    doubles depends on thread scheduling in its last digits, and reports must not."""
    seconds = exp.Sub(this=q.epoch(later), expression=q.epoch(earlier))
    total = exp.Sum(this=exp.cast(exp.Paren(this=seconds.copy()), exp.DataType.build(EXACT)))
    per_day = exp.Mul(this=exp.Count(this=seconds), expression=exp.Literal.number(86400))
    return exp.Div(this=exp.cast(total, "DOUBLE"), expression=exp.Paren(this=per_day))


def _days(later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
    """(later − earlier) in days, fractional."""
    seconds = exp.Sub(this=q.epoch(later), expression=q.epoch(earlier))
    return exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(86400))


def with_sales_columns(
    final: exp.Select, columns: ResultColumns, won: int, has_lost: bool
) -> exp.Select:
    """Append the sales aggregates (docs/sales.md) to the final (cohort) aggregate.

    `lost_count`: cohort keys with `lost:` evidence that did not reach the win stage `won`;
    `cycle_n`/`cycle_p50`: days from `entry_at` to the win stage's qualifying time.
    """
    reached_won = q.col(Layer.reached(won))
    if has_lost:
        lost = exp.and_(
            exp.func("coalesce", q.col(Layer.LOST), exp.false()),
            exp.Not(this=reached_won),
            copy=False,
        )
        lost_count: exp.Expr = q.count_if(lost)
    else:
        lost_count = exp.Literal.number(0)
    days = _days(q.col(Layer.qualified_time(won)), q.col(Layer.ENTRY))
    median = q.quantiles(days.copy(), exp.Literal.number(0.5))
    selected = [
        q.alias(lost_count, columns.LOST),
        q.alias(exp.Count(this=days), columns.CYCLE_N),
        q.alias(median, columns.CYCLE_P50),
    ]
    return final.select(*selected, append=True, copy=False)


def quality_aggregate(columns: ResultColumns, has_period: bool) -> exp.Select:
    """Data-quality counts over every key read, the maturity anchor and the known values:
    one row (CTE `quality`)."""
    selected: list[exp.Expr] = []
    member = q.col(Layer.reached(1))
    key = q.col(Layer.KEY)
    for i in range(len(columns.sources)):
        rows: exp.Expr = q.col(Layer.rows(i))
        if columns.per_attempt:  # one row per attempt: a key's rows once
            rows = exp.Case(default=exp.Literal.number(0)).when(q.col(FIRST), rows, copy=False)
        selected.append(q.alias(exp.Sum(this=rows.copy()), columns.rows_read(i)))
        without_id = q.filtered(exp.Sum(this=rows.copy()), q.is_null(key.copy()))
        selected.append(q.alias(without_id, columns.rows_without_id(i)))
        if i in columns.duplicate_sources:
            duplicated = exp.and_(
                exp.GT(this=rows.copy(), expression=exp.Literal.number(1)),
                q.not_null(key.copy()),
                copy=False,
            )
            selected.append(q.alias(q.count_if(duplicated), columns.duplicate_ids(i)))
    if has_period:
        no_entry = exp.and_(member.copy(), q.is_null(q.col(Layer.ENTRY)), copy=False)
        selected.append(q.alias(q.count_if(no_entry), columns.IDS_WITHOUT_ENTRY_TIME))
    else:
        selected.append(q.alias(exp.Literal.number(0), columns.IDS_WITHOUT_ENTRY_TIME))
    outside = exp.and_(
        member.copy(),
        exp.Not(this=q.col(Layer.IN_PERIOD)),
        q.not_null(q.col(Layer.ENTRY)),
        copy=False,
    )
    selected.append(q.alias(q.count_if(outside), columns.IDS_OUTSIDE_PERIOD))
    filtered = exp.and_(
        member.copy(), q.col(Layer.IN_PERIOD), exp.Not(this=q.col(Layer.KEPT)), copy=False
    )
    selected.append(q.alias(q.count_if(filtered), columns.IDS_FILTERED_OUT))
    selected.append(q.alias(exp.Max(this=q.col(Layer.AS_OF)), columns.AS_OF))
    for name in columns.known_values:
        values = exp.ArrayAgg(this=exp.Distinct(expressions=[q.col(columns.per_key(name))]))
        selected.append(q.alias(values, columns.values(name)))
    return exp.select(*selected, copy=False).from_(q.table(Layer.SCORED), copy=False)


def split_quantiles(final: exp.Select, quality: exp.Select) -> exp.Select:
    """Each `<name>_q` column (a list of QUANTILES from one percentile aggregate) becomes one column
    per quantile, `<name>_p50`, `<name>_p90`, in an outer select over the aggregate, which
    also brings the one row of `quality` (CTE "quality") onto every row."""
    outer: list[exp.Expr] = []
    for column in final.expressions:
        name = column.alias_or_name
        split = ResultColumns.split_quantiles(name)
        if split is None:
            outer.append(q.col(name, "f"))
            continue
        for i, output in split:
            outer.append(q.alias(q.element(q.col(name, "f"), i), output))
    outer += [q.col(column.alias_or_name, Layer.QUALITY) for column in quality.expressions]
    return (
        exp.select(*outer, copy=False)
        .from_(final.subquery("f", copy=False), copy=False)
        .join(q.table(Layer.QUALITY), join_type="cross", copy=False)
    )

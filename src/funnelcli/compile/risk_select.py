"""The two statements over the `funnel risk` signals (compile/risk.py): the ranked list with
the counts over every account (and per --by group), and the backtest's counts per rule, per
as-of date and pooled. Pure, typed sqlglot nodes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.compile.risk import SIGNALS, cte, wrap
from funnelcli.compile.risk_inputs import number
from funnelcli.sql import ast as q


def list_query(
    signals: exp.Select, min_score: float, top: int | None, grouped: bool = False
) -> exp.Select:
    """The ranked accounts (score ≥ min_score, the first `top`), every account without enough
    history, each with the counts over all accounts (`t_total`); one row of counts when none
    is listed; `grouped`: one more row of counts per group (`t_group`), with no account."""
    with_ = wrap(signals)
    ranked = exp.select(
        exp.Star(),
        q.alias(
            exp.Window(
                this=exp.RowNumber(),
                order=exp.Order(
                    expressions=[
                        exp.Ordered(this=q.col("score"), desc=True, nulls_first=False),
                        exp.Ordered(this=q.col("arr"), desc=True, nulls_first=False),
                        exp.Ordered(this=q.col("account"), nulls_first=True),
                    ]
                ),
            ),
            "rank",
        ),
    ).from_(q.table("signals"))
    with_.append("expressions", cte("ranked", ranked))
    group = q.col("grp")
    orphans = (
        exp.select(q.count_if())
        .from_(q.table("accounts"))
        .where(
            exp.Not(
                this=q.col("account").isin(
                    query=exp.select(q.col("account")).from_(q.table("contracts"))
                )
            )
        )
    )
    is_total: exp.Expr = exp.true()
    if grouped:
        is_total = exp.EQ(this=exp.func("grouping", group.copy()), expression=number(1))
    totals = exp.select(
        q.alias(is_total, "t_total"),
        q.alias(group.copy() if grouped else exp.cast(exp.null(), "VARCHAR"), "t_group"),
        *_totals(),
        q.alias(orphans.subquery(), "t_orphans"),
        q.alias(_bad_rows().subquery(), "t_bad"),
    ).from_(q.table("signals"))
    if grouped:
        sets = [exp.Tuple(expressions=[]), exp.Tuple(expressions=[group.copy()])]
        totals = totals.group_by(exp.GroupingSets(expressions=sets))
    with_.append("expressions", cte("totals", totals))
    listed = q.and_(
        q.col("t_total", "t"),
        q.or_(
            q.and_(
                q.col("enough", "r"),
                exp.GTE(this=q.col("score", "r"), expression=number(min_score)),
                exp.LTE(this=q.col("rank", "r"), expression=number(top))
                if top is not None
                else None,
            ),
            exp.Not(this=q.col("enough", "r")),
        ),
    )
    final = (
        exp.select(exp.Star())
        .from_(exp.alias_(q.table("totals"), "t"))
        .join(exp.alias_(q.table("ranked"), "r"), on=listed, join_type="left")
        .order_by(exp.Ordered(this=q.col("rank", "r"), nulls_first=False))
    )
    final.set("with_", with_)
    return final


def _bad_rows() -> exp.Select:
    """The usage rows with a bad value (compile.risk_inputs.value_checks), over every week."""
    total = q.coalesce(exp.Sum(this=q.col("bad")), number(0))
    return exp.select(total).from_(q.table("usage_weeks"))


def _totals() -> list[exp.Expr]:
    """Counts over every account of the as-of date (the `t_` columns of list_query)."""
    enough = q.col("enough")
    level = q.col("level")
    out = [
        q.alias(q.count_if(), "t_accounts"),
        q.alias(q.count_if(enough.copy()), "t_scored"),
        q.alias(q.count_if(exp.Not(this=enough.copy())), "t_short"),
    ]
    for name in ("high", "medium", "low"):
        is_level = exp.EQ(this=level.copy(), expression=exp.Literal.string(name))
        out.append(q.alias(q.count_if(is_level.copy()), f"t_{name}"))
        out.append(q.alias(q.filtered(exp.Sum(this=q.col("arr")), is_level), f"t_{name}_arr"))
    for signal in (*SIGNALS, "renewal"):
        flag = q.and_(enough.copy(), q.col(f"{signal}_flag"))
        out.append(q.alias(q.count_if(flag), f"t_{signal}"))
    return out


def backtest_query(signals: exp.Select, rules: Sequence[tuple[str, exp.Expr]]) -> exp.Select:
    """Per as-of date and in total, over the accounts with enough history: accounts, churned,
    their ARR, and per rule (a flag condition) flagged, flagged and churned, that ARR."""
    with_ = wrap(signals)
    churned = q.col("churned")
    columns: list[exp.Expr] = [
        q.alias(
            exp.EQ(this=exp.func("grouping", q.col("as_of")), expression=number(0)), "per_date"
        ),
        q.col("as_of"),
        q.alias(q.count_if(), "accounts"),
        q.alias(q.count_if(churned.copy()), "churned"),
        q.alias(q.filtered(exp.Sum(this=q.col("arr")), churned.copy()), "churned_arr"),
        q.alias(exp.Sum(this=q.col("arr")), "arr"),
        q.alias(_bad_rows().subquery(), "bad"),
    ]
    for name, rule in rules:
        hit = q.and_(rule.copy(), churned.copy())
        columns.append(q.alias(q.count_if(rule.copy()), f"{name}_flagged"))
        columns.append(q.alias(q.count_if(hit.copy()), f"{name}_hits"))
        columns.append(q.alias(q.filtered(exp.Sum(this=q.col("arr")), hit), f"{name}_arr"))
    final = (
        exp.select(*columns)
        .from_(q.table("signals"))
        .where(q.col("enough"))
        .group_by(
            exp.GroupingSets(
                expressions=[exp.Tuple(expressions=[]), exp.Tuple(expressions=[q.col("as_of")])]
            )
        )
        .order_by(exp.Ordered(this=q.col("as_of"), nulls_first=False))
    )
    final.set("with_", with_)
    return final


def backtest_rules(medium: float, high: float) -> list[tuple[str, exp.Expr]]:
    """Each signal alone, then the score at the medium and high cut-offs."""
    rules: list[tuple[str, exp.Expr]] = [(s, q.col(f"{s}_flag")) for s in SIGNALS]
    rules.append(("medium", exp.GTE(this=q.col("score"), expression=number(medium))))
    rules.append(("high", exp.GTE(this=q.col("score"), expression=number(high))))
    return rules

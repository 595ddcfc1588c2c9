"""The `funnel risk` query (docs/risk.md has every formula): churn signals, score and level
of every account with a running contract, at one or more as-of dates, in one statement.

Built from a template parsed by sqlglot, whose :placeholders become literal nodes (never text)
and whose input tables are CTEs built from typed nodes (compile/risk_inputs.py). The window
functions do the per-account work: the running contract (ROW_NUMBER), the baseline median of
each metric next to each of its weeks (MEDIAN … OVER), the ranking. Two statements share the
signals: the ranked list with the counts over all accounts (`list_query`; `funnel summary`
lists its first few) and the backtest's counts (`backtest_query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlglot
from sqlglot import exp

from funnelcli.compile import risk_inputs as inputs
from funnelcli.compile.columns import NONE_GROUP
from funnelcli.compile.risk_inputs import AsOf, UsageColumns, number
from funnelcli.spec.risk import RiskSpec, whole_days

SIGNALS = ("drop", "spike", "silence", "contraction")
MAD_SCALE = 1.4826  # MAD × this estimates a standard deviation for normal data
MIN_SCALE = 1.0  # the z-score's denominator never falls below one unit per week

_SIGNALS = """
WITH accounts AS (
  SELECT account, MIN(first_day) AS first_day FROM usage_weeks GROUP BY account
), running AS (
  SELECT a.shift, a.as_of, a.at, c.account, c.start, c."end", c.amount,
         ROW_NUMBER() OVER (PARTITION BY a.shift, c.account
                            ORDER BY c.start DESC, c."end" DESC, c.amount DESC) AS nth
  FROM contracts AS c JOIN as_of_dates AS a ON c.start < a.as_of AND c."end" >= a.as_of
), scope AS (
  SELECT r.shift, r.as_of, r.at, r.account, r.start, r."end", COALESCE(r.amount, 0) AS amount,
         acc.first_day,
         CASE WHEN acc.first_day < r.as_of
              THEN DATE_DIFF('day', acc.first_day, r.as_of) // 7 ELSE 0 END AS history_weeks
  FROM running AS r LEFT JOIN accounts AS acc ON acc.account = r.account
  WHERE r.nth = 1
), grid AS (
  SELECT s.shift, s.account, t.signal, t.metric, b.bucket,
         b.bucket < t.recent_weeks AS is_recent,
         CASE WHEN t.kind = 'level' THEN lw.value ELSE COALESCE(lw.value, 0) END AS weekly
  FROM scope AS s CROSS JOIN tests AS t CROSS JOIN buckets AS b
  LEFT JOIN long_weeks AS lw
    ON lw.account = s.account AND lw.metric = t.metric AND lw.w = b.bucket + s.shift
  WHERE b.bucket < t.recent_weeks + t.baseline_weeks AND b.bucket < s.history_weeks
), baseline AS (
  SELECT shift, account, signal, metric, weekly,
         MEDIAN(weekly) OVER (PARTITION BY shift, account, signal, metric) AS med
  FROM grid WHERE NOT is_recent AND weekly IS NOT NULL
), spread AS (
  SELECT shift, account, signal, metric, MIN(med) AS median,
         MEDIAN(ABS(weekly - med)) AS mad, COUNT(*) AS weeks
  FROM baseline GROUP BY shift, account, signal, metric
), recent AS (
  SELECT shift, account, signal, metric, AVG(weekly) AS recent, COUNT(*) AS weeks
  FROM grid WHERE is_recent AND weekly IS NOT NULL GROUP BY shift, account, signal, metric
), scored_tests AS (
  SELECT r.shift, r.account, r.signal, r.metric, r.recent, s.median, s.mad, s.weeks,
         r.recent / NULLIF(s.median, 0) - 1 AS change,
         (r.recent - s.median) / GREATEST(:mad_scale * s.mad, :min_scale) AS z
  FROM recent AS r
  JOIN spread AS s
    ON s.shift = r.shift AND s.account = r.account AND s.signal = r.signal AND s.metric = r.metric
  JOIN tests AS t ON t.signal = r.signal AND t.metric = r.metric
  WHERE r.weeks = t.recent_weeks
), tested AS (
  SELECT *,
         COALESCE(CASE WHEN signal = 'drop' THEN change <= :drop_change AND z <= :drop_z
                       ELSE recent >= :spike_ratio * median AND z >= :spike_z END, FALSE) AS flagged
  FROM scored_tests
), flags AS (
  SELECT shift, account,
         COALESCE(BOOL_OR(flagged) FILTER (WHERE signal = 'drop'), FALSE) AS drop_flag,
         COALESCE(BOOL_OR(flagged) FILTER (WHERE signal = 'spike'), FALSE) AS spike_flag,
         LIST({'signal': signal, 'metric': metric, 'recent': recent, 'median': median,
               'change': change, 'z': z, 'weeks': weeks}
              ORDER BY signal, metric) FILTER (WHERE flagged) AS evidence
  FROM tested GROUP BY shift, account
), contraction_weeks AS (
  SELECT s.shift, s.account, c.metric, c.kind, lw.w - s.shift AS bucket, lw.value,
         DATE_DIFF('day', GREATEST(s.start, s.first_day), s.as_of) // 7 - 1 AS last_start
  FROM scope AS s
  JOIN long_weeks AS lw ON lw.account = s.account
  JOIN contraction_metrics AS c ON c.metric = lw.metric
  WHERE lw.w >= s.shift
), contraction_levels AS (
  SELECT shift, account, metric,
         CASE WHEN MIN(kind) = 'level'
              THEN AVG(value) FILTER (WHERE bucket > last_start - :c_weeks AND bucket <= last_start)
              ELSE COALESCE(SUM(value) FILTER (WHERE bucket > last_start - :c_weeks
                                                 AND bucket <= last_start), 0) / :c_weeks
         END AS at_start,
         CASE WHEN MIN(kind) = 'level' THEN AVG(value) FILTER (WHERE bucket < :c_weeks)
              ELSE COALESCE(SUM(value) FILTER (WHERE bucket < :c_weeks), 0) / :c_weeks
         END AS now
  FROM contraction_weeks
  WHERE last_start + 1 >= 2 * :c_weeks
  GROUP BY shift, account, metric
), contraction AS (
  SELECT shift, account,
         BOOL_OR(now / at_start - 1 <= :c_change) AS contraction_flag,
         LIST({'metric': metric, 'at_start': at_start, 'now': now,
               'change': now / at_start - 1} ORDER BY metric)
           FILTER (WHERE now / at_start - 1 <= :c_change) AS contraction_evidence
  FROM contraction_levels WHERE at_start > 0
  GROUP BY shift, account
), silence AS (
  SELECT s.shift, s.account, MAX(t.at) AS last_touch,
         COUNT(*) FILTER (WHERE t.at >= s.at - :silence_span AND t.at < s.at - :silence_days)
           AS touches_before
  FROM scope AS s JOIN touches AS t ON t.account = s.account AND t.at <= s.at
  GROUP BY s.shift, s.account
), renewals AS (
  SELECT s.shift, s.account, MIN(n.start) AS renewed_on
  FROM scope AS s
  JOIN contracts AS n
    ON n.account = s.account AND n.start > s.start AND n.start <= s."end" + :grace
  GROUP BY s.shift, s.account
), combined AS (
  SELECT s.shift, s.as_of, s.account, s.start, s."end", s.amount, s.first_day, s.history_weeks,
         s.history_weeks >= :min_weeks AS enough,
         -- exact (DECIMAL) so that sums of ARR do not depend on the threads' order of addition
         CAST(s.amount * 12 / GREATEST(1, ROUND(DATE_DIFF('day', s.start, s."end") / 30.4375))
              AS DECIMAL(38, 6)) AS arr,
         DATE_DIFF('day', s.as_of, s."end") AS days_left,
         COALESCE(f.drop_flag, FALSE) AS drop_flag,
         COALESCE(f.spike_flag, FALSE) AS spike_flag,
         COALESCE(si.last_touch < s.at - :silence_days AND si.touches_before >= :min_touches,
                  FALSE) AS silence_flag,
         COALESCE(c.contraction_flag, FALSE) AS contraction_flag,
         f.evidence, c.contraction_evidence, si.last_touch,
         DATE_DIFF('day', CAST(si.last_touch AS DATE), s.as_of) AS days_silent,
         r.renewed_on, COALESCE(g.channel, :none) AS grp
  FROM scope AS s
  LEFT JOIN "groups" AS g ON g.account = s.account
  LEFT JOIN flags AS f ON f.shift = s.shift AND f.account = s.account
  LEFT JOIN contraction AS c ON c.shift = s.shift AND c.account = s.account
  LEFT JOIN silence AS si ON si.shift = s.shift AND si.account = s.account
  LEFT JOIN renewals AS r ON r.shift = s.shift AND r.account = s.account
), weighted AS (
  SELECT *,
         days_left <= :renewal_days AS renewal_flag,
         CAST(drop_flag AS INT) * :w_drop + CAST(spike_flag AS INT) * :w_spike
           + CAST(silence_flag AS INT) * :w_silence
           + CAST(contraction_flag AS INT) * :w_contraction AS points
  FROM combined
), risk AS (
  SELECT *,
         CASE WHEN enough THEN LEAST(100, ROUND(points * CASE WHEN renewal_flag AND points > 0
                                                             THEN :boost ELSE 1 END))
         END AS score
  FROM weighted
)
SELECT *,
       CASE WHEN score >= :high THEN 'high' WHEN score >= :medium THEN 'medium'
            WHEN score IS NOT NULL THEN 'low' END AS level,
       DATE_DIFF('day', as_of, "end") <= :horizon AND renewed_on IS NULL AS churned
FROM risk
"""


@dataclass(frozen=True)
class RiskInputs:
    """What the query reads: the usage view's columns, the touches view's (account, time)
    columns when there is a touches file, the contracts query (account, start, end, amount)."""

    usage: UsageColumns
    contracts: exp.Select
    touches: tuple[str, str] | None = None
    groups: exp.Select | None = None  # account, channel: the --by attribute (compile.roi)


def signals_query(
    risk: RiskSpec,
    sources: RiskInputs,
    dates: Sequence[AsOf],
    grace_days: int,
    horizon_days: int = 0,
) -> exp.Select:
    """Every account with a running contract at each as-of date: its signals, evidence,
    score, level, ARR, days to the contract's end and (for a backtest) whether it churned
    within `horizon_days`."""
    signals = risk.signals
    c_weeks = signals.contraction.window.seconds // (7 * 86400)
    buckets = max(
        (s.window.seconds + s.baseline.seconds) // (7 * 86400)
        for s in (signals.drop, signals.spike)
    )
    silence = signals.silence
    template = sqlglot.parse_one(_SIGNALS, dialect="duckdb")
    days = exp.var("DAY")
    query = exp.replace_placeholders(
        template,
        mad_scale=number(MAD_SCALE),
        min_scale=number(MIN_SCALE),
        drop_change=number(signals.drop.change),
        drop_z=number(signals.drop.z),
        spike_ratio=number(signals.spike.ratio),
        spike_z=number(signals.spike.z),
        c_weeks=number(c_weeks),
        c_change=number(signals.contraction.change),
        silence_days=exp.Interval(this=exp.Literal.string(str(silence.days)), unit=days),
        silence_span=exp.Interval(
            this=exp.Literal.string(str(silence.days + whole_days(silence.lookback))), unit=days
        ),
        min_touches=number(silence.min_touches),
        grace=exp.Interval(this=exp.Literal.string(str(grace_days)), unit=days),
        min_weeks=number(risk.min_history.seconds // (7 * 86400)),
        renewal_days=number(signals.renewal.days),
        w_drop=number(signals.drop.weight),
        w_spike=number(signals.spike.weight),
        w_silence=number(silence.weight),
        w_contraction=number(signals.contraction.weight),
        boost=number(signals.renewal.boost),
        high=number(risk.levels.high),
        medium=number(risk.levels.medium),
        horizon=number(horizon_days),
        none=exp.Literal.string(NONE_GROUP),
    )
    assert isinstance(query, exp.Select)
    anchor = dates[0].day + timedelta(weeks=dates[0].shift)
    ctes: list[tuple[str, exp.Expr]] = [
        ("as_of_dates", inputs.as_of_table(dates)),
        ("usage_weeks", inputs.usage_weeks(risk, sources.usage, anchor)),
        ("long_weeks", inputs.long_weeks(sources.usage)),
        ("tests", inputs.tests_table(risk)),
        ("buckets", inputs.weeks_table(buckets)),
        ("contraction_metrics", inputs.contraction_table(risk)),
        ("touches", inputs.touches_table(*(sources.touches or (None, None)))),
        ("contracts", sources.contracts),
        ("groups", sources.groups or inputs.values_table(["account", "channel"], [])),
    ]
    return _prepend(query, ctes, materialized={"usage_weeks"})


def _prepend(
    query: exp.Select, ctes: list[tuple[str, exp.Expr]], materialized: set[str]
) -> exp.Select:
    """The template's WITH with the input CTEs first (its own CTEs read them)."""
    with_ = query.args["with_"]
    made = [
        exp.CTE(
            this=body,
            alias=exp.TableAlias(this=exp.to_identifier(name)),
            materialized=True if name in materialized else None,
        )
        for name, body in ctes
    ]
    with_.set("expressions", made + list(with_.expressions))
    return query


def cte(name: str, body: exp.Expr) -> exp.CTE:
    return exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name)))


def wrap(signals: exp.Select) -> exp.With:
    """The signals' WITH, plus a `signals` CTE of its final select."""
    body = signals.copy()
    with_: exp.With = body.args.pop("with_")
    with_.append("expressions", cte("signals", body))
    return with_

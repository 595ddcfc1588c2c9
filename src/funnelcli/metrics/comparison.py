"""One funnel period against another: per stage and metric, deltas, Wilson intervals, p-values.

Pure: takes two GroupResults (the same funnel over two entry periods) and returns values.
Definitions are in docs/summary.md.
"""

from __future__ import annotations

from funnelcli.metrics.stats import two_proportion_p_value, wilson_interval
from funnelcli.outputs.report import GroupResult, StageRow
from funnelcli.outputs.summary import SIGNIFICANCE_LEVEL, Change, StageComparison

# The metrics compared per stage (and what `--fail-on` may name).
METRICS = (
    "count",
    "conversion_from_previous",
    "conversion_from_entry",
    "median_days_from_previous",
    "value_sum",
)
RATE_METRICS = ("conversion_from_previous", "conversion_from_entry")


def compare_groups(
    current: GroupResult,
    previous: GroupResult,
    *,
    min_n: int,
    final: bool,
) -> tuple[StageComparison, ...]:
    """Every stage and metric of `current` against `previous`.

    `final` says whether both periods are mature; entries (the first stage's count) are final
    regardless, since a closed period's entries no longer change.
    """
    comparisons = []
    for k, (now, then) in enumerate(zip(current.stages, previous.stages, strict=True)):
        metrics = {}
        for metric in METRICS:
            metric_final = final or (k == 0 and metric == "count")
            if metric in RATE_METRICS:
                metrics[metric] = _rate_change(
                    current, previous, k, metric, min_n=min_n, final=metric_final
                )
            else:
                metrics[metric] = _plain_change(
                    _value(now, metric), _value(then, metric), final=metric_final
                )
        if now.ids is not None:  # attempts: each: the distinct ids beside the attempts
            ids = [None if r.ids is None else float(r.ids) for r in (now, then)]
            metrics["ids"] = _plain_change(*ids, final=final or k == 0)
        comparisons.append(StageComparison(name=now.name, label=now.label, metrics=metrics))
    return tuple(comparisons)


def _value(row: StageRow, metric: str) -> float | None:
    if metric == "count":
        return float(row.count)
    if metric == "median_days_from_previous":
        return row.time_from_previous.median_days
    if metric == "value_sum":
        return row.value_sum
    value: float | None = getattr(row, metric)
    return value


def _plain_change(current: float | None, previous: float | None, *, final: bool) -> Change:
    delta = current - previous if current is not None and previous is not None else None
    return Change(
        current=current,
        previous=previous,
        delta=delta,
        relative_delta=_relative(delta, previous),
        current_n=None,
        previous_n=None,
        current_interval=None,
        previous_interval=None,
        p_value=None,
        final=final,
        significant=False,
        verdict=None,
    )


def _rate_change(
    current: GroupResult,
    previous: GroupResult,
    k: int,
    metric: str,
    *,
    min_n: int,
    final: bool,
) -> Change:
    """count_k over the previous stage's count (or entries), in both periods."""
    if k == 0 and metric == "conversion_from_previous":
        return _plain_change(None, None, final=final)  # the first stage has no previous
    base = k - 1 if metric == "conversion_from_previous" else 0  # entry over entry: 100%
    x_now, n_now = current.stages[k].count, current.stages[base].count
    x_then, n_then = previous.stages[k].count, previous.stages[base].count
    rate_now = x_now / n_now if n_now else None
    rate_then = x_then / n_then if n_then else None
    delta = rate_now - rate_then if rate_now is not None and rate_then is not None else None
    p_value = two_proportion_p_value(x_now, n_now, x_then, n_then)
    verdict = _verdict(p_value, final=final, enough=n_now >= min_n and n_then >= min_n)
    return Change(
        current=rate_now,
        previous=rate_then,
        delta=delta,
        relative_delta=_relative(delta, rate_then),
        current_n=n_now,
        previous_n=n_then,
        current_interval=wilson_interval(x_now, n_now),
        previous_interval=wilson_interval(x_then, n_then),
        p_value=p_value,
        final=final,
        significant=verdict == "significant",
        verdict=verdict,
    )


def _verdict(p_value: float | None, *, final: bool, enough: bool) -> str | None:
    """Change.verdict: no test, provisional (an immature period), too few (an n below min_n),
    else whether p is below the significance level."""
    if p_value is None:
        return None
    if not final:
        return "provisional"
    if not enough:
        return "too_few"
    return "significant" if p_value < SIGNIFICANCE_LEVEL else "not_significant"


def _relative(delta: float | None, previous: float | None) -> float | None:
    if delta is None or previous is None or previous == 0:
        return None
    return delta / previous

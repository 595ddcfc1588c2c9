"""Wilson intervals and the two-proportion z-test against known values.

Expected numbers were computed once with statsmodels 0.15 (`proportion_confint(x, n,
method="wilson")`, `proportions_ztest([a, b], [na, nb])`, pooled variance) and scipy 1.18
(`norm.ppf(0.975)`), and are hard-coded: neither is a dependency.
"""

from __future__ import annotations

import pytest

from funnelcli.metrics.comparison import compare_groups
from funnelcli.metrics.stats import Z_95, two_proportion_p_value, wilson_interval
from funnelcli.outputs.report import GroupResult, StageRow, TimeStats
from funnelcli.outputs.summary import Interval


def test_z_95_is_the_normal_quantile() -> None:
    assert pytest.approx(1.959963984540054, abs=1e-15) == Z_95


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (0, 10, 0.0, 0.27753279986288926),
        (10, 10, 0.7224672001371106, 1.0),
        (1, 1, 0.2065493143772374, 1.0),
        (50, 100, 0.4038315303659956, 0.5961684696340044),
        (11, 35, 0.1855084467426582, 0.47979763612069193),
    ],
)
def test_wilson_interval(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=1e-12)
    assert interval.high == pytest.approx(high, abs=1e-12)
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0


def test_wilson_interval_of_nobody_is_null() -> None:
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    ("a", "na", "b", "nb", "p"),
    [
        (11, 35, 16, 34, 0.1835123780598188),
        (120, 1000, 90, 1000, 0.028650240398448473),
        (45, 300, 30, 310, 0.04535564081575662),
        (5, 40, 0, 40, 0.020921335337794014),
    ],
)
def test_two_proportion_z_test(a: int, na: int, b: int, nb: int, p: float) -> None:
    assert two_proportion_p_value(a, na, b, nb) == pytest.approx(p, abs=1e-12)
    assert two_proportion_p_value(b, nb, a, na) == pytest.approx(p, abs=1e-12)  # two-sided


def test_z_test_edge_cases() -> None:
    assert two_proportion_p_value(0, 0, 3, 10) is None  # an empty period: no test
    assert two_proportion_p_value(3, 10, 0, 0) is None
    assert two_proportion_p_value(0, 10, 0, 20) == 1.0  # both 0%: no difference, SE = 0
    assert two_proportion_p_value(7, 7, 9, 9) == 1.0  # both 100%


def _group(counts: list[int]) -> GroupResult:
    none = TimeStats(n=0, median_days=None, p90_days=None)
    rows = tuple(
        StageRow(
            name=f"s{k}",
            label=f"S{k}",
            count=count,
            conversion_from_previous=None if k == 0 or not counts[k - 1] else count / counts[k - 1],
            conversion_from_entry=count / counts[0] if counts[0] else None,
            dropped=None if k == 0 else counts[k - 1] - count,
            time_from_previous=none,
            time_from_entry=none,
            value_sum=None,
        )
        for k, count in enumerate(counts)
    )
    return GroupResult(key={}, entered=counts[0], below_min_n=False, immature_ids=0, stages=rows)


def test_comparison_numbers_and_significance_rules() -> None:
    now, before = _group([1000, 120, 60]), _group([1000, 90, 45])
    stages = compare_groups(now, before, min_n=30, final=True)
    step = stages[1].metrics["conversion_from_previous"]
    assert (step.current, step.previous, step.current_n, step.previous_n) == (
        0.12,
        0.09,
        1000,
        1000,
    )
    assert step.delta == pytest.approx(0.03)
    assert step.relative_delta == pytest.approx(1 / 3)
    assert step.p_value == pytest.approx(0.028650240398448473, abs=1e-12)
    assert step.significant and step.verdict == "significant"
    assert step.current_interval == wilson_interval(120, 1000)
    count = stages[1].metrics["count"]
    assert (count.current, count.previous, count.delta) == (120.0, 90.0, 30.0)
    assert count.p_value is None and not count.significant and count.verdict is None
    # stage 3: 60/120 against 45/90 — equal rates, p = 1
    assert stages[2].metrics["conversion_from_previous"].p_value == pytest.approx(1.0)
    assert stages[2].metrics["conversion_from_previous"].verdict == "not_significant"
    # first stage: no rate, entries final even when the periods are not
    first = compare_groups(now, before, min_n=30, final=False)[0]
    assert first.metrics["conversion_from_previous"].current is None
    assert first.metrics["conversion_from_entry"].current == 1.0  # as in the report
    assert first.metrics["count"].final
    # provisional (immature) or below --min-n: never significant
    provisional = compare_groups(now, before, min_n=30, final=False)[1]
    assert not provisional.metrics["conversion_from_previous"].significant
    assert provisional.metrics["conversion_from_previous"].verdict == "provisional"
    assert not provisional.metrics["count"].final
    small = compare_groups(now, before, min_n=1001, final=True)[1]
    assert not small.metrics["conversion_from_previous"].significant
    assert small.metrics["conversion_from_previous"].verdict == "too_few"
    # relative change of a metric whose previous value is 0 is null
    zero = compare_groups(_group([10, 2, 1]), _group([10, 0, 0]), min_n=0, final=True)
    assert zero[1].metrics["count"].relative_delta is None
    assert zero[2].metrics["conversion_from_previous"].previous is None  # 0 / 0
    assert zero[2].metrics["conversion_from_previous"].verdict is None  # no test with an n of 0


def test_interval_type() -> None:
    assert wilson_interval(0, 10) == Interval(low=0.0, high=pytest.approx(0.27753279986288926))

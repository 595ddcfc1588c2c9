"""Property: the SQL signals (compile/risk.py) equal the plain-Python formulas of docs/risk.md
(tests/reference_risk.py) for random weekly usage, flagged or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelcli.commands.risk import RiskRequest, build_risk
from reference_risk import drop, spike
from risk_fixtures import E, merge, metric, write_case

WEEKS = st.lists(st.integers(min_value=0, max_value=40), min_size=16, max_size=16)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(logins=WEEKS, exports=WEEKS)
def test_sql_signals_equal_the_reference(
    tmp_path: Path, logins: list[int], exports: list[int]
) -> None:
    folder = tmp_path / f"case-{abs(hash((tuple(logins), tuple(exports))))}"
    usage = merge(
        metric("logins", dict(enumerate(logins))), metric("exports", dict(enumerate(exports)))
    )
    contract = ("A", E - timedelta(days=400), E + timedelta(days=300), "1000")
    funnel = write_case(folder, {"A": usage}, [contract])
    report = build_risk(funnel, RiskRequest(as_of=datetime(E.year, E.month, E.day), min_score=0))
    (account,) = report.accounts
    reasons = {r.signal: r for r in account.reasons}
    for name, expected in (("drop", drop(logins)), ("spike", spike(exports[:13]))):
        if not expected.flagged:
            assert name not in reasons
            continue
        found = reasons[name]
        assert found.recent == pytest.approx(expected.recent)
        assert found.baseline == pytest.approx(expected.median)
        assert found.z == pytest.approx(expected.z)
        if expected.change is None:
            assert found.change is None
        else:
            assert found.change == pytest.approx(expected.change)
    weights = {"drop": 45, "spike": 30}
    assert account.score == sum(weights[s] for s in reasons if s in weights)

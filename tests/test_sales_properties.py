"""Property: on random pipeline snapshots, the sales metrics and a lookup breakdown agree with a
plain-Python reading of docs/sales.md and docs/real-data.md (no DuckDB, no funnelcli code).

Set FUNNEL_PROPERTY_EXAMPLES to run more examples (default 200 ÷ 8: each example runs DuckDB).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelcli
from funnelcli.spec import load_funnel

pytestmark = pytest.mark.slow  # property tests / real datasets: the full tier (CI)

EXAMPLES = max(int(os.environ.get("FUNNEL_PROPERTY_EXAMPLES", "200")) // 8, 1)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUNNEL_PROPERTY_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow],
)
START = date(2024, 1, 1)
AGENTS = ("Ann", "Bob", "Cid", "")  # Cid is not in the lookup; "" is an empty value
OFFICES = {"Ann": "East", "Bob": "West"}

FUNNEL = """\
sources:
  deals: {path: deals.csv, shape: snapshot, id: id, stage: stage}
  teams: {path: teams.csv, shape: lookup, key: agent, join: agent}
stages:
  - {name: prospecting, match: Prospecting}
  - {name: engaging, at: engage}
  - {name: won, match: Won, at: close, value: value}
lost: {match: Lost}
"""


@dataclass(frozen=True)
class Deal:
    stage: str
    agent: str
    engage: int | None  # days after START
    close: int | None
    value: int | None


deals = st.lists(
    st.builds(
        Deal,
        stage=st.sampled_from(["Prospecting", "Engaging", "Won", "Lost"]),
        agent=st.sampled_from(AGENTS),
        engage=st.none() | st.integers(0, 40),
        close=st.none() | st.integers(0, 60),  # may precede engage: a backwards time
        value=st.none() | st.integers(0, 5000),
    ),
    max_size=25,
)


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _day(offset: int | None) -> str:
    return "" if offset is None else (START + timedelta(days=offset)).isoformat()


def expected(rows: list[Deal]) -> dict[str, dict[str, object]]:
    """Per group ("" = everyone, else office), the sales metrics by docs/sales.md."""
    members = []
    for deal in rows:
        won_time = deal.close if deal.stage == "Won" else None
        reached_won = won_time is not None
        reached_engaging = deal.engage is not None or reached_won
        reached = deal.stage == "Prospecting" or reached_engaging
        if not reached:  # no evidence for any stage (e.g. Lost without an engage date)
            continue
        times = [t for t in (deal.engage, won_time) if t is not None]
        entry = min(times) if times else None
        office = OFFICES.get(deal.agent, "(none)")
        members.append((office, deal, reached_won, entry, won_time))
    out = {}
    for group in ["", *sorted({m[0] for m in members})]:
        chosen = [m for m in members if group in ("", m[0])]
        entered = len(chosen)
        won = sum(1 for m in chosen if m[2])
        lost = sum(1 for m in chosen if m[1].stage == "Lost")
        cycles = [m[4] - m[3] for m in chosen if m[2] and m[3] is not None]
        values = [m[1].value for m in chosen if m[2] and m[1].value is not None]
        cycle = float(statistics.median(cycles)) if cycles else None
        average = statistics.fmean(values) if values else None
        closed = won / (won + lost) if won + lost else None
        still_open = entered - won - lost
        velocity = None
        if average is not None and closed is not None and cycle is not None and cycle > 0:
            velocity = still_open * average * closed / cycle
        out[group] = {
            "entered": entered,
            "won": won,
            "lost": lost,
            "open": still_open,
            "win_rate_closed": closed,
            "win_rate_open": won / entered if entered else None,
            "cycle_n": len(cycles),
            "cycle_median_days": cycle,
            "average_deal_value": average,
            "sales_velocity": velocity,
        }
    return out


@SETTINGS
@given(rows=deals)
def test_sales_metrics_and_lookup_groups_match_the_reference(rows: list[Deal]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        lines = ["id,agent,stage,engage,close,value"]
        for index, deal in enumerate(rows):
            lines.append(
                f"d{index},{deal.agent},{deal.stage},{_day(deal.engage)},"
                f"{_day(deal.close)},{_cell(deal.value)}"
            )
        (base / "deals.csv").write_text("\n".join(lines) + "\n")
        (base / "teams.csv").write_text("agent,office\nAnn,East\nBob,West\nBob,West\n")
        (base / "funnel.yaml").write_text(FUNNEL)
        if not rows:
            return
        report = funnelcli.report(load_funnel(base / "funnel.yaml"), by="office", min_n=0)
    want = expected(rows)
    groups = {"": report.overall} | {g.key["office"]: g for g in report.breakdowns[0].groups}
    assert set(groups) == {k for k, v in want.items() if v["entered"] or k == ""}
    for name, group in groups.items():
        sales = group.sales
        assert sales is not None
        got = {
            "entered": group.entered,
            "won": sales.won,
            "lost": sales.lost,
            "open": sales.open,
            "win_rate_closed": sales.win_rate_closed,
            "win_rate_open": sales.win_rate_open,
            "cycle_n": sales.cycle_n,
            "cycle_median_days": sales.cycle_median_days,
            "average_deal_value": sales.average_deal_value,
            "sales_velocity": sales.sales_velocity,
        }
        for key, value in want[name].items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-12), (name, key)
            else:
                assert got[key] == value, (name, key)

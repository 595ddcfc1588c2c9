"""metrics/ and compile/columns.py without DuckDB: hand-made result rows in, exact numbers out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from funnelcli.compile.columns import Grouping, ResultColumns
from funnelcli.metrics.funnel import nobody, split_groups
from funnelcli.metrics.money import SpendRow, allocate_spend
from funnelcli.metrics.quality import data_quality
from funnelcli.metrics.sales import sales_metrics
from funnelcli.outputs.report import Finding, UnmatchedLookup, UnmatchedValue
from funnelcli.spec import parse_funnel

YAML = """
sources: {leads: {path: leads.csv, id: id}}
stages:
  - {name: lead, at: created}
  - {name: qualified, at: qualified}
  - {name: paid, at: paid, value: amount}
breakdown: [channel]
"""
FUNNEL = parse_funnel(YAML)
STAGES = FUNNEL.spec.stages
COLUMNS = ResultColumns(
    stage_count=3,
    sources=("leads",),
    aliases={"channel": "a_0"},
    groupings=(Grouping(("channel",)),),
    duplicate_sources=frozenset({0}),
    known_values=("channel",),
)
QUALITY = {
    "rows_read_0": 12,
    "rows_without_id_0": 1,
    "duplicate_ids_0": 1,
    "ids_without_entry_time": 0,
    "ids_outside_period": 2,
    "ids_filtered_out": 0,
    "as_of": datetime(2025, 3, 1),
    "values_a_0": ["ads", "web", "events"],
}


def row(channel: str | None, entered: int, counts: tuple[int, int, int], **more: Any) -> dict:
    """One result row; channel None is the cohort's row (GROUPING() = 1: not grouped)."""
    out: dict[str, Any] = {
        "g_a_0": channel,
        "grouping_id": 1 if channel is None else 0,
        "entered": entered,
        "immature_ids": 0,
        "backwards_ids": 0,
        "first_entry": datetime(2025, 1, 2),
        "last_entry": datetime(2025, 2, 20),
        "lost_count": 0,
        "cycle_n": counts[2],
        "cycle_p50": 10.0 if counts[2] else None,
        **QUALITY,
    }
    for k, count in enumerate(counts, start=1):
        out[COLUMNS.count(k)] = count
    return {**out, **more}


def test_rates_dropped_and_groups_from_typed_rows() -> None:
    rows = [
        row(
            None,
            10,
            (10, 4, 1),
            s3_value=Decimal("1000.000000"),
            s3_value_n=1,
            s2_prev_n=4,
            s2_prev_p50=2.0,
            s2_prev_p90=3.5,
        ),
        row("web", 6, (6, 3, 1), s3_value=Decimal("1000.000000"), s3_value_n=1),
        row("ads", 4, (4, 1, 0)),
    ]
    result = COLUMNS.parse(rows)
    overall, (by_channel,) = split_groups(result, (("channel",),), STAGES, min_n=5)
    lead, qualified, paid = overall.stages
    # step 4/10, overall 4/10; paid 1/4 step, 1/10 overall; dropped 6 then 3
    assert (qualified.conversion_from_previous, qualified.conversion_from_entry) == (0.4, 0.4)
    assert (paid.conversion_from_previous, paid.conversion_from_entry) == (0.25, 0.1)
    assert (lead.dropped, qualified.dropped, paid.dropped) == (None, 6, 3)
    assert lead.conversion_from_previous is None
    assert (qualified.time_from_previous.n, qualified.time_from_previous.median_days) == (4, 2.0)
    assert (paid.value_sum, paid.value_n, paid.value_avg) == (1000.0, 1, 1000.0)
    assert lead.value_sum is None and lead.value_n is None  # no value: declared
    # biggest first; ads (4 < min_n 5) is marked
    assert [(g.key, g.entered, g.below_min_n) for g in by_channel.groups] == [
        ({"channel": "web"}, 6, False),
        ({"channel": "ads"}, 4, True),
    ]
    assert by_channel.groups[1].stages[2].value_sum == 0.0  # has value:, nobody paid
    assert result.quality.known_values == {"channel": ("ads", "web", "events")}
    assert result.quality.duplicate_ids == {"leads": 1}


def test_a_grouping_set_is_read_from_grouping_id_not_from_nulls() -> None:
    """A group whose value is NULL is still a group: the GROUPING() id says which set a row is."""
    rows = [row(None, 3, (3, 0, 0)), row(None, 3, (3, 0, 0), grouping_id=0)]
    result = COLUMNS.parse(rows)
    assert result.total.entered == 3 and len(result.grouped(("channel",))) == 1


def test_an_empty_result_is_a_funnel_nobody_entered() -> None:
    result = COLUMNS.parse([])
    overall, (groups,) = split_groups(result, (("channel",),), STAGES, min_n=1)
    assert overall == nobody(STAGES, 1)
    assert overall.entered == 0 and overall.below_min_n
    assert [s.conversion_from_entry for s in overall.stages] == [None, None, None]
    assert groups.groups == ()


def test_the_average_is_exact_from_the_decimal_sum() -> None:
    rows = [row(None, 3, (3, 3, 3), s3_value=Decimal("6908.850000"), s3_value_n=1)]
    (paid,) = COLUMNS.parse(rows).total.stages[2:]
    assert paid.value_avg == 6908.85  # AVG over DECIMAL in DuckDB gave 6908.849999999999


def test_sales_metrics_of_a_row() -> None:
    spec = parse_funnel(YAML + "lost: {when: \"stage = 'Lost'\"}\n").spec
    rows = [row(None, 10, (10, 4, 2), lost_count=3, s3_value=Decimal(3000), s3_value_n=2)]
    sales = sales_metrics(spec, COLUMNS.parse(rows).total)
    # won 2, lost 3, open 10-2-3 = 5; closed win 2/5, open win 2/10; velocity 5·1500·0.4/10
    assert (sales.won, sales.lost, sales.open) == (2, 3, 5)
    assert (sales.win_rate_closed, sales.win_rate_open) == (0.4, 0.2)
    assert sales.average_deal_value == 1500.0
    assert sales.sales_velocity == 300.0


def test_group_rows_with_sales_through_split_groups() -> None:
    sales = partial(sales_metrics, FUNNEL.spec)
    overall, _ = split_groups(COLUMNS.parse([row(None, 4, (4, 2, 0))]), (), STAGES, 0, sales)
    assert overall.sales is not None and overall.sales.cycle_median_days is None


def test_data_quality_findings_are_codes_and_numbers() -> None:
    result = COLUMNS.parse(
        [row(None, 0, (0, 0, 0), rows_read_0=0, backwards_ids=2, s3_backwards=2)]
    )
    unmatched = UnmatchedLookup("teams", "agent", (UnmatchedValue("Ann", 2, 1),))
    quality = data_quality(
        result.quality,
        result.total,
        ("lead", "qualified", "paid"),
        has_window=False,
        unparseable={"leads.amount": 3, "leads.fee": 0},
        unmatched=(unmatched,),
        rows_rejected={"leads": 0},
        rejects_by_reason={},
    )
    assert quality.findings == (
        Finding("no_window"),
        Finding("empty_source", subject="leads"),
        Finding("unparseable_amounts", subject="leads.amount", count=3),
        Finding("unmatched_lookup", subject="teams", count=1),
    )
    assert quality.backwards_by_stage == {"qualified": 0, "paid": 2}
    assert (quality.rows_without_id, quality.ids_outside_period) == ({"leads": 1}, 2)


def test_spend_is_prorated_and_matched_to_lead_channels() -> None:
    """March (31 days) 3,100 on Ads: 15 days of it in [Mar 17, Apr 1) = 1,500; Radio is no
    lead's channel: kept apart; April is outside the period: nowhere."""
    rows = [
        SpendRow("Ads", datetime(2025, 3, 1), datetime(2025, 4, 1), Decimal(3100), 2),
        SpendRow("Radio", datetime(2025, 3, 1), datetime(2025, 4, 1), Decimal(620), 1),
        SpendRow("Ads", datetime(2025, 4, 1), datetime(2025, 5, 1), Decimal(900), 1),
        SpendRow("Web", datetime(2025, 3, 20), datetime(2025, 3, 21), Decimal(10), 1),
    ]
    found = allocate_spend(
        rows, {"ads", "web"}, datetime(2025, 3, 17), datetime(2025, 4, 1), {"Ads": "ads"}
    )
    assert found.by_channel == {"ads": (Decimal(1500), 2)}
    assert found.unmatched == {("Radio", "Radio"): (Decimal(300), 1), ("Web", "Web"): (10, 1)}
    assert (found.total, found.rows) == (Decimal(1810), 4)

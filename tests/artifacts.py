"""Small hand-built artifacts (no DuckDB) for the render tests: every number is written out."""

from __future__ import annotations

from funnelcli.outputs.cache import CachedSource, CacheInfo, StoredResults
from funnelcli.outputs.cohorts import CohortCell, CohortMatrix, CohortRow
from funnelcli.outputs.report import (
    Breakdown,
    DataQuality,
    FunnelInfo,
    FunnelReport,
    GroupResult,
    Period,
    SalesMetrics,
    StageInfo,
    StageRow,
    TimeStats,
)
from funnelcli.outputs.roi import BLENDED, ChannelRoi, CohortRenewals, Renewals, RoiReport
from funnelcli.outputs.summary import (
    Change,
    GroupComparison,
    Interval,
    PeriodSummary,
    StageComparison,
    Summary,
)

NO_TIMES = TimeStats(n=0, median_days=None, p90_days=None)
FUNNEL = FunnelInfo(
    name="saas",
    title="Lead to paid",
    file="funnels/saas.yaml",
    grain="lead",
    order="backfill",
    window="30d",
    stages=(
        StageInfo("lead", "Lead", "leads", has_value=False),
        StageInfo("paid", "Paid", "deals", has_value=True),
    ),
    currency="EUR",
)
PERIOD = Period(
    since=None, until=None, as_of="2025-03-01", first_entry=None, last_entry=None, immature=False
)


def stage(name: str, count: int, entry: float | None, value: float | None = None) -> StageRow:
    previous = None if name == "lead" else entry
    dropped = None if name == "lead" else 100 - count
    return StageRow(
        name,
        name.title(),
        count,
        previous,
        entry,
        dropped,
        TimeStats(5, 1.5, 0.25),
        NO_TIMES,
        value,
    )


def group(key: dict[str, str], entered: int, paid: int, *, sales: bool = False) -> GroupResult:
    won = SalesMetrics(
        "paid", paid, None, entered - paid, None, paid / entered, 3, 12.0, 800.0, 1.5
    )
    return GroupResult(
        key=key,
        entered=entered,
        below_min_n=entered < 30,
        immature_ids=0,
        stages=(stage("lead", entered, 1.0), stage("paid", paid, paid / entered, 1234.5)),
        sales=won if sales else None,
    )


def report(*, sales: bool = False) -> FunnelReport:
    """100 leads, 25 paid (1,234.50); by channel: ads 80 → 24, partner 20 → 1 (below min_n 30)."""
    by_channel = Breakdown(
        by=("channel",),
        groups=(
            group({"channel": "ads"}, 80, 24, sales=sales),
            group({"channel": "partner"}, 20, 1, sales=sales),
        ),
    )
    quality = DataQuality(
        rows_read={"leads": 100},
        rows_without_id={},
        ids_without_entry_time=0,
        ids_outside_period=0,
        ids_filtered_out=0,
        backwards_ids=0,
        backwards_by_stage={},
        immature_ids=0,
    )
    return FunnelReport(
        funnel=FUNNEL,
        period=PERIOD,
        overall=group({}, 100, 25, sales=sales),
        breakdowns=(by_channel,),
        data_quality=quality,
        min_n=30,
        version="0.1.0",
    )


def change(
    current: float | None,
    previous: float | None,
    *,
    p_value: float | None = None,
    verdict: str | None = None,
) -> Change:
    delta = None if current is None or previous is None else current - previous
    relative = None if delta is None or not previous else delta / previous
    return Change(
        current=current,
        previous=previous,
        delta=delta,
        relative_delta=relative,
        current_n=None if p_value is None else 100,
        previous_n=None if p_value is None else 100,
        current_interval=None if p_value is None else Interval(0.1, 0.3),
        previous_interval=None,
        p_value=p_value,
        final=verdict != "provisional",
        significant=verdict == "significant",
        verdict=verdict,
    )


def comparison(name: str, count: float, step: Change, entry: Change) -> StageComparison:
    return StageComparison(
        name=name,
        label=name.title(),
        metrics={
            "count": change(count, count - 10),
            "conversion_from_previous": step,
            "conversion_from_entry": entry,
            "median_days_from_previous": change(2.0, 3.5),
            "value_sum": change(None, None),
        },
    )


def summary(verdict: str = "significant") -> Summary:
    """Week 2 against week 1: 100 leads (+10), paid 20% against 10% with the given verdict."""
    step = change(0.2, 0.1, p_value=0.02, verdict=verdict)
    stages = (
        comparison("lead", 100, change(None, None), change(1.0, 1.0)),
        comparison("paid", 20, step, step),
    )
    week = PeriodSummary(
        "2025-W02", "2025-01-06", "2025-01-13", "2025-01-06", "2025-01-13", 100, False
    )
    before = PeriodSummary(
        "2025-W01", "2024-12-30", "2025-01-06", "2024-12-30", "2025-01-06", 90, False
    )
    ads = GroupComparison(key={"channel": "ads|paid"}, entered_current=60, entered_previous=50,
                          stages=stages)  # fmt: skip
    return Summary(
        funnel=FUNNEL,
        period="week",
        week_start="monday",
        timezone="UTC",
        as_of="2025-01-20",
        min_n=30,
        alerts=(),
        current=week,
        previous=before,
        year_ago=None,
        stages=stages,
        year_ago_stages=None,
        breakdown=("channel",),
        groups=(ads,),
        version="0.1.0",
    )


def cohorts() -> CohortMatrix:
    """January (final) and February (immature and partial, nobody entered)."""
    return CohortMatrix(
        funnel=FUNNEL,
        period="month",
        week_start="monday",
        timezone="UTC",
        as_of="2025-02-10",
        rows=(
            CohortRow("2025-01", "2025-01-01", "2025-02-01", 40, False, False,
                      (CohortCell(40, 1.0), CohortCell(1234, 0.25))),
            CohortRow("2025-02", "2025-02-01", "2025-03-01", 0, True, True,
                      (CohortCell(0, None), CohortCell(0, None))),
        ),
        version="0.1.0",
    )  # fmt: skip


def renewals(up: int, renewed: int) -> Renewals:
    rate = renewed / up
    return Renewals(up, renewed, 1000.0, 800.0, 900.0, rate, 1 - rate, 0.8, 0.9)


def channel(
    name: str, spend: float, roi: float | None, *, with_renewals: bool = True
) -> ChannelRoi:
    return ChannelRoi(
        channel=name,
        spend=spend,
        spend_rows=2,
        leads=10,
        qualified=5,
        customers=2,
        first_period_revenue=3000.0,
        renewal_revenue=0.0,
        attributed_revenue=3000.0,
        cost_per_lead=spend / 10 if spend else None,
        cost_per_qualified_lead=spend / 5 if spend else None,
        cac=spend / 2 if spend else None,
        roi=roi,
        payback_months=1.25 if spend else None,
        ltv=None,
        ltv_to_cac=None,
        renewals=renewals(4, 3) if with_renewals else None,
    )


def roi(first_channel: str = "ads|paid") -> RoiReport:
    """Two channels (one without spend) and the blended row; renewals per channel and cohort."""
    return RoiReport(
        funnel=FUNNEL,
        period=PERIOD,
        channel_attribute="channel",
        gross_margin=None,
        contract_months=12,
        channels=(channel(first_channel, 1500.0, 1.0), channel("organic", 0.0, None)),
        blended=channel(BLENDED, 1500.0, 3.0),
        unmatched_spend=(),
        renewals_by_cohort=(CohortRenewals("2024", renewals(8, 6)),),
        renewals_as_of="2025-02-01",
        version="0.1.0",
        unparseable_amounts={},
        renewals_from="subscriptions",
        rows_rejected={},
    )


def cache_info() -> CacheInfo:
    leads = CachedSource(
        key="a" * 40,
        parquet=f"/cache/{'a' * 40}.parquet",
        source="leads",
        files=("/data/leads.csv",),
        rows=3000,
        bytes=69979,
        created="2026-11-30T04:00:51+00:00",
    )
    return CacheInfo("/cache", (leads,), 69979, StoredResults(entries=2, bytes=2048))

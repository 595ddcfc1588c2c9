"""`funnel roi` on a hand-computed fixture: every metric's exact value (docs/money.md)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.roi import RoiRequest, build_roi
from funnelcli.errors import DataError, SpecError
from funnelcli.metrics.money import prorated
from funnelcli.outputs.roi import ChannelRoi, RoiReport
from funnelcli.render import Format, render
from funnelcli.spec import parse_funnel
from reference_renewals import Contract, by_account, grouped, renewals, up_for_renewal

LEADS = """\
lead_id,account_id,created_at,channel,qualified_at,paid_at,deal,renewed_at,renewal
1,A1,2025-01-05,google_cpc,2025-01-10,2025-02-01,"¥12,000",2026-01-20,"¥15,000"
2,A2,2025-01-10,google_cpc,2025-01-15,,,,
3,A3,2025-01-20,google_cpc,,,,,
4,A4,2025-01-25,google_cpc,2025-02-01,2025-03-01,"6,000",,
5,A5,2025-02-03,organic,2025-02-05,2025-02-20,1.2万,2026-02-10,"9,000"
6,A6,2025-02-10,events,2025-02-15,,,,
7,A7,2024-12-20,google_cpc,2024-12-22,2025-01-05,"5,000",,
8,A8,2025-02-15,,,,,,
9,A9,2024-11-01,linkedin_ads,,,,,
10,A10,2025-01-12,referral,2025-01-13,2025-01-20,3000,,
"""
SPEND = """\
month,channel,amount
2024-12,Google Ads,"3,100"
2025-01,Google Ads,¥3.1k
2025-02,Google Ads,2800
2025-01,Events,1000
2025-02,Events,0
2025-01,LinkedIn Ads,700
2025-01,Trade Press,500
2025-01,Referral Fees,0
"""
SUBSCRIPTIONS = """\
contract_id,account_id,start_date,end_date,amount
C1,A1,2025-02-01,2026-02-01,"¥12,000"
C2,A1,2026-01-20,2027-01-20,"¥15,000"
C3,A4,2025-03-01,2026-03-01,"6,000"
C4,A5,2025-02-20,2026-02-20,1.2万
C5,A5,2026-02-10,2027-02-10,"9,000"
C6,A6,2025-05-15,2026-05-15,100
C7,A9,2024-06-01,2025-06-01,800
C8,A9,2025-06-01,2026-01-10,¥1.5k
"""
YAML = """\
currency: CNY
sources:
  leads: {path: leads.csv, id: lead_id, account: account_id}
stages:
  - {name: lead, at: created_at}
  - {name: qualified, at: qualified_at}
  - {name: paid, at: paid_at, value: deal}
  - {name: renewed, at: renewed_at, value: renewal}
roi:
  spend: {path: spend.csv, month: month}
  channel_map: {Google Ads: google_cpc, Events: events, LinkedIn Ads: linkedin_ads,
                Referral Fees: referral}
  revenue: paid
  renewal: renewed
  subscriptions: {path: subscriptions.csv, start: start_date, end: end_date}
  gross_margin: 0.8
  contract_months: 12
"""


def write(tmp_path: Path, yaml_text: str = YAML, **files: str) -> Path:
    contents = {"leads.csv": LEADS, "spend.csv": SPEND, "subscriptions.csv": SUBSCRIPTIONS}
    contents.update({name.replace("_", "."): text for name, text in files.items()})
    for name, text in contents.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return path


def run(tmp_path: Path, query: RoiRequest, yaml_text: str = YAML, **files: str) -> RoiReport:
    path = write(tmp_path, yaml_text, **files)
    funnel = parse_funnel(yaml_text, file=str(path), base_dir=tmp_path)
    return build_roi(funnel, query)


def rows(report: RoiReport) -> dict[str, ChannelRoi]:
    return {r.channel: r for r in report.channels}


JAN_FEB = RoiRequest(since=datetime(2025, 1, 1), until=datetime(2025, 3, 1))


@pytest.fixture(scope="module")
def jan_feb(tmp_path_factory: pytest.TempPathFactory) -> RoiReport:
    """The fixture's report for entries in [2025-01-01, 2025-03-01), computed once."""
    return run(tmp_path_factory.mktemp("roi"), JAN_FEB)


def test_per_channel_numbers(jan_feb: RoiReport) -> None:
    report = jan_feb
    # Sorted by ROI, nulls last (ties: spend, then leads, descending, then name).
    assert [r.channel for r in report.channels] == [
        "google_cpc",
        "events",
        "linkedin_ads",
        "(none)",
        "organic",
        "referral",
    ]
    g = rows(report)["google_cpc"]
    # Leads 1-4 entered in Jan/Feb 2025 (7 entered in Dec 2024); spend Jan 3,100 + Feb 2,800.
    assert (g.leads, g.qualified, g.customers, g.spend, g.spend_rows) == (4, 3, 2, 5900.0, 2)
    assert g.first_period_revenue == 18000.0  # 12,000 + 6,000
    assert g.renewal_revenue == 15000.0
    assert g.attributed_revenue == 33000.0
    assert g.cost_per_lead == 1475.0  # 5,900 / 4
    assert g.cost_per_qualified_lead == pytest.approx(5900 / 3, rel=1e-12)
    assert g.cac == 2950.0  # 5,900 / 2
    assert g.roi == pytest.approx(27100 / 5900, rel=1e-12)
    # CAC / (9,000 per customer / 12 months × 0.8) = 2,950 / 600
    assert g.payback_months == pytest.approx(2950 / 600, rel=1e-12)
    # No contract of google_cpc ends in Jan/Feb 2025: churn not measurable, so no LTV.
    assert g.renewals is not None and g.renewals.up_for_renewal == 0
    assert g.renewals.renewal_rate is None and g.ltv is None and g.ltv_to_cac is None


def test_zero_customers_zero_spend_spend_without_leads_leads_without_spend(
    jan_feb: RoiReport,
) -> None:
    by = rows(jan_feb)
    events = by["events"]  # 1 lead, 1 qualified, no customer; spend 1,000 + 0
    assert (events.leads, events.customers, events.spend, events.spend_rows) == (1, 0, 1000.0, 2)
    assert events.cost_per_lead == 1000.0
    assert events.cac is None  # zero customers: null, not infinity
    assert events.roi == -1.0
    assert events.payback_months is None
    linkedin = by["linkedin_ads"]  # spend 700, its only lead entered in 2024: no leads
    assert (linkedin.leads, linkedin.spend) == (0, 700.0)
    assert linkedin.cost_per_lead is None and linkedin.cac is None
    assert linkedin.roi == -1.0
    organic = by["organic"]  # leads, no spend rows at all
    assert (organic.spend, organic.spend_rows, organic.customers) == (0.0, 0, 1)
    assert organic.first_period_revenue == 12000.0  # 1.2万
    assert organic.cost_per_lead is None and organic.cac is None and organic.roi is None
    referral = by["referral"]  # one spend row of 0: zero spend
    assert (referral.spend, referral.spend_rows) == (0.0, 1)
    assert referral.cost_per_lead == 0.0 and referral.cac == 0.0
    assert referral.roi is None  # division by zero spend
    none = by["(none)"]
    assert (none.leads, none.spend, none.roi) == (1, 0.0, None)


def test_blended_and_unmatched_spend(jan_feb: RoiReport) -> None:
    report = jan_feb
    b = report.blended
    # Spend: google 5,900 + events 1,000 + linkedin 700 + Trade Press 500 + referral 0.
    assert (b.spend, b.spend_rows) == (8100.0, 7)
    assert (b.leads, b.qualified, b.customers) == (8, 6, 4)
    assert b.first_period_revenue == 33000.0  # 12,000 + 6,000 + 12,000 + 3,000
    assert b.attributed_revenue == 57000.0  # + 15,000 + 9,000
    assert b.cost_per_lead == 1012.5
    assert b.cost_per_qualified_lead == 1350.0
    assert b.cac == 2025.0
    assert b.roi == pytest.approx(48900 / 8100, rel=1e-12)
    assert b.payback_months == pytest.approx(2025 / (33000 / 4 / 12 * 0.8), rel=1e-12)
    assert [(u.spend_channel, u.mapped_to, u.amount, u.rows) for u in report.unmatched_spend] == [
        ("Trade Press", "Trade Press", 500.0, 1)
    ]
    assert report.funnel.currency == "CNY"


def test_a_month_partly_in_the_period_is_prorated_by_days(tmp_path: Path) -> None:
    report = run(tmp_path, RoiRequest(since=datetime(2025, 1, 1), until=datetime(2025, 2, 15)))
    g = rows(report)["google_cpc"]
    # January whole (3,100) + 14 of February's 28 days of 2,800.
    assert g.spend == 3100 + 1400
    assert g.spend_rows == 2


def test_renewals_and_ltv(tmp_path: Path) -> None:
    report = run(tmp_path, RoiRequest(as_of=datetime(2026, 6, 1)))
    assert report.renewals_as_of == "2026-06-01"
    # Decided by 2026-06-01 (end + 30 days): C1, C3, C4, C7, C8; C6 ends 2026-05-15: undecided.
    b = report.blended.renewals
    assert b is not None
    assert (b.up_for_renewal, b.renewed) == (5, 3)  # C1→C2, C4→C5, C7→C8
    assert b.renewal_rate == 0.6
    assert b.logo_churn == pytest.approx(0.4)
    assert b.amount_up == 32300.0  # 12,000 + 6,000 + 12,000 + 800 + 1,500
    assert b.amount_retained == 21800.0  # 12,000 + min(9,000, 12,000) + 800
    assert b.amount_next == 25500.0  # 15,000 + 9,000 + 1,500
    assert b.grr == pytest.approx(21800 / 32300, rel=1e-12)
    assert b.nrr == pytest.approx(25500 / 32300, rel=1e-12)
    by = rows(report)
    g = by["google_cpc"]
    assert g.renewals is not None
    assert (g.renewals.up_for_renewal, g.renewals.renewed) == (2, 1)  # C1 renewed, C3 churned
    assert g.renewals.grr == pytest.approx(12000 / 18000, rel=1e-12)
    assert g.renewals.nrr == pytest.approx(15000 / 18000, rel=1e-12)  # expansion included
    # All entries: google leads 1,2,3,4,7; customers 1,4,7 (12,000 + 6,000 + 5,000).
    assert (g.leads, g.customers, g.spend) == (5, 3, 9000.0)
    assert g.cac == 3000.0
    assert g.ltv == pytest.approx(23000 / 3 * 0.8 / 0.5, rel=1e-12)
    assert g.ltv_to_cac == pytest.approx(23000 / 3 * 0.8 / 0.5 / 3000, rel=1e-12)
    organic = by["organic"]  # C4 renewed (contraction 12,000 → 9,000): no churn, LTV null
    assert organic.renewals is not None
    assert organic.renewals.logo_churn == 0.0 and organic.renewals.grr == 0.75
    assert organic.ltv is None
    # A9 (linkedin lead): C7 renewed into C8, C8 churned; GRR never above 100%.
    li = by["linkedin_ads"].renewals
    assert li is not None and (li.up_for_renewal, li.renewed, li.grr) == (2, 1, 800 / 2300)
    assert li.nrr == pytest.approx(1500 / 2300, rel=1e-12)
    cohorts = {c.cohort: c.renewals for c in report.renewals_by_cohort}
    assert (cohorts["2024"].up_for_renewal, cohorts["2024"].renewed) == (2, 1)
    assert (cohorts["2025"].up_for_renewal, cohorts["2025"].renewed) == (3, 2)


def test_unparseable_spend_amount_names_file_and_row(tmp_path: Path) -> None:
    spend = SPEND + "2025-02,Events,lots\n"
    with pytest.raises(DataError) as err:
        run(tmp_path, JAN_FEB, spend_csv=spend)
    assert err.value.line == 10 and err.value.column == "amount"
    assert str(err.value).endswith(
        "spend.csv:line 10: column 'amount': cannot read 'lots' as an amount in CNY "
        "(rules: docs/money.md)"
    )


def test_unreadable_month_names_file_and_row(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"spend.csv:line 3: column 'month': cannot read 'Janu"):
        run(tmp_path, JAN_FEB, spend_csv=SPEND.replace("2025-01,Google", "January,Google"))


def test_unparseable_contract_amount(tmp_path: Path) -> None:
    subs = SUBSCRIPTIONS.replace(",100\n", ",about 100\n")
    with pytest.raises(DataError, match=r"subscriptions.csv:line 7: column 'amount'"):
        run(tmp_path, JAN_FEB, subscriptions_csv=subs)


def test_unparseable_revenue_is_counted(tmp_path: Path) -> None:
    report = run(tmp_path, JAN_FEB, leads_csv=LEADS.replace('"6,000"', "six"))
    assert report.unparseable_amounts == {"leads.deal": 1, "leads.renewal": 0}
    assert rows(report)["google_cpc"].first_period_revenue == 12000.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("revenue: paid", "revenue: pay"), "roi.revenue: unknown stage 'pay'"),
        (("revenue: paid", "revenue: qualified"), "roi.revenue: stage 'qualified' has no value:"),
        (
            ("{path: spend.csv, month: month}", "{path: spend.csv}"),
            "roi.spend: spend needs exactly one of date:",
        ),
        (("gross_margin: 0.8", "gross_margin: 1.5"), "roi.gross_margin: "),
        (
            ("{path: spend.csv, month: month}", "{path: spend.csv, mnth: month}"),
            "unknown key 'mnth' (did you mean 'month'?)",
        ),
    ],
)
def test_spec_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_funnel(YAML.replace(*change), file="funnel.yaml", base_dir=tmp_path)


def test_missing_spend_column_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"roi.spend.channel: column 'chanel' not found"):
        run(tmp_path, JAN_FEB, YAML.replace("month: month}", "month: month, channel: chanel}"))


def test_no_roi_block(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no roi: block"):
        run(tmp_path, JAN_FEB, YAML.split("roi:")[0])


def test_cli_json_csv_markdown_table(tmp_path: Path) -> None:

    path = write(tmp_path)
    runner = CliRunner()
    args = ["roi", str(path), "--since", "2025-01-01", "--until", "2025-03-01"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, RoiReport.schema_document())
    assert document["schema"] == "funnelcli.roi/1"
    assert document["blended"]["cac"] == 2025.0
    assert document["channels"][0]["channel"] == "google_cpc"
    result = runner.invoke(app, [*args, "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["channel"] for r in table][-1] == "(blended)"
    assert table[0]["cost_per_lead"] == "1475.0" and table[1]["cac"] == ""
    result = runner.invoke(app, [*args, "--format", "markdown"])
    assert "| google\\_cpc | 5,900 | 4 | 1,475 | 1,967 | 2 | 2,950 | 33,000 | 459% | 4.9 |" in (
        result.stdout
    )
    assert "Trade Press: 500 (1 row)" in result.stdout
    result = runner.invoke(app, [*args, "--output", str(tmp_path / "roi.txt")])
    assert result.exit_code == 0
    text = (tmp_path / "roi.txt").read_text(encoding="utf-8")
    assert "google_cpc" in text and "Trade Press 500" in text and "459%" in text
    result = runner.invoke(
        app, ["roi", str(path), "--since", "2025-03-01", "--until", "2025-01-01"]
    )
    assert result.exit_code == 2


def test_validate_checks_the_roi_files(tmp_path: Path) -> None:
    from funnelcli.commands.validate import validate_funnel

    path = write(tmp_path)
    funnel = parse_funnel(YAML, file=str(path), base_dir=tmp_path)
    result = validate_funnel(funnel)
    assert (result.spend_rows, result.contracts) == (8, 8)
    write(tmp_path, spend_csv=SPEND + "2025-02,Events,lots\n")
    with pytest.raises(DataError, match=r"spend.csv:line 10: column 'amount': cannot read 'lots'"):
        validate_funnel(funnel)


def test_default_funnel_in_the_repo_root() -> None:
    """`funnel roi` on the bundled sample agrees with `funnel report` and with spend.csv."""
    from funnelcli.commands.report import build_report
    from funnelcli.spec import load_funnel

    root = Path(__file__).resolve().parent.parent
    funnel = load_funnel(root / "funnels" / "default.yaml")
    report = build_roi(funnel)
    jsonschema.validate(report.to_dict(), RoiReport.schema_document())
    funnel_report = build_report(funnel)
    paid, renewed = funnel_report.overall.stages[3], funnel_report.overall.stages[4]
    b = report.blended
    assert (b.leads, b.customers) == (funnel_report.overall.entered, paid.count)
    assert b.first_period_revenue == paid.value_sum
    assert b.attributed_revenue == pytest.approx((paid.value_sum or 0) + (renewed.value_sum or 0))
    with open(root / "sample_data" / "spend.csv", encoding="utf-8") as f:
        spend = list(csv.DictReader(f))
    assert b.spend == pytest.approx(sum(float(r["amount"]) for r in spend), abs=1e-6)
    assert [u.spend_channel for u in report.unmatched_spend] == ["Trade Press"]
    rois = [r.roi for r in report.channels if r.roi is not None]
    assert rois == sorted(rois, reverse=True) and len(rois) == 5
    assert b.renewals is not None and 0 < (b.renewals.grr or 0) <= 1


def test_daily_spend_rows_count_on_their_day(tmp_path: Path) -> None:
    daily = """\
day,channel,cost,campaign
2024-12-31,Google Ads,100,brand
2025-01-01,Google Ads,¥1.2万,brand
2025-02-28,Google Ads,"(50)",brand
2025-03-01,Google Ads,999,generic
2025-01-15,Events,,expo
"""
    yaml_text = YAML.replace(
        "{path: spend.csv, month: month}",
        "{path: daily.csv, date: day, amount: cost, campaign: campaign}",
    )
    report = run(tmp_path, JAN_FEB, yaml_text, daily_csv=daily)
    g = rows(report)["google_cpc"]
    # 2025-01-01 (12,000) and 2025-02-28 (−50, a refund) are in [2025-01-01, 2025-03-01).
    assert (g.spend, g.spend_rows) == (11950.0, 2)
    events = rows(report)["events"]
    assert (events.spend, events.spend_rows) == (0.0, 1)  # an empty amount is no amount, not 0
    bad = yaml_text.replace("campaign: campaign", "campaign: campain")
    with pytest.raises(SpecError, match=r"roi\.spend\.campaign: column 'campain' not found"):
        run(tmp_path, JAN_FEB, bad, daily_csv=daily)


def test_renewals_from_the_renewal_stage_without_contracts(tmp_path: Path) -> None:
    yaml_text = YAML.replace(
        "  subscriptions: {path: subscriptions.csv, start: start_date, end: end_date}\n", ""
    )
    report = run(tmp_path, RoiRequest(as_of=datetime(2026, 6, 1)), yaml_text)
    assert report.renewals_from == "stages"
    # Customers 1, 4, 5, 7, 10: paid + 12 months + 30 days ≤ 2026-06-01 for all five.
    b = report.blended.renewals
    assert b is not None
    assert (b.up_for_renewal, b.renewed) == (5, 2)  # 1 and 5 reached the renewal stage
    assert (b.amount_up, b.amount_retained, b.amount_next) == (38000.0, 21000.0, 24000.0)
    assert b.renewal_rate == 0.4
    assert b.grr == pytest.approx(21000 / 38000, rel=1e-12)
    assert b.nrr == pytest.approx(24000 / 38000, rel=1e-12)
    by = rows(report)
    g = by["google_cpc"]
    assert g.renewals is not None
    assert (g.renewals.up_for_renewal, g.renewals.renewed, g.renewals.amount_up) == (3, 1, 23000.0)
    assert g.ltv == pytest.approx(23000 / 3 * 0.8 / (2 / 3), rel=1e-12)
    assert g.ltv_to_cac == pytest.approx(23000 / 3 * 0.8 / (2 / 3) / 3000, rel=1e-12)
    referral = by["referral"]  # churned, CAC 0 (spend rows sum to 0): LTV but no LTV:CAC
    assert referral.ltv == pytest.approx(2400.0) and referral.cac == 0.0
    assert referral.ltv_to_cac is None
    assert by["organic"].ltv is None  # no churn
    # Earlier: only customers whose first year + grace is over by 2026-03-10 (1, 7, 10).
    early = run(tmp_path, RoiRequest(as_of=datetime(2026, 3, 10)), yaml_text).blended.renewals
    assert early is not None and (early.up_for_renewal, early.renewed) == (3, 1)


def test_unreadable_lead_date_sets_the_row_aside(tmp_path: Path, jan_feb: RoiReport) -> None:
    leads = LEADS.replace("2025-01-10,google_cpc", "someday,google_cpc")
    # 1 of 10 rows is over the default max_rejected (1%): an error naming it
    with pytest.raises(DataError, match=r"leads\.csv: 1 of 10 rows .* 'someday' at line 3"):
        run(tmp_path, JAN_FEB, leads_csv=leads)
    report = run(tmp_path, JAN_FEB, YAML + "max_rejected: 10%\n", leads_csv=leads)
    assert report.rows_rejected == {"leads": 1}
    assert rows(report)["google_cpc"].leads == rows(jan_feb)["google_cpc"].leads - 1
    assert "1 row of leads set aside" in render(report, Format.markdown)


# Properties of the pure formulas ---------------------------------------------------------------

_DAYS = st.integers(min_value=0, max_value=120)


@settings(max_examples=60, deadline=None)
@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    _DAYS,
    st.integers(min_value=1, max_value=40),
    _DAYS,
    _DAYS,
)
def test_proration_is_additive_and_bounded(
    amount: Decimal, start: int, length: int, cut: int, other: int
) -> None:
    base = datetime(2025, 1, 1)
    begin, end = base + timedelta(days=start), base + timedelta(days=start + length)
    a, c = sorted((base + timedelta(days=cut), base + timedelta(days=other)))
    mid = a + (c - a) / 2
    whole = prorated(amount, begin, end, a, c)
    parts = prorated(amount, begin, end, a, mid) + prorated(amount, begin, end, mid, c)
    assert abs(whole - parts) < Decimal("1e-18")
    assert abs(whole) <= abs(amount)
    assert prorated(amount, begin, end, None, None) == amount


_CONTRACT = st.builds(
    Contract,
    account=st.sampled_from(["A", "B", "C"]),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)),
    end=st.dates(min_value=date(2024, 6, 1), max_value=date(2026, 12, 31)),
    amount=st.decimals(min_value=0, max_value=10**5, places=2, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_CONTRACT, max_size=8))
def test_renewal_numbers_stay_in_range(contracts: list[Contract]) -> None:
    result = renewals(contracts, contracts, timedelta(days=30))
    assert 0 <= result.renewed <= result.up_for_renewal == len(contracts)
    if result.grr is not None and result.nrr is not None:
        assert 0 <= result.grr <= 1 + 1e-12  # capped by construction
        assert result.grr <= result.nrr + 1e-12  # expansion only adds to NRR
    if result.renewal_rate is not None and result.logo_churn is not None:
        assert result.renewal_rate + result.logo_churn == pytest.approx(1.0)
    # build_roi indexes the contracts once for all its calls: the same numbers.
    assert renewals(by_account(contracts), contracts[::2], timedelta(days=30)) == renewals(
        contracts, contracts[::2], timedelta(days=30)
    )


def test_sample_subscriptions_follow_the_leads(tmp_path: Path) -> None:
    from funnelcli.commands.sample import generate_sample
    from funnelcli.sql.amounts import parse_amount_text

    generate_sample(tmp_path, rows=400, seed=5)
    with open(tmp_path / "leads.csv", encoding="utf-8") as f:
        leads = list(csv.DictReader(f))
    with open(tmp_path / "subscriptions.csv", encoding="utf-8") as f:
        contracts = list(csv.DictReader(f))
    expected = []
    for lead in leads:
        for at, value in (
            (lead["paid_at"], lead["deal_amount"]),
            (lead["renewed_at"], lead["renewal_amount"]),
        ):
            if not at:
                break
            expected.append((lead["account_id"], at[:10], Decimal(value)))
    got = [(c["account_id"], c["start_date"], parse_amount_text(c["amount"])) for c in contracts]
    assert got == expected and len(got) > 10
    assert all(c["amount"].startswith("¥") for c in contracts)
    renewed = [lead for lead in leads if lead["renewed_at"]]
    assert renewed and any(
        Decimal(r["renewal_amount"]) > Decimal(r["deal_amount"]) for r in renewed
    )  # some expansion
    assert any(lead["paid_at"] and not lead["renewed_at"] for lead in leads)  # some churn


# build_roi against a plain-Python computation on random small data ----------------------------

_LEAD = st.tuples(
    st.sampled_from(["a", "b", "c", ""]),  # channel ("" → the (none) group)
    st.integers(min_value=0, max_value=89),  # created: days after 2025-01-01
    st.booleans(),  # qualified
    st.booleans(),  # paid (only when qualified)
    st.integers(min_value=0, max_value=5000),  # deal amount
    st.booleans(),  # renewed (only when paid)
    st.integers(min_value=0, max_value=5000),  # renewal amount
)
_SPEND = st.tuples(
    st.sampled_from(["A", "B", "Z"]),  # A → a, B → b, Z matches no lead channel
    st.sampled_from(["2024-12", "2025-01", "2025-02", "2025-03"]),
    st.integers(min_value=0, max_value=9000),
)
RANDOM_YAML = """\
sources:
  leads: {path: leads.csv, id: lead_id}
stages:
  - {name: lead, at: created_at}
  - {name: qualified, at: qualified_at}
  - {name: paid, at: paid_at, value: deal}
  - {name: renewed, at: renewed_at, value: renewal}
roi:
  spend: {path: spend.csv, month: month}
  channel_map: {A: a, B: b}
  revenue: paid
  renewal: renewed
"""


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(
    st.lists(_LEAD, min_size=1, max_size=12),
    st.lists(_SPEND, max_size=8),
    st.integers(min_value=0, max_value=80),
    st.integers(min_value=1, max_value=70),
)
def test_roi_agrees_with_a_plain_computation(
    tmp_path_factory: pytest.TempPathFactory,
    leads: list[tuple[str, int, bool, bool, int, bool, int]],
    spend: list[tuple[str, str, int]],
    since_day: int,
    length: int,
) -> None:
    from fractions import Fraction

    day0 = datetime(2025, 1, 1)
    lead_lines = ["lead_id,created_at,channel,qualified_at,paid_at,deal,renewed_at,renewal"]
    for i, (channel, created, qualified, paid, deal, renewed, renewal) in enumerate(leads):
        t = [(day0 + timedelta(days=created + j)).date().isoformat() for j in range(4)]
        paid, renewed = paid and qualified, renewed and paid and qualified
        lead_lines.append(
            f"{i},{t[0]},{channel},{t[1] if qualified else ''},{t[2] if paid else ''},"
            f"{deal if paid else ''},{t[3] if renewed else ''},{renewal if renewed else ''}"
        )
    spend_lines = ["month,channel,amount"] + [f"{m},{c},{a}" for c, m, a in spend]
    since, until = day0 + timedelta(days=since_day), day0 + timedelta(days=since_day + length)
    report = run(
        tmp_path_factory.mktemp("random"),
        RoiRequest(since=since, until=until),
        RANDOM_YAML,
        leads_csv="\n".join(lead_lines) + "\n",
        spend_csv="\n".join(spend_lines) + "\n",
    )
    # The plain computation.
    expected: dict[str, dict[str, float]] = {}
    for channel, created, qualified, paid, deal, renewed, renewal in leads:
        if not since <= day0 + timedelta(days=created) < until:
            continue
        paid, renewed = paid and qualified, renewed and paid and qualified
        row = expected.setdefault(channel or "(none)", dict.fromkeys(("l", "q", "c", "r"), 0.0))
        row["l"] += 1
        row["q"] += qualified
        row["c"] += paid
        row["r"] += (deal if paid else 0) + (renewal if renewed else 0)
    spent: dict[str, Fraction] = {}
    for name, month, amount in spend:
        start = datetime.fromisoformat(month + "-01")
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
        inside = (min(end, until) - max(start, since)).days
        if inside > 0:
            key = {"A": "a", "B": "b"}.get(name, name)
            spent[key] = spent.get(key, Fraction(0)) + Fraction(amount * inside, (end - start).days)
    lead_channels = {c or "(none)" for c, *_ in leads}
    got = rows(report)
    for channel, row in expected.items():
        assert (got[channel].leads, got[channel].qualified) == (row["l"], row["q"])
        assert got[channel].customers == row["c"]
        assert got[channel].attributed_revenue == row["r"]
    for channel, amount in spent.items():
        if channel in lead_channels:
            assert got[channel].spend == pytest.approx(float(amount), abs=1e-6)
            if amount > 0:
                revenue = expected.get(channel, {}).get("r", 0.0)
                assert got[channel].roi == pytest.approx((revenue - float(amount)) / float(amount))
    unmatched = sum((a for c, a in spent.items() if c not in lead_channels), Fraction(0))
    assert sum(u.amount for u in report.unmatched_spend) == pytest.approx(float(unmatched))
    assert report.blended.spend == pytest.approx(float(sum(spent.values(), Fraction(0))))
    assert report.blended.leads == sum(r["l"] for r in expected.values())


def test_readme_roi_excerpt_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `funnel roi` table is what the command prints on the bundled sample."""
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    excerpt = re.search(r"```text\n(Lead to renewal  ROI by channel.*?)```", readme, re.S)
    assert excerpt is not None
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["roi"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    for line in excerpt.group(1).splitlines():
        assert line.rstrip() in printed, line


_ORIGIN = st.dictionaries(
    st.sampled_from(["A", "B", "C"]), st.one_of(st.none(), st.sampled_from(["ads", "events"]))
)
# Dates on a 30-day grid, so that a renewal starting exactly at end + grace, contracts with the
# same start, and ends exactly at since/until/as_of are common rather than rare.
_GRID = st.builds(lambda k: date(2024, 1, 1) + timedelta(days=30 * k), st.integers(0, 30))
_GRID_CONTRACT = st.builds(
    Contract,
    account=st.sampled_from(["A", "B", "C"]),
    start=_GRID,
    end=_GRID,
    amount=st.decimals(min_value=0, max_value=10**4, places=2, allow_nan=False),
)
_MOMENT = st.one_of(
    st.none(),
    st.builds(lambda d: datetime.combine(d, datetime.min.time()), _GRID),
    st.datetimes(min_value=datetime(2024, 3, 1), max_value=datetime(2026, 6, 1)),
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.lists(_GRID_CONTRACT, max_size=10),
    _ORIGIN,
    _MOMENT,
    _MOMENT,
    st.one_of(st.none(), _GRID),
    st.one_of(st.sampled_from([0, 30, 60]), st.integers(min_value=0, max_value=90)),
)
@example(  # every boundary at once: renewal starts at end + grace, the first contract ends at
    # since and its end + grace is as_of; the renewal ends at until (so it is not up itself)
    [
        Contract("A", date(2024, 1, 1), date(2024, 1, 31), Decimal("100.00")),
        Contract("A", date(2024, 3, 1), date(2024, 4, 30), Decimal("80.00")),
        Contract("A", date(2024, 3, 1), date(2024, 4, 30), Decimal("90.00")),
    ],
    {"A": "ads"},
    datetime(2024, 1, 31),
    datetime(2024, 4, 30),
    date(2024, 3, 1),
    30,
)
@example(  # a contract ending exactly at until is outside [since, until)
    [Contract("B", date(2024, 1, 1), date(2024, 1, 31), Decimal("10.00"))],
    {},
    None,
    datetime(2024, 1, 31),
    date(2024, 6, 1),
    0,
)
def test_the_renewal_query_equals_the_python_reference(
    contracts: list[Contract],
    origin: dict[str, str | None],
    since: datetime | None,
    until: datetime | None,
    as_of: date | None,
    grace_days: int,
) -> None:
    """contract_renewals.py (SQL) against tests/reference_renewals.py, per channel of origin,
    per cohort (year of the account's first contract) and in total."""
    import duckdb
    from sqlglot import exp

    from funnelcli.compile.roi import contract_renewal_query
    from funnelcli.metrics.money import contract_renewals, renewal_numbers

    grace = timedelta(days=grace_days)
    up = up_for_renewal(contracts, since, until, as_of, grace)
    channel = {a: c if c is not None else "(none)" for a, c in origin.items()}
    index = by_account(contracts)
    first = {a: str(min(c.start for c in own).year) for a, own in index.items()}
    expected_channels = {
        k: renewals(index, v, grace)
        for k, v in grouped(up, lambda c: channel.get(c.account, "(none)")).items()
    }
    expected_cohorts = {
        k: renewals(index, v, grace) for k, v in grouped(up, lambda c: first[c.account]).items()
    }

    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE c (account VARCHAR, start DATE, "end" DATE, amount DECIMAL(38, 6))'
    )
    connection.execute("CREATE TABLE o (account VARCHAR, channel VARCHAR)")
    if contracts:
        connection.executemany(
            "INSERT INTO c VALUES (?, ?, ?, ?)",
            [(x.account, x.start, x.end, x.amount) for x in contracts],
        )
    if origin:
        connection.executemany("INSERT INTO o VALUES (?, ?)", list(origin.items()))
    sql = contract_renewal_query(
        exp.select("*").from_("c"), exp.select("*").from_("o"), since, until, as_of, grace_days
    ).sql(dialect="duckdb")
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    got = contract_renewals([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    assert got.total == renewals(index, up, grace)
    assert dict(got.by_channel) == expected_channels
    assert dict(got.by_cohort) == dict(sorted(expected_cohorts.items()))
    zero = renewal_numbers(0, 0, Decimal(0), Decimal(0), Decimal(0))
    assert got.of("no such channel") == zero

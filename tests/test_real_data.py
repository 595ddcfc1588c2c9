"""The two real CRM exports (../shared/datasets) against answers computed independently here
with pandas (not DuckDB, not funnelcli's code): funnels/olist.yaml and funnels/maven.yaml must
give exactly these numbers in their JSON output.

Skipped with a clear reason when ../shared/datasets is absent (a user's clone); CI has it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.outputs.report import FunnelReport
from funnelcli.spec import load_funnel
from realdata import ROOT, require

pytestmark = pytest.mark.slow  # property tests / real datasets: the full tier (CI)

pd = pytest.importorskip("pandas")

OLIST = "olist_marketing_funnel"
MAVEN = "maven_crm_pipeline"


def report_json(funnel: Path | str, data: Path, *by: str) -> dict[str, Any]:
    args = ["report", str(funnel), "--data", str(data), "--format", "json"]
    for name in by:
        args += ["--by", name]
    result = CliRunner().invoke(app, args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def stage(group: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in group["stages"] if s["name"] == name)


def groups(report: dict[str, Any], by: str) -> dict[str, dict[str, Any]]:
    breakdown = next(b for b in report["breakdowns"] if b["by"] == [by])
    return {g["key"][by]: g for g in breakdown["groups"]}


def read(path: Path) -> Any:
    # Empty fields are missing; literal text such as "unknown" stays text.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


# --- Olist: a lead file and a closed-deals file joined on mql_id ----------------------------


@pytest.fixture(scope="module")
def olist() -> tuple[dict[str, Any], Any]:
    data = require(OLIST)
    leads = read(data / "olist_marketing_qualified_leads_dataset.csv")
    deals = read(data / "olist_closed_deals_dataset.csv")
    frame = leads.merge(deals, on="mql_id", how="left")
    frame["entry"] = pd.to_datetime(frame["first_contact_date"])
    frame["won_at"] = pd.to_datetime(frame["won_date"])
    frame["origin_group"] = frame["origin"].fillna("(none)")
    return report_json(ROOT / "funnels" / "olist.yaml", data, "origin"), frame


def test_olist_stage_counts_and_time_to_win(olist: tuple[dict[str, Any], Any]) -> None:
    report, frame = olist
    won = frame[frame["won_at"].notna()]
    assert [s["count"] for s in report["overall"]["stages"]] == [len(frame), len(won)]
    days = (won["won_at"] - won["entry"]).dt.total_seconds() / 86400
    timing = stage(report["overall"], "won")["time_from_previous"]
    assert timing["n"] == len(days)
    assert timing["median_days"] == days.median() == pytest.approx(14.650729, abs=1e-6)
    # The interpolated p90 may differ from pandas' in the last bit only (another float order).
    assert timing["p90_days"] == pytest.approx(days.quantile(0.9), rel=1e-14)
    sales = report["overall"]["sales"]
    assert sales["cycle_median_days"] == days.median()
    assert sales["win_rate_open"] == len(won) / len(frame)
    assert sales["lost"] is None and sales["win_rate_closed"] is None


def test_olist_conversion_per_origin_keeps_empty_apart_from_unknown(
    olist: tuple[dict[str, Any], Any],
) -> None:
    report, frame = olist
    expected = {
        origin: (len(part), int(part["won_at"].notna().sum()))
        for origin, part in frame.groupby("origin_group")
    }
    by_origin = groups(report, "origin")
    assert {k: (g["entered"], stage(g, "won")["count"]) for k, g in by_origin.items()} == expected
    for origin, (entered, won) in expected.items():
        assert stage(by_origin[origin], "won")["conversion_from_entry"] == won / entered
    assert "(none)" in by_origin and "unknown" in by_origin
    assert by_origin["(none)"]["entered"] == int(frame["origin"].isna().sum())


def test_olist_backwards_deal_is_reported(olist: tuple[dict[str, Any], Any]) -> None:
    report, frame = olist
    backwards = frame[frame["won_at"] < frame["entry"]]
    assert list(backwards["mql_id"]) == ["b91cf8812365f50ff4bda4bcd6206b05"]
    assert report["data_quality"]["backwards_ids"] == len(backwards)
    assert report["data_quality"]["backwards_by_stage"] == {"won": len(backwards)}


# --- Maven: a pipeline snapshot plus lookups ----------------------------------------------


@pytest.fixture(scope="module")
def maven() -> tuple[dict[str, Any], Any]:
    data = require(MAVEN)
    pipeline = read(data / "sales_pipeline.csv")
    teams = read(data / "sales_teams.csv")
    products = read(data / "products.csv")
    pipeline["product_key"] = pipeline["product"].replace({"GTXPro": "GTX Pro"})
    frame = pipeline.merge(teams, on="sales_agent", how="left").merge(
        products.rename(columns={"product": "product_key"}), on="product_key", how="left"
    )
    assert len(frame) == len(pipeline)
    frame["close_value"] = pd.to_numeric(frame["close_value"])
    frame["days"] = (
        pd.to_datetime(frame["close_date"]) - pd.to_datetime(frame["engage_date"])
    ).dt.days
    by = ("regional_office", "product", "series", "manager")
    return report_json(ROOT / "funnels" / "maven.yaml", data, *by), frame


def _closed_win_rate(part: Any) -> float | None:
    won = int((part["deal_stage"] == "Won").sum())
    lost = int((part["deal_stage"] == "Lost").sum())
    return won / (won + lost) if won + lost else None


def test_maven_stage_counts_value_and_closed_win_rate(maven: tuple[dict[str, Any], Any]) -> None:
    report, frame = maven
    is_won = frame["deal_stage"] == "Won"
    overall = report["overall"]
    assert [s["count"] for s in overall["stages"]] == [
        len(frame),  # prospecting: every deal (a later stage implies it)
        int(frame["engage_date"].notna().sum()),  # engaging: Lost deals included
        int(is_won.sum()),
    ]
    assert stage(overall, "won")["value_sum"] == float(frame.loc[is_won, "close_value"].sum())
    sales = overall["sales"]
    lost = int((frame["deal_stage"] == "Lost").sum())
    still_open = int(frame["deal_stage"].isin(["Prospecting", "Engaging"]).sum())
    assert (sales["won"], sales["lost"], sales["open"]) == (int(is_won.sum()), lost, still_open)
    assert sales["win_rate_closed"] == _closed_win_rate(frame)
    assert sales["win_rate_open"] == int(is_won.sum()) / len(frame)
    cycle = frame.loc[is_won, "days"]
    assert sales["cycle_n"] == len(cycle)
    assert sales["cycle_median_days"] == float(cycle.median())
    assert stage(overall, "won")["time_from_previous"]["median_days"] == float(cycle.median())
    average = frame.loc[is_won, "close_value"].mean()
    assert sales["average_deal_value"] == pytest.approx(average, rel=1e-12)
    velocity = still_open * average * _closed_win_rate(frame) / cycle.median()
    assert sales["sales_velocity"] == pytest.approx(velocity, rel=1e-12)
    assert report["data_quality"]["backwards_ids"] == 0


@pytest.mark.parametrize("by", ["regional_office", "product", "series", "manager"])
def test_maven_closed_win_rate_per_group(maven: tuple[dict[str, Any], Any], by: str) -> None:
    report, frame = maven
    expected = {
        key: (len(part), _closed_win_rate(part))
        for key, part in frame.groupby(frame[by].fillna("(none)"))
    }
    actual = {
        k: (g["entered"], g["sales"]["win_rate_closed"]) for k, g in groups(report, by).items()
    }
    assert actual == expected


def test_maven_unmatched_product_is_reported_until_mapped(
    maven: tuple[dict[str, Any], Any], tmp_path: Path
) -> None:
    report, frame = maven
    data = require(MAVEN)
    products = set(read(data / "products.csv")["product"])
    assert [u["values"] for u in report["data_quality"]["unmatched_lookups"]] == [[], []]
    unmapped = tmp_path / "maven.yaml"
    text = (ROOT / "funnels" / "maven.yaml").read_text()
    assert "map: {GTXPro: GTX Pro}" in text
    unmapped.write_text(text.replace("map: {GTXPro: GTX Pro}", "map: {}"))
    without_map = report_json(unmapped, data, "series")
    missing = frame[~frame["product"].isin(products)]
    expected = [
        {"value": value, "rows": len(part), "ids": part["opportunity_id"].nunique()}
        for value, part in missing.groupby("product")
    ]
    lookups = {u["lookup"]: u for u in without_map["data_quality"]["unmatched_lookups"]}
    assert (
        lookups["products"]["values"]
        == expected
        == [{"value": "GTXPro", "rows": 1480, "ids": 1480}]
    )
    assert any("GTXPro" in note for note in without_map["data_quality"]["notes"])
    assert groups(without_map, "series")["(none)"]["entered"] == 1480


def test_readme_real_data_excerpt_is_current() -> None:
    """The README's Maven excerpt is what `funnel report` prints today (bars aside)."""
    data = require(MAVEN)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Real data", 1)[1]
    excerpt = re.search(r"```text\n(.*?)```", section, re.S)
    assert excerpt is not None
    result = CliRunner().invoke(
        app,
        ["report", str(ROOT / "funnels" / "maven.yaml"), "--data", str(data)],
        env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"},
    )
    assert result.exit_code == 0, result.stderr

    def words(line: str) -> list[str]:
        return [w for w in line.split() if not set(w) <= set("█▏▎▍▌▋▊▉─")]

    printed = [words(line) for line in result.stdout.splitlines()]
    for line in excerpt.group(1).splitlines():
        if words(line):
            assert words(line) in printed, line


def test_real_data_json_validates_against_the_schema(maven: tuple[dict[str, Any], Any]) -> None:
    report, _ = maven
    jsonschema.validate(report, FunnelReport.schema_document(), cls=jsonschema.Draft202012Validator)


def test_real_data_funnel_without_data_is_one_clear_line() -> None:
    result = CliRunner().invoke(app, ["report", str(ROOT / "funnels" / "olist.yaml")])
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "olist.yaml:5: sources.leads.path: file not found" in lines[0]
    assert "pass --data DIR" in lines[0]


@pytest.mark.parametrize(("stem", "folder"), [("olist", OLIST), ("maven", MAVEN)])
def test_every_dimension_in_every_format(stem: str, folder: str) -> None:
    data = require(folder)
    funnel = ROOT / "funnels" / f"{stem}.yaml"
    dimensions = load_funnel(funnel).spec.dimensions
    for index, by in enumerate(dimensions):
        for fmt in ("table", "json", "csv", "markdown"):
            if fmt != "json" and index % 2:  # every dimension once as JSON; text formats half
                continue
            args = ["report", str(funnel), "--data", str(data), "--by", by, "-f", fmt]
            result = CliRunner().invoke(app, args, env={"COLUMNS": "100", "NO_COLOR": "1"})
            assert result.exit_code == 0, (by, fmt, result.stderr)
            assert result.stdout.strip()
            if fmt == "json":
                groups_ = json.loads(result.stdout)["breakdowns"][0]["groups"]
                assert (
                    sum(g["entered"] for g in groups_)
                    == json.loads(result.stdout)["overall"]["entered"]
                )

"""`funnel risk --backtest` on a fixture with a known churner, and the CLI (formats, schema,
exit 3 on --fail-on, the bundled sample)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.risk import RiskRequest, build_risk
from funnelcli.outputs.risk import RiskReport, RuleResult
from risk_fixtures import write_case

ROOT = Path(__file__).resolve().parent.parent
E0 = date(2025, 6, 2)
ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}


def _days(n: int) -> date:
    return E0 - timedelta(days=n)


def backtest_case(folder: Path):  # type: ignore[no-untyped-def]
    """Three accounts with 57 weeks of usage, 10 logins a week. C stops using the product 70
    days before its contract ends (98 days before E0) and does not renew; H1 and H2 renew.

    Replayed every 28 days back from E0 while 90 days + 30 days' grace fit: E0 − 140 … E0 − 336
    (8 dates, down to 8 weeks after the first usage row). C churns within 90 days at E0 − 140
    and E0 − 168; drop flags it at E0 − 140 only (4 empty weeks against a median of 10)."""
    weeks = [_days(7 * (b + 1)) for b in range(57)]
    usage = {
        "C": {day: {"logins": 10} for day in weeks if day < _days(168)},
        "H1": {day: {"logins": 10} for day in weeks},
        "H2": {day: {"logins": 10} for day in weeks},
    }
    contracts = [
        ("C", _days(463), _days(98), "12,000"),
        ("H1", _days(463), _days(98), "12,000"),
        ("H1", _days(98), E0 + timedelta(days=267), "12,000"),
        ("H2", _days(463), _days(98), "12,000"),
        ("H2", _days(98), E0 + timedelta(days=267), "12,000"),
    ]
    return write_case(folder, usage, contracts, [("Q", "2025-01-01 10:00:00")])


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> RiskReport:
    funnel = backtest_case(tmp_path_factory.mktemp("backtest"))
    return build_risk(funnel, RiskRequest(as_of=datetime(2025, 6, 2), backtest=True))


def test_the_backtest_counts(backtest: RiskReport) -> None:
    result = backtest.backtest
    assert result is not None and backtest.accounts == () and backtest.totals is None
    assert [d.as_of for d in result.dates] == [_days(28 * k).isoformat() for k in range(12, 4, -1)]
    assert (result.accounts, result.churned, result.churned_arr) == (24, 2, 24000)
    assert result.base_rate == pytest.approx(1 / 12)
    rules = {r.rule: r for r in result.rules}
    assert rules["drop"] == RuleResult("drop", 1, 1, 1.0, 0.5, pytest.approx(12.0), 12000, 0.5)
    assert rules["medium"] == RuleResult("medium", 1, 1, 1.0, 0.5, pytest.approx(12.0), 12000, 0.5)
    assert rules["high"] == RuleResult("high", 0, 0, None, 0.0, None, 0, 0.0)
    assert rules["spike"].flagged == rules["silence"].flagged == rules["contraction"].flagged == 0
    by_date = {d.as_of: (d.accounts, d.churned, d.flagged, d.caught) for d in result.dates}
    assert by_date[_days(140).isoformat()] == (3, 1, 1, 1)
    assert by_date[_days(168).isoformat()] == (3, 1, 0, 0)
    assert by_date[_days(196).isoformat()] == (3, 0, 0, 0)


def test_a_backtest_without_room_for_the_horizon(tmp_path: Path) -> None:
    funnel = backtest_case(tmp_path)
    with pytest.raises(Exception, match="--backtest: no as-of date"):
        build_risk(funnel, RiskRequest(as_of=datetime(2024, 9, 1), backtest=True))


# the CLI on the bundled sample ----------------------------------------------------------------


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["risk", str(ROOT / "funnels" / "risk.yaml"), *args], env=ENV)


@pytest.mark.parametrize("args", [(), ("--backtest",), ("--by", "segment", "--top", "3")])
def test_json_validates_against_the_schema(args: tuple[str, ...]) -> None:
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["schema"] == "funnelcli.risk/1"
    validator = jsonschema.Draft202012Validator(
        RiskReport.schema_document(), format_checker=jsonschema.FormatChecker()
    )
    validator.validate(document)


def test_the_sample_lists_accounts_with_reasons_and_a_backtest_with_lift() -> None:
    listed = json.loads(_run("--format", "json").stdout)
    assert listed["accounts"], "the sample has accounts at risk"
    assert all(a["reasons"] for a in listed["accounts"])
    assert listed["totals"]["levels"]["high"]["accounts"] >= 1
    replay = json.loads(_run("--backtest", "--format", "json").stdout)["backtest"]
    medium = next(r for r in replay["rules"] if r["rule"] == "medium")
    assert medium["lift"] > 2 and medium["recall"] > 0.2


def test_fail_on_exits_3_and_still_writes_the_list() -> None:
    met = _run("--fail-on", "risk.high > 1", "--format", "csv")
    assert met.exit_code == 3
    assert met.stdout.startswith("rank,account,group,score,level,arr,contract_end")
    assert _run("--fail-on", "risk.high > 1000").exit_code == 0
    bad = _run("--fail-on", "risk.hihg > 1")
    assert bad.exit_code == 2 and "did you mean" in bad.stderr


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv"])
def test_every_format_renders(fmt: str) -> None:
    result = _run("--format", fmt, "--top", "5")
    assert result.exit_code == 0, result.output
    assert "A00310" in result.stdout
    if fmt == "html":
        assert result.stdout.startswith("<!DOCTYPE html>")


def test_the_horizon_must_be_days() -> None:
    result = _run("--backtest", "--horizon", "3mo")
    assert result.exit_code == 2 and "--horizon" in result.stderr


def test_summary_shows_a_churn_watch_only_with_a_risk_block() -> None:
    runner = CliRunner()
    with_risk = runner.invoke(app, ["summary", str(ROOT / "funnels" / "risk.yaml")], env=ENV)
    assert with_risk.exit_code == 0, with_risk.output
    assert "Churn watch, as of 2026-01-08" in with_risk.stdout
    plain = runner.invoke(app, ["summary", str(ROOT / "funnels" / "default.yaml")], env=ENV)
    assert "Churn watch" not in plain.stdout


def test_the_library_call() -> None:
    import funnelcli

    report = funnelcli.risk(ROOT / "funnels" / "risk.yaml", top=3, as_of="2025-07-01")
    assert report.as_of == "2025-07-01" and len(report.accounts) == 3
    assert report.to_dict()["schema"] == "funnelcli.risk/1"

"""One matching rule for names (spec.hints.find): `--by`, `dimensions:`, `breakdown:`, `roi:`
columns, lookup keys and `--fail-on` stage names match headers and stages ignoring case, width
and spaces, exactly as the YAML's columns do; a name that matches nothing gets did-you-mean."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.errors import FunnelError, UsageError
from funnelcli.metrics.alerts import parse_alert
from funnelcli.spec import load_funnel
from funnelcli.spec.hints import find

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
LEADS = """\
Lead ID,Created At,Channel,Paid At,Amount,Agent
L1,2024-01-01,ads,2024-02-01,100,Ann
L2,2024-01-02,seo,,,Bob
L3,2024-01-03,ads,2024-01-20,300,Bob
"""
TEAMS = "Sales Agent,Office\nAnn,East\nBob,West\n"
SPEND = "Month,Channel,Amount\n2024-01,ads,200\n2024-01,seo,50\n"


def _funnel(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "teams.csv").write_text(TEAMS)
    (tmp_path / "spend.csv").write_text(SPEND)
    text = textwrap.dedent(
        """\
        sources:
          leads: {path: leads.csv, id: lead id}
          teams: {path: teams.csv, shape: lookup, key: SALES  AGENT, join: agent}
        stages:
          - {name: lead, at: CREATED AT}
          - {name: paid, at: paid at, value: AMOUNT}
        currency: USD
        """
    )
    path = tmp_path / "funnel.yaml"
    path.write_text(text + extra)
    return path


def test_find_is_exact_first_then_tolerant_and_never_guesses_between_two() -> None:
    assert find("Channel", ["channel", "Channel"]) == "Channel"
    assert find("Channel", ["channel"]) == "channel"
    assert find("ＣＨＡＮＮＥＬ", ["channel"]) == "channel"
    assert find(" deal   stage ", ["Deal Stage"]) == "Deal Stage"
    assert find("channel", ["Channel", "CHANNEL"]) is None  # two candidates: no guess
    assert find("chanel", ["channel"]) is None


@pytest.mark.parametrize("spelling", ["channel", "CHANNEL", "ＣＨＡＮＮＥＬ", " Channel "])
def test_by_dimensions_breakdown_and_lookup_columns_match_like_yaml_columns(
    tmp_path: Path, spelling: str
) -> None:
    extra = f"dimensions: [{spelling!r}, office]\nbreakdown: [{spelling!r}]\n"
    funnel = load_funnel(_funnel(tmp_path, extra))
    report = funnelcli.report(funnel, min_n=0)
    (breakdown,) = report.breakdowns
    groups = {next(iter(g.key.values())): g.stages[1].count for g in breakdown.groups}
    assert groups == {"ads": 2, "seo": 0}
    (by_office,) = funnelcli.report(funnel, by=(("OFFICE",),), min_n=0).breakdowns
    offices = {next(iter(g.key.values())): g.stages[0].count for g in by_office.groups}
    assert offices == {"East": 1, "West": 2}


def test_roi_columns_match_like_yaml_columns(tmp_path: Path) -> None:
    extra = (
        "roi:\n  spend: {path: spend.csv, month: MONTH, channel: channel, amount: amount}\n"
        "  channel: CHANNEL\n  revenue: paid\n"
    )
    result = funnelcli.roi(load_funnel(_funnel(tmp_path, extra)))
    rows = {c.channel: c for c in result.channels}
    assert rows["ads"].spend == 200 and rows["ads"].customers == 2


def test_fail_on_stage_names_match_like_the_yaml() -> None:
    assert parse_alert("PAID.conversion_from_previous < 0.2", ["lead", "paid"]).stage == "paid"
    assert parse_alert("paid.Count < 2", ["lead", "paid"]).metric == "count"
    with pytest.raises(UsageError, match=r"unknown stage 'payed' \(did you mean 'paid'\?\)"):
        parse_alert("payed.count < 2", ["lead", "paid"])


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        (
            "",
            ["--by", "chanel"],
            r"--by chanel: column 'chanel' .*did you mean 'Channel'",
        ),
        ("dimensions: [Chanel]\n", [], r"dimensions\[0\]: .*did you mean 'Channel'"),
        ("breakdown: [offise]\n", [], r"breakdown\[0\]: .*did you mean 'Office'"),
    ],
)
def test_a_name_matching_nothing_gets_did_you_mean(
    tmp_path: Path, extra: str, args: list[str], message: str
) -> None:
    path = _funnel(tmp_path, extra)
    result = CliRunner().invoke(app, ["report", str(path), *args], env=ENV)
    assert result.exit_code == 1, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert re.search(message, result.stderr), result.stderr


def test_a_lookup_key_matching_nothing_gets_did_you_mean(tmp_path: Path) -> None:
    path = _funnel(tmp_path)
    path.write_text(path.read_text().replace("SALES  AGENT", "sales agnt"))
    with pytest.raises(FunnelError, match=r"sources\.teams\.key: .*did you mean 'Sales Agent'"):
        funnelcli.report(load_funnel(path), by=(("office",),))

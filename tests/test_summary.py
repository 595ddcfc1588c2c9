"""`funnel summary` end to end on a tiny hand-computed fixture: the compared periods, every
number of the comparison, alerts and exit codes, the JSON schema and the HTML snapshot.

Refresh the HTML snapshot after an intended change with
`pytest tests/test_summary.py --update-golden` and review the diff.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.errors import UsageError
from funnelcli.metrics.alerts import parse_alert
from funnelcli.outputs.summary import Summary
from funnelcli.spec import load_funnel

GOLDEN = Path(__file__).resolve().parent / "golden"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
STAGES = ["lead", "paid"]

# W09 (2025-02-24 .. 03-02): 4 leads, 3 paid 12 h after entry. W08 (02-17 .. 02-23): 4 leads,
# 1 paid 12 h after entry, one paid after the 1-day window (not counted).
LEADS = """\
    lead_id,channel,created_at,paid_at,amount
    a1,ads,2025-02-17 08:00:00,2025-02-17 20:00:00,100
    a2,ads,2025-02-18 08:00:00,2025-02-20 08:00:00,50
    a3,seo,2025-02-19 08:00:00,,
    a4,seo,2025-02-20 08:00:00,,
    b1,ads,2025-02-24 08:00:00,2025-02-24 20:00:00,200
    b2,ads,2025-02-25 08:00:00,2025-02-25 20:00:00,200
    b3,seo,2025-02-26 08:00:00,2025-02-26 20:00:00,100
    b4,seo,2025-03-02 23:00:00,,
    """
FUNNEL = """\
    title: Tiny
    sources: {leads: {path: leads.csv, id: lead_id}}
    stages:
      - {name: lead, at: created_at}
      - {name: paid, at: paid_at, value: amount}
    window: 1d
    dimensions: [channel]
    breakdown: [channel]
    min_n: 0
    """
AS_OF = "2025-03-04 12:00"  # W10: W09 is the last complete week; 03-03 + 1d ≤ as_of: mature


@pytest.fixture()
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "leads.csv").write_text(textwrap.dedent(LEADS), encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(FUNNEL), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_summary_numbers(tiny: Path) -> None:

    funnel = load_funnel("funnel.yaml")
    summary = funnelcli.summary(funnel, period="week", as_of=AS_OF, by="channel")
    assert (summary.current.label, summary.previous.label) == ("2025-W09", "2025-W08")
    assert (summary.current.since, summary.current.until) == ("2025-02-24", "2025-03-03")
    assert (summary.current.entered, summary.previous.entered) == (4, 4)
    assert not summary.current.immature and not summary.previous.immature
    assert summary.year_ago is None and summary.year_ago_stages is None  # data starts 2025-02
    paid = summary.stages[1].metrics
    step = paid["conversion_from_previous"]
    assert (step.current, step.previous, step.delta) == (0.75, 0.25, 0.5)
    assert step.relative_delta == 2.0
    # pooled p̂ = 4/8, SE = √(.25·(1/4 + 1/4)) = √.125, z = .5/√.125 = √2, p = erfc(1)
    assert step.p_value == pytest.approx(math.erfc(1.0), abs=1e-15)
    assert step.final and not step.significant  # p = 0.157
    assert paid["count"].current == 3.0 and paid["count"].previous == 1.0
    assert paid["median_days_from_previous"].current == 0.5
    assert paid["value_sum"].current == 500.0 and paid["value_sum"].previous == 100.0
    assert paid["value_sum"].relative_delta == 4.0
    groups = {g.key["channel"]: g for g in summary.groups}
    assert (groups["ads"].entered_current, groups["ads"].entered_previous) == (2, 2)
    ads = groups["ads"].stages[1].metrics["conversion_from_entry"]
    assert (ads.current, ads.previous) == (1.0, 0.5)


def test_alert_grammar_and_evaluation() -> None:
    drop = parse_alert("qualified.count drops 20%", ["lead", "qualified"])
    assert (drop.stage, drop.metric, drop.operator, drop.threshold) == (
        "qualified",
        "count",
        "drops",
        0.2,
    )
    assert drop.is_met(80, 100) and drop.is_met(10, 100) and not drop.is_met(81, 100)
    assert not drop.is_met(None, 100) and not drop.is_met(5, 0) and not drop.is_met(5, None)
    rise = parse_alert("  lead.count   rises 50 %", STAGES)
    assert rise.is_met(150, 100) and not rise.is_met(149, 100)
    for text, current, met in [
        ("paid.conversion_from_previous < 0.15", 0.149, True),
        ("paid.conversion_from_previous < 0.15", 0.15, False),
        ("paid.conversion_from_entry <= 0.15", 0.15, True),
        ("paid.value_sum > 1e3", 1000.5, True),
        ("paid.median_days_from_previous >= 30", 29.9, False),
        ("paid.count == 0", 0.0, True),
        ("paid.count != 0", 0.0, False),
        ("paid.count < 1", None, False),  # null never meets an alert
    ]:
        assert parse_alert(text, STAGES).is_met(current, None) is met, text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("payd.count > 1", r"column 1: unknown stage 'payd' \(did you mean 'paid'\?\)"),
        ("paid.conversion < 1", r"column 6: unknown metric 'conversion' \(did you mean"),
        ("paid count > 1", r"column 6: expected '\.' after the stage name, got 'count'"),
        ("paid.count", r"column 11: expected an operator"),
        ("paid.count >", r"column 13: expected a number at the end"),
        ("paid.count => 1", r"column 12: unexpected '='"),
        ("paid.count drops 20", r"column 20: expected '%' after the number at the end"),
        ("paid.count drops -5%", r"column 18: the percentage must not be negative"),
        ("paid.count falls 5%", r"column 12: expected an operator .* got 'falls'"),
        ("paid.count > 1 and", r"column 16: unexpected 'and' after the alert"),
        ("paid.count @ 2", r"column 12: unexpected '@'"),
        ("", r"column 1: expected a stage name at the end"),
    ],
)
def test_bad_alerts_name_the_column(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_alert(text, STAGES)


def test_fail_on_drives_the_exit_code(tiny: Path) -> None:
    base = ["summary", "funnel.yaml", "--as-of", AS_OF]
    code, out, err = run(
        *base, "--fail-on", "paid.count rises 200%", "--fail-on", "lead.count drops 1%"
    )
    assert code == 3, err
    assert out.index("ALERT: paid.count rises 200% (now 3, before 1)") < out.index(
        "2025-W09 against"
    )
    assert "lead.count drops 1%" not in out  # only alerts met are listed
    code, out, _ = run(*base, "--fail-on", "lead.count drops 1%")
    assert code == 0 and "No alert met (1 condition checked)." in out
    code, out, _ = run(*base)
    assert code == 0 and "alert" not in out.lower()
    code, _, err = run(*base, "--fail-on", "payd.count > 1")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("Error: --fail-on 'payd.count > 1': column 1: unknown stage 'payd'")


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_every_format_lists_alerts_first_and_exits_3(tiny: Path, fmt: str) -> None:
    code, out, _ = run(
        "summary",
        "--as-of",
        AS_OF,
        "--format",
        fmt,
        "--fail-on",
        "paid.value_sum > 400",
        "funnel.yaml",
    )
    assert code == 3
    if fmt == "json":
        document = json.loads(out)
        jsonschema.validate(document, Summary.schema_document())
        assert document["alerts"] == [
            {
                "expression": "paid.value_sum > 400",
                "met": True,
                "current": 500.0,
                "previous": 100.0,
                "final": True,
            }
        ]
        assert list(document)[:2] == ["schema", "funnel"]
    else:
        expression = "`paid.value_sum > 400`" if fmt == "markdown" else "paid.value_sum &gt; 400"
        if fmt == "table":
            expression = "paid.value_sum > 400"
        assert "ALERT:" in out and expression in out
        assert out.index("ALERT") < out.index("2025-W09 against 2025-W08")


def test_json_validates_on_the_sample_data_and_is_deterministic() -> None:
    root = Path(__file__).resolve().parent.parent
    funnel = str(root / "funnels" / "default.yaml")
    first = run("summary", funnel, "--format", "json", "--as-of", "2025-06-04")
    again = run("summary", funnel, "--format", "json", "--as-of", "2025-06-04")
    assert first == again and first[0] == 0
    document = json.loads(first[1])
    jsonschema.validate(document, Summary.schema_document())
    assert document["current"]["label"] == "2025-W22"
    assert document["year_ago"]["label"] == "2024-W22"
    assert document["current"]["immature"]  # 18mo window


def test_html_snapshot(tiny: Path, request: pytest.FixtureRequest) -> None:
    code, _, err = run(
        "summary",
        "funnel.yaml",
        "--as-of",
        AS_OF,
        "--format",
        "html",
        "--output",
        "weekly.html",
        "--fail-on",
        "paid.count rises 200%",
    )
    assert code == 3, err
    html = (tiny / "weekly.html").read_text(encoding="utf-8")
    for forbidden in ("<script", "<link", "<img", "http://", "https://", "@import", "url("):
        assert forbidden not in html  # self-contained: nothing fetched, nothing run
    golden = GOLDEN / "summary.html"
    if request.config.getoption("--update-golden") or not golden.exists():
        golden.write_text(html, encoding="utf-8")
        if not request.config.getoption("--update-golden"):
            pytest.fail("wrote missing golden file summary.html; review and commit it")
    assert html == golden.read_text(encoding="utf-8"), (
        "summary HTML differs from tests/golden/summary.html; if intended, run "
        "pytest tests/test_summary.py --update-golden"
    )


def _readme_block(kind: str) -> list[str]:
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)```", readme, re.S)


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "funnels", tmp_path / "funnels")
    shutil.copytree(root / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_crontab_and_systemd_commands_run(repo: Path) -> None:
    """The README's crontab line and systemd ExecStart run as written (with their escapes
    undone: cron's `\\%` and systemd's `%%` are a plain `%`), write the HTML and exit 3."""
    import shlex

    (crontab,) = _readme_block("crontab")
    schedule_and_command = crontab.strip().split(None, 5)
    assert schedule_and_command[:5] == ["0", "7", "*", "*", "1"]
    command = schedule_and_command[5]
    assert command.startswith("cd /srv/funnelcli && ")
    summary_part, _, mail_part = command.removeprefix("cd /srv/funnelcli && ").partition("; ")
    assert mail_part.startswith("[ $? -eq 3 ] && mail")
    exec_lines = [
        line.removeprefix("ExecStart=/usr/local/bin/")
        for block in _readme_block("ini")
        for line in block.splitlines()
        if line.startswith("ExecStart=")
    ]
    for line in [summary_part.replace("\\%", "%"), *[e.replace("%%", "%") for e in exec_lines]]:
        args = shlex.split(line)
        assert args[0] == "funnel"
        target = repo / "weekly.html"
        target.unlink(missing_ok=True)
        code, out, err = run(*args[1:])
        # exit 3 exactly when a judged (not provisional) number meets an alert
        _, document, _ = run(*_as_json(args[1:]))
        met = [a for a in json.loads(document)["alerts"] if a["met"]]
        assert all(a["final"] for a in met)
        assert code == (3 if met else 0), err
        assert out == "" and err == ""  # silent: cron mails only errors
        html = target.read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and ("ALERT:" in html) == bool(met)


def _as_json(args: list[str]) -> list[str]:
    """The same summary as JSON on stdout (without --format/--output)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--format", "-f", "--output", "-o"):
            skip = True
        else:
            out.append(arg)
    return [*out, "--format", "json"]


def test_the_readme_cron_example_on_the_last_12_mondays(repo: Path) -> None:
    """The README's cron line run on each of the sample's last 12 Mondays: exit 3 only for a
    week whose judged number meets the alert, and some weeks' stages get a real verdict."""
    import shlex
    from datetime import date, timedelta

    (crontab,) = _readme_block("crontab")
    line = crontab.strip().split(None, 5)[5].removeprefix("cd /srv/funnelcli && ")
    args = _as_json(shlex.split(line.partition("; ")[0].replace("\\%", "%"))[1:])
    last = date(2026, 1, 5)  # the Monday of the sample's latest time, 2026-01-07
    verdicts: list[str] = []
    fired = 0
    for week in range(12):
        monday = (last - timedelta(weeks=week)).isoformat()
        code, out, err = run(*args, "--as-of", monday)
        summary = json.loads(out)
        met = [a for a in summary["alerts"] if a["met"]]
        assert code == (3 if met else 0), (monday, err)
        for alert in summary["alerts"]:
            stage, metric = alert["expression"].split()[0].split(".")
            change = next(s for s in summary["stages"] if s["name"] == stage)["metrics"][metric]
            assert alert["final"] == change["final"]
            if not change["final"]:
                assert not alert["met"]  # never on a provisional number
        paid = next(s for s in summary["stages"] if s["name"] == "paid")
        rate = paid["metrics"]["conversion_from_previous"]
        paid_met = rate["final"] and rate["current"] is not None and rate["current"] < 0.15
        assert summary["alerts"][0]["met"] == paid_met
        fired += code == 3
        verdicts += [
            s["metrics"]["conversion_from_previous"]["verdict"] for s in summary["stages"][1:]
        ]
    assert {"significant", "not_significant"} & set(verdicts), verdicts
    assert fired < 12  # it does not cry wolf every week


def test_no_colour_when_not_a_terminal(tiny: Path) -> None:
    """Cron: stdout is a pipe, NO_COLOR unset — still no escape codes, no progress on stderr."""
    for command in (["summary", "funnel.yaml"], ["cohorts", "funnel.yaml"]):
        result = CliRunner().invoke(
            app,
            [*command, "--as-of", AS_OF],
            env={"NO_COLOR": None, "TERM": "xterm-256color", "COLUMNS": "100"},
            catch_exceptions=False,
        )
        assert result.exit_code == 0
        assert "\x1b[" not in result.stdout and result.stderr == ""


def test_a_significant_change_is_highlighted_in_every_format(tmp_path: Path) -> None:
    """W09: 40 of 100 paid; W08: 20 of 100 paid (mature, 1-day window)."""
    from datetime import datetime, timedelta

    from funnelcli.render.html import summary_html
    from funnelcli.render.markdown import summary_markdown
    from funnelcli.render.wording import highlights

    lines = ["lead_id,channel,created_at,paid_at,amount"]
    for week, start, paid in (
        ("a", datetime(2025, 2, 17, 8), 20),
        ("b", datetime(2025, 2, 24, 8), 40),
    ):
        for i in range(100):
            entry = start + timedelta(minutes=60 * i)
            paid_at = (entry + timedelta(hours=1)).isoformat(sep=" ") if i < paid else ""
            lines.append(f"{week}{i},ads,{entry.isoformat(sep=' ')},{paid_at},10")
    (tmp_path / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(FUNNEL).replace("min_n: 0", "min_n: 30"))
    summary = funnelcli.summary(
        load_funnel(tmp_path / "funnel.yaml"), period="week", as_of=AS_OF, by="channel"
    )
    step = summary.stages[1].metrics["conversion_from_previous"]
    # p̂ = 60/200 = .3, SE = √(.3·.7·(2/100)) = √.0042, z = .2/√.0042 = 3.0861, p = 0.0020
    assert step.p_value == pytest.approx(math.erfc(0.2 / math.sqrt(0.0042) / math.sqrt(2)))
    assert step.p_value == pytest.approx(0.002028, abs=1e-6)
    assert step.significant
    assert highlights(summary) == [
        "Entries: 100 in 2025-W09, ±0 (±0.0%) against 2025-W08.",
        "paid: step conversion 40.0% (+20.0 pts, p = 0.002), significant.",
    ]
    assert "| **paid** | 40 | 20 |" in summary_markdown(summary)
    assert '<tr style="background:#ecfdf5;font-weight:bold"><td' in summary_html(summary)
    assert summary.groups[0].stages[1].metrics["conversion_from_entry"].significant


@pytest.mark.parametrize("name", ["default", "history", "accounts", "chinese"])
@pytest.mark.parametrize("as_of", [None, "2025-03-01"])
def test_the_first_pass_finds_the_report_s_anchor_and_first_entry(
    name: str, as_of: str | None
) -> None:
    """Summaries and cohort matrices choose their periods from a stripped first pass; it must
    agree with the full report's as_of and first entry."""
    from datetime import datetime

    from funnelcli.commands.query import anchors
    from funnelcli.commands.report import ReportRequest, report_on
    from funnelcli.engine import open_engine

    funnel = load_funnel(Path(__file__).resolve().parent.parent / "funnels" / f"{name}.yaml")
    moment = datetime.fromisoformat(as_of) if as_of else None
    with open_engine(funnel) as engine:
        report = report_on(engine, funnel, ReportRequest(as_of=moment))
        latest, first = anchors(engine, funnel, moment)
    assert report.period.as_of is not None and report.period.first_entry is not None
    assert latest == datetime.fromisoformat(report.period.as_of)
    assert first == datetime.fromisoformat(report.period.first_entry)

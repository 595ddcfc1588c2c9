"""`funnel stalled`, `trace` and `drivers`: hand-computed fixtures, the lists reconciled with
the report's counts, trace's rules held to the SQL, and the drivers' statistics by hand."""

from __future__ import annotations

import json
import math
import textwrap
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.drivers import DriversRequest, build_drivers
from funnelcli.commands.per_id import ListRequest, plan_per_id
from funnelcli.commands.report import ReportRequest, build_report
from funnelcli.commands.stalled import StalledRequest, build_stalled
from funnelcli.commands.trace import TraceRequest, build_trace
from funnelcli.engine import open_engine
from funnelcli.errors import DataError, UsageError
from funnelcli.metrics.drivers import benjamini_hochberg, odds_ratio
from funnelcli.metrics.trace import Rule, StageRules, verdicts
from funnelcli.outputs.drivers import Drivers
from funnelcli.outputs.stalled import StalledList
from funnelcli.outputs.trace import Trace
from funnelcli.spec import Funnel, load_funnel

ROOT = Path(__file__).resolve().parent.parent

# Seven leads, one per rule (window 60d from entry; trial within 10d of qualified):
# L1 every stage in time · L2 trial 17d after qualified (within not met) · L3 paid after
# entry + 60d (outside window) · L4 paid without qualified or trial (backfill implies them) ·
# L5 qualified before created (backwards) · L6 entered late (immature at as_of) · L7 no
# created date (backfill: entry = its first time, stage 1 implied).
LEADS_CSV = """\
lead_id,created_at,qualified_at,trial_at,paid_at,amount,channel
L1,2025-01-01,2025-01-05,2025-01-08,2025-01-20,100,web
L2,2025-01-01,2025-01-03,2025-01-20,,,web
L3,2025-01-01,2025-01-02,,2025-03-15,70,ads
L4,2025-01-02,,,2025-01-10,50,ads
L5,2025-01-03,2024-12-30,,,,web
L6,2025-02-20,,,,,ads
L7,,2025-01-10,,,,web
"""
FUNNEL_YAML = """\
sources:
  leads: {{path: leads.csv, id: lead_id}}
stages:
  - {{name: lead, at: created_at}}
  - {{name: qualified, at: qualified_at}}
  - {{name: trial, at: trial_at, within: 10d}}
  - {{name: paid, at: paid_at, value: amount}}
window: 60d
order: {order}
dimensions: [channel]
"""


def fixture(tmp_path: Path, order: str = "backfill") -> Funnel:
    (tmp_path / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    path = tmp_path / f"{order}.yaml"
    path.write_text(FUNNEL_YAML.format(order=order), encoding="utf-8")
    return load_funnel(path)


def counts(funnel: Funnel, **request: object) -> list[int]:
    report = build_report(funnel, ReportRequest(**request))  # type: ignore[arg-type]
    return [stage.count for stage in report.overall.stages]


# --- stalled ------------------------------------------------------------------------------------


def test_stalled_and_dropped_by_hand(tmp_path: Path) -> None:
    funnel = fixture(tmp_path)
    # backfill: lead 7; qualified L1-5, L7 = 6 (L4 implied); trial L1, L4 (implied by paid) = 2
    assert counts(funnel) == [7, 6, 2, 2]
    # as_of = L3's paid 2025-03-15; mature = entered on or before 2025-01-14 (60d window):
    # waiting at qualified (not trial): L2, L3, L5, L7, all mature → 4 dropped, 0 stalled
    at_qualified = build_stalled(funnel, StalledRequest(stage="qualified"))
    assert at_qualified.counts.at_stage == 6 and at_qualified.counts.next_stage == 2
    assert (at_qualified.counts.stalled, at_qualified.counts.dropped) == (0, 4)
    dropped = build_stalled(funnel, StalledRequest(stage="qualified", dropped=True))
    # each waits since its qualified time: L5 2024-12-30 (75 days to 2025-03-15), L3 01-02
    # (72), L2 01-03 (71: its trial did not qualify), L7 01-10 (64); longest wait first
    assert [i.id for i in dropped.ids] == ["L5", "L3", "L2", "L7"]
    assert [i.days_waiting for i in dropped.ids] == pytest.approx([75.0, 72.0, 71.0, 64.0])
    assert dropped.ids[2].attributes == {"channel": "web"}
    # waiting at lead: L6 (entered 2025-02-20, immature) → stalled
    at_lead = build_stalled(funnel, StalledRequest(stage="lead"))
    assert [i.id for i in at_lead.ids] == ["L6"] and at_lead.counts.dropped == 0
    assert at_lead.ids[0].days_waiting == pytest.approx(23.0)
    # at trial (not paid): nobody; L4 reached trial only by implication
    assert build_stalled(funnel, StalledRequest(stage="trial")).counts.stalled == 0


def test_stalled_older_than_and_by(tmp_path: Path) -> None:
    from funnelcli.spec.duration import Duration

    funnel = fixture(tmp_path)
    request = StalledRequest(
        stage="qualified", dropped=True, older_than=Duration.parse("10w"), by=("channel",)
    )
    listed = build_stalled(funnel, request)
    # 10 weeks = 70 days: L5 (75 d), L3 (72 d) and L2 (71 d); L7 (64 d) is left out
    assert sorted(i.id for i in listed.ids) == ["L2", "L3", "L5"]
    assert [i.attributes["channel"] for i in listed.ids] == ["ads", "web", "web"]


def test_stalled_refuses_the_last_stage_and_unknown_stages(tmp_path: Path) -> None:
    funnel = fixture(tmp_path)
    with pytest.raises(UsageError, match="last stage"):
        build_stalled(funnel, StalledRequest(stage="paid"))
    with pytest.raises(UsageError, match="did you mean 'trial'"):
        build_stalled(funnel, StalledRequest(stage="trail"))


SAMPLE_FUNNELS = ["default.yaml", "history.yaml", "accounts.yaml", "chinese.yaml"]


@pytest.mark.parametrize(
    "name",
    ["default.yaml", "history.yaml"]
    + [pytest.param(n, marks=pytest.mark.slow) for n in ("accounts.yaml", "chinese.yaml")],
)
def test_stalled_plus_dropped_reconcile_with_the_report(name: str) -> None:
    funnel = load_funnel(ROOT / "funnels" / name)
    period = {"since": datetime(2024, 3, 1), "until": datetime(2025, 3, 1)}
    report = build_report(funnel, ReportRequest(**period))  # type: ignore[arg-type]
    stages = report.overall.stages
    for k in range(len(stages) - 1):
        request = StalledRequest(stage=stages[k].name, **period)  # type: ignore[arg-type]
        listed = build_stalled(funnel, request)
        assert listed.counts.at_stage == stages[k].count
        assert listed.counts.next_stage == stages[k + 1].count
        assert listed.counts.stalled + listed.counts.dropped == stages[k + 1].dropped
        assert len(listed.ids) == listed.counts.stalled
    request = StalledRequest(stage=stages[1].name, dropped=True, **period)  # type: ignore[arg-type]
    dropped = build_stalled(funnel, request)
    assert len(dropped.ids) == dropped.counts.dropped
    assert len(dropped.ids) + dropped.counts.stalled == stages[2].dropped


# --- trace --------------------------------------------------------------------------------------


def rules_of(trace: Trace) -> list[str]:
    return [s.rule for s in trace.stages]


def test_trace_explains_every_id_of_the_fixture_backfill(tmp_path: Path) -> None:
    funnel = fixture(tmp_path)
    expected = {
        "L1": ["counted", "counted", "counted", "counted"],
        "L2": ["counted", "counted", "within_not_met", "no_evidence"],
        "L3": ["counted", "counted", "no_evidence", "outside_window"],
        "L4": ["counted", "implied", "implied", "counted"],
        "L5": ["counted", "counted", "no_evidence", "no_evidence"],
        "L6": ["counted", "no_evidence", "no_evidence", "no_evidence"],
        "L7": ["implied", "counted", "no_evidence", "no_evidence"],
    }
    for key, rules in expected.items():
        assert rules_of(build_trace(funnel, TraceRequest(id=key))) == rules, key
    l2 = build_trace(funnel, TraceRequest(id="L2"))
    trial = l2.stages[2]
    # trial 2025-01-20 is after qualified 2025-01-03 + 10d = 2025-01-13
    assert (trial.evidence_at, trial.limit, trial.other_stage) == (
        "2025-01-20",
        "2025-01-13",
        "qualified",
    )
    assert [(r.file.endswith("leads.csv"), r.row, r.line) for r in l2.evidence] == [(True, 2, 3)]
    l3 = build_trace(funnel, TraceRequest(id="L3"))
    assert (l3.stages[3].evidence_at, l3.stages[3].limit) == ("2025-03-15", "2025-03-02")
    assert l3.in_cohort and l3.stages[3].value is None
    assert build_trace(funnel, TraceRequest(id="L1")).stages[3].value == 100.0


def test_trace_explains_every_id_of_the_fixture_strict(tmp_path: Path) -> None:
    funnel = fixture(tmp_path, "strict")
    expected = {
        "L1": ["counted", "counted", "counted", "counted"],
        "L2": ["counted", "counted", "within_not_met", "no_evidence"],
        "L4": ["counted", "no_evidence", "no_evidence", "strict_order"],
        "L5": ["counted", "backwards_time", "no_evidence", "no_evidence"],
        "L7": ["no_evidence", "strict_order", "no_evidence", "no_evidence"],
    }
    for key, rules in expected.items():
        assert rules_of(build_trace(funnel, TraceRequest(id=key))) == rules, key
    l5 = build_trace(funnel, TraceRequest(id="L5")).stages[1]
    assert (l5.evidence_at, l5.limit, l5.other_stage) == ("2024-12-30", "2025-01-03", "lead")
    l7 = build_trace(funnel, TraceRequest(id="L7"))
    assert not l7.in_cohort and l7.exclusions == ("not_in_funnel",)
    assert l7.stages[1].other_stage == "lead"


def test_trace_cohort_bounds_and_unknown_ids(tmp_path: Path) -> None:
    funnel = fixture(tmp_path)
    late = build_trace(funnel, TraceRequest(id="L6", until=datetime(2025, 2, 1)))
    assert not late.in_cohort and late.exclusions == ("outside_period",)
    with pytest.raises(DataError, match=r"no row of .*leads\.csv has the id 'L99'"):
        build_trace(funnel, TraceRequest(id="L99"))


@pytest.mark.parametrize("name", SAMPLE_FUNNELS)
def test_trace_rules_agree_with_the_sql_on_every_id(name: str) -> None:
    """The SQL decides whether a stage counts; the rules must name a cause for every stage
    it does not count explicitly, and call counted exactly what the SQL reached."""
    funnel = load_funnel(ROOT / "funnels" / name)
    spec = funnel.spec
    rules = StageRules(
        names=tuple(s.name for s in spec.stages),
        within=tuple(s.within for s in spec.stages),
        window=spec.window,
        order=spec.order,
    )
    with open_engine(funnel) as engine:
        rows = plan_per_id(engine, funnel, ListRequest()).ids()
    assert rows
    for row in rows:
        evidence = [[s.earliest] if s.earliest is not None else [] for s in row.stages]
        for stage, verdict in zip(row.stages, verdicts(row, rules, evidence), strict=True):
            assert verdict.rule is not Rule.unexplained, (row.key, verdict)
            assert verdict.counted == stage.reached
            explicit = verdict.rule in (Rule.counted, Rule.counted_untimed)
            assert explicit == stage.explicit, (row.key, verdict)


# --- drivers ------------------------------------------------------------------------------------


def drivers_fixture(tmp_path: Path) -> Funnel:
    # channel a: 40 leads, 20 paid; channel b: 60 leads, 12 paid; size: 1..100 (numeric)
    lines = ["lead_id,created_at,paid_at,channel,size"]
    for i in range(100):
        channel = "a" if i < 40 else "b"
        paid = (i < 20) or (40 <= i < 52)
        lines.append(f"X{i:03d},2025-01-01,{'2025-01-05' if paid else ''},{channel},{i + 1}")
    (tmp_path / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "f.yaml").write_text(
        textwrap.dedent(
            """\
            sources:
              leads: {path: leads.csv, id: lead_id}
            stages:
              - {name: lead, at: created_at}
              - {name: paid, at: paid_at}
            dimensions: [channel]
            """
        ),
        encoding="utf-8",
    )
    return load_funnel(tmp_path / "f.yaml")


def test_drivers_by_hand(tmp_path: Path) -> None:
    result = build_drivers(drivers_fixture(tmp_path), DriversRequest(stage="paid"))
    assert (result.n, result.converted) == (100, 32)
    top = result.drivers[0]
    assert (top.attribute, top.value, top.n, top.converted) == ("channel", "a", 40, 20)
    # a = 20, b = 20, c = 12, d = 48: OR = 20·48 / (20·12) = 4
    # se = √(1/20 + 1/20 + 1/12 + 1/48) = 0.451848; 4 · e^(±1.959964 · se) = 1.64986, 9.69781
    assert top.odds_ratio == pytest.approx(4.0)
    assert top.odds_ratio_low == pytest.approx(1.64986, rel=1e-5)
    assert top.odds_ratio_high == pytest.approx(9.69781, rel=1e-5)
    # pooled p = .32, se = √(.32·.68·(1/40 + 1/60)) = 0.0952190; z = .3/se = 3.150629
    # p = erfc(z/√2) = 0.00162919; two tests with equal p: BH leaves them as they are
    assert top.p_value == pytest.approx(0.00162919, rel=1e-5)
    assert top.p_adjusted == pytest.approx(top.p_value)
    b = result.drivers[1]
    assert b.value == "b" and b.odds_ratio == pytest.approx(0.25)
    assert (top.rate, top.rest_rate) == (0.5, 0.2)


def test_drivers_bins_a_numeric_attribute(tmp_path: Path) -> None:
    result = build_drivers(
        drivers_fixture(tmp_path), DriversRequest(stage="paid", numeric=("size",), min_n=1)
    )
    bins = {d.value: (d.n, d.converted) for d in result.drivers if d.attribute == "size"}
    # quartiles of 1..100: 1, 25.75, 50.5, 75.25, 100; paid = sizes 1-20 and 41-52, so
    # 1-25: 20 paid; 26-50: 41-50 = 10; 51-75: 51, 52 = 2; 76-100: none
    assert bins == {
        "[1, 25.8)": (25, 20),
        "[25.8, 50.5)": (25, 10),
        "[50.5, 75.2)": (25, 2),
        "[75.2, 100]": (25, 0),
    }
    assert result.numeric == ("size",) and result.attributes == ("channel",)


def test_odds_ratio_with_a_zero_cell_adds_a_half() -> None:
    ratio, low, high, corrected = odds_ratio(10, 0, 5, 5)
    # (10.5 · 5.5) / (0.5 · 5.5) = 21
    assert corrected and ratio == pytest.approx(21.0) and low < ratio < high


def test_benjamini_hochberg_by_hand() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): ·4/1, ·4/2, ·4/3, ·4/4 = .02, .02, .04, .04
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([]) == []


def test_drivers_min_n_skips_small_groups(tmp_path: Path) -> None:
    result = build_drivers(drivers_fixture(tmp_path), DriversRequest(stage="paid", min_n=50))
    assert [d.value for d in result.drivers] == ["b"] and result.skipped == 1
    with pytest.raises(UsageError, match="must come before"):
        build_drivers(drivers_fixture(tmp_path), DriversRequest(stage="lead"))


# --- the CLI and the schemas --------------------------------------------------------------------

RUNNER = CliRunner()


@pytest.mark.parametrize(
    ("args", "artifact"),
    [
        (["stalled", "--stage", "trial"], StalledList),
        (["stalled", "--stage", "trial", "--dropped", "--by", "owner"], StalledList),
        (["trace", "L000652"], Trace),
        (["trace", "funnels/history.yaml", "L000001"], Trace),
        (["drivers", "--stage", "paid", "--from", "qualified"], Drivers),
    ],
)
def test_json_follows_the_shipped_schema(
    args: list[str], artifact: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = RUNNER.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["schema"] == artifact.schema  # type: ignore[attr-defined]
    jsonschema.validate(document, artifact.schema_document())  # type: ignore[attr-defined]


def test_formats_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from funnelcli.render import render

    funnel = fixture(tmp_path)
    stalled = build_stalled(funnel, StalledRequest(stage="qualified", dropped=True))
    (tmp_path / "d").mkdir()
    drivers = build_drivers(drivers_fixture(tmp_path / "d"), DriversRequest(stage="paid"))
    trace = build_trace(funnel, TraceRequest(id="L2"))
    for artifact, fmts in ((stalled, "csv markdown table"), (drivers, "csv markdown table")):
        for fmt in fmts.split():
            assert render(artifact, fmt, width=120)
    assert render(stalled, "csv").splitlines()[:2] == [
        "id,entered_at,reached_at,days_waiting,value,channel",
        "L5,2025-01-03,2024-12-30,75.0,,web",
    ]
    table = render(trace, "table", width=120)
    assert "leads.csv:3" in table and "within not met" in table  # data row 2 is on line 3
    assert "**channel=a**" in render(drivers, "markdown")  # adjusted p < 0.05: in bold
    assert "Strongest" in render(drivers, "table", width=120)
    monkeypatch.chdir(ROOT)
    csv = RUNNER.invoke(app, ["stalled", "--stage", "paid", "--format", "csv"]).stdout
    assert csv.splitlines()[0] == (
        "id,entered_at,reached_at,days_waiting,value,channel,segment,owner,country"
    )


def test_cli_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = RUNNER.invoke(app, ["stalled", "--stage", "nope"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: --stage nope")
    result = RUNNER.invoke(app, ["stalled", "--stage", "trial", "--older-than", "2 weeks"])
    assert result.exit_code == 2 and "--older-than" in result.stderr
    result = RUNNER.invoke(app, ["trace", "a.yaml", "b", "c"])
    assert result.exit_code == 2
    assert math.isfinite(1.0)


def test_trace_names_a_rejected_row(tmp_path: Path) -> None:
    funnel = fixture(tmp_path)
    text = LEADS_CSV.replace("L6,2025-02-20,,,,,ads", "L6,2025-02-20,not a date,,,,ads")
    (tmp_path / "leads.csv").write_text(text, encoding="utf-8")
    trace = build_trace(funnel, TraceRequest(id="L6"))
    # the whole row is set aside (docs/semantics.md, Rejected rows): L6 is in no stage
    assert trace.exclusions == ("rejected_rows",) and trace.evidence == ()
    assert [(r.line, r.column, r.value) for r in trace.rejected] == [
        (7, "qualified_at", "not a date")
    ]
    assert rules_of(trace) == ["no_evidence", "rejected_row", "no_evidence", "no_evidence"]
    jsonschema.validate(json.loads(trace.to_json()), Trace.schema_document())
    # the other ids are read as before, numbered as in the file (L7: data row 7, line 8)
    assert rules_of(build_trace(funnel, TraceRequest(id="L1"))) == ["counted"] * 4
    l7 = build_trace(funnel, TraceRequest(id="L7")).evidence
    assert [(r.row, r.line) for r in l7] == [(7, 8)]


def test_cache_gives_the_same_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    cache = ["--cache", "--cache-dir", str(tmp_path / "cache")]
    for args in (["stalled", "--stage", "trial", "--as-of", "2025-06-01"], ["trace", "L000652"]):
        plain = RUNNER.invoke(app, [*args, "--format", "json", "--no-cache"])
        for _ in range(2):  # building the copies, then reading them
            cached = RUNNER.invoke(app, [*args, "--format", "json", *cache])
            assert cached.exit_code == 0 and cached.stdout == plain.stdout


def test_library_api_gives_the_cli_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    import funnelcli as f

    monkeypatch.chdir(ROOT)
    cases = [
        (f.stalled("funnels/default.yaml", stage="paid", older_than="4w"),
         ["stalled", "--stage", "paid", "--older-than", "4w"]),
        (f.trace("funnels/default.yaml", "L000652"), ["trace", "L000652"]),
        (f.drivers("funnels/default.yaml", stage="paid", from_stage="trial"),
         ["drivers", "--stage", "paid", "--from", "trial"]),
    ]  # fmt: skip
    for artifact, args in cases:
        cli = RUNNER.invoke(app, [*args, "--format", "json"])
        assert json.loads(cli.stdout) == artifact.to_dict()
        assert artifact.to_polars().columns == list(artifact.tidy_columns())


def test_trace_marks_evidence_after_the_as_of(monkeypatch: pytest.MonkeyPatch) -> None:
    """--as-of T: evidence timed after T is shown, flagged and not counted (the report's
    compile/resolve.not_after rule); the stages it alone would reach say so."""
    monkeypatch.chdir(ROOT)
    args = ["trace", "funnels/default.yaml", "L000652", "--format", "json"]
    full = json.loads(RUNNER.invoke(app, args).stdout)
    then = json.loads(RUNNER.invoke(app, [*args, "--as-of", "2024-07-20"]).stdout)
    assert [s["after_as_of"] for s in full["evidence"][0]["stages"]] == [False] * 4
    flags = [(s["stage"], s["after_as_of"]) for s in then["evidence"][0]["stages"]]
    assert flags == [("lead", False), ("qualified", False), ("trial", True), ("paid", True)]
    rules = [(s["stage"], s["counted"], s["rule"]) for s in then["stages"]]
    assert rules[:4] == [
        ("lead", True, "counted"),
        ("qualified", True, "counted"),
        ("trial", False, "after_as_of"),
        ("paid", False, "after_as_of"),
    ]
    assert then["stages"][2]["evidence_at"] == "2024-07-29 17:13:47"
    assert then["stages"][2]["limit"] == then["as_of"] == "2024-07-20"
    table = RUNNER.invoke(app, [*args[:-2], "--as-of", "2024-07-20"], env={"COLUMNS": "400"})
    assert "paid 2024-08-18 18:28:38 (after the as-of: not counted)" in table.stdout


def test_trace_marks_a_loss_dated_after_the_as_of(tmp_path: Path) -> None:
    """A `lost:` row dated (lost.at) after --as-of is shown and flagged, and the id is not
    lost as of then (the report's compile/resolve.not_after rule on lost.at)."""
    (tmp_path / "deals.csv").write_text(
        "deal_id,created_at,lost_at\nD1,2024-01-01,2024-03-01\nD1,2024-01-02,\n",
        encoding="utf-8",
    )
    (tmp_path / "f.yaml").write_text(
        "sources:\n  deals: {path: deals.csv, id: deal_id}\n"
        "stages:\n  - {name: lead, at: created_at}\nlost: {at: lost_at}\n",
        encoding="utf-8",
    )
    args = ["trace", str(tmp_path / "f.yaml"), "D1", "--format", "json"]
    full = json.loads(RUNNER.invoke(app, args).stdout)
    then = json.loads(RUNNER.invoke(app, [*args, "--as-of", "2024-02-01"]).stdout)
    flags = [(r["lost"], r["lost_after_as_of"]) for r in full["evidence"]]
    assert full["lost"] is True and flags == [(True, False), (False, False)]
    flags = [(r["lost"], r["lost_after_as_of"]) for r in then["evidence"]]
    assert then["lost"] is False and flags == [(True, True), (False, False)]
    table = RUNNER.invoke(app, [*args[:-2], "--as-of", "2024-02-01"], env={"COLUMNS": "400"})
    assert "(lost after the as-of: not counted)" in table.stdout
    assert "(lost)" in RUNNER.invoke(app, args[:-2], env={"COLUMNS": "400"}).stdout

"""`order: any` (docs/semantics.md, Order policy), hand-computed fixtures. Helpers come from
test_semantics.py."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.errors import SpecConflict
from test_semantics import counts, run, stages, times

ANY = textwrap.dedent(
    """\
    sources:
      h: {path: h.csv, shape: long, id: id, stage: stage, at: at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: MQL}
      - {name: won, match: Won}
    window: 10d
    order: any
    """
)
BEST = ANY + "attempts: best\n"

# Days of January 2025, window 10 days.
# 1: Won 1, MQL 3, New 5 (backwards): anchor Jan 1, all three → 3 stages (Jan 1, 3, 5).
# 2: MQL 1, New 11 (exactly anchor + 10 days: counts), Won 12 (one day late) → 2 stages;
#    best: Jan 11's attempt also does 2 (New 11, Won 12): the earlier anchor, Jan 1, counts.
# 3: New 1, MQL 20, Won 22: first: anchor Jan 1, New only → 1; best: anchor Jan 20, MQL and
#    Won → 2 (entry Jan 20).
# 4: New 2, MQL 2 (one day: a tie counts) → 2 stages, 0 days apart.
# 5: Won 4 only → 1 stage.
HISTORY = """\
    id,stage,at
    1,Won,2025-01-01
    1,MQL,2025-01-03
    1,New,2025-01-05
    2,MQL,2025-01-01
    2,New,2025-01-11
    2,Won,2025-01-12
    3,New,2025-01-01
    3,MQL,2025-01-20
    3,Won,2025-01-22
    4,New,2025-01-02
    4,MQL,2025-01-02
    5,Won,2025-01-04
    """

ROWS = ["stages_1", "stages_2", "stages_3"]


def test_first_anchor_counts_stages_done_in_any_order(tmp_path: Path) -> None:
    report = run(tmp_path, ANY, {"h.csv": HISTORY})
    assert list(stages(report)) == ROWS
    assert [row.label for row in report.overall.stages] == ["1 stage", "2 stages", "3 stages"]
    assert counts(report) == [5, 3, 1]
    two, three = stages(report)["stages_2"], stages(report)["stages_3"]
    # row 2 from row 1: lead 1 Jan 1 → 3 (2 days), lead 2 Jan 1 → 11 (10), lead 4 0 days
    assert times(two, "prev") == (3, 2.0, pytest.approx(8.4))
    assert two.time_from_previous.mean_days == pytest.approx(4.0)
    # row 3: lead 1, Jan 3 → 5 from row 2, Jan 1 → 5 from the anchor
    assert times(three, "prev")[:2] == (1, 2.0)
    assert times(three, "entry")[:2] == (1, 4.0)
    assert report.period.first_entry is not None and report.period.first_entry[:10] == "2025-01-01"
    assert report.period.last_entry is not None and report.period.last_entry[:10] == "2025-01-04"
    assert report.overall.sales is None  # no named stage is won
    assert report.data_quality.backwards_ids == 0  # no declared order to run backwards


def test_best_anchor_takes_the_anchor_doing_most_stages(tmp_path: Path) -> None:
    report = run(tmp_path, BEST, {"h.csv": HISTORY})
    assert counts(report) == [5, 4, 1]
    two = stages(report)["stages_2"]
    # lead 3's Jan 20 attempt adds MQL 20 → Won 22 (2 days): 2, 10, 0, 2
    assert times(two, "prev")[:2] == (4, 2.0)
    assert two.time_from_previous.mean_days == pytest.approx(3.5)
    assert report.period.last_entry is not None and report.period.last_entry[:10] == "2025-01-20"
    # lead 2: the tie between Jan 1 and Jan 11 goes to Jan 1 (entry), so --since Jan 5 drops it
    later = run(tmp_path, BEST, {"h.csv": HISTORY}, since="2025-01-05")
    assert counts(later) == [1, 1, 0]  # lead 3 only, entered Jan 20


def test_window_edge_is_inclusive(tmp_path: Path) -> None:
    data = "id,stage,at\n2,MQL,2025-01-01\n2,New,2025-01-11\n"
    assert counts(run(tmp_path, ANY, {"h.csv": data})) == [1, 1, 0]
    shorter = ANY.replace("window: 10d", "window: 9d")
    assert counts(run(tmp_path, shorter, {"h.csv": data})) == [1, 0, 0]
    to_the_second = "id,stage,at\n2,MQL,2025-01-01 00:00:00\n2,New,2025-01-11 00:00:01\n"
    assert counts(run(tmp_path, ANY, {"h.csv": to_the_second})) == [1, 0, 0]


def test_as_of_drops_later_evidence(tmp_path: Path) -> None:
    report = run(tmp_path, ANY, {"h.csv": HISTORY}, as_of="2025-01-04")
    # lead 1: Won 1, MQL 3 (New 5 is after) → 2; lead 2: MQL 1 → 1; 3: New 1; 4: 2; 5: Won 4
    assert counts(report) == [5, 2, 0]


WIDE = textwrap.dedent(
    """\
    sources:
      w: {path: w.csv, id: id}
    stages:
      - {name: lead, at: lead_at}
      - {name: qualified, at: qualified_at}
      - {name: won, at: won_at}
    window: 10d
    order: any
    """
)
# W1: no lead, won Jan 3, qualified Jan 5 → 2 stages. W2: all on Jan 1 (ties) → 3, 0 days.
# W3 twice: lead Jan 1 | lead Jan 20, won Jan 21 → merged lead Jan 1, won Jan 21: 1 stage
# under first and under best (a wide stage has one time, its merged earliest).
WIDE_ROWS = """\
    id,lead_at,qualified_at,won_at
    W1,,2025-01-05,2025-01-03
    W2,2025-01-01,2025-01-01,2025-01-01
    W3,2025-01-01,,
    W3,2025-01-20,,2025-01-21
    """


def test_wide_source_merged_rows(tmp_path: Path) -> None:
    report = run(tmp_path, WIDE, {"w.csv": WIDE_ROWS})
    assert counts(report) == [3, 2, 1]
    assert times(stages(report)["stages_2"], "prev")[:2] == (2, 1.0)  # 2 days and 0
    best = run(tmp_path, WIDE + "attempts: best\n", {"w.csv": WIDE_ROWS})
    assert counts(best) == [3, 2, 1]
    strict = run(tmp_path, WIDE.replace("order: any", "order: strict"), {"w.csv": WIDE_ROWS})
    assert counts(strict) == [2, 1, 1]  # W1 has no lead; W3 won too late


def _write(tmp_path: Path, yaml_text: str) -> Path:
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("won: qualified\n", "won"),
        ("lost: {match: Lost}\n", "lost"),
        ("evidence: once\n", "evidence"),
        ("attribution: last\n", "attribution"),
        ("exclude:\n  - {match: Lost, between: [lead, won]}\n", "exclude"),
    ],
)
def test_keys_that_read_named_stages_are_refused(tmp_path: Path, extra: str, key: str) -> None:
    path = _write(tmp_path, ANY + extra)
    for command in (["validate", str(path)], ["report", str(path)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "does not go with order: any" in result.stderr
        assert f"{key}:" in result.stderr


@pytest.mark.parametrize("field", ["value: amount", "within: 3d", "horizon: 7d"])
def test_stage_rules_are_refused(tmp_path: Path, field: str) -> None:
    yaml_text = ANY.replace("{name: won, match: Won}", f"{{name: won, match: Won, {field}}}")
    path = _write(tmp_path, yaml_text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"stages[2].{field.split(':')[0]}" in result.stderr
    assert "order: any" in result.stderr
    assert SpecConflict.exit_code == 2


@pytest.mark.parametrize(
    "command",
    [
        ["trace", "{path}", "1"],
        ["stalled", "{path}", "--stage", "lead"],
        ["drivers", "{path}", "--stage", "won"],
    ],
)
def test_commands_about_named_stages_are_refused(tmp_path: Path, command: list[str]) -> None:
    path = _write(tmp_path, ANY)
    result = CliRunner().invoke(app, [part.format(path=path) for part in command])
    assert result.exit_code == 2, result.output
    assert "does not go with order: any" in result.stderr


def test_every_format_says_the_rows_are_stages_done(tmp_path: Path) -> None:
    path = _write(tmp_path, ANY)
    runner = CliRunner()
    document = json.loads(runner.invoke(app, ["report", str(path), "--format", "json"]).stdout)
    assert document["funnel"]["order"] == "any"
    assert document["funnel"]["rows"] == "stages_done"
    assert [s["label"] for s in document["overall"]["stages"]] == [
        "1 stage",
        "2 stages",
        "3 stages",
    ]
    assert [s["name"] for s in document["funnel"]["stages"]] == ["lead", "qualified", "won"]
    csv_text = runner.invoke(app, ["report", str(path), "--format", "csv"]).stdout
    assert "overall,,stages_2,2 stages,3," in csv_text
    for fmt in ("markdown", "html"):
        text = runner.invoke(app, ["report", str(path), "--format", fmt]).stdout
        assert "at least N of the stages, in any order" in text and "2 stages" in text
    terminal = runner.invoke(app, ["report", str(path)], env={"COLUMNS": "200"}).stdout
    assert "at least N of the stages, in any order" in terminal and "3 stages" in terminal
    assert "time from the previous row" in terminal
    import openpyxl

    sheet = tmp_path / "report.xlsx"
    assert (
        runner.invoke(app, ["report", str(path), "--format", "xlsx", "-o", str(sheet)]).exit_code
        == 0
    )
    cells = [row[0] for row in openpyxl.load_workbook(sheet)["Funnel"].iter_rows(values_only=True)]
    assert cells[1:4] == ["1 stage", "2 stages", "3 stages"]
    cohorts = json.loads(runner.invoke(app, ["cohorts", str(path), "--format", "json"]).stdout)
    assert cohorts["funnel"]["rows"] == "stages_done"
    assert [s["name"] for s in cohorts["funnel"]["stages"]] == ROWS
    plain = _write(tmp_path, ANY.replace("order: any", "order: strict"))
    strict = json.loads(runner.invoke(app, ["report", str(plain), "--format", "json"]).stdout)
    assert "rows" not in strict["funnel"]


def test_sql_shows_the_layers_and_transpiles(tmp_path: Path) -> None:
    path = _write(tmp_path, ANY)
    runner = CliRunner()
    duckdb_sql = runner.invoke(app, ["sql", str(path)]).stdout
    for layer in ('"found"', '"ranked"', '"stages_done"', '"of_1"', '"rank_3"'):
        assert layer in duckdb_sql
    for dialect in ("spark", "postgres"):
        result = runner.invoke(app, ["sql", str(path), "--dialect", dialect])
        assert result.exit_code == 0, result.stderr
    best = _write(tmp_path, BEST)
    assert runner.invoke(app, ["sql", str(best), "--dialect", "spark"]).exit_code == 0
    # PostgreSQL has no list lambdas: best over a long source is refused, naming the construct
    refused = runner.invoke(app, ["sql", str(best), "--dialect", "postgres"])
    assert refused.exit_code == 2 and "list_filter" in refused.stderr


def test_the_same_leads_under_strict(tmp_path: Path) -> None:
    # lead 1's MQL (3) is before its New (5); lead 2's before (1 < 11); lead 3's MQL is 19 days
    # late; lead 4 ties (counts); lead 5 has no New
    report = run(tmp_path, ANY.replace("order: any", "order: strict"), {"h.csv": HISTORY})
    assert counts(report) == [4, 1, 0]


def test_validate_says_any_order(tmp_path: Path) -> None:
    path = _write(tmp_path, ANY)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert "3 stages (in any order: lead, qualified, won)" in result.stdout
    document = json.loads(
        CliRunner().invoke(app, ["validate", str(path), "--format", "json"]).stdout
    )
    assert document["any_order"] is True
    plain = _write(tmp_path, ANY.replace("order: any", "order: strict"))
    strict = CliRunner().invoke(app, ["validate", str(plain), "--format", "json"]).stdout
    assert "any_order" not in json.loads(strict)


def test_documents_follow_their_schemas(tmp_path: Path) -> None:
    import jsonschema

    from funnelcli.outputs.cohorts import CohortMatrix
    from funnelcli.outputs.report import FunnelReport
    from funnelcli.outputs.summary import Summary
    from funnelcli.outputs.validation import ValidationResult

    path = _write(tmp_path, BEST)
    runner = CliRunner()
    for command, artifact in (
        ("report", FunnelReport),
        ("cohorts", CohortMatrix),
        ("summary", Summary),
        ("validate", ValidationResult),
    ):
        result = runner.invoke(app, [command, str(path), "--format", "json"])
        assert result.exit_code == 0, result.stderr
        jsonschema.validate(
            json.loads(result.stdout),
            artifact.schema_document(),
            cls=jsonschema.Draft202012Validator,
        )


def test_summary_alerts_name_the_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, ANY)
    runner = CliRunner()
    ok = runner.invoke(
        app, ["summary", str(path), "--horizon", "5d", "--fail-on", "stages_2.count < 0"]
    )
    assert ok.exit_code == 0, ok.stderr
    named = runner.invoke(app, ["summary", str(path), "--fail-on", "qualified.count < 1"])
    assert named.exit_code == 2 and "known: stages_1, stages_2, stages_3" in named.stderr


def test_histogram_of_a_row(tmp_path: Path) -> None:
    # row 2 from row 1: lead 1 2 days, lead 2 10 days, lead 4 0 → days, bins [0,1) [1,2) … [10,11)
    from funnelcli.commands.report import ReportRequest, build_report
    from funnelcli.spec import load_funnel

    funnel = load_funnel(_write(tmp_path, ANY))
    report = build_report(funnel, ReportRequest(histogram="stages_2", min_n=0))
    found = report.histogram
    assert found is not None and found.stage == "stages_2" and found.unit == "day"
    assert [(b.start_days, b.count) for b in found.bins if b.count] == [(0, 1), (2, 1), (10, 1)]
    named = CliRunner().invoke(app, ["report", str(_write(tmp_path, ANY)), "--histogram", "won"])
    assert named.exit_code == 2 and "stages: stages_1, stages_2, stages_3" in named.stderr

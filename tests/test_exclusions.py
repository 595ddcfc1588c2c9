"""`exclude:` (docs/semantics.md, Exclusions), one hand-computed fixture per rule: the onward
and funnel scopes, the exact bounds (strictly between the from-stage's time and the to-stage's,
else the from-stage's time + window / within:, else no bound), backfill's implied stages,
--as-of, wide sources, the excluded counts, and the errors of validate and report alike."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelcli.cli.root import app
from test_semantics import counts, run, stages, times

PIPELINE = """\
    sources:
      crm: {path: crm.csv, shape: long, id: lead_id, stage: stage, at: changed_at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: MQL}
      - {name: demo, match: Demo}
      - {name: paid, match: Won, value: amount}
    exclude:
      - {match: Disqualified, between: [qualified, paid]}
    """

# Seven leads (day n = 2025-01-0n); Disqualified is the exclusion between qualified and paid.
HISTORIES = {
    "L1": [("New", 1), ("MQL", 2), ("Disqualified", 3), ("Demo", 4), ("Won", 5)],  # hit
    "L2": [("New", 1), ("MQL", 2), ("Demo", 3), ("Won", 5), ("Disqualified", 6)],  # after paid
    "L3": [("New", 1), ("MQL", 2), ("Disqualified", 2), ("Won", 4)],  # tie with qualified
    "L4": [("New", 1), ("MQL", 2), ("Won", 4), ("Disqualified", 4)],  # tie with paid
    "L5": [("New", 1), ("MQL", 2), ("Disqualified", 3)],  # hit, never paid (no window)
    "L6": [("New", 1), ("Disqualified", 1), ("MQL", 2), ("Won", 3)],  # before qualified
    "L7": [("New", 1), ("MQL", 2), ("Disqualified", 3), ("Won", 5)],  # hit; demo implied
}


JAN_1 = date(2025, 1, 1)  # day n: n - 1 days later (day 32 is Feb 1)


def crm_csv(histories: dict[str, list[tuple[str, int]]], amount: str = "100") -> str:
    lines = ["lead_id,stage,changed_at,amount"]
    for lead, events in histories.items():
        lines += [
            f"{lead},{stage},{JAN_1 + timedelta(days=day - 1)},{amount}" for stage, day in events
        ]
    return "\n".join(lines) + "\n"


def test_onward_counts_before_the_to_stage_never_from_it_on(tmp_path: Path) -> None:
    report = run(tmp_path, PIPELINE, {"crm.csv": crm_csv(HISTORIES)})
    # paid: L2, L3, L4, L6 (L1, L7 hit; L5 never paid). demo: L1 (explicit, before paid), L2,
    # and by backfill from Won L3, L4, L6 and L7 (the hit stops L7 from paid on only).
    assert counts(report) == [7, 7, 6, 4]
    assert stages(report)["paid"].value_sum == 400  # the hit leads' Won rows bring no value
    assert times(stages(report)["paid"], "entry")[0] == 4  # nor a time
    [item] = report.data_quality.excluded
    assert (item.name, item.between, item.scope, item.ids) == (
        "Disqualified",
        ("qualified", "paid"),
        "onward",
        3,  # L1, L5, L7
    )


def test_funnel_scope_takes_the_id_out_of_every_stage(tmp_path: Path) -> None:
    yaml_text = PIPELINE.replace(
        "between: [qualified, paid]}", "between: [qualified, paid], scope: funnel}"
    )
    report = run(tmp_path, yaml_text, {"crm.csv": crm_csv(HISTORIES)})
    assert counts(report) == [4, 4, 4, 4]  # L2, L3, L4, L6
    assert report.data_quality.excluded[0].ids == 3


def test_strict_onward(tmp_path: Path) -> None:
    yaml_text = PIPELINE + "order: strict\n"
    report = run(tmp_path, yaml_text, {"crm.csv": crm_csv(HISTORIES)})
    # demo: L1 (day 4), L2; paid: L2 only (L1 hit; L3, L4, L6, L7 have no demo: strict stops)
    assert counts(report) == [7, 7, 2, 1]


def bounds_yaml(extra: str) -> str:
    return (
        textwrap.dedent(
            """\
        sources:
          crm: {path: crm.csv, shape: long, id: lead_id, stage: stage, at: changed_at}
        stages:
          - {name: lead, match: New}
          - {name: paid, match: Won%s}
        exclude:
          - {match: Lost, between: [lead, paid]}
        """
        )
        % extra
    )


def hit_ids(tmp_path: Path, yaml_text: str, rows: list[tuple[str, str, str]]) -> int:
    data = "lead_id,stage,changed_at,amount\n" + "".join(f"{i},{s},{t},1\n" for i, s, t in rows)
    report = run(tmp_path, textwrap.dedent(yaml_text), {"crm.csv": data})
    return report.data_quality.excluded[0].ids


@pytest.mark.parametrize(
    ("extra", "lost_at", "hit"),
    [
        # no paid: U = lead's time + window (10d), strictly before
        ("", "2025-01-10 23:59:59", 1),
        ("", "2025-01-11 00:00:00", 0),
        # no window: the to-stage's within: (5d) from the lead's time
        ("NO_WINDOW, within: 5d", "2025-01-05 23:59:59", 1),
        ("NO_WINDOW, within: 5d", "2025-01-06 00:00:00", 0),
        # neither: no upper bound
        ("NO_WINDOW", "2026-06-01 00:00:00", 1),
        # strictly after the from-stage's time
        ("", "2025-01-01 00:00:00", 0),
    ],
)
def test_bounds_when_the_to_stage_is_not_reached(
    tmp_path: Path, extra: str, lost_at: str, hit: int
) -> None:
    window = "" if "NO_WINDOW" in extra else "window: 10d\n"
    yaml_text = bounds_yaml(extra.replace("NO_WINDOW", "").rstrip(", ")) + window
    rows = [("1", "New", "2025-01-01 00:00:00"), ("1", "Lost", lost_at)]
    assert hit_ids(tmp_path, yaml_text, rows) == hit


def test_bound_is_the_to_stages_time_when_reached(tmp_path: Path) -> None:
    # paid on Jan 3: Lost at Jan 2 23:59 hits, at Jan 3 00:00 (a tie) does not.
    yaml_text = bounds_yaml("") + "window: 10d\n"
    rows = [
        ("1", "New", "2025-01-01"),
        ("1", "Won", "2025-01-03"),
        ("1", "Lost", "2025-01-02 23:59:00"),
    ]
    rows += [("2", "New", "2025-01-01"), ("2", "Won", "2025-01-03"), ("2", "Lost", "2025-01-03")]
    assert hit_ids(tmp_path, yaml_text, rows) == 1


def test_as_of_drops_later_excluding_evidence(tmp_path: Path) -> None:
    data = crm_csv({"L1": [("New", 1), ("MQL", 2), ("Disqualified", 3)]})
    assert run(tmp_path, PIPELINE, {"crm.csv": data}).data_quality.excluded[0].ids == 1
    report = run(tmp_path, PIPELINE, {"crm.csv": data}, as_of="2025-01-02T12:00:00")
    assert report.data_quality.excluded[0].ids == 0


def test_wide_source_with_at_and_when(tmp_path: Path) -> None:
    yaml_text = """\
        sources:
          leads: {path: leads.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at}
          - {name: paid, at: paid_at}
        exclude:
          - {name: churn risk, at: flagged_at, when: "reason = 'fraud'", between: [lead, trial]}
        """
    data = """\
        lead_id,created_at,trial_at,paid_at,flagged_at,reason
        1,2025-01-01,2025-01-05,2025-01-09,2025-01-03,fraud
        2,2025-01-01,2025-01-05,2025-01-09,2025-01-03,other
        3,2025-01-01,2025-01-05,2025-01-09,2025-01-06,fraud
        """
    report = run(tmp_path, yaml_text, {"leads.csv": textwrap.dedent(data)})
    assert counts(report) == [3, 2, 2]  # lead 1 not from trial on
    assert report.data_quality.excluded[0].name == "churn risk"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "{match: Lost, between: [lead, payd]}",
            r"exclude\[0\]\.between\[1\]: unknown stage 'payd' \(did you mean 'paid'\?\)",
        ),
        (
            "{match: Lost, between: [paid, lead]}",
            r"exclude\[0\]\.between: .*first before the second",
        ),
        ("{match: Lost, between: [lead]}", r"exclude\[0\]\.between"),
        (
            "{match: Lost, between: [lead, paid], scope: all}",
            r"exclude\[0\]\.scope: input should be 'onward' or 'funnel'",
        ),
        (
            "{match: Lost, betwen: [lead, paid]}",
            r"unknown key 'betwen' \(did you mean 'between'\?\)",
        ),
        ("{between: [lead, paid]}", r"exclude\[0\]: an exclusion needs match:, at: or when:"),
        (
            "{match: Lost, source: crn, between: [lead, paid]}",
            r"exclude\[0\]\.source: unknown source 'crn' \(did you mean 'crm'\?\)",
        ),
        (
            "{when: \"nope = 'x'\", between: [lead, paid]}",
            r"exclude\[0\]\.when: column 'nope' not found",
        ),
    ],
)
def test_errors_name_the_item_in_validate_and_report(
    tmp_path: Path, item: str, message: str
) -> None:
    yaml_text = bounds_yaml("").split("exclude:")[0] + f"exclude:\n  - {item}\n"
    (tmp_path / "crm.csv").write_text("lead_id,stage,changed_at\n1,New,2025-01-01\n")
    (tmp_path / "funnel.yaml").write_text(yaml_text)
    for command in ("validate", "report"):
        result = CliRunner().invoke(app, [command, str(tmp_path / "funnel.yaml")])
        assert result.exit_code != 0
        assert "Traceback" not in result.output

        assert re.search(message, result.output), (command, result.output)


def test_between_matches_stage_names_tolerantly(tmp_path: Path) -> None:
    yaml_text = bounds_yaml("").replace("[lead, paid]", "[LEAD, ' Paid']")
    rows = [("1", "New", "2025-01-01"), ("1", "Lost", "2025-01-02")]
    assert hit_ids(tmp_path, yaml_text, rows) == 1


def test_trace_and_postgres_refuse_exclusions(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(crm_csv(HISTORIES))
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(PIPELINE))
    runner = CliRunner()
    traced = runner.invoke(app, ["trace", str(tmp_path / "funnel.yaml"), "L1"])
    assert traced.exit_code == 2 and "does not explain exclude:" in traced.output
    sql = runner.invoke(app, ["sql", str(tmp_path / "funnel.yaml"), "--dialect", "postgres"])
    assert sql.exit_code == 2 and "`exclude:`" in sql.output
    spark = runner.invoke(app, ["sql", str(tmp_path / "funnel.yaml"), "--dialect", "spark"])
    assert spark.exit_code == 0 and "`xf_0`" in spark.output


def test_json_carries_excluded_only_with_exclusions(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(crm_csv(HISTORIES))
    plain = textwrap.dedent(PIPELINE).split("exclude:")[0]
    for text, present in ((textwrap.dedent(PIPELINE), True), (plain, False)):
        (tmp_path / "funnel.yaml").write_text(text)
        result = CliRunner().invoke(
            app, ["report", str(tmp_path / "funnel.yaml"), "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        quality = json.loads(result.stdout)["data_quality"]
        assert ("excluded" in quality) is present
        if present:
            assert quality["excluded"] == [
                {
                    "name": "Disqualified",
                    "between": ["qualified", "paid"],
                    "scope": "onward",
                    "ids": 3,
                }
            ]


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def sample_funnel(tmp_path: Path, name: str, item: str) -> Path:
    """A bundled funnel reading the bundled sample, with one `exclude:` item."""
    text = (SAMPLE.parent / "funnels" / f"{name}.yaml").read_text(encoding="utf-8")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("../sample_data", str(SAMPLE)) + f"exclude:\n  - {item}\n")
    return path


@pytest.mark.parametrize("scope", ["onward", "funnel"])
def test_roi_counts_are_the_reports_under_exclusions(tmp_path: Path, scope: str) -> None:
    item = (
        "{name: emea trial, at: trial_started_at, when: \"country = 'DE'\", "
        f"between: [lead, paid], scope: {scope}}}"
    )
    path = sample_funnel(tmp_path, "default", item)
    runner = CliRunner()
    report = json.loads(
        runner.invoke(app, ["report", str(path), "--by", "channel", "--format", "json"]).stdout
    )
    roi = json.loads(runner.invoke(app, ["roi", str(path), "--format", "json"]).stdout)
    assert report["data_quality"]["excluded"][0]["ids"] > 0
    groups = {
        g["key"]["channel"]: [s["count"] for s in g["stages"]]
        for g in report["breakdowns"][0]["groups"]
    }
    for channel in roi["channels"]:
        if channel["channel"] in groups:
            counts = groups[channel["channel"]]
            assert (channel["leads"], channel["qualified"], channel["customers"]) == (
                counts[0],
                counts[1],
                counts[3],
            )


def test_lists_summary_and_cohorts_run_with_exclusions(tmp_path: Path) -> None:
    path = sample_funnel(
        tmp_path, "history", "{match: Closed Lost, between: [qualified, paid], scope: funnel}"
    )
    runner = CliRunner()
    report = json.loads(runner.invoke(app, ["report", str(path), "--format", "json"]).stdout)
    assert report["data_quality"]["excluded"][0]["ids"] > 0
    for command in (
        ["stalled", str(path), "--stage", "trial"],
        ["drivers", str(path), "--stage", "paid"],
        ["summary", str(path)],
        ["report", str(path), "--top", "2", "--by", "channel", "--histogram", "paid"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    cohorts = runner.invoke(app, ["cohorts", str(path), "--format", "json"])
    assert cohorts.exit_code == 0, cohorts.output


def test_an_item_on_another_source(tmp_path: Path) -> None:
    """Stages on a wide export, the exclusion on an activity log joined on the id."""
    yaml_text = """\
        sources:
          leads: {path: leads.csv, id: lead_id}
          log: {path: log.csv, shape: long, id: lead_id, stage: action, at: at}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        window: 30d
        exclude:
          - {source: log, match: opt_out, between: [lead, paid]}
        """
    leads = """\
        lead_id,created_at,paid_at
        1,2025-01-01,2025-01-10
        2,2025-01-01,2025-01-10
        3,2025-01-01,
        """
    log = """\
        lead_id,action,at
        1,opt_out,2025-01-05
        2,call,2025-01-05
        2,opt_out,2025-01-11
        3,opt_out,2025-01-31
        """
    files = {"leads.csv": textwrap.dedent(leads), "log.csv": textwrap.dedent(log)}
    report = run(tmp_path, yaml_text, files)
    # 1 hit (Jan 5 < paid Jan 10); 2's opt-out is after paid; 3: Jan 31 = Jan 1 + 30d, not before
    assert counts(report) == [3, 1]
    assert report.data_quality.excluded[0].ids == 1


RECYCLED = {
    # Jan 1 try disqualified (Jan 3, after qualified); recycled Feb 1, clean, reaches paid.
    "R1": [
        *[("New", 1), ("MQL", 2), ("Disqualified", 3)],
        *[("New", 32), ("MQL", 33), ("Demo", 34), ("Won", 36)],
    ],
    # Jan 1 try reaches demo, disqualified before Won (Jan 4 < Jan 5); Feb 1 try: lead only.
    "R2": [("New", 1), ("MQL", 2), ("Demo", 3), ("Disqualified", 4), ("Won", 5), ("New", 32)],
}


@pytest.mark.parametrize(
    ("scope", "attempts", "expected", "hit"),
    [
        # first: R1 lead, qualified (its Feb rows are past Jan 1 + 30d), hit (Jan 3 is
        # before Jan 2 + 30d); R2 hit, cut at paid.
        ("onward", "first", [2, 2, 1, 0], 2),
        # best, onward: R1's Feb 1 try reaches paid; R2's Jan 1 try (3 stages, cut at paid)
        # beats its Feb 1 try (1 stage). The counted attempts: R2's is hit.
        ("onward", "best", [2, 2, 2, 1], 1),
        # best, funnel: an excluded try reaches no stage, so R1's Feb 1 try counts (all four)
        # and R2's Feb 1 try (lead only, no qualified time: no hit) counts. No counted
        # attempt is hit.
        ("funnel", "best", [2, 1, 1, 1], 0),
        # first, funnel: both first tries are hit: out of every stage.
        ("funnel", "first", [0, 0, 0, 0], 2),
    ],
)
def test_attempts_best_ranks_the_attempts_after_their_exclusions(
    tmp_path: Path, scope: str, attempts: str, expected: list[int], hit: int
) -> None:
    """exclude: under attempts: best: each attempt has its own exclusion hits (its own stage
    times bound them); the attempt reaching the most stages after them counts, and one a
    funnel-scope item hits reaches none (PostHog re-anchors after an excluded try)."""
    text = PIPELINE.rstrip(" ").replace(
        "between: [qualified, paid]}", f"between: [qualified, paid], scope: {scope}}}"
    )
    text += f"    window: 30d\n    order: strict\n    attempts: {attempts}\n"
    report = run(tmp_path, text, {"crm.csv": crm_csv(RECYCLED)})
    assert counts(report) == expected
    assert report.data_quality.excluded[0].ids == hit

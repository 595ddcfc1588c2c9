"""`attempts: each` (docs/semantics.md, Attempts), hand-computed fixtures: every attempt that
starts after the previous one ended counts. Helpers come from test_semantics.py."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.commands.periodic import run_periods
from funnelcli.engine import open_engine
from funnelcli.errors import SpecError, UsageError
from funnelcli.metrics.periods import PeriodRange
from funnelcli.spec import load_funnel
from funnelcli.spec.duration import Duration
from test_semantics import counts, groups, run, stages, times

EACH = """\
    sources:
      h: {path: h.csv, shape: long, id: id, stage: stage, at: at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: MQL}
      - {name: won, match: Won}
    window: 10d
    order: strict
    attempts: each
    """
NO_WINDOW = EACH.replace("    window: 10d\n", "")

# A: converts (Jan 1 → Won Jan 5), then re-enters Jan 7 (inside Jan 1's 10 days, but its
#    attempt ended at Won): a second attempt, qualified Jan 9.
# B: Jan 1 reaches lead only (MQL Jan 13 is 12 days on); New Jan 11 = Jan 1 + 10d exactly is
#    inside the running attempt; New Jan 12 starts the second attempt, qualified Jan 13.
# C: New Jan 4 falls inside the Jan 1 attempt (qualified Jan 6): ignored, one attempt.
HISTORY = """\
    id,stage,at,channel
    A,New,2025-01-01,ads
    A,MQL,2025-01-03,ads
    A,Won,2025-01-05,ads
    A,New,2025-01-07,seo
    A,MQL,2025-01-09,seo
    B,New,2025-01-01,ads
    B,New,2025-01-11,event
    B,New,2025-01-12,seo
    B,MQL,2025-01-13,seo
    C,New,2025-01-01,ads
    C,New,2025-01-04,seo
    C,MQL,2025-01-06,seo
    """


def ids(report: object) -> list[int | None]:
    return [row.ids for row in stages(report).values()]  # type: ignore[arg-type]


def test_each_counts_attempts_with_the_keys_beside_them(tmp_path: Path) -> None:
    report = run(tmp_path, EACH, {"h.csv": HISTORY})
    # attempts: A Jan 1 (won), A Jan 7 (qualified), B Jan 1 (lead), B Jan 12 (qualified),
    # C Jan 1 (qualified)
    assert counts(report) == [5, 4, 1]
    assert ids(report) == [3, 3, 1]
    assert report.overall.entered == 5
    # first: A won, B lead, C qualified; best: B's Jan 12 attempt reaches qualified
    first = run(tmp_path, EACH.replace("attempts: each", "attempts: first"), {"h.csv": HISTORY})
    best = run(tmp_path, EACH.replace("attempts: each", "attempts: best"), {"h.csv": HISTORY})
    assert (counts(first), counts(best)) == ([3, 2, 1], [3, 3, 1])
    assert ids(first) == [None, None, None]
    # qualified from lead per attempt: A 2 d, A 2 d, B 1 d, C 5 d
    qualified = stages(report)["qualified"]
    assert times(qualified, "prev")[:2] == (4, 2.0)
    assert qualified.time_from_previous.mean_days == pytest.approx(2.5)
    assert qualified.conversion_from_previous == pytest.approx(0.8)
    assert times(stages(report)["won"], "entry")[:2] == (1, 4.0)
    assert report.period.first_entry == "2025-01-01"
    assert report.period.last_entry == "2025-01-12"
    # as of Jan 13 (the latest evidence): A's Jan 7 and B's Jan 12 attempts are immature
    assert report.data_quality.immature_ids == 2
    assert report.data_quality.rows_read == {"h": 12}


def test_an_attempt_ends_at_its_last_stage_not_at_the_same_time(tmp_path: Path) -> None:
    # D converts Jan 3; a New at Jan 3 (the end itself) is not after it; Jan 4 starts attempt 2.
    data = "id,stage,at\nD,New,2025-01-01\nD,MQL,2025-01-02\nD,Won,2025-01-03\n"
    data += "D,New,2025-01-03\nD,New,2025-01-04\n"
    report = run(tmp_path, EACH, {"h.csv": data})
    assert counts(report) == [2, 1, 1]
    assert ids(report) == [1, 1, 1]


def test_without_a_window_an_unconverted_attempt_never_ends(tmp_path: Path) -> None:
    report = run(tmp_path, NO_WINDOW, {"h.csv": HISTORY})
    # A: Jan 1 converts (ends Jan 5), Jan 7 is a second attempt; B: Jan 1 reaches qualified
    # (Jan 13) and never ends, so Jan 11 and Jan 12 start nothing; C: one attempt.
    assert counts(report) == [4, 4, 1]
    assert ids(report) == [3, 3, 1]
    assert times(stages(report)["qualified"], "prev")[:2] == (4, 3.5)  # 2, 2, 12, 5 days


def test_since_picks_the_later_attempt(tmp_path: Path) -> None:
    report = run(tmp_path, EACH, {"h.csv": HISTORY}, since="2025-01-07")
    # A's Jan 7 and B's Jan 12 attempts enter; A Jan 1, B Jan 1 and C Jan 1 are outside
    assert counts(report) == [2, 2, 0]
    assert ids(report) == [2, 2, 0]
    assert report.data_quality.ids_outside_period == 3
    first = EACH.replace("attempts: each", "attempts: first")
    assert counts(run(tmp_path, first, {"h.csv": HISTORY}, since="2025-01-07")) == [0, 0, 0]


def test_by_is_the_value_as_of_each_attempts_entry(tmp_path: Path) -> None:
    report = run(tmp_path, EACH, {"h.csv": HISTORY}, by=(("channel",),))
    by_channel = groups(report, ("channel",))
    # ads: A Jan 1 (won), B Jan 1 (lead), C Jan 1 (qualified; its Jan 4 row says seo)
    assert counts(by_channel[("ads",)]) == [3, 2, 1]
    assert ids(by_channel[("ads",)]) == [3, 2, 1]
    # seo: A Jan 7, B Jan 12 (both qualified); B's Jan 11 "event" row anchors no attempt
    assert counts(by_channel[("seo",)]) == [2, 2, 0]
    assert set(by_channel) == {("ads",), ("seo",)}
    # the breakdown table shows the ids beside the attempts that entered
    path = tmp_path / "funnel.yaml"
    table = CliRunner().invoke(
        app, ["report", str(path), "--by", "channel"], env={"COLUMNS": "120"}
    )
    lines = table.stdout.splitlines()
    header = next(line for line in lines if line.startswith("Group"))
    assert header.split()[:3] == ["Group", "Entered", "Ids"]
    assert next(line for line in lines if line.startswith("seo")).split()[1:3] == ["2", "2"]
    assert "Ids: the ids whose attempts entered" in table.stdout
    markdown = CliRunner().invoke(app, ["report", str(path), "--by", "channel", "-f", "markdown"])
    assert "| Group | Entered | Ids |" in markdown.stdout


def test_as_of_cuts_the_chain(tmp_path: Path) -> None:
    # As of Jan 6, A's Won (Jan 5) is evidence and its Jan 7 re-entry is not: 3 attempts.
    report = run(tmp_path, EACH, {"h.csv": HISTORY}, as_of="2025-01-06")
    assert counts(report) == [3, 2, 1]
    assert ids(report) == [3, 2, 1]


def test_horizons_count_within_them_on_the_same_attempts(tmp_path: Path) -> None:
    # A horizon of 1 day (summaries) counts qualified only for B's Jan 12 attempt (1 day), on
    # the same five attempts: the chain is built without it (A's Jan 7 attempt exists because
    # A's Jan 1 attempt converted within the window, whatever the horizon).
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(EACH), encoding="utf-8")
    funnel = load_funnel(path)
    jan, feb = datetime(2025, 1, 1), datetime(2025, 2, 1)
    period = PeriodRange("2025-01", jan, feb, jan, feb)
    with open_engine(funnel) as engine:
        for horizon, expected in ((None, [5, 4, 1]), (Duration.parse("1d"), [5, 1, 0])):
            (found,) = run_periods(engine, funnel, [period], as_of=None, min_n=0, horizon=horizon)
            assert [s.count for s in found.overall.stages] == expected


def test_json_and_csv_carry_ids_only_under_each(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    for attempts in ("each", "best"):
        path.write_text(textwrap.dedent(EACH).replace("each", attempts), encoding="utf-8")
        result = CliRunner().invoke(app, ["report", str(path), "-f", "json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["funnel"]["attempts"] == attempts
        found = [s.get("ids") for s in document["overall"]["stages"]]
        assert found == ([3, 3, 1] if attempts == "each" else [None, None, None])
        csv = CliRunner().invoke(app, ["report", str(path), "-f", "csv"]).stdout
        assert csv.splitlines()[0].endswith(",ids") is (attempts == "each")
        terminal = CliRunner().invoke(app, ["report", str(path)], env={"COLUMNS": "120"}).stdout
        assert ("5 attempts entered (3 leads)" in terminal) is (attempts == "each")
        assert ("2 attempts may still convert" in terminal) is (attempts == "each")
        markdown = CliRunner().invoke(app, ["report", str(path), "-f", "markdown"]).stdout
        assert ("| lead | 5 | 3 |" in markdown) is (attempts == "each")
        assert ("Immature attempts: 2" in markdown) is (attempts == "each")
    path.write_text(textwrap.dedent(EACH), encoding="utf-8")
    cohorts = CliRunner().invoke(app, ["cohorts", str(path), "--period", "month", "-f", "json"])
    (january,) = json.loads(cohorts.stdout)["rows"]
    assert [(c["count"], c["ids"]) for c in january["cells"]] == [(5, 3), (4, 3), (1, 1)]


def test_funnel_sql_shows_the_chain(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(EACH), encoding="utf-8")
    for dialect in ("duckdb", "spark"):
        result = CliRunner().invoke(
            app, ["sql", str(tmp_path / "funnel.yaml"), "--dialect", dialect]
        )
        assert result.exit_code == 0, result.output
        assert "WITH RECURSIVE" in result.stdout
        for name in ("attempt_ends", "attempt_next", "attempt_chain", "each"):
            assert name in result.stdout
    # Spark's default recursion limits (100 levels, 1,000,000 rows) are lifted for the chain
    spark = ["sql", str(tmp_path / "funnel.yaml"), "--dialect", "spark"]
    script = CliRunner().invoke(app, spark).stdout
    assert "SET spark.sql.cteRecursionLevelLimit = -1;" in script
    assert "SET spark.sql.cteRecursionRowLimit = -1;" in script
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(EACH).replace("each", "best"), "utf-8")
    assert "cteRecursion" not in CliRunner().invoke(app, spark).stdout


def test_each_needs_an_order_with_a_lower_bound_and_no_lost(tmp_path: Path) -> None:
    backfill = EACH.replace("    order: strict\n", "")
    lost = EACH.rstrip(" ") + "    lost: {match: Lost}\n"
    unordered = EACH.replace("    order: strict\n", "    order: any\n")
    for text, message in (
        (backfill, "attempts: each needs order: strict or order: sequence"),
        (lost, "attempts: each is not combined with lost: yet"),
        (unordered, "attempts: attempts: each does not go with order: any yet"),
    ):
        with pytest.raises(SpecError, match=r"funnel.yaml:\d+: attempts: "):
            run(tmp_path, text, {"h.csv": HISTORY})
        for command in ("validate", "report"):
            result = CliRunner().invoke(app, [command, str(tmp_path / "funnel.yaml")])
            assert result.exit_code == 2, result.output
            assert message in result.stderr


def test_commands_listing_keys_refuse_each(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(EACH), encoding="utf-8")
    with pytest.raises(UsageError, match=r"trace does not explain attempts: each"):
        funnelcli.trace(path, "A")
    for argv in (
        ["stalled", str(path), "--stage", "lead"],
        ["drivers", str(path), "--stage", "won"],
        ["trace", str(path), "A"],
    ):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 2, result.output
        assert "attempts: each" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_worked_example_of_docs_semantics(tmp_path: Path) -> None:
    """docs/semantics.md, Attempts, "Worked example for each": a recycled lead is a second
    cycle, not a 6-month step."""
    data = """\
        id,stage,at
        1,New,2025-01-10
        1,MQL,2025-02-01
        1,New,2025-07-15
        1,MQL,2025-07-20
        1,Won,2025-08-30
        2,New,2025-01-12
        2,MQL,2025-01-20
        2,Won,2025-02-25
        2,New,2025-03-03
        3,New,2025-01-15
        3,New,2025-02-01
        3,MQL,2025-02-10
        """
    each = EACH.replace("window: 10d", "window: 90d")
    report = run(tmp_path, each, {"h.csv": data})
    assert (counts(report), ids(report)) == ([5, 4, 2], [3, 3, 2])
    qualified, won = stages(report)["qualified"], stages(report)["won"]
    assert qualified.time_from_previous.mean_days == pytest.approx((22 + 5 + 8 + 26) / 4)
    assert times(qualified, "prev")[:2] == (4, 15.0)  # median of 5, 8, 22, 26
    assert times(won, "entry")[:2] == (2, 45.0)  # 44 and 46 days
    first = each.replace("attempts: each", "attempts: first")
    best = each.replace("attempts: each", "attempts: best")
    assert counts(run(tmp_path, first, {"h.csv": data})) == [3, 3, 1]
    assert counts(run(tmp_path, best, {"h.csv": data})) == [3, 3, 2]
    since = run(tmp_path, each, {"h.csv": data}, since="2025-07-01")
    assert (counts(since), since.data_quality.ids_outside_period) == ([1, 1, 1], 4)


PERSONS = "sources:\n  events: {path: events.csv, shape: long, id: person, stage: event, at: ts}\n"
ONE_TWO_THREE = (
    "stages:\n"
    "  - {name: one, match: [step one]}\n"
    "  - {name: two, match: [step two]}\n"
    "  - {name: three, match: [step three]}\n"
    "window: 1d\n"
)
MULTIPLE_RUNS = [  # (person, event, time): user_one's three runs, user_two's one
    ("user_one", "step one", "2021-05-01 01:00"),
    ("user_one", "step two", "2021-05-01 02:00"),
    ("user_one", "step three", "2021-05-01 03:00"),
    ("user_one", "step one", "2021-05-03 01:00"),
    ("user_one", "step two", "2021-05-03 02:00"),
    ("user_one", "step one", "2021-05-04 11:00"),
    ("user_one", "step two", "2021-05-04 12:00"),
    ("user_one", "step three", "2021-05-04 13:00"),
    ("user_two", "step one", "2021-05-04 18:00"),
]


def daily(tmp_path: Path, order: str, rows: list[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """Per day May 1-4 (`--since` the day `--until` the next): (attempts entered, attempts
    reaching three), PostHog's (reached_from_step_count, reached_to_step_count)."""
    data = {"events.csv": "person,event,ts\n" + "".join(f"{p},{e},{t}\n" for p, e, t in rows)}
    yaml_text = PERSONS + ONE_TWO_THREE + f"order: {order}\n"
    yaml_text += "" if "attempts" in order else "attempts: each\n"
    found = []
    for day in range(1, 5):
        since, until = f"2021-05-0{day}", f"2021-05-0{day + 1}"
        report = run(tmp_path, yaml_text, data, since=since, until=until)
        found.append((report.overall.entered, counts(report)[-1]))
    return found


def test_posthog_one_person_in_multiple_periods_and_windows(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel_trends.py,
    `test_one_person_in_multiple_periods_and_windows`: funnel trends by day with a 1-day
    window. user_one converts May 1, re-enters May 3 (reaches two; its window ends May 4
    01:00) and converts again May 4 11:00-13:00; user_two enters May 4 18:00. PostHog, per
    day (reached from, reached to): (1, 1), (0, 0), (1, 0), (2, 1), which `attempts: each`
    gives per day (attempts entered that day, those reaching the last stage). The definitions
    coincide here because nobody has two attempts in one day (PostHog counts a person once
    per day) and every run starts after the previous one ended."""
    assert daily(tmp_path, "strict", MULTIPLE_RUNS) == [(1, 1), (0, 0), (1, 0), (2, 1)]
    # under first user_one is one journey from May 1: its later runs enter no day
    first = daily(tmp_path, "strict\nattempts: first", MULTIPLE_RUNS)
    assert first == [(1, 1), (0, 0), (0, 0), (1, 0)]


def test_posthog_one_person_in_multiple_periods_and_windows_in_strict_funnel(
    tmp_path: Path,
) -> None:
    """Same file, `..._in_strict_funnel`: PostHog's strict order is `order: sequence`; a
    `blah` event breaks user_one's May 3 run between two and three and user_two's run between
    one and two. PostHog: (1, 1), (0, 0), (1, 0), (2, 1)."""
    rows = [*MULTIPLE_RUNS[:5], ("user_one", "blah", "2021-05-03 02:30")]
    rows += [("user_one", "step three", "2021-05-03 03:00"), *MULTIPLE_RUNS[5:]]
    rows += [("user_two", "blah", "2021-05-04 18:20"), ("user_two", "step two", "2021-05-04 19:00")]
    assert daily(tmp_path, "sequence", rows) == [(1, 1), (0, 0), (1, 0), (2, 1)]


def test_summary_compares_attempts_with_ids_beside_them(tmp_path: Path) -> None:
    # January: X converts Jan 4 and re-enters Jan 10 (2 attempts, 1 id); February: Y enters.
    data = "id,stage,at\nX,New,2025-01-02\nX,MQL,2025-01-03\nX,Won,2025-01-04\n"
    data += "X,New,2025-01-10\nY,New,2025-02-03\n"
    (tmp_path / "h.csv").write_text(data, encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(EACH), encoding="utf-8")
    argv = ["summary", str(path), "--period", "month", "--as-of", "2025-03-01", "-f", "json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    lead = json.loads(result.stdout)["stages"][0]["metrics"]
    assert (lead["count"]["current"], lead["count"]["previous"]) == (1, 2)
    assert (lead["ids"]["current"], lead["ids"]["previous"]) == (1, 1)
    path.write_text(textwrap.dedent(EACH).replace("each", "first"), encoding="utf-8")
    first = json.loads(CliRunner().invoke(app, argv).stdout)["stages"][0]["metrics"]
    assert "ids" not in first and first["count"]["previous"] == 1

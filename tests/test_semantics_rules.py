"""The rules of issue 16 (docs/semantics.md), one hand-computed fixture each: seconds in
durations and their exact bounds, --since/--until in the YAML's time zone, time-to-convert
means and histograms. Helpers come from test_semantics.py."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

import funnelcli
from funnelcli.errors import SpecError, UsageError
from funnelcli.metrics.histogram import histogram
from funnelcli.outputs.report import FunnelReport, Histogram
from funnelcli.spec.duration import Duration
from test_semantics import LEAD_PAID, counts, run, stages, times


def test_seconds_are_a_duration_unit() -> None:
    assert Duration.parse("15s") == Duration(seconds=15, text="15s")
    start = datetime(2025, 1, 1)
    assert Duration.parse("90061s").add_to(start) == datetime(2025, 1, 2, 1, 1, 1)
    with pytest.raises(ValueError, match=r"units: s, min, h, d, w, mo, y"):
        Duration.parse("15sec")


def test_window_in_seconds_is_inclusive_at_the_bound(tmp_path: Path) -> None:
    # window 15s: paid 14 s, 15 s (the bound: counted) and 16 s (not) after created.
    yaml_text = LEAD_PAID + "window: 15s\n"
    data = """\
        lead_id,created_at,paid_at
        1,2025-01-01 00:00:00,2025-01-01 00:00:14
        2,2025-01-01 00:00:00,2025-01-01 00:00:15
        3,2025-01-01 00:00:00,2025-01-01 00:00:16
        """
    report = run(tmp_path, yaml_text, {"leads.csv": data})
    assert counts(report) == [3, 2]
    # times from entry: 14 s and 15 s in days
    n, median, _ = times(stages(report)["paid"], "entry")
    assert n == 2 and median == pytest.approx(14.5 / 86400)


def test_within_in_seconds_is_measured_from_the_previous_stage(tmp_path: Path) -> None:
    yaml_text = """\
        sources:
          leads: {path: leads.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at}
          - {name: paid, at: paid_at, within: 30s}
        """
    # paid 30 s after trial (bound, counted), 31 s after (not); lead 3 has no trial: unchecked
    data = """\
        lead_id,created_at,trial_at,paid_at
        1,2025-01-01 00:00:00,2025-01-01 01:00:00,2025-01-01 01:00:30
        2,2025-01-01 00:00:00,2025-01-01 01:00:00,2025-01-01 01:00:31
        3,2025-01-01 00:00:00,,2025-01-05 00:00:00
        """
    report = run(tmp_path, yaml_text, {"leads.csv": data})
    assert counts(report) == [3, 3, 2]


def test_a_bad_seconds_duration_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"window.*invalid duration '1\.5s'"):
        run(tmp_path, LEAD_PAID + "window: 1.5s\n", {"leads.csv": "lead_id,created_at,paid_at\n"})


SHANGHAI = LEAD_PAID + "timezone: Asia/Shanghai\n"
# UTC times: 15:00 (Feb 28 23:00 local), 17:00 (Mar 1 01:00 local), Mar 1 02:00 (10:00 local),
# Mar 31 17:00 (Apr 1 01:00 local)
ZONED = """\
    lead_id,created_at,paid_at
    1,2025-02-28 15:00:00,
    2,2025-02-28 17:00:00,2025-03-02 00:00:00
    3,2025-03-01 02:00:00,
    4,2025-03-31 17:00:00,
    """


def test_since_and_until_are_local_dates_in_the_yaml_time_zone(tmp_path: Path) -> None:
    # --since 2025-03-01 = 2025-02-28 16:00 UTC; --until 2025-04-01 = 2025-03-31 16:00 UTC:
    # leads 2 and 3 only.
    report = run(tmp_path, SHANGHAI, {"leads.csv": ZONED}, since="2025-03-01", until="2025-04-01")
    assert counts(report) == [2, 1]
    assert report.period.since == "2025-02-28 16:00:00"
    assert report.data_quality.ids_outside_period == 2


def test_since_with_an_offset_is_that_instant(tmp_path: Path) -> None:
    # 2025-03-01T00:00+00:00 is UTC midnight whatever the YAML's zone: leads 3 and 4.
    report = run(tmp_path, SHANGHAI, {"leads.csv": ZONED}, since="2025-03-01T00:00:00+00:00")
    assert counts(report) == [2, 0]


def test_since_without_a_time_zone_is_utc(tmp_path: Path) -> None:
    report = run(tmp_path, LEAD_PAID, {"leads.csv": ZONED}, since="2025-03-01")
    assert counts(report) == [2, 0]  # leads 3 and 4


def funnel_sql(tmp_path: Path, yaml_text: str, header: str, *args: str) -> str:
    """`funnel sql` on a funnel over one CSV with this header (no rows needed)."""
    from typer.testing import CliRunner

    from funnelcli.cli import app

    (tmp_path / "leads.csv").write_text(header + "\n", encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    result = CliRunner().invoke(app, ["sql", str(tmp_path / "funnel.yaml"), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_funnel_sql_shows_a_window_in_seconds(tmp_path: Path) -> None:
    text = funnel_sql(tmp_path, LEAD_PAID + "window: 15s\n", "lead_id,created_at,paid_at")
    assert "INTERVAL '15' SECOND" in text


def test_mean_time_beside_median_and_p90(tmp_path: Path) -> None:
    yaml_text = """\
        sources:
          leads: {path: leads.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at}
          - {name: paid, at: paid_at}
        """
    # trial − lead: 1, 2, 6 days → mean 3, median 2; paid − trial: 1 (lead 1 only) and 0.5
    # (lead 2) → mean 0.75; paid − lead: 2, 2.5 → mean 2.25. Lead 3 never paid.
    data = """\
        lead_id,created_at,trial_at,paid_at
        1,2025-01-01,2025-01-02,2025-01-03
        2,2025-01-01,2025-01-03,2025-01-03 12:00
        3,2025-01-01,2025-01-07,
        """
    report = run(tmp_path, yaml_text, {"leads.csv": data})
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert trial.time_from_previous.mean_days == 3.0
    assert trial.time_from_previous.median_days == 2.0
    assert paid.time_from_previous.mean_days == 0.75
    assert paid.time_from_entry.mean_days == 2.25
    assert stages(report)["lead"].time_from_previous.mean_days is None


# --- the time-to-convert histogram ------------------------------------------------------------


def bins(found: Histogram) -> list[tuple[float, float, int]]:
    return [(b.start_days, b.end_days, b.count) for b in found.bins]


def test_histogram_unit_follows_the_spread() -> None:
    # minutes 0..119 (spread 119 < 120): minutes; 120 units → 6 per bin, 20 bins
    found = histogram("paid", [(0, 1), (119, 1)])
    assert (found.unit, found.width, len(found.bins), found.n) == ("minute", 6, 20, 2)
    # spread exactly 120 minutes: hours (0..2 h → 3 hour bins of one hour)
    found = histogram("paid", [(0, 1), (120, 2)])
    assert (found.unit, found.width) == ("hour", 1)
    assert bins(found) == [(0.0, 1 / 24, 1), (1 / 24, 2 / 24, 0), (2 / 24, 3 / 24, 2)]
    # spread 2 days: days; 12 weeks: weeks
    assert histogram("paid", [(0, 1), (2880, 1)]).unit == "day"
    assert histogram("paid", [(0, 1), (84 * 1440 - 1, 1)]).unit == "day"
    assert histogram("paid", [(0, 1), (84 * 1440, 1)]).unit == "week"


def test_histogram_bins_start_at_zero_and_stay_at_most_twenty() -> None:
    # days 5..44 (40 day-units → 2 days per bin); edges from zero: [4, 6) … [44, 46): 21 bins,
    # so 3 days per bin: [3, 6) … [42, 45): 14 bins
    found = histogram("paid", [(5 * 1440, 1), (44 * 1440, 1)])
    assert (found.unit, found.width) == ("day", 3)
    assert bins(found)[0] == (3.0, 6.0, 1) and bins(found)[-1] == (42.0, 45.0, 1)
    assert len(found.bins) == 14
    # a backwards time (negative minutes) floors into the bin below zero
    found = histogram("paid", [(-1, 1), (30, 1)])
    assert bins(found)[0][0] < 0 and found.unit == "minute"
    assert histogram("paid", []).unit is None


def test_histogram_of_a_report_hand_computed(tmp_path: Path) -> None:
    # paid − lead: 30 min, 1 h 59 min, 3 h, 23 h → minutes 30, 119, 180, 1380: spread 1350
    # (< 2 days): hours; hours 0..23 = 24 units → 2 h per bin: [0,2) 2, [2,4) 1, … [22,24) 1
    data = """\
        lead_id,created_at,paid_at
        1,2025-01-01 00:00,2025-01-01 00:30
        2,2025-01-01 00:00,2025-01-01 01:59
        3,2025-01-01 00:00,2025-01-01 03:00
        4,2025-01-01 00:00,2025-01-01 23:00
        5,2025-01-01 00:00,
        """
    report = funnelcli.report(_write(tmp_path, LEAD_PAID, data), histogram="paid")
    found = report.histogram
    assert found is not None and (found.unit, found.width, found.n) == ("hour", 2, 4)
    assert [b.count for b in found.bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert found.bins[-1].end_days == 1.0
    assert report.to_dict()["histogram"]["bins"][0] == {
        "start_days": 0.0,
        "end_days": 2 / 24,
        "count": 2,
    }
    assert "histogram" not in funnelcli.report(_write(tmp_path, LEAD_PAID, data)).to_dict()
    import jsonschema

    schema = FunnelReport.schema_document()
    jsonschema.validate(report.to_dict(), schema, cls=jsonschema.Draft202012Validator)


def _write(tmp_path: Path, yaml_text: str, data: str) -> Path:
    (tmp_path / "leads.csv").write_text(textwrap.dedent(data), encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    return tmp_path / "funnel.yaml"


def test_histogram_errors_name_the_stage(tmp_path: Path) -> None:
    path = _write(tmp_path, LEAD_PAID, "lead_id,created_at,paid_at\n")
    with pytest.raises(UsageError, match=r"--histogram: no stage 'won'; stages: lead, paid"):
        funnelcli.report(path, histogram="won")
    with pytest.raises(UsageError, match=r"'lead' is the first stage"):
        funnelcli.report(path, histogram="lead")


def test_funnel_sql_shows_the_histogram_query(tmp_path: Path) -> None:
    text = funnel_sql(tmp_path, LEAD_PAID, "lead_id,created_at,paid_at", "--histogram", "paid")
    assert text.count('"scored" AS (') == 2  # the report query, then the histogram's
    assert 'FLOOR((\n    EPOCH("qt_2") - EPOCH("qt_1")\n  ) / 60)' in text


def test_histogram_in_the_terminal_is_a_bar_chart(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    data = """\
        lead_id,created_at,paid_at
        1,2025-01-01 00:00,2025-01-01 00:30
        2,2025-01-01 00:00,2025-01-01 01:59
        3,2025-01-01 00:00,2025-01-01 03:00
        """
    path = _write(tmp_path, LEAD_PAID, data)
    env = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
    result = CliRunner().invoke(app, ["report", str(path), "--histogram", "paid"], env=env)
    assert result.exit_code == 0, result.output
    assert "Time from lead to paid: 3 ids, bins of 1 hour" in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if "hours" in line}
    # minutes 30, 119, 180 → hours: [0,1) 1, [1,2) 1, [2,3) 0, [3,4) 1; full bars for each 1
    assert set(lines) == {"0–1", "1–2", "2–3", "3–4"}
    assert "█" in lines["0–1"] and "█" not in lines["2–3"]
    markdown = CliRunner().invoke(
        app, ["report", str(path), "--histogram", "paid", "--format", "markdown"], env=env
    )
    assert "| 3–4 hours | 1 |" in markdown.stdout


# --- shared evidence: one row, several stages ------------------------------------------------

SHARED = """\
    sources:
      h: {path: h.csv, shape: long, id: id, stage: stage, at: at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: [MQL, SQL]}
      - {name: sql, match: SQL}
    """


def test_a_row_is_evidence_for_every_stage_that_matches_it(tmp_path: Path) -> None:
    # Lead 1's one SQL row fills both qualified and sql (same time: a tie, 0 days); lead 2's
    # MQL row fills qualified only.
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,SQL,2025-01-03
        2,New,2025-01-01
        2,MQL,2025-01-02
        """
    report = run(tmp_path, SHARED, {"h.csv": data})
    assert counts(report) == [2, 2, 1]
    assert times(stages(report)["sql"], "prev") == (1, 0.0, 0.0)


def test_validate_warns_when_stages_share_a_match_value(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    (tmp_path / "h.csv").write_text("id,stage,at\n1,New,2025-01-01\n", encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(SHARED), encoding="utf-8")
    result = funnelcli.validate(tmp_path / "funnel.yaml")
    assert [(s.source, s.value, s.stages) for s in result.shared_matches] == [
        ("h", "SQL", ("qualified", "sql"))
    ]
    text = CliRunner().invoke(app, ["validate", str(tmp_path / "funnel.yaml")]).stdout
    assert "warning: stages qualified and sql share the match value 'SQL' (source h)" in text
    import jsonschema

    from funnelcli.outputs.validation import ValidationResult

    document = result.to_dict()
    assert document["shared_matches"] == [
        {"source": "h", "value": "SQL", "stages": ["qualified", "sql"]}
    ]
    schema = ValidationResult.schema_document()
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    distinct = SHARED.replace("[MQL, SQL]", "MQL")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(distinct), encoding="utf-8")
    assert funnelcli.validate(tmp_path / "funnel.yaml").shared_matches == ()
    once = textwrap.dedent(SHARED) + "evidence: once\n"
    (tmp_path / "funnel.yaml").write_text(once, encoding="utf-8")
    assert funnelcli.validate(tmp_path / "funnel.yaml").shared_matches == ()


def test_evidence_once_a_row_fills_one_stage(tmp_path: Path) -> None:
    # Same data as above under `evidence: once`: lead 1's one SQL row fills qualified (the
    # earlier stage takes it), so sql has no evidence left: counts 2, 2, 0. Lead 3 has MQL
    # and SQL on one day: qualified takes (Jan 3, MQL) — the smallest stage value at the
    # earliest time — and sql takes (Jan 3, SQL): 0 days. Lead 4's two SQL rows on different
    # days fill both stages: Jan 2 (qualified) and Jan 5 (sql), 3 days.
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,SQL,2025-01-03
        2,New,2025-01-01
        2,MQL,2025-01-02
        3,New,2025-01-01
        3,SQL,2025-01-03
        3,MQL,2025-01-03
        4,New,2025-01-01
        4,SQL,2025-01-05
        4,SQL,2025-01-02
        """
    report = run(tmp_path, textwrap.dedent(SHARED) + "evidence: once\n", {"h.csv": data})
    assert counts(report) == [4, 4, 2]
    assert times(stages(report)["sql"], "prev") == (2, 1.5, 2.7)
    shared = run(tmp_path, SHARED, {"h.csv": data})
    assert counts(shared) == [4, 4, 3]


def test_funnel_sql_shows_evidence_once(tmp_path: Path) -> None:
    header = "id,stage,at"
    (tmp_path / "h.csv").write_text(header + "\n", encoding="utf-8")
    text = funnel_sql(tmp_path, textwrap.dedent(SHARED) + "evidence: once\n", header)
    assert '"qs_2"' in text and "'s': COALESCE(CAST(\"stage\" AS TEXT), '')" in text
    assert '"qs_2"' not in funnel_sql(tmp_path, SHARED, header)


# --- --top N ---------------------------------------------------------------------------------


def test_top_n_folds_the_smaller_groups_into_other(tmp_path: Path) -> None:
    from test_semantics import BREAKDOWN_CSV, groups

    # channels: ads {1,2,3} (3 entries), (none) {4,6} (2), seo {5} (1). --top 1: ads, and
    # (other) = {4,5,6}: paid {4} (4 → 9 Jan 4: 5 days); --top 2: ads, (none), (other) = seo.
    report = funnelcli.report(
        _write(tmp_path, LEAD_PAID, BREAKDOWN_CSV.lstrip("\n")), by="channel", top=1, min_n=0
    )
    found = groups(report, ("channel",))
    assert set(found) == {("ads",), ("(other)",)}
    other = found[("(other)",)]
    assert (other.entered, counts(other)) == (3, [3, 1])
    assert times(stages(other)["paid"], "prev") == (1, 5.0, 5.0)
    two = funnelcli.report(tmp_path / "funnel.yaml", by="channel", top=2, min_n=0)
    assert {k: g.entered for k, g in groups(two, ("channel",)).items()} == {
        ("ads",): 3,
        ("(none)",): 2,
        ("(other)",): 1,
    }
    # --top N at or above the number of values changes nothing
    plain = funnelcli.report(tmp_path / "funnel.yaml", by="channel", min_n=0)
    assert funnelcli.report(tmp_path / "funnel.yaml", by="channel", top=3, min_n=0) == plain


def test_funnel_sql_shows_top(tmp_path: Path) -> None:
    yaml_text = LEAD_PAID + "dimensions: [channel]\n"
    text = funnel_sql(tmp_path, yaml_text, "lead_id,created_at,paid_at,channel", "--by", "channel")
    assert "_top" not in text and "LIMIT" not in text
    text = funnel_sql(
        tmp_path, yaml_text, "lead_id,created_at,paid_at,channel", "--by", "channel", "--top", "3"
    )
    assert "ORDER BY\n          COUNT(*) DESC" in text and "LIMIT 3" in text
    assert "ELSE '(other)'" in text and 'AS "a_0_top"' in text


# --- order: sequence -------------------------------------------------------------------------

SEQUENCE = """\
    sources:
      h: {path: h.csv, shape: long, id: id, stage: stage, at: at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: MQL}
      - {name: won, match: Won}
    order: sequence
    """


def test_sequence_stops_at_a_row_between_two_stages(tmp_path: Path) -> None:
    # 1: New, Nurture (no stage), MQL → stops at lead. 2: New, New, MQL, MQL, Won → all
    # (repeats of the stage or the previous one are fine). 3: New, MQL, Won@Jan 3 and Nurture
    # @Jan 3 (a tie with Won: not between) → all. 4: New, MQL, New, Won → stops at qualified.
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,Nurture,2025-01-02
        1,MQL,2025-01-03
        2,New,2025-01-01
        2,New,2025-01-02
        2,MQL,2025-01-03
        2,MQL,2025-01-04
        2,Won,2025-01-05
        3,New,2025-01-01
        3,MQL,2025-01-02
        3,Won,2025-01-03
        3,Nurture,2025-01-03
        4,New,2025-01-01
        4,MQL,2025-01-02
        4,New,2025-01-03
        4,Won,2025-01-04
        """
    report = run(tmp_path, SEQUENCE, {"h.csv": data})
    assert counts(report) == [4, 3, 2]
    # qualified − lead over 2, 3, 4: 2, 1, 1 days; won − qualified over 2, 3: 2, 1 days
    assert times(stages(report)["qualified"], "prev")[:2] == (3, 1.0)
    assert times(stages(report)["won"], "prev")[:2] == (2, 1.5)
    strict = run(tmp_path, SEQUENCE.replace("sequence", "strict"), {"h.csv": data})
    assert counts(strict) == [4, 4, 3]


def test_sequence_needs_one_long_source_timed_by_its_at(tmp_path: Path) -> None:
    own = SEQUENCE.replace("{name: won, match: Won}", "{name: won, match: Won, at: closed}")
    with pytest.raises(SpecError, match=r"order: sequence needs every stage on one long source"):
        run(tmp_path, own, {"h.csv": "id,stage,at,closed\n"})
    wide = LEAD_PAID + "order: sequence\n"
    with pytest.raises(SpecError, match=r"funnel.yaml:\d+: order"):
        run(tmp_path, wide, {"leads.csv": "lead_id,created_at,paid_at\n"})


def test_funnel_sql_shows_the_sequence_check(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,stage,at\n", encoding="utf-8")
    text = funnel_sql(tmp_path, SEQUENCE, "id,stage,at")
    assert 'AS "events"' in text and "e.f & 3" in text and "e.f & 6" in text
    strict = funnel_sql(tmp_path, SEQUENCE.replace("sequence", "strict"), "id,stage,at")
    assert '"events"' not in strict


def test_stalled_agrees_and_trace_refuses_under_once_and_sequence(tmp_path: Path) -> None:
    # funnel stalled reads the report's own per-key layer: under once, leads 1 and 2 reached
    # qualified and not sql (the test above: counts 4, 4, 2).
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,SQL,2025-01-03
        2,New,2025-01-01
        2,MQL,2025-01-02
        3,New,2025-01-01
        3,SQL,2025-01-03
        3,MQL,2025-01-03
        4,New,2025-01-01
        4,SQL,2025-01-05
        4,SQL,2025-01-02
        """
    (tmp_path / "h.csv").write_text(textwrap.dedent(data), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(SHARED) + "evidence: once\n", encoding="utf-8")
    assert sorted(i.id for i in funnelcli.stalled(path, stage="qualified").ids) == ["1", "2"]
    with pytest.raises(UsageError, match=r"trace does not explain .*evidence: once"):
        funnelcli.trace(path, "1")
    path.write_text(textwrap.dedent(SEQUENCE), encoding="utf-8")
    with pytest.raises(UsageError, match=r"trace does not explain order: sequence"):
        funnelcli.trace(path, "1")

"""The rules of issue 16 (docs/semantics.md), one hand-computed fixture each: seconds in
durations and their exact bounds, --since/--until in the YAML's time zone, time-to-convert
means and histograms. Helpers come from test_semantics.py."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from funnelcli.errors import SpecError
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

"""docs/semantics.md, rule by rule: tiny hand-computed fixtures with exact expected numbers.

Every test writes a small CSV (or Parquet) and a funnel YAML into tmp_path, runs the library's
`build_report` and compares exact numbers. The comment above each assertion block shows the hand
computation; days are (t_k - t_{k-1}) / 86400 s, quantiles are `quantile_cont` (position
(n-1)·q in the sorted values, linear interpolation).
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

import funnelcli
from funnelcli.compile import NONE_GROUP
from funnelcli.outputs.report import FunnelReport, GroupResult, StageRow
from funnelcli.spec import load_funnel

# --- helpers --------------------------------------------------------------------------------

LEADS = "sources:\n  leads: {path: leads.csv, id: lead_id}\n"
LEAD_TRIAL_PAID = LEADS + textwrap.dedent(
    """\
    stages:
      - {name: lead, at: created_at}
      - {name: trial, at: trial_at}
      - {name: paid, at: paid_at}
    """
)
LEAD_PAID = LEADS + textwrap.dedent(
    """\
    stages:
      - {name: lead, at: created_at}
      - {name: paid, at: paid_at}
    """
)


def _text(content: str) -> str:
    return textwrap.dedent(content).lstrip("\n")


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def run(
    tmp_path: Path,
    yaml_text: str,
    files: dict[str, str | bytes],
    *,
    since: str | None = None,
    until: str | None = None,
    as_of: str | None = None,
    by: tuple[tuple[str, ...], ...] = (),
    min_n: int = 0,
) -> FunnelReport:
    """Write the data files and funnel.yaml into tmp_path and build the report."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_text(content), encoding="utf-8")
    funnel_file = tmp_path / "funnel.yaml"
    funnel_file.write_text(_text(yaml_text), encoding="utf-8")
    return funnelcli.report(
        load_funnel(funnel_file),
        since=_moment(since),
        until=_moment(until),
        as_of=_moment(as_of),
        by=by,
        min_n=min_n,
    )


def stages(group: FunnelReport | GroupResult) -> dict[str, StageRow]:
    result = group.overall if isinstance(group, FunnelReport) else group
    return {row.name: row for row in result.stages}


def counts(group: FunnelReport | GroupResult) -> list[int]:
    return [row.count for row in stages(group).values()]


def groups(report: FunnelReport, by: tuple[str, ...]) -> dict[tuple[str, ...], GroupResult]:
    """The groups of the breakdown `by`, keyed by their values in `by` order."""
    for breakdown in report.breakdowns:
        if breakdown.by == by:
            return {tuple(g.key[name] for name in by): g for g in breakdown.groups}
    raise AssertionError(f"no breakdown by {by}: {[b.by for b in report.breakdowns]}")


def times(row: StageRow, which: str) -> tuple[int, float | None, float | None]:
    stats = row.time_from_previous if which == "prev" else row.time_from_entry
    return stats.n, stats.median_days, stats.p90_days


# --- entry cohort ----------------------------------------------------------------------------


def test_entry_cohort_since_until_counts_later_stages_after_until(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-05,2024-03-01
                2,2024-01-20,
                3,2023-12-31,2024-01-10
                4,2024-02-01,2024-02-02
                5,2024-01-01,2024-01-02
            """
        },
        since="2024-01-01",
        until="2024-02-01",
    )
    # [Jan 1, Feb 1): 1 (Jan 5), 2 (Jan 20), 5 (Jan 1, the bound is inclusive) are in;
    # 3 (Dec 31) and 4 (Feb 1, the upper bound is exclusive) are outside.
    # Paid: 1 paid Mar 1 (after --until, still counted), 5 paid → 2 of 3.
    assert counts(report) == [3, 2]
    paid = stages(report)["paid"]
    assert paid.conversion_from_previous == pytest.approx(2 / 3)
    assert paid.dropped == 1
    # Time lead → paid: 1: Jan 5 → Mar 1 = 26 + 29 + 1 = 56 days; 5: 1 day. n=2, median 28.5,
    # p90 = 1 + 0.9·55 = 50.5.
    assert times(paid, "prev") == (2, pytest.approx(28.5), pytest.approx(50.5))
    dq = report.data_quality
    assert dq.ids_outside_period == 2
    assert dq.ids_without_entry_time == 0
    assert report.period.since == "2024-01-01"
    assert report.period.until == "2024-02-01"
    assert report.period.first_entry == "2024-01-01"
    assert report.period.last_entry == "2024-01-20"


def test_entry_under_backfill_falls_back_to_the_first_time_the_id_shows_up(
    tmp_path: Path,
) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2024-01-05,2024-01-06
            2,,2024-01-15
            3,,2024-02-15
        """
    }
    report = run(tmp_path, LEAD_PAID, files, since="2024-01-01", until="2024-02-01")
    # Backfill: 2 and 3 have no lead time, entry_at = their paid time. 2 (Jan 15) is in the
    # period, 3 (Feb 15) outside. Cohort {1, 2}, both paid.
    assert counts(report) == [2, 2]
    assert report.data_quality.ids_outside_period == 1
    assert report.period.last_entry == "2024-01-15"
    # Time lead → paid only for 1 (2 has no lead time): n=1, 1 day.
    assert times(stages(report)["paid"], "prev") == (1, 1.0, 1.0)


def test_a_group_is_listed_only_when_the_cohort_has_it(tmp_path: Path) -> None:
    files = {
        "leads.csv": """
            lead_id,channel,created_at,paid_at
            1,ads,2024-01-05,2024-01-09
            2,events,2023-12-20,
            3,ads,2024-02-03,
            4,,2024-01-07,
        """
    }
    report = run(
        tmp_path,
        LEAD_PAID,
        files,
        since="2024-01-01",
        until="2024-02-01",
        by=(("channel",),),
    )
    # events (2) and the second ads lead (3) entered outside January: no events row at all,
    # and the outside ids still count in data quality.
    by_channel = groups(report, ("channel",))
    assert sorted(by_channel) == [("(none)",), ("ads",)]
    assert counts(by_channel[("ads",)]) == [1, 1]
    assert counts(report) == [2, 1]
    assert report.data_quality.ids_outside_period == 2
    assert report.data_quality.rows_read == {"leads": 4}


def test_entry_under_strict_is_the_first_stage_time_only(tmp_path: Path) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2024-01-05,2024-01-06
            2,,2024-01-15
        """
    }
    report = run(tmp_path, LEAD_PAID + "order: strict\n", files, since="2024-01-01")
    # Strict: 2 never reaches stage 1, so it is not in the funnel at all (nor in data quality).
    assert counts(report) == [1, 1]
    assert report.data_quality.ids_outside_period == 0
    assert report.data_quality.ids_without_entry_time == 0


def test_ids_without_entry_time_are_excluded_by_since(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: won, when: "status = 'won'"}
        """
    )
    files = {
        "leads.csv": """
            lead_id,created_at,status
            1,2024-01-05,won
            2,,won
            3,2024-01-07,open
        """
    }
    # Without --since/--until all three are in the cohort; 2 reached won untimed → lead implied.
    everyone = run(tmp_path, yaml_text, files)
    assert counts(everyone) == [3, 2]
    assert everyone.data_quality.ids_without_entry_time == 0
    # With --since, 2 has no entry time at all (untimed won, no lead time): excluded, counted.
    report = run(tmp_path, yaml_text, files, since="2024-01-01")
    assert counts(report) == [2, 1]
    assert report.data_quality.ids_without_entry_time == 1
    assert report.data_quality.ids_outside_period == 0


# --- window and within -------------------------------------------------------------------------


def test_global_window_is_inclusive_at_the_bound(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "window: 30d\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01 00:00:00,2024-01-31 00:00:00
                2,2024-01-01 00:00:00,2024-02-01 00:00:00
                3,2024-01-01 00:00:00,2024-01-31 00:00:01
                4,2024-01-01 00:00:00,2024-01-10 00:00:00
            """
        },
        as_of="2024-06-01",
    )
    # Bound = Jan 1 + 30d = Jan 31 00:00. 1: exactly at the bound → counted; 2: a day beyond,
    # 3: one second beyond → not counted; 4: inside. Paid = {1, 4}.
    assert counts(report) == [4, 2]
    # Durations only for counted ids: 30 and 9 days → median 19.5, p90 9 + 0.9·21 = 27.9.
    assert times(stages(report)["paid"], "prev") == (2, 19.5, pytest.approx(27.9))


def test_evidence_beyond_the_window_brings_no_value(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        window: 30d
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at, value: amount}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,paid_at,amount
                1,2024-01-01,2024-01-31,10
                2,2024-01-01,2024-02-01,20
                3,2024-01-01,2024-01-10,80
            """
        },
        as_of="2024-06-01",
    )
    # 2 paid beyond the window: not reached, so its 20 is not in the sum: 10 + 80.
    assert counts(report) == [3, 2]
    assert stages(report)["paid"].value_sum == 90.0


def test_window_beyond_for_a_middle_stage_under_backfill(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_TRIAL_PAID + "window: 30d\n",
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at
                1,2024-01-01,2024-03-01,
                2,2024-01-01,2024-03-01,2024-01-20
            """
        },
        as_of="2024-06-01",
    )
    # 1: trial beyond the window → not reached. 2: trial beyond the window but paid within it →
    # paid reached, trial reached by implication (no time there).
    assert counts(report) == [2, 1, 1]
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert times(trial, "prev")[0] == 0
    assert times(paid, "prev")[0] == 0  # t_trial unknown for 2
    assert times(paid, "entry") == (1, 19.0, 19.0)


def test_within_is_measured_from_the_previous_stage(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at, within: 7d}
          - {name: paid, at: paid_at, within: 7d}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at
                1,2024-01-01,2024-01-08,
                2,2024-01-01,2024-01-09,
                3,2024-01-01,2024-01-05,2024-01-11
                4,2024-01-01,2024-01-05,2024-01-13
                5,2024-01-01,,2024-01-20
            """
        },
    )
    # trial within 7d of lead: 1 (7d, at the bound) yes, 2 (8d) no, 3 (4d) yes, 4 (4d) yes.
    # paid within 7d of trial: 3 (6d after trial, 10d after lead) yes; 4 (8d after trial) no;
    # 5 has no trial time → within unchecked → yes (and trial reached by backfill).
    # lead 5; trial {1,3,4} + 5 implied = 4; paid {3,5} = 2.
    assert counts(report) == [5, 4, 2]
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    # trial from previous: [4, 4, 7] → median 4, p90 = 4 + 0.8·3 = 6.4.
    assert times(trial, "prev") == (3, 4.0, pytest.approx(6.4))
    # paid from previous: only 3 (6 days). From entry: 3 → 10, 5 → 19: median 14.5,
    # p90 = 10 + 0.9·9 = 18.1.
    assert times(paid, "prev") == (1, 6.0, 6.0)
    assert times(paid, "entry") == (2, 14.5, pytest.approx(18.1))


def test_within_unchecked_when_the_previous_stage_did_not_qualify(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at, within: 7d}
          - {name: paid, at: paid_at, within: 2d}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at
                1,2024-01-01,2024-01-20,2024-01-30
            """
        },
    )
    # trial is 19d after lead → does not qualify, t_trial = null. paid's within (2d) is then not
    # checked (t_{k-1} unknown) → paid reached, trial implied under backfill.
    assert counts(report) == [1, 1, 1]
    assert times(stages(report)["paid"], "entry") == (1, 29.0, 29.0)


# --- earliest qualifying time ------------------------------------------------------------------


def test_long_history_counts_each_id_once_at_its_earliest_time(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          history: {path: history.csv, shape: long, id: opp_id, stage: stage, at: changed_at}
        stages:
          - {name: lead, match: Lead}
          - {name: trial, match: Trial}
          - {name: paid, match: Paid}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "history.csv": """
                opp_id,stage,changed_at
                1,Lead,2024-01-01
                1,Trial,2024-01-10
                1,Trial,2024-01-05
                1,Paid,2024-01-20
                1,Trial,2024-01-25
                2,Lead,2024-01-02
                2,Lead,2024-01-01
                2,Trial,2024-01-03
            """
        },
    )
    # 1: trial rows Jan 10, Jan 5, Jan 25 → Jan 5 (4 days after lead); paid Jan 20 (15 days
    # after Jan 5). 2: lead rows Jan 2, Jan 1 → Jan 1; trial Jan 3 (2 days). Counted once each.
    assert counts(report) == [2, 2, 1]
    assert report.data_quality.rows_read == {"history": 8}
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert times(trial, "prev") == (2, 3.0, pytest.approx(3.8))  # [2, 4]: p90 2 + 0.9·2
    assert times(paid, "prev") == (1, 15.0, 15.0)
    assert times(paid, "entry") == (1, 19.0, 19.0)
    # No backwards times: the earliest trial (Jan 5) is before paid (Jan 20).
    assert report.data_quality.backwards_ids == 0


def test_duplicate_wide_rows_keep_the_earliest_time_and_its_value(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at, value: amount}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,paid_at,amount
                1,2024-01-03,2024-01-09,70
                1,2024-01-01,2024-01-05,40
                2,2024-01-02,2024-01-12,30
                2,2024-01-02,2024-01-12,20
            """
        },
    )
    # 1: lead = min(Jan 3, Jan 1) = Jan 1, paid = min(Jan 9, Jan 5) = Jan 5 → 4 days, value of
    # the Jan 5 row = 40. 2: both rows tie at Jan 12 → the smallest value, 20; 10 days.
    assert counts(report) == [2, 2]
    paid = stages(report)["paid"]
    assert paid.value_sum == 60.0
    assert times(paid, "prev") == (2, 7.0, pytest.approx(9.4))  # [4, 10]: 4 + 0.9·6


# --- order policy --------------------------------------------------------------------------


def test_backfill_counts_a_skipped_stage_without_time_or_value(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at, value: seats}
          - {name: paid, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,seats,paid_at
                1,2024-01-01,,5,2024-01-11
                2,2024-01-01,2024-01-03,3,2024-01-05
                3,2024-01-01,,,
            """
        },
    )
    # 1 paid without a trial → counted at trial (implied). lead 3, trial 2, paid 2.
    assert counts(report) == [3, 2, 2]
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert trial.conversion_from_previous == pytest.approx(2 / 3)
    assert paid.conversion_from_previous == 1.0
    # Implied stages have no time: trial from lead only for 2 (2 days).
    assert times(trial, "prev") == (1, 2.0, 2.0)
    # paid from trial: only 2 (2 days); paid from entry: 1 → 10, 2 → 4: median 7, p90 9.4.
    assert times(paid, "prev") == (1, 2.0, 2.0)
    assert times(paid, "entry") == (2, 7.0, pytest.approx(9.4))
    # ... and no value: only 2 explicitly reached trial → 3 (1's seats=5 is not evidence).
    assert trial.value_sum == 3.0


def test_strict_stops_at_a_missing_stage_and_at_a_backwards_time(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        order: strict
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at}
          - {name: paid, at: paid_at, value: amount}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at,amount
                1,2024-01-01,,2024-01-10,100
                2,2024-01-01,2024-01-10,2024-01-05,50
                3,2024-01-01,2024-01-05,2024-01-05,30
                4,2024-01-01,2024-01-03,2024-01-08,70
            """
        },
    )
    # 1: no trial → stops at lead (its paid is discarded). 2: paid Jan 5 < trial Jan 10 →
    # stops at trial. 3: trial and paid on the same day → a tie, reaches paid. 4: in order.
    assert counts(report) == [4, 3, 2]
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert paid.conversion_from_previous == pytest.approx(2 / 3)
    assert paid.conversion_from_entry == pytest.approx(2 / 4)
    # Values of the ids that reached paid: 3 → 30, 4 → 70 (1's 100 and 2's 50 discarded).
    assert paid.value_sum == 100.0
    # trial from lead: 2 → 9, 3 → 4, 4 → 2: median 4, p90 4 + 0.8·5 = 8.
    assert times(trial, "prev") == (3, 4.0, pytest.approx(8.0))
    # paid from trial: 3 → 0, 4 → 5: median 2.5, p90 4.5.
    assert times(paid, "prev") == (2, 2.5, pytest.approx(4.5))
    # Backwards: only 2 (paid before trial); 3's tie is not backwards.
    dq = report.data_quality
    assert dq.backwards_ids == 1
    assert dq.backwards_by_stage == {"trial": 0, "paid": 1}


def test_strict_long_history_re_entry_after_the_previous_stage_qualifies(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          history: {path: history.csv, shape: long, id: opp_id, stage: stage, at: changed_at}
        order: {order}
        stages:
          - {name: lead, match: Lead}
          - {name: trial, match: Trial}
          - {name: paid, match: Paid, value: amount}
        """
    )
    files = {
        "history.csv": """
            opp_id,stage,changed_at,amount
            1,Lead,2024-01-01,
            1,Trial,2024-01-10,
            1,Paid,2024-01-05,10
            1,Paid,2024-01-15,20
            2,Lead,2024-01-01,
            2,Trial,2024-01-10,
            2,Paid,2024-01-05,40
            3,Lead,2024-01-01,
            3,Paid,2024-01-02,80
        """
    }
    strict = run(tmp_path, yaml_text.replace("{order}", "strict"), files)
    # 1: the first Paid (Jan 5) precedes Trial (Jan 10); the re-entry Jan 15 qualifies → paid
    # at Jan 15 with that row's value 20. 2: its only Paid is before Trial → stops at trial.
    # 3: no Trial → stops at lead.
    assert counts(strict) == [3, 2, 1]
    paid = stages(strict)["paid"]
    assert paid.value_sum == 20.0
    assert times(paid, "prev") == (1, 5.0, 5.0)  # Jan 10 → Jan 15
    assert times(paid, "entry") == (1, 14.0, 14.0)
    # Backwards is judged on the earliest times (m_paid = Jan 5 < m_trial = Jan 10): 1 and 2.
    assert strict.data_quality.backwards_ids == 2
    assert strict.data_quality.backwards_by_stage == {"trial": 0, "paid": 2}

    backfill = run(tmp_path, yaml_text.replace("{order}", "backfill"), files)
    # Backfill: everyone reaches paid (3's trial implied), at the earliest Paid time.
    assert counts(backfill) == [3, 3, 3]
    paid = stages(backfill)["paid"]
    assert paid.value_sum == 130.0  # 10 + 40 + 80 (the earliest Paid row's value)
    # Negative durations enter the statistics: 1 → -5, 2 → -5 (3 has no trial time).
    assert times(paid, "prev") == (2, -5.0, -5.0)
    assert backfill.data_quality.backwards_ids == 2


def test_strict_lower_bound_skips_an_untimed_stage(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        order: strict
        stages:
          - {name: lead, at: created_at}
          - {name: won, when: "status = 'won'"}
          - {name: paid, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,status,paid_at
                1,2024-01-05,won,2024-01-03
                2,2024-01-01,won,2024-01-03
                3,2024-01-01,open,2024-01-03
            """
        },
    )
    # won is untimed, so paid's lower bound is the nearest earlier known time, t_lead.
    # 1: paid Jan 3 < lead Jan 5 → stops at won. 2: reaches paid. 3: not won → stops at lead.
    assert counts(report) == [3, 2, 1]
    paid = stages(report)["paid"]
    assert times(paid, "prev") == (0, None, None)  # t_won unknown
    assert times(paid, "entry") == (1, 2.0, 2.0)
    # Backwards over known values: 1's paid (Jan 3) precedes its lead (Jan 5).
    assert report.data_quality.backwards_ids == 1
    assert report.data_quality.backwards_by_stage == {"won": 0, "paid": 1}


def test_backwards_times_are_counted_and_reported_under_backfill(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_TRIAL_PAID,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at
                1,2024-01-01,2024-01-10,2024-01-05
                2,2024-01-10,2024-01-05,2024-01-20
                3,2024-01-01,2024-01-02,2024-01-03
                4,2024-01-10,,2024-01-05
            """
        },
    )
    # All counted: lead 4, trial 4 (4 implied), paid 4.
    assert counts(report) == [4, 4, 4]
    # Backwards: 1 at paid (Jan 5 < trial Jan 10); 2 at trial (Jan 5 < lead Jan 10; its paid
    # Jan 20 ≥ max(Jan 10, Jan 5) is fine); 4 at paid (Jan 5 < lead Jan 10, trial unknown).
    dq = report.data_quality
    assert dq.backwards_ids == 3
    assert dq.backwards_by_stage == {"trial": 1, "paid": 2}
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    # trial from lead: 1 → 9, 2 → -5, 3 → 1: sorted [-5, 1, 9], median 1, p90 1 + 0.8·8 = 7.4.
    assert times(trial, "prev") == (3, 1.0, pytest.approx(7.4))
    # paid from trial: 1 → -5, 2 → 15, 3 → 1: sorted [-5, 1, 15], median 1, p90 12.2.
    assert times(paid, "prev") == (3, 1.0, pytest.approx(12.2))
    # paid from entry: 1 → 4, 2 → 10, 3 → 2, 4 → -5: sorted [-5, 2, 4, 10], median 3,
    # p90 = 4 + 0.7·6 = 8.2.
    assert times(paid, "entry") == (4, 3.0, pytest.approx(8.2))


# --- ties, dates and timestamps ----------------------------------------------------------------


def test_same_day_on_two_stages_is_a_tie_in_declared_order(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          history: {path: history.csv, shape: long, id: opp_id, stage: stage, at: changed_at}
        order: strict
        stages:
          - {name: lead, match: Lead}
          - {name: trial, match: Trial}
          - {name: paid, match: Paid}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            # File order puts Paid before Trial before Lead; declared order decides.
            "history.csv": """
                opp_id,stage,changed_at
                1,Paid,2024-01-05
                1,Trial,2024-01-05
                1,Lead,2024-01-05
            """
        },
    )
    assert counts(report) == [1, 1, 1]
    assert report.data_quality.backwards_ids == 0
    assert times(stages(report)["paid"], "entry") == (1, 0.0, 0.0)


def test_date_only_and_timestamp_columns_mixed(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "order: strict\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01,2024-01-02 12:00:00
                2,2024-01-01,2024-01-01 00:00:00
                3,2024-01-02,2024-01-01 23:59:59
            """
        },
    )
    # A date is midnight: 1 → 1.5 days; 2 → 0 days, a tie (not backwards, reaches paid under
    # strict); 3 → paid one second before midnight of Jan 2 → backwards, stopped under strict.
    assert counts(report) == [3, 2]
    assert times(stages(report)["paid"], "prev") == (2, 0.75, pytest.approx(1.35))
    assert report.data_quality.backwards_ids == 1


def test_date_only_and_timestamp_values_in_one_column(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01 06:00:00,2024-01-03
                2,2024-01-01,2024-01-02 18:00:00
            """
        },
    )
    # 1: Jan 1 06:00 → Jan 3 00:00 = 1.75 days; 2: Jan 1 00:00 → Jan 2 18:00 = 1.75 days.
    assert times(stages(report)["paid"], "prev") == (2, 1.75, 1.75)


def test_time_zone_aware_values_are_converted_to_utc(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01 00:00:00,2024-01-01T12:00:00+02:00
                2,2024-01-01 00:00:00,2024-01-02T00:00:00+00:00
            """
        },
    )
    # 1: 12:00+02:00 = 10:00 UTC → 10/24 days; 2: 1 day. Median (10/24 + 1)/2.
    paid = stages(report)["paid"]
    assert paid.time_from_previous.n == 2
    assert paid.time_from_previous.median_days == pytest.approx((10 / 24 + 1) / 2)


def test_time_zone_offsets_in_a_column_mixing_naive_and_aware_values(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01 00:00:00,2024-01-01T12:00:00+02:00
                2,2024-01-01 00:00:00,2024-01-02 00:00:00
            """
        },
    )
    # Same as above, but the paid column also holds a naive value (taken as UTC).
    paid = stages(report)["paid"]
    assert paid.time_from_previous.n == 2
    assert paid.time_from_previous.median_days == pytest.approx((10 / 24 + 1) / 2)


# --- grain ------------------------------------------------------------------------------------


ACCOUNT_LEADS = """
    lead_id,account_id,created_at,paid_at
    1,A,2024-01-05,
    2,A,2024-01-02,2024-01-20
    3,A,2024-01-10,2024-01-12
    4,B,2024-01-03,
    5,,2024-01-04,2024-01-06
    6,C,2024-01-01,2024-01-04
"""


def test_grain_account_reaches_a_stage_when_any_lead_does(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        grain: {grain}
        sources:
          leads: {path: leads.csv, id: lead_id, account: account_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        """
    )
    files = {"leads.csv": ACCOUNT_LEADS}
    by_lead = run(tmp_path, yaml_text.replace("{grain}", "lead"), files)
    # Leads: 6 entered, paid {2, 3, 5, 6} = 4.
    assert counts(by_lead) == [6, 4]
    assert by_lead.data_quality.rows_without_id == {"leads": 0}

    by_account = run(tmp_path, yaml_text.replace("{grain}", "account"), files)
    # Accounts A {1,2,3}, B {4}, C {6}; lead 5 has no account (rows_without_id).
    # A: entry = min(Jan 5, Jan 2, Jan 10) = Jan 2; paid = min(Jan 20, Jan 12) = Jan 12 (from
    # lead 3, not the entry lead) → 10 days. C: Jan 1 → Jan 4 = 3 days. B never paid.
    assert counts(by_account) == [3, 2]
    assert by_account.data_quality.rows_without_id == {"leads": 1}
    assert by_account.data_quality.rows_read == {"leads": 6}
    paid = stages(by_account)["paid"]
    assert paid.conversion_from_previous == pytest.approx(2 / 3)
    assert times(paid, "prev") == (2, 6.5, pytest.approx(9.3))  # [3, 10]: 3 + 0.9·7


def test_grain_account_maps_a_second_source_through_the_first(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        grain: account
        sources:
          leads: {path: leads.csv, id: lead_id, account: account_id}
          deals: {path: deals.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: won, source: deals, at: won_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,account_id,created_at
                1,A,2024-01-01
                2,A,2024-01-03
                3,B,2024-01-02
            """,
            "deals.csv": """
                lead_id,won_at
                2,2024-01-10
                3,2024-01-20
                9,2024-01-05
            """,
        },
    )
    # deals lead 2 → A, lead 3 → B, lead 9 has no account (empty key → rows_without_id).
    # A: Jan 1 → Jan 10 = 9 days; B: Jan 2 → Jan 20 = 18 days.
    assert counts(report) == [2, 2]
    assert report.data_quality.rows_without_id == {"leads": 0, "deals": 1}
    assert times(stages(report)["won"], "prev") == (2, 13.5, pytest.approx(17.1))


# --- the per-stage numbers on one fully hand-computed fixture -----------------------------------


FULL_YAML = LEADS + _text(
    """
    stages:
      - {name: lead, at: created_at}
      - {name: qualified, at: qualified_at, label: MQL}
      - {name: trial, at: trial_at}
      - {name: paid, at: paid_at, value: amount}
    """
)
FULL_CSV = """
    lead_id,created_at,qualified_at,trial_at,paid_at,amount,channel
    1,2024-01-01,2024-01-03,2024-01-05,2024-01-15,100,ads
    2,2024-01-01,2024-01-02,2024-01-10,,200,ads
    3,2024-01-02,2024-01-04,,2024-01-12,300,seo
    4,2024-01-02,2024-01-06,2024-01-08,,,seo
    5,2024-01-03,,,,,ads
    6,2024-01-03,2024-01-05,,,,
    7,2024-01-04,2024-01-07,2024-01-09,2024-01-20,50,seo
    8,2024-01-05,,,,,ads
"""


def test_per_stage_numbers_fully_hand_computed(tmp_path: Path) -> None:
    report = run(tmp_path, FULL_YAML, {"leads.csv": FULL_CSV})
    lead, qualified, trial, paid = stages(report).values()
    # Reached: lead all 8; qualified {1,2,3,4,6,7} = 6; trial {1,2,4,7} + 3 (paid, implied) = 5;
    # paid {1,3,7} = 3.
    assert report.overall.entered == 8
    assert counts(report) == [8, 6, 5, 3]
    assert qualified.label == "MQL"

    assert lead.conversion_from_previous is None
    assert lead.conversion_from_entry == 1.0
    assert lead.dropped is None
    assert lead.value_sum is None
    assert times(lead, "prev") == (0, None, None)
    assert times(lead, "entry") == (0, None, None)

    assert qualified.conversion_from_previous == pytest.approx(6 / 8)
    assert qualified.conversion_from_entry == pytest.approx(6 / 8)
    assert qualified.dropped == 2
    # lead → qualified: 1:2 2:1 3:2 4:4 6:2 7:3 → [1,2,2,2,3,4]; median (pos 2.5) 2;
    # p90 (pos 4.5) = 3 + 0.5·1 = 3.5. From entry is the same (stage 2).
    assert times(qualified, "prev") == (6, 2.0, pytest.approx(3.5))
    assert times(qualified, "entry") == (6, 2.0, pytest.approx(3.5))
    assert qualified.value_sum is None

    assert trial.conversion_from_previous == pytest.approx(5 / 6)
    assert trial.conversion_from_entry == pytest.approx(5 / 8)
    assert trial.dropped == 1
    # qualified → trial: 1:2 2:8 4:2 7:2 → [2,2,2,8]; median 2; p90 (pos 2.7) 2 + 0.7·6 = 6.2.
    assert times(trial, "prev") == (4, 2.0, pytest.approx(6.2))
    # lead → trial: 1:4 2:9 4:6 7:5 → [4,5,6,9]; median 5.5; p90 6 + 0.7·3 = 8.1.
    assert times(trial, "entry") == (4, 5.5, pytest.approx(8.1))

    assert paid.conversion_from_previous == pytest.approx(3 / 5)
    assert paid.conversion_from_entry == pytest.approx(3 / 8)
    assert paid.dropped == 2
    # trial → paid: 1:10 7:11 (3 has no trial time) → median 10.5; p90 10 + 0.9·1 = 10.9.
    assert times(paid, "prev") == (2, 10.5, pytest.approx(10.9))
    # lead → paid: 1:14 3:10 7:16 → [10,14,16]; median 14; p90 (pos 1.8) 14 + 0.8·2 = 15.6.
    assert times(paid, "entry") == (3, 14.0, pytest.approx(15.6))
    # value: 100 + 300 + 50 (2's 200 has no paid time → not evidence).
    assert paid.value_sum == 450.0

    dq = report.data_quality
    assert dq.rows_read == {"leads": 8}
    assert dq.rows_without_id == {"leads": 0}
    assert dq.backwards_ids == 0
    assert dq.backwards_by_stage == {"qualified": 0, "trial": 0, "paid": 0}
    assert report.period.first_entry == "2024-01-01"
    assert report.period.last_entry == "2024-01-05"
    assert report.period.as_of == "2024-01-20"  # the latest evidence time in the data


def test_rows_without_id_are_counted_and_ignored(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01,2024-01-02
                ,2024-01-01,2024-01-02
                ,2024-01-03,
            """
        },
    )
    assert counts(report) == [1, 1]
    assert report.data_quality.rows_read == {"leads": 3}
    assert report.data_quality.rows_without_id == {"leads": 2}


# --- division by zero ----------------------------------------------------------------------------


def test_a_stage_nobody_reaches_followed_by_another_gives_none(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_TRIAL_PAID,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at
                1,2024-01-01,,
                2,2024-01-02,,
            """
        },
    )
    assert counts(report) == [2, 0, 0]
    trial, paid = stages(report)["trial"], stages(report)["paid"]
    assert trial.conversion_from_previous == 0.0
    assert trial.dropped == 2
    # 0 / 0 → None, never an exception.
    assert paid.conversion_from_previous is None
    assert paid.conversion_from_entry == 0.0
    assert paid.dropped == 0
    assert times(paid, "prev") == (0, None, None)


def test_an_empty_cohort_gives_zero_counts_and_none_rates(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        window: 30d
        stages:
          - {name: lead, at: created_at}
          - {name: trial, at: trial_at}
          - {name: paid, at: paid_at, value: amount}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,trial_at,paid_at,amount
                1,2024-01-01,2024-01-02,2024-01-03,10
                2,2024-01-02,,,
            """
        },
        since="2030-01-01",
        by=(("lead_id",),),
    )
    assert report.overall.entered == 0
    assert counts(report) == [0, 0, 0]
    for row in report.overall.stages:
        assert row.conversion_from_previous is None
        assert row.conversion_from_entry is None
        assert times(row, "prev") == (0, None, None)
        assert times(row, "entry") == (0, None, None)
    assert [row.dropped for row in report.overall.stages] == [None, 0, 0]
    assert stages(report)["paid"].value_sum in (0.0, None)
    assert report.overall.immature_ids == 0
    assert report.period.immature is False
    assert report.period.first_entry is None
    assert report.period.last_entry is None
    assert report.data_quality.ids_outside_period == 2
    assert groups(report, ("lead_id",)) == {}


# --- maturity ------------------------------------------------------------------------------------


def test_immature_ids_with_as_of(tmp_path: Path) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2024-01-01,2024-01-10
            2,2024-02-01,
            3,2024-01-31,
            4,2024-02-15,2024-02-20
        """
    }
    report = run(tmp_path, LEAD_PAID + "window: 30d\n", files, as_of="2024-03-01")
    # entry + 30d > Mar 1? 1: Jan 31 no; 2: Mar 2 yes; 3: Mar 1 (not >, mature); 4: Mar 16 yes.
    assert report.overall.immature_ids == 2
    assert report.data_quality.immature_ids == 2
    assert report.period.immature is True
    assert report.period.as_of == "2024-03-01"

    matured = run(tmp_path, LEAD_PAID + "window: 30d\n", files, as_of="2024-03-16")
    # 4 matures exactly at Mar 16 → none immature.
    assert matured.overall.immature_ids == 0
    assert matured.period.immature is False


def test_immature_ids_are_counted_in_the_cohort_only(tmp_path: Path) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2024-01-01,2024-01-10
            2,2024-02-01,
            3,2024-02-15,
        """
    }
    report = run(
        tmp_path, LEAD_PAID + "window: 30d\n", files, as_of="2024-03-01", until="2024-02-10"
    )
    # Cohort {1, 2}: 2 is immature (Mar 2 > Mar 1); 3 is immature but outside the period.
    assert report.overall.entered == 2
    assert report.overall.immature_ids == 1


def test_as_of_defaults_to_the_latest_evidence_time_before_cohort_filters(
    tmp_path: Path,
) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2024-01-01,2024-01-10
            2,2024-01-20,
            3,2024-02-15,2024-02-20
        """
    }
    report = run(tmp_path, LEAD_PAID + "window: 30d\n", files, until="2024-02-01")
    # as_of = Feb 20 (3's paid, although 3 is outside the period). Cohort {1, 2}:
    # 1: Jan 31 ≤ Feb 20 mature; 2: Feb 19 ≤ Feb 20 mature → none immature.
    assert report.period.as_of == "2024-02-20"
    assert report.overall.immature_ids == 0
    report = run(tmp_path, LEAD_PAID + "window: 40d\n", files, until="2024-02-01")
    # window 40d: 2: Jan 20 + 40d = Feb 29 > Feb 20 → immature; 1: Feb 10 ≤ Feb 20 → mature.
    assert report.overall.immature_ids == 1
    assert report.period.immature is True


def test_as_of_default_includes_repeated_later_evidence(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          history: {path: history.csv, shape: long, id: opp_id, stage: stage, at: changed_at}
        window: 30d
        stages:
          - {name: lead, match: Lead}
          - {name: paid, match: Paid}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "history.csv": """
                opp_id,stage,changed_at
                1,Lead,2024-01-01
                1,Paid,2024-01-10
                1,Paid,2024-02-20
                2,Lead,2024-01-25
            """
        },
    )
    # "the latest evidence time of any stage in the data": the re-entry row Feb 20.
    # 2: Jan 25 + 30d = Feb 24 > Feb 20 → immature.
    assert report.period.as_of == "2024-02-20"
    assert report.overall.immature_ids == 1


def test_without_window_nothing_is_immature(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-02-28,
            """
        },
        as_of="2024-03-01",
    )
    assert report.overall.immature_ids == 0
    assert report.data_quality.immature_ids == 0
    assert report.period.immature is False
    assert any("window" in note for note in report.to_dict()["data_quality"]["notes"])


# --- breakdowns ----------------------------------------------------------------------------------


BREAKDOWN_CSV = """
    lead_id,created_at,paid_at,channel,segment
    1,2024-01-01,2024-01-05,ads,smb
    2,2024-01-02,,ads,ent
    3,2024-01-03,2024-01-04,ads,smb
    4,2024-01-04,2024-01-09,,smb
    5,2024-01-05,,seo,ent
    6,2024-01-06,,,ent
"""


def test_breakdown_by_channel_with_none_group_and_min_n(tmp_path: Path) -> None:
    report = run(tmp_path, LEAD_PAID, {"leads.csv": BREAKDOWN_CSV}, by=(("channel",),), min_n=2)
    assert counts(report) == [6, 3]
    by_channel = groups(report, ("channel",))
    assert set(by_channel) == {("ads",), (NONE_GROUP,), ("seo",)}
    ads, none, seo = by_channel[("ads",)], by_channel[(NONE_GROUP,)], by_channel[("seo",)]
    # ads {1,2,3}: paid {1,3}; (none) {4,6}: paid {4}; seo {5}: paid none.
    assert (ads.entered, counts(ads)) == (3, [3, 2])
    assert (none.entered, counts(none)) == (2, [2, 1])
    assert (seo.entered, counts(seo)) == (1, [1, 0])
    assert stages(ads)["paid"].conversion_from_previous == pytest.approx(2 / 3)
    assert stages(none)["paid"].conversion_from_entry == pytest.approx(1 / 2)
    assert stages(seo)["paid"].conversion_from_previous == 0.0
    # ads: 1 → 4 days, 3 → 1 day: median 2.5.
    assert times(stages(ads)["paid"], "prev") == (2, 2.5, pytest.approx(3.7))
    # min_n = 2: only seo (1 entry) is below.
    assert [ads.below_min_n, none.below_min_n, seo.below_min_n] == [False, False, True]
    assert report.overall.key == {}


def test_two_separate_breakdowns(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {"leads.csv": BREAKDOWN_CSV},
        by=(("channel",), ("segment",)),
        min_n=0,
    )
    assert [b.by for b in report.breakdowns] == [("channel",), ("segment",)]
    by_segment = groups(report, ("segment",))
    # smb {1,3,4} all paid; ent {2,5,6} none paid.
    assert {k: counts(g) for k, g in by_segment.items()} == {("smb",): [3, 3], ("ent",): [3, 0]}
    assert stages(by_segment[("ent",)])["paid"].conversion_from_previous == 0.0
    assert {k: g.entered for k, g in groups(report, ("channel",)).items()} == {
        ("ads",): 3,
        (NONE_GROUP,): 2,
        ("seo",): 1,
    }
    # The overall funnel is unaffected by the breakdowns.
    assert counts(report) == [6, 3]


def test_crossed_breakdown(tmp_path: Path) -> None:
    report = run(
        tmp_path, LEAD_PAID, {"leads.csv": BREAKDOWN_CSV}, by=(("channel", "segment"),), min_n=2
    )
    crossed = groups(report, ("channel", "segment"))
    assert {k: counts(g) for k, g in crossed.items()} == {
        ("ads", "smb"): [2, 2],
        ("ads", "ent"): [1, 0],
        (NONE_GROUP, "smb"): [1, 1],
        (NONE_GROUP, "ent"): [1, 0],
        ("seo", "ent"): [1, 0],
    }
    assert crossed[("ads", "smb")].below_min_n is False
    assert crossed[("seo", "ent")].below_min_n is True
    assert crossed[("ads", "smb")].key == {"channel": "ads", "segment": "smb"}


def test_breakdown_uses_the_value_as_of_entry(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID,
        {
            "leads.csv": """
                lead_id,created_at,paid_at,channel
                1,2024-01-05,,email
                1,2024-01-01,2024-01-09,ads
                2,,,partner
                2,2024-01-03,,web
            """
        },
        by=(("channel",),),
    )
    # 1: its earliest row (Jan 1) says ads. 2: the row without any time comes last → web.
    assert {k: g.entered for k, g in groups(report, ("channel",)).items()} == {
        ("ads",): 1,
        ("web",): 1,
    }


def test_breakdown_at_account_grain_uses_the_earliest_lead(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        grain: account
        sources:
          leads: {path: leads.csv, id: lead_id, account: account_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,account_id,created_at,paid_at,channel
                1,A,2024-01-05,2024-01-07,x
                2,A,2024-01-02,,y
                3,B,2024-01-03,,x
            """
        },
        by=(("channel",),),
    )
    # A enters with lead 2 (Jan 2, channel y), paid via lead 1; B: x.
    by_channel = groups(report, ("channel",))
    assert {k: counts(g) for k, g in by_channel.items()} == {("y",): [1, 1], ("x",): [1, 0]}


# --- several sources, when:, match:, filter: -----------------------------------------------------


def test_multiple_sources_joined_on_the_id(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        order: {order}
        sources:
          leads: {path: mqls.csv, id: mql_id}
          deals: {path: closed_deals.csv, id: mql_id}
        stages:
          - {name: mql, at: first_contact_date}
          - {name: won, source: deals, at: won_date, value: amount}
        """
    )
    files = {
        "mqls.csv": """
            mql_id,first_contact_date,origin
            m1,2024-01-01,search
            m2,2024-01-02,social
            m3,2024-01-03,search
        """,
        "closed_deals.csv": """
            mql_id,won_date,amount
            m1,2024-01-11,1000
            m3,2024-01-05,500
            m9,2024-01-07,700
        """,
    }
    backfill = run(tmp_path, yaml_text.replace("{order}", "backfill"), files)
    # m9 is only in deals: under backfill it reaches won and, by implication, mql (entry Jan 7).
    assert counts(backfill) == [4, 3]
    won = stages(backfill)["won"]
    assert won.value_sum == 2200.0
    assert won.conversion_from_previous == pytest.approx(3 / 4)
    # mql → won: m1 10 days, m3 2 days (m9 has no mql time): median 6, p90 9.2.
    assert times(won, "prev") == (2, 6.0, pytest.approx(9.2))
    assert backfill.data_quality.rows_read == {"leads": 3, "deals": 3}
    assert backfill.period.first_entry == "2024-01-01"
    assert backfill.period.last_entry == "2024-01-07"

    strict = run(tmp_path, yaml_text.replace("{order}", "strict"), files)
    # Strict: m9 never reached mql → not counted.
    assert counts(strict) == [3, 2]
    assert stages(strict)["won"].value_sum == 1500.0


def test_three_sources_join_an_id_missing_from_the_first(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          leads: {path: leads.csv, id: lead_id}
          trials: {path: trials.csv, id: lead_id}
          deals: {path: deals.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: trial, source: trials, at: trial_at}
          - {name: paid, source: deals, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at
                1,2024-01-01
                2,2024-01-02
            """,
            "trials.csv": """
                lead_id,trial_at
                1,2024-01-03
                9,2024-01-04
            """,
            "deals.csv": """
                lead_id,paid_at
                9,2024-01-10
                8,2024-01-12
            """,
        },
    )
    # Keys: 1, 2, 9 (trials + deals: one key, not two), 8 (deals only). Backfill:
    # lead 4, trial {1, 9} + 8 implied = 3, paid {9, 8} = 2.
    assert counts(report) == [4, 3, 2]
    # trial → paid: only 9 has both (6 days).
    assert times(stages(report)["paid"], "prev") == (1, 6.0, 6.0)
    assert report.data_quality.rows_read == {"leads": 2, "trials": 2, "deals": 2}


def test_columns_map_canonical_names_to_raw_headers(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          leads:
            path: leads.csv
            id: lead_id
            columns: {channel: 渠道, created_at: 创建时间}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,创建时间,paid_at,渠道
                1,2024-01-01,2024-01-03,百度
                2,2024-01-02,,百度
                3,2024-01-02,2024-01-03,微信
            """
        },
        by=(("channel",),),
    )
    assert counts(report) == [3, 2]
    assert {k: counts(g) for k, g in groups(report, ("channel",)).items()} == {
        ("百度",): [2, 1],
        ("微信",): [1, 1],
    }


def test_breakdown_attribute_from_the_first_source_that_has_it(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          leads: {path: mqls.csv, id: mql_id}
          deals: {path: closed_deals.csv, id: mql_id}
        stages:
          - {name: mql, at: first_contact_date}
          - {name: won, source: deals, at: won_date}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "mqls.csv": """
                mql_id,first_contact_date,origin
                m1,2024-01-01,search
                m2,2024-01-02,social
            """,
            "closed_deals.csv": """
                mql_id,won_date,origin,segment
                m1,2024-01-11,IGNORED,smb
                m9,2024-01-07,ALSO_IGNORED,ent
            """,
        },
        by=(("origin",), ("segment",)),
    )
    # origin comes from mqls (the first source that has it); m9 is not in mqls → (none).
    assert {k: g.entered for k, g in groups(report, ("origin",)).items()} == {
        ("search",): 1,
        ("social",): 1,
        (NONE_GROUP,): 1,
    }
    # segment only exists in deals: m2 is not there → (none).
    assert {k: g.entered for k, g in groups(report, ("segment",)).items()} == {
        ("smb",): 1,
        ("ent",): 1,
        (NONE_GROUP,): 1,
    }


PIPELINE_CSV = """
    deal_id,created_on,deal_stage,close_date,amount
    d1,2024-01-01,Won,2024-01-10,100
    d2,2024-01-01,Lost,2024-01-08,200
    d3,2024-01-02,Won,,300
    d4,2024-01-03,Engaging,,
    d5,2024-01-03,Won,2024-01-13,50
"""


def test_when_conditional_stage_on_a_snapshot_like_wide_file(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          pipeline: {path: pipeline.csv, id: deal_id}
        stages:
          - {name: opened, at: created_on}
          - {name: closed, at: close_date}
          - {name: won, at: close_date, when: "deal_stage = 'Won'", value: amount}
        """
    )
    report = run(tmp_path, yaml_text, {"pipeline.csv": PIPELINE_CSV})
    # closed: close_date not empty → d1, d2, d5. won: also deal_stage = 'Won' → d1, d5
    # (d3 is Won but has no close date → not evidence for a timed stage).
    assert counts(report) == [5, 3, 2]
    won = stages(report)["won"]
    assert won.value_sum == 150.0
    # closed and won at the same time: 0 days, a tie, not backwards.
    assert times(won, "prev") == (2, 0.0, 0.0)
    # opened → won: d1 9 days, d5 10 days.
    assert times(won, "entry") == (2, 9.5, pytest.approx(9.9))
    assert report.data_quality.backwards_ids == 0


def test_when_without_at_gives_untimed_evidence(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          pipeline: {path: pipeline.csv, id: deal_id}
        stages:
          - {name: opened, at: created_on}
          - {name: won, when: "deal_stage = 'Won'", value: amount}
        """
    )
    csv = PIPELINE_CSV + "    d1,2024-01-01,Won,2024-01-10,90\n"
    report = run(tmp_path, yaml_text, {"pipeline.csv": csv})
    # won (untimed): d1, d3, d5. No times. Value: untimed → the smallest among its rows:
    # d1 min(100, 90) = 90, d3 300, d5 50 → 440.
    assert counts(report) == [5, 3]
    won = stages(report)["won"]
    assert won.value_sum == 440.0
    assert times(won, "prev") == (0, None, None)
    assert report.data_quality.rows_read == {"pipeline": 6}


def test_match_on_a_long_source_with_several_values(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          history: {path: history.csv, shape: long, id: opp_id, stage: StageName, at: CreatedDate}
        stages:
          - {name: lead, match: [Prospecting, 线索]}
          - {name: qualified, match: [Qualification, Needs Analysis]}
          - {name: paid, match: [Closed Won, 赢单]}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "history.csv": """
                opp_id,StageName,CreatedDate
                o1,Prospecting,2024-01-01
                o1,Needs Analysis,2024-01-04
                o1,Qualification,2024-01-06
                o1,Closed Won,2024-01-11
                o2,线索,2024-01-02
                o2,Qualification,2024-01-03
                o2,输单,2024-01-05
                o3,Prospecting,2024-01-03
                o3,closed won,2024-01-04
                o4,Closed Lost,2024-01-05
            """
        },
    )
    # o1: qualified = min(Needs Analysis Jan 4, Qualification Jan 6) = Jan 4 (3 days), paid
    # Jan 11 (7 days after). o2: 线索 matches lead, qualified Jan 3 (1 day), 输单 nothing.
    # o3: "closed won" ≠ "Closed Won" (exact text) → only lead. o4: no matching stage at all.
    assert counts(report) == [3, 2, 1]
    qualified, paid = stages(report)["qualified"], stages(report)["paid"]
    assert times(qualified, "prev") == (2, 2.0, pytest.approx(2.8))
    assert times(paid, "prev") == (1, 7.0, 7.0)


def test_match_on_a_snapshot_source_implies_earlier_stages(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          deals: {path: deals.csv, shape: snapshot, id: deal_id, stage: stage}
        stages:
          - {name: created, match: [Prospecting, Demo, Closed Won, Closed Lost], at: created_at}
          - {name: prospect, match: Prospecting}
          - {name: demo, match: [Demo, Proposal]}
          - {name: won, match: Closed Won, at: closed_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "deals.csv": """
                deal_id,stage,created_at,closed_at
                1,Prospecting,2024-01-01,
                2,Demo,2024-01-02,
                3,Closed Won,2024-01-03,2024-01-13
                4,Closed Lost,2024-01-04,2024-01-08
                5,Proposal,2024-01-05,
            """
        },
    )
    # created (timed by created_at): 1,2,3,4 (Proposal is not listed) + 5 implied by demo = 5.
    # prospect (untimed, the source has no at:): 1 + implied by 2,3,5 = 4.
    # demo (untimed): 2, 5 + implied by 3 = 3. won (timed): 3.
    assert counts(report) == [5, 4, 3, 1]
    won = stages(report)["won"]
    # demo has no time → no time from previous; from entry: Jan 3 → Jan 13 = 10 days.
    assert times(won, "prev") == (0, None, None)
    assert times(won, "entry") == (1, 10.0, 10.0)
    assert times(stages(report)["demo"], "prev") == (0, None, None)


def test_filter_keeps_ids_by_their_attribute_as_of_entry(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "filter: \"country = 'CN'\"\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at,country
                1,2024-01-01,2024-01-05,CN
                2,2024-01-02,,CN
                3,2024-01-03,2024-01-04,US
                4,2024-01-04,2024-01-06,
                5,2024-01-10,,US
                5,2024-01-06,2024-01-08,CN
            """
        },
    )
    # Kept: 1, 2, 5 (its earliest row, Jan 6, says CN). Out: 3 (US), 4 (null → not true).
    assert counts(report) == [3, 2]
    assert report.data_quality.ids_filtered_out == 2
    assert report.funnel.filter == "country = 'CN'"
    # lead → paid: 1 → 4 days, 5 → 2 days.
    assert times(stages(report)["paid"], "prev") == (2, 3.0, pytest.approx(3.8))


def test_filter_counts_only_ids_in_the_period(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "filter: \"country = 'CN'\"\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at,country
                1,2024-01-01,2024-01-05,CN
                2,2024-01-02,,US
                3,2024-03-01,,US
                4,2024-03-02,,CN
            """
        },
        since="2024-01-01",
        until="2024-02-01",
    )
    # In the period: 1 (kept), 2 (filtered out). 3 and 4 are outside the period, whatever
    # their country.
    assert counts(report) == [1, 1]
    assert report.data_quality.ids_filtered_out == 1
    assert report.data_quality.ids_outside_period == 2


# --- files: globs and Parquet ------------------------------------------------------------------


def test_glob_concatenates_monthly_files(tmp_path: Path) -> None:
    yaml_text = _text(
        """
        sources:
          leads: {path: exports/leads_*.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "exports/leads_2024-01.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01,2024-01-05
                2,2024-01-15,
            """,
            # Same columns in another order (union by name).
            "exports/leads_2024-02.csv": """
                lead_id,paid_at,created_at
                3,2024-02-10,2024-02-01
                4,,2024-02-20
                5,2024-02-03,2024-02-02
            """,
            "exports/other.csv": """
                lead_id,created_at,paid_at
                99,2024-01-01,2024-01-02
            """,
        },
    )
    # 5 leads from the two matching files (other.csv does not match); paid 1 (4d), 3 (9d),
    # 5 (1d).
    assert counts(report) == [5, 3]
    assert report.data_quality.rows_read == {"leads": 5}
    assert times(stages(report)["paid"], "prev") == (3, 4.0, pytest.approx(8.0))


def test_glob_headers_are_matched_as_duckdb_matches_them(tmp_path: Path) -> None:
    # Each file of a glob is sniffed once at probe time and the union of its headers is
    # built in Python (engine/probe.by_name); it must name the columns exactly as DuckDB's
    # union_by_name read does: first appearance, ASCII case ignored, other case kept.
    yaml_text = _text(
        """
        sources:
          leads: {path: exports/*.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        dimensions: [Channel, Région]
        """
    )
    files = {
        "exports/a.csv": """
            Lead_ID,created_at,Channel,Région
            1,2024-01-01,ads,Nord
        """,
        "exports/b.csv": """
            paid_at,LEAD_ID,CHANNEL,extra,created_at,RÉGION
            2024-02-03,2,seo,x,2024-02-01,Sud
        """,
        "exports/c.csv": """
            lead_id,created_at,paid_at,channel,Région
            3,2024-03-01,2024-03-02,ads,Nord
        """,
    }
    report = run(tmp_path, yaml_text, files, by="Channel")
    assert counts(report) == [3, 2]
    groups = {g.key["Channel"]: g.entered for g in report.breakdowns[0].groups}
    assert groups == {"ads": 2, "seo": 1}
    from funnelcli.engine.probe import by_name

    each = [["Lead_ID", "created_at"], ["LEAD_ID", "x", "x_1", "Région"], ["RÉGION", "X"]]
    assert by_name(each) == ["Lead_ID", "created_at", "x", "x_1", "Région", "RÉGION"]
    import duckdb

    headers = [",".join(columns) + "\n" + ",".join("1" * len(columns)) + "\n" for columns in each]
    paths = []
    for i, text in enumerate(headers):
        (tmp_path / f"h{i}.csv").write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / f"h{i}.csv"))
    described = duckdb.connect().sql(
        f"DESCRIBE SELECT * FROM read_csv({paths!r}, union_by_name = true, header = true)"
    )
    assert [row[0] for row in described.fetchall()] == by_name(each)


def test_parquet_source(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "leads.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            COPY (
                SELECT * FROM (VALUES
                    ('1', DATE '2024-01-01', TIMESTAMP '2024-01-03 12:00:00', 10.5),
                    ('2', DATE '2024-01-02', NULL, NULL),
                    ('3', DATE '2024-01-02', TIMESTAMP '2024-01-04 00:00:00', 20.0)
                ) AS t(lead_id, created_at, paid_at, amount)
            ) TO '{path}' (FORMAT PARQUET)
            """
        )
    yaml_text = _text(
        """
        sources:
          leads: {path: leads.parquet, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at, value: amount}
        """
    )
    report = run(tmp_path, yaml_text, {})
    # 1: 2.5 days, 3: 2 days; value 30.5.
    assert counts(report) == [3, 2]
    paid = stages(report)["paid"]
    assert paid.value_sum == 30.5
    assert times(paid, "prev") == (2, 2.25, pytest.approx(2.45))
    assert report.data_quality.rows_read == {"leads": 3}


# --- durations ---------------------------------------------------------------------------------


def test_within_36h(tmp_path: Path) -> None:
    yaml_text = LEADS + _text(
        """
        stages:
          - {name: lead, at: created_at}
          - {name: demo, at: demo_at, within: 36h}
        """
    )
    report = run(
        tmp_path,
        yaml_text,
        {
            "leads.csv": """
                lead_id,created_at,demo_at
                1,2024-01-01 00:00:00,2024-01-02 12:00:00
                2,2024-01-01 00:00:00,2024-01-02 12:00:01
                3,2024-01-01 00:00:00,2024-01-02 11:00:00
            """
        },
    )
    # 36h after Jan 1 00:00 = Jan 2 12:00 (inclusive): 1 and 3 yes, 2 one second late.
    assert counts(report) == [3, 2]
    # [35h, 36h] in days: median 35.5/24, p90 (35 + 0.9·1)/24.
    assert times(stages(report)["demo"], "prev") == (
        2,
        pytest.approx(35.5 / 24),
        pytest.approx(35.9 / 24),
    )


def test_window_12w(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "window: 12w\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-01 00:00:00,2024-03-25 00:00:00
                2,2024-01-01 00:00:00,2024-03-25 00:00:01
            """
        },
        as_of="2025-01-01",
    )
    # 12w = 84 days: Jan 1 + 84d = Mar 25 (31 + 29 + 24). 1 at the bound counts, 2 does not.
    assert counts(report) == [2, 1]
    assert times(stages(report)["paid"], "prev") == (1, 84.0, 84.0)


def test_window_1mo_is_a_calendar_month(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        LEAD_PAID + "window: 1mo\n",
        {
            "leads.csv": """
                lead_id,created_at,paid_at
                1,2024-01-31 00:00:00,2024-02-29 00:00:00
                2,2024-01-31 00:00:00,2024-03-01 00:00:00
                3,2023-01-31 00:00:00,2023-02-28 00:00:00
                4,2023-01-31 00:00:00,2023-03-01 00:00:00
                5,2024-01-31 10:00:00,2024-02-29 10:00:00
                6,2024-01-31 10:00:00,2024-02-29 10:00:01
                7,2024-01-15 00:00:00,2024-02-15 00:00:00
            """
        },
        as_of="2025-01-01",
    )
    # Jan 31 2024 + 1mo = Feb 29 2024 (leap year), Jan 31 2023 + 1mo = Feb 28 2023; time of day
    # kept; Jan 15 + 1mo = Feb 15 (31 days). Paid: 1, 3, 5, 7.
    assert counts(report) == [7, 4]


def test_window_6mo(tmp_path: Path) -> None:
    files = {
        "leads.csv": """
            lead_id,created_at,paid_at
            1,2023-08-31,2024-02-29
            2,2023-08-31,2024-03-01
            3,2024-01-15,2024-07-15
            4,2024-01-15,2024-07-16
        """
    }
    report = run(tmp_path, LEAD_PAID + "window: 6mo\n", files, as_of="2024-07-31")
    # Aug 31 2023 + 6mo = Feb 29 2024; Jan 15 + 6mo = Jul 15. Paid: 1 and 3.
    assert counts(report) == [4, 2]
    # Maturity uses the same calendar arithmetic: as_of Jul 31; 3 and 4 mature on Jul 15.
    assert report.overall.immature_ids == 0
    immature = run(tmp_path, LEAD_PAID + "window: 6mo\n", files, as_of="2024-07-14")
    assert immature.overall.immature_ids == 2

"""Period bucketing (docs/summary.md): ISO week edges, the year boundary, week_start, time zones
and maturity, as exact fixtures; then the same edges through the engine with `funnel cohorts`."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

import funnelcli
from funnelcli.errors import SpecError
from funnelcli.metrics.periods import Calendar, PeriodKind, is_immature, is_partial
from funnelcli.spec import load_funnel, parse_funnel
from funnelcli.spec.duration import Duration

WEEK = Calendar(PeriodKind.week)
MONTH = Calendar(PeriodKind.month)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("moment", "label", "start"),
    [
        ("2025-01-05 23:59:59", "2025-W01", "2024-12-30"),  # Sunday: still W01
        ("2025-01-06 00:00:00", "2025-W02", "2025-01-06"),  # Monday 00:00 opens W02
        ("2024-12-30 00:00:00", "2025-W01", "2024-12-30"),  # ISO year 2025 starts in December
        ("2024-12-29 23:59:59", "2024-W52", "2024-12-23"),
        ("2021-01-03 12:00:00", "2020-W53", "2020-12-28"),  # a 53-week ISO year
        ("2026-01-01 08:00:00", "2026-W01", "2025-12-29"),
    ],
)
def test_iso_weeks_monday_start(moment: str, label: str, start: str) -> None:
    period = WEEK.containing(at(moment))
    assert (period.label, period.start) == (label, at(start))
    assert period.end - period.start == at("2025-01-08") - at("2025-01-01")
    assert (period.since, period.until) == (period.start, period.end)  # UTC: no shift


def test_week_start_sunday_labels_by_date() -> None:
    sunday = Calendar(PeriodKind.week, week_start="sunday")
    period = sunday.containing(at("2025-01-05 00:00"))  # a Sunday
    assert (period.label, period.start, period.end) == (
        "week of 2025-01-05",
        at("2025-01-05"),
        at("2025-01-12"),
    )
    assert sunday.containing(at("2025-01-04 23:59")).start == at("2024-12-29")


def test_time_zone_moves_an_entry_across_the_week_edge() -> None:
    shanghai = Calendar(PeriodKind.week, timezone="Asia/Shanghai")  # UTC+8, no DST
    # 2025-01-05 15:59 UTC is Sunday 23:59 in Shanghai; 16:00 UTC is Monday 00:00 there.
    assert shanghai.containing(at("2025-01-05 15:59:59")).label == "2025-W01"
    w02 = shanghai.containing(at("2025-01-05 16:00:00"))
    assert w02.label == "2025-W02"
    assert (w02.since, w02.until) == (at("2025-01-05 16:00"), at("2025-01-12 16:00"))
    assert WEEK.containing(at("2025-01-05 16:00:00")).label == "2025-W01"  # in UTC


def test_week_across_a_daylight_saving_change_is_167_hours() -> None:
    new_york = Calendar(PeriodKind.week, timezone="America/New_York")
    week = new_york.containing(at("2025-03-05 12:00"))  # DST starts Sunday 2025-03-09 02:00
    assert (week.label, week.since, week.until) == (
        "2025-W10",
        at("2025-03-03 05:00"),  # 00:00 EST
        at("2025-03-10 04:00"),  # 00:00 EDT
    )


def test_months_in_a_time_zone_and_shifts() -> None:
    shanghai = Calendar(PeriodKind.month, timezone="Asia/Shanghai")
    february = shanghai.containing(at("2025-01-31 16:00"))  # 2025-02-01 00:00 local
    assert (february.label, february.since, february.until) == (
        "2025-02",
        at("2025-01-31 16:00"),
        at("2025-02-28 16:00"),
    )
    assert MONTH.shift(at("2025-01-01"), -1) == at("2024-12-01")
    assert MONTH.shift(at("2024-12-01"), 1) == at("2025-01-01")
    assert MONTH.year_before(at("2025-03-01")) == at("2024-03-01")
    assert WEEK.year_before(at("2024-12-30")) == at("2024-01-01")  # 2025-W01 → 2024-W01


def test_last_complete_period() -> None:
    assert WEEK.last_complete(at("2026-01-07 19:22:06")).label == "2026-W01"
    assert WEEK.last_complete(at("2026-01-05 00:00:00")).label == "2026-W01"  # W01 just ended
    assert MONTH.last_complete(at("2026-01-01 00:00:00")).label == "2025-12"
    assert MONTH.last_complete(at("2025-12-31 23:59:59")).label == "2025-11"


def test_maturity_edges() -> None:
    w01 = WEEK.containing(at("2025-01-01"))  # until 2025-01-06
    window = Duration.parse("30d")
    assert not is_immature(w01, window, at("2025-02-05 00:00"))  # 2025-01-06 + 30d
    assert is_immature(w01, window, at("2025-02-04 23:59:59"))
    assert not is_immature(w01, None, at("2025-01-01"))  # no window, nothing immature
    assert is_partial(w01, at("2025-01-05 23:59"))
    assert not is_partial(w01, at("2025-01-06 00:00"))


def test_bad_week_start_and_timezone_name_their_keys() -> None:
    base = "sources: {leads: {path: l.csv, id: id}}\nstages: [{name: lead, at: t}]\n"
    with pytest.raises(SpecError, match=r"f.yaml:3: week_start: .*monday"):
        parse_funnel(base + "week_start: funday\n", file="f.yaml")
    with pytest.raises(SpecError, match=r"f.yaml:3: timezone: unknown time zone 'Mars/Base'"):
        parse_funnel(base + "timezone: Mars/Base\n", file="f.yaml")


def _funnel(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "leads.csv").write_text(
        textwrap.dedent(
            """\
            lead_id,created_at,paid_at
            a,2025-01-05 15:59:00,2025-01-20 00:00:00
            b,2025-01-05 16:00:00,
            c,2025-01-06 10:00:00,2025-01-07 00:00:00
            d,2025-01-13 09:00:00,
            """
        ),
        encoding="utf-8",
    )
    path = tmp_path / "funnel.yaml"
    path.write_text(
        "sources: {leads: {path: leads.csv, id: lead_id}}\n"
        "stages: [{name: lead, at: created_at}, {name: paid, at: paid_at}]\n"
        "window: 30d\n" + extra,
        encoding="utf-8",
    )
    return path


def test_cohorts_bucket_entries_by_local_week(tmp_path: Path) -> None:
    # as_of = the latest time in the data: a's paid_at, 2025-01-20 00:00 UTC (a Monday, W04).
    # UTC: a, b in W01 (Sunday); c in W02; d in W03; W04 holds only the as_of instant.
    utc = funnelcli.cohorts(load_funnel(_funnel(tmp_path, "")), period="week")
    assert [(r.label, r.entered, r.cells[1].count) for r in utc.rows] == [
        ("2025-W01", 2, 1),
        ("2025-W02", 1, 1),
        ("2025-W03", 1, 0),
        ("2025-W04", 0, 0),
    ]
    # Shanghai: a is Sunday 23:59 (W01); b is Monday 00:00 (W02), with c.
    local = funnelcli.cohorts(
        load_funnel(_funnel(tmp_path, "timezone: Asia/Shanghai\n")), period="week"
    )
    assert [(r.label, r.entered, r.cells[1].count) for r in local.rows] == [
        ("2025-W01", 1, 1),
        ("2025-W02", 2, 1),
        ("2025-W03", 1, 0),
        ("2025-W04", 0, 0),
    ]
    assert local.rows[1].cells[1].conversion_from_entry == 0.5
    assert local.rows[3].cells[1].conversion_from_entry is None  # 0 / 0 is null
    # Every cohort is younger than 30 days at as_of; W04 (to 2025-01-26 16:00 UTC) has not
    # ended, W03 (to 2025-01-19 16:00 UTC) has.
    assert [(r.immature, r.partial) for r in local.rows] == [
        (True, False),
        (True, False),
        (True, False),
        (True, True),
    ]
    assert local.rows[1].start == "2025-01-06"  # local dates
    assert local.as_of == "2025-01-20"


def test_cohorts_as_of_and_last(tmp_path: Path) -> None:
    funnel = load_funnel(_funnel(tmp_path, ""))
    weeks = funnelcli.cohorts(funnel, period="week", as_of=at("2025-01-16"), last=2)
    # The two periods up to the one containing as_of (W03); W01 is left out by --last.
    assert [(r.label, r.entered, r.cells[1].count) for r in weeks.rows] == [
        ("2025-W02", 1, 1),
        ("2025-W03", 1, 0),
    ]
    months = funnelcli.cohorts(funnel, period="month", as_of=at("2025-03-05"))
    # 2025-01 is mature: its last possible entrant (before 2025-02-01) reaches 30d by 03-03.
    assert [(r.label, r.entered, r.cells[1].count, r.immature) for r in months.rows] == [
        ("2025-01", 4, 2, False),
        ("2025-02", 0, 0, True),
        ("2025-03", 0, 0, True),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"])
def test_bucketing_matches_a_plain_reference(zone: str) -> None:
    """Property: the ISO week of an instant's local time is the week whose UTC edges hold it."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from hypothesis import given, settings
    from hypothesis import strategies as st

    calendar = Calendar(PeriodKind.week, timezone=zone)
    months = Calendar(PeriodKind.month, timezone=zone)

    @settings(max_examples=200, deadline=None)
    @given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))
    def check(moment: datetime) -> None:
        local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        year, week, _ = local.isocalendar()
        period = calendar.containing(moment)
        assert period.label == f"{year:04d}-W{week:02d}"
        assert period.since <= moment < period.until
        assert period.start.weekday() == 0 and period.end - period.start == timedelta(weeks=1)
        month = months.containing(moment)
        assert month.label == f"{local.year:04d}-{local.month:02d}"
        assert month.since <= moment < month.until

    check()

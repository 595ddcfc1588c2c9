"""Source shapes as a discriminated union (spec/models.py) and the checks shared by fields.

Every error still reads `file:line: sources.<name>.<key>: message`: pydantic's union tag (the
shape) never shows in the key, even for a source named like a shape.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest

from funnelcli.errors import SpecError
from funnelcli.metrics.periods import Calendar, PeriodKind
from funnelcli.spec import (
    Funnel,
    LongSource,
    LookupSource,
    SnapshotSource,
    WeekStart,
    WideSource,
    did_you_mean,
    parse_funnel,
)

STAGES = "stages:\n  - {name: lead, at: created_at}\n"
LEADS = "  leads: {path: l.csv, id: i}\n"


def parse(sources: str, rest: str = STAGES) -> Funnel:
    return parse_funnel("sources:\n" + sources + rest, file="f.yaml")


def test_each_shape_is_its_own_model() -> None:
    funnel = parse_funnel(
        "sources:\n"
        "  leads: {path: l.csv, id: i}\n"
        "  history: {path: h.csv, shape: long, id: i, stage: s, at: t}\n"
        "  deals: {path: d.csv, shape: snapshot, id: i, stage: s}\n"
        "  teams: {path: t.csv, shape: lookup, key: a, join: owner, map: {1: one}}\n" + STAGES,
        file="f.yaml",
    )
    sources = funnel.spec.sources
    assert [type(s) for s in sources.values()] == [
        WideSource,
        LongSource,
        SnapshotSource,
        LookupSource,
    ]
    # Every key reads on every shape; those a shape does not take are None (or empty).
    assert (sources["leads"].stage, sources["leads"].key, sources["leads"].map) == (None, None, {})
    assert (sources["teams"].id, sources["teams"].at, sources["teams"].map) == (
        None,
        None,
        {"1": "one"},
    )


@pytest.mark.parametrize(
    ("sources", "where", "message"),
    [
        (
            "  leads: {path: l.csv, id: i, join: a}\n",
            "2: sources.leads.join",
            "join: is for shape: lookup",
        ),
        (
            "  leads: {path: l.csv, shape: long, id: i, stage: s, key: a}\n",
            "2: sources.leads.key",
            "key: is for shape: lookup",
        ),
        (
            "  leads: {path: l.csv, shape: snapshot, id: i, stage: s, map: {a: b}}\n",
            "2: sources.leads.map",
            "map: is for shape: lookup",
        ),
        (
            "  leads: {path: l.csv, id: i, stage: s}\n",
            "2: sources.leads.stage",
            "stage: is for shape: long or snapshot sources",
        ),
        (
            "  leads: {path: l.csv}\n",
            "2: sources.leads",
            "required key is missing: id (the id column)",
        ),
        (
            LEADS + "  t: {path: t.csv, shape: lookup, key: a, join: b, at: x}\n",
            "3: sources.t.at",
            "a lookup source has no at:",
        ),
        (
            LEADS + "  t: {path: t.csv, shape: lookup, join: b}\n",
            "3: sources.t",
            "a lookup source needs key: (its own key column)",
        ),
        (
            LEADS + "  t: {path: t.csv, shape: lookup, key: a}\n",
            "3: sources.t",
            "a lookup source needs join: (the funnel column)",
        ),
        # a source named like a shape keeps its name in the key
        (
            "  wide: {path: l.csv, id: i, join: a}\n",
            "2: sources.wide.join",
            "join: is for shape: lookup",
        ),
        (
            "  lookup: {path: l.csv, id: i, acount: a}\n",
            "2: sources.lookup.acount",
            "unknown key 'acount' (did you mean 'account'?)",
        ),
        (
            LEADS + "  t: {path: t.csv, shape: lookup, key: a, join: b, jion: c}\n",
            "3: sources.t.jion",
            "unknown key 'jion' (did you mean 'join'?)",
        ),
        (
            "  leads: {path: l.csv, shape: tall, id: i}\n",
            "2: sources.leads.shape",
            "input should be 'wide', 'long', 'snapshot' or 'lookup', got 'tall'",
        ),
        (
            "  leads: l.csv\n",
            "2: sources.leads",
            "Input should be a valid dictionary or instance of SourceSpec",
        ),
    ],
)
def test_shape_rules_name_the_key(sources: str, where: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse(sources)
    assert str(err.value) == f"f.yaml:{where}: {message}"


def test_one_time_zone_check_for_timezone_and_tz() -> None:
    wording = "unknown time zone 'Mars/Base': use an IANA name such as UTC, Europe/Berlin"
    with pytest.raises(SpecError, match=f"f.yaml:5: timezone: {wording}"):
        parse(LEADS, STAGES + "timezone: Mars/Base\n")
    with pytest.raises(SpecError, match=f"f.yaml:2: sources.leads.tz: {wording}"):
        parse("  leads: {path: l.csv, id: i, tz: Mars/Base}\n")


ROI = (
    "stages:\n  - {name: lead, at: a}\n  - {name: paid, at: b, value: v}\n"
    "roi: {spend: {path: s.csv, month: m}, revenue: paid, subscriptions: {path: c.csv}}\n"
)


@pytest.mark.parametrize(
    ("sources", "rest", "key"),
    [
        ("  leads: {path: l.csv, id: i, account: a, delimiter: ';;'}\n", ROI, "sources.leads"),
        (
            LEADS + "  t: {path: t.csv, shape: lookup, key: a, join: b, delimiter: ';;'}\n",
            STAGES,
            "sources.t",
        ),
        (
            "  leads: {path: l.csv, id: i, account: a}\n",
            ROI.replace("month: m}", "month: m, delimiter: ';;'}"),
            "roi.spend",
        ),
        (
            "  leads: {path: l.csv, id: i, account: a}\n",
            ROI.replace("c.csv}", "c.csv, delimiter: ';;'}"),
            "roi.subscriptions",
        ),
    ],
)
def test_one_delimiter_check(sources: str, rest: str, key: str) -> None:
    with pytest.raises(SpecError, match=rf"{key}\.delimiter: delimiter must be one character"):
        parse(sources, rest)


def test_did_you_mean_takes_a_callers_guess_and_names_its_list() -> None:
    assert did_you_mean("chanel", ["channel", "owner"]) == " (did you mean 'channel'?)"
    assert did_you_mean("x", ["a", "b"], guess="b") == " (did you mean 'b'?)"
    assert did_you_mean("zzz", ["a", "b"], known="known keys") == " (known keys: a, b)"


def test_calendar_week_start_is_the_spec_enum() -> None:
    funnel = parse_funnel("sources:\n" + LEADS + STAGES + "week_start: sunday\n", file="f.yaml")
    calendar = Calendar.of(funnel.spec, PeriodKind.week)
    assert calendar.week_start is WeekStart.sunday
    assert calendar.start_of(datetime(2025, 1, 1)) == datetime(2024, 12, 29)


def test_start_up_imports_no_pydantic() -> None:
    probe = "import sys, funnelcli.cli; print('pydantic' in sys.modules, 'yaml' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"

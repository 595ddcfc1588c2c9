"""Property tests: the DuckDB query agrees with the plain-Python reference (tests/reference.py).

Hypothesis draws small CRM exports (wide, with duplicate rows; long histories with re-entries and
out-of-order stages; accounts with several leads), random definitions (order, window, within,
grain, values) and random report options (since, until, as_of, --by channel). Each example is
written as CSV + YAML into a temporary directory and run through `build_report`.


Set FUNNEL_PROPERTY_EXAMPLES to run more examples and FUNNEL_PROPERTY_RANDOM=1 to explore new
ones (the default is derandomized, so CI sees the same examples every run).
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, composite

import reference as ref
from funnelcli.commands.options import RunOptions
from funnelcli.commands.report import ReportRequest, build_report
from funnelcli.errors import UsageError
from funnelcli.outputs.report import FunnelReport, GroupResult, StageRow
from funnelcli.spec import parse_funnel
from funnelcli.spec.duration import Duration

pytestmark = pytest.mark.slow  # property tests / real datasets: the full tier (CI)

# Each example runs DuckDB (~0.25 s, most of it compiling the SQL), so only the two main
# properties get the full count.
EXAMPLES = int(os.environ.get("FUNNEL_PROPERTY_EXAMPLES", "200"))
MAIN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUNNEL_PROPERTY_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECONDARY = settings(MAIN, max_examples=max(EXAMPLES // 2, 1))
SMALL = settings(MAIN, max_examples=max(EXAMPLES // 8, 1))

# 90 days that cross two month ends (Dec 31, Jan 31) and a leap February, for `mo` arithmetic.
START = datetime(2023, 12, 20)
DAYS = 90
HOURS = (0, 9, 13, 23)  # 00:00:00 ties with a date-only value of the same day
STAGE_NAMES = ("lead", "qualified", "demo", "paid")
LONG_MATCH = {
    "lead": ("New",),
    "qualified": ("Qualified", "MQL"),
    "demo": ("Demo",),
    "paid": ("Won",),
}
# Stage values two stages share: one row is evidence for both (evidence: shared | once).
SHARED_MATCH = {"demo": ("Demo", "MQL"), "paid": ("Won", "Demo")}
NOISE = "Lost"  # a long-history stage value that no stage matches
CHANNELS = ("web", "ads", "event", "")
ACCOUNTS = ("A1", "A2", "A3", "A4")
ZONES = ("UTC", "UTC", "Asia/Shanghai", "America/New_York")
WINDOWS = (None, "10d", "2mo", "950400s")  # 950400s = 11 days
WITHINS = (None, None, "36h", "3d", "7d", "1mo", "131400s")  # 36.5 h


@dataclass(frozen=True)
class Case:
    spec: ref.Spec
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------


OFFSETS = ("Z", "+02:00", "-05:00", "+05:30")


def time_text(draw: DrawFn, day: int, zones: bool = False) -> str:
    """A date-only or timestamp cell for START + day (with a UTC offset sometimes if zones)."""
    day = min(max(day, 0), DAYS)
    moment = START + timedelta(days=day)
    if draw(st.booleans()):
        return moment.date().isoformat()
    hour = draw(st.sampled_from(HOURS))
    minute = draw(st.sampled_from((0, 30)))
    text = moment.replace(hour=hour, minute=minute).isoformat(sep=" ")
    if zones and draw(st.booleans()):
        text += draw(st.sampled_from(OFFSETS))
    return text


def maybe_time(draw: DrawFn, day: int, zones: bool = False) -> str:
    return time_text(draw, day, zones) if draw(st.integers(0, 3)) else ""


def amount_text(draw: DrawFn) -> str:
    return draw(st.sampled_from(("", "100", "250.5", "40", "1200")))


def stage_definitions(draw: DrawFn, shape: str) -> tuple[ref.Stage, ...]:
    n = draw(st.integers(2, 4))
    own_at = shape == "long" and draw(st.booleans())  # the last stage reads its own time column
    has_value = draw(st.booleans())
    shared = shape == "long" and draw(st.booleans())  # stages sharing match values
    stages = []
    for k, name in enumerate(STAGE_NAMES[:n]):
        within = draw(st.sampled_from(WITHINS)) if k else None
        last = k == n - 1
        own = "closed_at" if last and own_at else None
        at = f"{name}_at" if shape == "wide" else own
        stages.append(
            ref.Stage(
                name=name,
                at=at,
                match=(SHARED_MATCH if shared else LONG_MATCH).get(name, LONG_MATCH[name])
                if shape == "long"
                else (),
                within=Duration.parse(within) if within else None,
                value="amount" if last and has_value else None,
            )
        )
    return tuple(stages)


@composite
def definitions(draw: DrawFn, shape: str, grain: str) -> ref.Spec:
    """A funnel definition plus report options (--since, --until, --as-of, --by channel)."""
    window = draw(st.sampled_from(WINDOWS))
    since = until = as_of = None
    if draw(st.integers(0, 3)) == 0:
        since = START + timedelta(days=draw(st.integers(0, 60)), hours=draw(st.sampled_from(HOURS)))
    if draw(st.integers(0, 3)) == 0:
        until = START + timedelta(days=draw(st.integers(10, DAYS)))
    if draw(st.integers(0, 2)) == 0:
        as_of = START + timedelta(days=draw(st.integers(20, DAYS + 10)))
    stages = stage_definitions(draw, shape)
    excluding = exclusions(draw, shape, len(stages))
    # order: sequence reads one long source's at: (no stage at:)
    sequence_ok = shape == "long" and all(stage.at is None for stage in stages)
    orders = ("backfill", "strict", "sequence") if sequence_ok else ("backfill", "strict")
    order = draw(st.sampled_from(orders))
    evidence = draw(st.sampled_from(("shared", "once")))
    timezone = draw(st.sampled_from(ZONES))
    top = draw(st.sampled_from((None, None, 1, 2)))
    # attempts: best and each need an order with a lower bound (strict, sequence)
    attempts = draw(st.sampled_from(("first", "best", "each"))) if order != "backfill" else "first"
    # § Breakdowns, attribution: which row's channel --by credits (entry most often)
    named = draw(st.sampled_from([s.name for s in stages]))
    attribution = draw(st.sampled_from(("entry", "entry", "first_known", "last", f"stage:{named}")))
    if attempts == "each":  # other attributions and exclude: are SpecConflicts under each
        attribution, excluding = "entry", ()
    return ref.Spec(
        stages=stages,
        shape=shape,
        id="lead_id",
        account="account_id",
        stage_column="stage" if shape == "long" else None,
        at="changed_at" if shape == "long" else None,
        grain=grain,
        window=Duration.parse(window) if window else None,
        order=order,
        evidence=evidence,
        since=since,
        until=until,
        as_of=as_of,
        by="channel",
        timezone=timezone,
        top=top,
        attempts=attempts,
        exclude=excluding,
        attribution=attribution,
    )


EXCLUDE_MATCH = (NOISE, "Demo", "Qualified")  # a value no stage matches, or a stage's own


def exclusions(draw: DrawFn, shape: str, n: int) -> tuple[ref.Exclude, ...]:
    """0 to 2 `exclude:` items (§ Exclusions) between two drawn stages, either scope; on a
    wide export timed by its own column or a stage's, on a history by its stage values."""
    items = []
    for _ in range(draw(st.sampled_from((0, 0, 1, 1, 2)))):
        start = draw(st.integers(0, n - 2))
        end = draw(st.integers(start + 1, n - 1))
        scope = draw(st.sampled_from(("onward", "funnel")))
        if shape == "wide":
            at = draw(st.sampled_from(("disq_at", "disq_at", f"{STAGE_NAMES[end]}_at")))
            items.append(ref.Exclude(start, end, at=at, scope=scope))
        else:
            match = (draw(st.sampled_from(EXCLUDE_MATCH)),)
            at = draw(st.sampled_from((None, None, "closed_at")))
            items.append(ref.Exclude(start, end, match=match, at=at, scope=scope))
    return tuple(items)


def lead_attributes(draw: DrawFn, lead: int, grain: str) -> dict[str, str]:
    accounts = (*ACCOUNTS, "") if grain == "account" else ACCOUNTS  # "": rows without a key
    return {
        "lead_id": str(lead),
        "account_id": draw(st.sampled_from(accounts)),
        "channel": draw(st.sampled_from(CHANNELS)),
    }


def wide_rows(draw: DrawFn, spec: ref.Spec, lead: int, zones: bool) -> list[dict[str, str]]:
    row = lead_attributes(draw, lead, spec.grain)
    day = draw(st.integers(0, DAYS - 10))
    for stage in spec.stages:
        row[stage.at or ""] = maybe_time(draw, day, zones)
        day += draw(st.integers(-3, 15))  # mostly forwards, sometimes backwards
    row["amount"] = amount_text(draw)
    row["disq_at"] = maybe_time(draw, day - draw(st.integers(0, 20)), zones)
    rows = [row]
    if draw(st.integers(0, 4)) == 0:  # the same lead twice in the export
        twin = dict(row, channel=draw(st.sampled_from(CHANNELS)), amount=amount_text(draw))
        for stage in spec.stages:  # each cell: the same (ties), another time or empty
            if draw(st.booleans()):
                twin[stage.at or ""] = maybe_time(draw, draw(st.integers(0, DAYS)), zones)
        rows.append(twin)
    return rows


def long_rows(draw: DrawFn, spec: ref.Spec, lead: int, zones: bool) -> list[dict[str, str]]:
    attributes = lead_attributes(draw, lead, spec.grain)
    values = [*sorted({v for stage in spec.stages for v in stage.match}), NOISE]
    start = draw(st.integers(0, DAYS - 10))
    rows = []
    for _ in range(draw(st.integers(0, 6))):  # re-entries, stages in any order
        row = dict(attributes)
        if draw(st.integers(0, 4)) == 0:  # the channel changed along the history
            row["channel"] = draw(st.sampled_from(CHANNELS))
        row["stage"] = draw(st.sampled_from(values))
        row["changed_at"] = maybe_time(draw, start + draw(st.integers(-5, 40)), zones)
        row["closed_at"] = maybe_time(draw, start + draw(st.integers(-5, 40)), zones)
        row["amount"] = amount_text(draw)
        rows.append(row)
    return rows


@composite
def cases(draw: DrawFn, shape: str, grain: str = "lead", zones: bool = False) -> Case:
    spec = draw(definitions(shape, grain))
    leads = draw(st.integers(1, 25))
    make = wide_rows if shape == "wide" else long_rows
    rows = [row for lead in range(1, leads + 1) for row in make(draw, spec, lead, zones)]
    if not rows:  # every file gets at least one row
        rows = [dict(lead_attributes(draw, 1, grain), stage=NOISE)]
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))  # file order must not matter
    header = ["lead_id", "account_id", "channel"]
    if shape == "wide":
        header += [stage.at or "" for stage in spec.stages]
        header.append("disq_at")
    else:
        header += ["stage", "changed_at", "closed_at"]
    header.append("amount")
    return Case(spec, tuple(header), tuple(rows))


# --------------------------------------------------------------------------------------------
# Running the engine
# --------------------------------------------------------------------------------------------


def funnel_yaml(spec: ref.Spec) -> str:
    source = f"path: data.csv, id: {spec.id}, account: {spec.account}"
    if spec.shape == "long":
        source += f", shape: long, stage: {spec.stage_column}, at: {spec.at}"
    lines = ["sources:", f"  crm: {{{source}}}", "stages:"]
    for stage in spec.stages:
        parts = [f"name: {stage.name}"]
        if stage.at:
            parts.append(f"at: {stage.at}")
        if stage.match:
            parts.append(f"match: [{', '.join(stage.match)}]")
        if stage.within:
            parts.append(f"within: {stage.within.text}")
        if stage.value:
            parts.append(f"value: {stage.value}")
        lines.append(f"  - {{{', '.join(parts)}}}")
    if spec.window:
        lines.append(f"window: {spec.window.text}")
    lines += [f"order: {spec.order}", f"grain: {spec.grain}", f"timezone: {spec.timezone}"]
    if spec.evidence != "shared":
        lines.append(f"evidence: {spec.evidence}")
    if spec.attribution != "entry":
        lines.append(f"attribution: {spec.attribution}")
    if spec.exclude:
        lines.append("exclude:")
    for item in spec.exclude:
        ends = f"between: [{spec.stages[item.start].name}, {spec.stages[item.end].name}]"
        parts = [f"match: [{', '.join(item.match)}]"] if item.match else []
        parts += [f"at: {item.at}"] if item.at else []
        lines.append(f"  - {{{', '.join([*parts, ends, f'scope: {item.scope}'])}}}")
    if spec.attempts != "first":
        lines.append(f"attempts: {spec.attempts}")
    return "\n".join(lines) + "\n"


def csv_text(case: Case) -> str:
    with tempfile.SpooledTemporaryFile(mode="w+", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=case.header, restval="")
        writer.writeheader()
        writer.writerows(case.rows)
        handle.seek(0)
        return handle.read()


def query_of(spec: ref.Spec) -> ReportRequest:
    """The report options as the CLI reads them: --since/--until in the YAML's timezone."""
    from funnelcli.commands.options import moment

    breakdowns = ((spec.by,),) if spec.by else ()
    since = moment(spec.since, "--since", spec.timezone)
    until = moment(spec.until, "--until", spec.timezone)
    return ReportRequest(
        since=since,
        until=until,
        as_of=spec.as_of,
        breakdowns=breakdowns,
        min_n=0,
        top=spec.top,
    )


def run(case: Case, query: ReportRequest | None = None) -> FunnelReport:
    yaml_text, data = funnel_yaml(case.spec), csv_text(case)
    options = query or query_of(case.spec)
    note(f"--- funnel.yaml ---\n{yaml_text}--- data.csv ---\n{data}--- query ---\n{options}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "data.csv").write_text(data, encoding="utf-8")
        funnel = parse_funnel(yaml_text, file="funnel.yaml", base_dir=base)
        return build_report(funnel, options)


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Every place the two plain structures differ; floats within 1e-9."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(actual) | set(expected), key=str):
            if key not in actual or key not in expected:
                found.append(
                    f"{path}.{key}: actual {actual.get(key)!r}, expected {expected.get(key)!r}"
                )
            else:
                found += differences(actual[key], expected[key], f"{path}.{key}")
        return found
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        if len(actual) != len(expected):
            return [f"{path}: actual {actual!r}, expected {expected!r}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in differences(a, e, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if (
        isinstance(expected, numbers)
        and isinstance(actual, numbers)
        and not isinstance(actual, bool)
    ):
        if math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9):
            return []
    elif actual == expected:
        return []
    return [f"{path}: actual {actual!r}, expected {expected!r}"]


def stage_numbers(row: StageRow | ref.StageResult) -> dict[str, Any]:
    return {
        "count": row.count,
        "conversion_from_previous": row.conversion_from_previous,
        "conversion_from_entry": row.conversion_from_entry,
        "dropped": row.dropped,
        "time_from_previous": vars(row.time_from_previous),
        "time_from_entry": vars(row.time_from_entry),
        "value_sum": row.value_sum,
        "value_n": row.value_n,
        "value_avg": row.value_avg,
        "value_median": row.value_median,
        "ids": row.ids,  # attempts: each only (None otherwise)
    }


def group_numbers(group: GroupResult | ref.GroupResult) -> dict[str, Any]:
    return {
        "entered": group.entered,
        "immature_ids": group.immature_ids,
        "stages": {row.name: stage_numbers(row) for row in group.stages},
    }


def as_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def engine_numbers(report: FunnelReport) -> dict[str, Any]:
    quality = report.data_quality
    groups = report.breakdowns[0].groups if report.breakdowns else ()
    return {
        "overall": group_numbers(report.overall),
        "groups": {g.key["channel"]: group_numbers(g) for g in groups if g.entered > 0},
        "as_of": as_time(report.period.as_of),
        "first_entry": as_time(report.period.first_entry),
        "last_entry": as_time(report.period.last_entry),
        "backwards_ids": quality.backwards_ids,
        "backwards_by_stage": quality.backwards_by_stage,
        "ids_outside_period": quality.ids_outside_period,
        "ids_without_entry_time": quality.ids_without_entry_time,
        "rows_read": sum(quality.rows_read.values()),
        "rows_without_id": sum(quality.rows_without_id.values()),
        "excluded": [item.ids for item in quality.excluded],
    }


def reference_numbers(expected: ref.Report) -> dict[str, Any]:
    return {
        "overall": group_numbers(expected.overall),
        "groups": {value: group_numbers(g) for value, g in expected.groups.items()},
        "as_of": expected.as_of,
        "first_entry": expected.first_entry,
        "last_entry": expected.last_entry,
        "backwards_ids": expected.backwards_ids,
        "backwards_by_stage": expected.backwards_by_stage,
        "ids_outside_period": expected.ids_outside_period,
        "ids_without_entry_time": expected.ids_without_entry_time,
        "rows_read": expected.rows_read,
        "rows_without_id": expected.rows_without_id,
        "excluded": list(expected.excluded),
    }


def as_of_before_all_entries(case: Case) -> bool:
    """§ As of: nothing entered by the as-of, and it is before the first entry in the data (then
    it is an error)."""
    if case.spec.as_of is None or ref.report(case.spec, list(case.rows)).overall.entered:
        return False
    everything = ref.report(replace(case.spec, as_of=None, since=None, until=None), case.rows)
    first = everything.first_entry
    return first is not None and first > case.spec.as_of


def assert_matches_reference(case: Case) -> None:
    if as_of_before_all_entries(case):
        with pytest.raises(UsageError, match="before the first entry"):
            run(case)
        return
    expected_report = ref.report(case.spec, list(case.rows))
    report = run(case)
    check_invariants(report)
    actual = engine_numbers(report)
    expected = reference_numbers(expected_report)
    found = differences(actual, expected)
    assert not found, "engine ≠ reference:\n" + "\n".join(found)


# --------------------------------------------------------------------------------------------
# Invariants of the engine's output alone
# --------------------------------------------------------------------------------------------


def check_funnel_shape(group: GroupResult) -> None:
    rows = group.stages
    assert group.entered == rows[0].count
    for k, row in enumerate(rows):
        for rate in (row.conversion_from_previous, row.conversion_from_entry):
            assert rate is None or 0.0 <= rate <= 1.0
        if k == 0:
            assert row.conversion_from_previous is None and row.dropped is None
            continue
        assert row.count <= rows[k - 1].count  # non-increasing down the funnel
        assert row.dropped == rows[k - 1].count - row.count
        assert 0 <= row.time_from_previous.n <= row.count
        assert 0 <= row.time_from_entry.n <= row.count


def check_invariants(report: FunnelReport) -> None:
    check_funnel_shape(report.overall)
    for breakdown in report.breakdowns:
        groups = breakdown.groups
        for group in groups:
            check_funnel_shape(group)
        # the groups partition the cohort
        assert sum(g.entered for g in groups) == report.overall.entered
        assert sum(g.immature_ids for g in groups) == report.overall.immature_ids
        for k, row in enumerate(report.overall.stages):
            assert sum(g.stages[k].count for g in groups) == row.count
            for stats in ("time_from_previous", "time_from_entry"):
                n = sum(getattr(g.stages[k], stats).n for g in groups)
                assert n == getattr(row, stats).n
            if row.value_sum is not None:
                total = sum(g.stages[k].value_sum or 0.0 for g in groups)
                assert math.isclose(total, row.value_sum, abs_tol=1e-6)


# --------------------------------------------------------------------------------------------
# Properties: the engine agrees with the reference
# --------------------------------------------------------------------------------------------


@MAIN
@given(cases("wide"))
def test_wide_matches_reference(case: Case) -> None:
    """Wide exports (duplicate rows, empty cells, backwards times), backfill and strict."""
    assert_matches_reference(case)


@MAIN
@given(cases("long"))
def test_long_history_matches_reference(case: Case) -> None:
    """Stage histories with re-entries and stages out of order, backfill and strict."""
    assert_matches_reference(case)


@SECONDARY
@given(st.sampled_from(("wide", "long")).flatmap(lambda shape: cases(shape, "account")))
def test_account_grain_matches_reference(case: Case) -> None:
    """grain: account: several leads per account, rows without an account."""
    assert_matches_reference(case)


any_case = st.sampled_from(("wide", "long")).flatmap(
    lambda shape: st.sampled_from(("lead", "account")).flatmap(lambda grain: cases(shape, grain))
)


@SMALL
@given(any_case)
def test_engine_invariants(case: Case) -> None:
    """Counts non-increasing, rates in [0, 1], dropped, groups summing to the whole (no --as-of)."""
    assume(not as_of_before_all_entries(case))  # an error, checked against the reference
    check_invariants(run(case))


@SMALL
@given(any_case)
def test_since_before_all_data_changes_nothing(case: Case) -> None:
    base = replace(case, spec=replace(case.spec, since=None))
    assume(not as_of_before_all_entries(base))  # an error, checked against the reference
    plain = run(base)
    early = run(base, replace(query_of(base.spec), since=START - timedelta(days=400)))
    assert early.overall == plain.overall
    assert early.breakdowns == plain.breakdowns
    assert early.data_quality == plain.data_quality
    assert early.period.as_of == plain.period.as_of


@settings(SMALL)
@given(cases("wide", zones=True))
def test_time_zone_aware_times_match_reference(case: Case) -> None:
    """Offsets (`+02:00`, `Z`) mixed with naive and date-only values are converted to UTC."""
    assert_matches_reference(case)


@SMALL
@given(cases("wide"))
def test_one_row_per_id_read_from_the_cache_is_the_same_report(case: Case) -> None:
    """A copy whose ids are distinct is read per row (compile._per_row: no GROUP BY in layer
    1); the whole report is the one the GROUP BY gives, and the reference's."""
    from funnelcli.commands.query import compile_for, plan_query
    from funnelcli.compile import ReportQuery
    from funnelcli.engine import open_engine

    seen: set[str] = set()
    rows = []
    for row in case.rows:  # the first row of each lead only
        if row["lead_id"] not in seen:
            seen.add(row["lead_id"])
            rows.append(row)
    case = replace(case, rows=tuple(rows))
    if as_of_before_all_entries(case):
        return
    yaml_text, data = funnel_yaml(case.spec), csv_text(case)
    options = query_of(case.spec)
    note(f"--- funnel.yaml ---\n{yaml_text}--- data.csv ---\n{data}--- query ---\n{options}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "data.csv").write_text(data, encoding="utf-8")
        funnel = parse_funnel(yaml_text, file="funnel.yaml", base_dir=base)
        plain = build_report(funnel, options)
        cached = build_report(funnel, options, RunOptions(cache=True, cache_dir=base / "cache"))
        with open_engine(funnel, parquet_cache=base / "cache") as engine:
            query = ReportQuery(since=options.since, until=options.until, as_of=options.as_of)
            assert plan_query(engine, compile_for(engine, funnel), query).per_row == {"crm"}
    assert cached.to_dict() == plain.to_dict()
    expected = reference_numbers(ref.report(case.spec, list(case.rows)))
    found = differences(engine_numbers(cached), expected)
    assert not found, "engine ≠ reference:\n" + "\n".join(found)


@SMALL
@given(cases("wide"))
def test_a_trial_per_row_voided_by_a_repeated_id_gives_the_reference(case: Case) -> None:
    """From a CSV, a source whose first rows have one row per id is read per row on trust, with
    the check in the same query (rewrites.check_keys); a repeated id later voids that result
    and the GROUP BY runs. Checking only the first row makes every repeated id a late one."""
    from unittest import mock

    from funnelcli.commands import query

    with mock.patch.object(query, "TRIAL_HEAD_ROWS", 1):
        assert_matches_reference(case)


@SECONDARY
@given(any_case, st.integers(0, 2))
def test_histogram_matches_reference(case: Case, pick: int) -> None:
    """`--histogram STAGE`: the bins (unit, width, edges, counts) are the reference's, and
    they count the stage's time_from_previous.n keys."""
    assume(not as_of_before_all_entries(case))  # an error, checked against the reference
    stage = case.spec.stages[1 + pick % (len(case.spec.stages) - 1)].name
    report = assert_histogram_matches_reference(case, stage)
    found = report.histogram
    assert found is not None
    row = next(s for s in report.overall.stages if s.name == stage)
    assert found.n == row.time_from_previous.n == sum(b.count for b in found.bins)


def assert_histogram_matches_reference(case: Case, stage: str) -> FunnelReport:
    """`--histogram stage`: the bins (unit, width, edges, counts) are the reference's."""
    report = run(case, replace(query_of(case.spec), histogram=stage))
    found = report.histogram
    assert found is not None and found.stage == stage
    expected = ref.report(case.spec, list(case.rows)).histograms[stage]
    actual = ref.Histogram(
        found.unit,
        found.width,
        found.n,
        tuple((b.start_days, b.end_days, b.count) for b in found.bins),
    )
    assert differences(vars(actual), vars(expected)) == []
    return report


def as_sequence(case: Case) -> Case:
    """The case under `order: sequence` (every stage timed by the history's at:)."""
    stages = tuple(replace(stage, at=None) for stage in case.spec.stages)
    return replace(case, spec=replace(case.spec, order="sequence", stages=stages))


@MAIN
@given(st.sampled_from(("lead", "account")).flatmap(lambda g: cases("long", g)).map(as_sequence))
def test_sequence_matches_reference(case: Case) -> None:
    """order: sequence: rows between two stages that are evidence for neither stop the id."""
    assert_matches_reference(case)


def as_best(case: Case, window: str | None = None) -> Case:
    """The case under `attempts: best` (strict when it was backfill: best needs a lower
    bound), with `window` when given (a short one makes first attempts run out)."""
    order = "strict" if case.spec.order == "backfill" else case.spec.order
    spec = replace(case.spec, attempts="best", order=order)
    if window is not None:
        spec = replace(spec, window=Duration.parse(window))
    return replace(case, spec=spec)


best_cases = st.tuples(
    st.sampled_from(("lead", "account")), st.sampled_from(("10d", "950400s", "2mo"))
).flatmap(lambda p: cases("long", p[0]).map(lambda case: as_best(case, p[1])))


@MAIN
@given(best_cases)
def test_best_attempt_matches_reference(case: Case) -> None:
    """attempts: best: each stage-1 time anchors an attempt; the furthest-reaching one counts
    (ties: the earliest), under strict and sequence, shared and once."""
    assert_matches_reference(case)


def shifted(text: str, days: int) -> str:
    """A time cell `days` later, in the same form (date-only stays date-only)."""
    if not text:
        return text
    if len(text) == 10:
        return (date.fromisoformat(text) + timedelta(days=days)).isoformat()
    return (datetime.fromisoformat(text) + timedelta(days=days)).isoformat(sep=" ")


@composite
def recycled_cases(draw: DrawFn, attribution: str, window: str) -> Case:
    """attempts: best with `attribution` on recycled histories: each lead's rows on channel
    `web`, then (for most leads) the same rows 12–40 days later on `ads`; half the leads lose
    their first try's later stages, so that the later attempt counts. Which attempt's rows
    credit the value then shows."""
    case = draw(cases("long"))
    by_lead: dict[str, list[dict[str, str]]] = {}
    for row in case.rows:
        by_lead.setdefault(row["lead_id"], []).append(row)
    rows: list[dict[str, str]] = []
    for lead_rows in by_lead.values():
        cut = draw(st.booleans())
        first = [r for r in lead_rows if not cut or r.get("stage") == "New"]
        rows += [dict(r, channel="web") for r in first]
        if draw(st.integers(0, 3)):
            days = draw(st.integers(12, 40))
            again = {"channel": "ads"}
            rows += [
                dict(r, **again, changed_at=shifted(r.get("changed_at", ""), days),
                     closed_at=shifted(r.get("closed_at", ""), days))
                for r in lead_rows
            ]  # fmt: skip
    chosen = as_best(replace(case, rows=tuple(rows or case.rows)), window)
    return replace(chosen, spec=replace(chosen.spec, attribution=attribution))


credited_best_cases = st.tuples(
    st.sampled_from(("last", "stage:lead", "stage:qualified", "first_known")),
    st.sampled_from(("10d", "2mo")),
).flatmap(lambda p: recycled_cases(*p))


@MAIN
@given(credited_best_cases)
def test_best_attempt_credits_its_own_rows(case: Case) -> None:
    """attribution: under attempts: best, `last` and `stage:NAME` read the rows of the attempt
    that counts (stage 1's at its anchor), `first_known` the key's rows."""
    assert_matches_reference(case)


@SMALL
@given(cases("long").map(as_best))
def test_best_attempt_reaches_at_least_the_first(case: Case) -> None:
    """Without --since/--until (the period follows the best attempt's entry), every stage
    counts at least as many keys under best as under first: the first attempt is a candidate.
    Without exclude: a funnel-scope hit takes a key out under first, where best may count a
    later attempt after the hit (PostHog re-anchors): entered may differ then."""
    spec = replace(case.spec, since=None, until=None, top=None, exclude=())
    best = replace(case, spec=spec)
    assume(not as_of_before_all_entries(best))
    first = run(replace(best, spec=replace(spec, attempts="first")))
    chosen = run(best)
    for a, b in zip(first.overall.stages, chosen.overall.stages, strict=True):
        assert b.count >= a.count
    assert chosen.overall.entered == first.overall.entered


def as_any(case: Case, attempts: str, window: str | None = None) -> Case:
    """The case under `order: any` (§ Order policy) with only what goes with it: no within:,
    value:, exclude:, evidence: once or attribution by a stage's row."""
    stages = tuple(replace(stage, within=None, value=None) for stage in case.spec.stages)
    attribution = case.spec.attribution
    spec = replace(
        case.spec,
        stages=stages,
        order="any",
        attempts=attempts,
        exclude=(),
        evidence="shared",
        attribution=attribution if attribution in ("entry", "first_known") else "entry",
    )
    if window is not None:
        spec = replace(spec, window=Duration.parse(window))
    return replace(case, spec=spec)


any_order_cases = st.tuples(
    st.sampled_from(("wide", "long")),
    st.sampled_from(("lead", "account")),
    st.sampled_from(("first", "best")),
    st.sampled_from((None, "10d", "950400s", "2mo")),
).flatmap(lambda p: cases(p[0], p[1]).map(lambda case: as_any(case, p[2], p[3])))


@MAIN
@given(any_order_cases)
def test_any_order_matches_reference(case: Case) -> None:
    """order: any: row k counts the keys with at least k stages done from their anchor (the
    earliest evidence under attempts: first; the best of every evidence time under best)."""
    assert_matches_reference(case)


@SMALL
@given(
    st.tuples(st.sampled_from(("wide", "long")), st.sampled_from(("first", "best"))).flatmap(
        lambda p: cases(p[0]).map(lambda case: (case, p[1]))
    )
)
def test_any_order_under_best_counts_at_least_the_ordered(drawn: tuple[Case, str]) -> None:
    """Without --since/--until, row k of `order: any, attempts: best` counts at least as many
    keys as stage k of `order: strict` (either attempts): the strict path's entry is one of
    the anchors, and its k stages are done from it. (Under attempts: first the anchor may be
    an earlier stage's time, so this does not hold: docs/semantics.md.)"""
    case, strict_attempts = drawn
    plain = replace(
        case.spec,
        since=None,
        until=None,
        top=None,
        exclude=(),
        evidence="shared",
        attribution="entry",
        stages=tuple(replace(s, within=None, value=None) for s in case.spec.stages),
    )
    ordered = replace(case, spec=replace(plain, order="strict", attempts=strict_attempts))
    assume(not as_of_before_all_entries(ordered))
    unordered = as_any(replace(case, spec=plain), "best")
    strict_report, any_report = run(ordered), run(unordered)
    check_invariants(any_report)
    for a, b in zip(strict_report.overall.stages, any_report.overall.stages, strict=True):
        assert b.count >= a.count


@SMALL
@given(any_order_cases, st.integers(0, 2))
def test_any_order_histogram_matches_reference(case: Case, pick: int) -> None:
    """`--histogram stages_k` under order: any: the times from row k−1 to row k, binned."""
    assume(not as_of_before_all_entries(case))
    assert_histogram_matches_reference(case, f"stages_{2 + pick % (len(case.spec.stages) - 1)}")


def as_each(case: Case, window: str | None = None) -> Case:
    """The case under `attempts: each` (as as_best); `window` "none" drops the window."""
    spec = replace(as_best(case).spec, attempts="each", attribution="entry", exclude=())
    if window is not None:
        spec = replace(spec, window=None if window == "none" else Duration.parse(window))
    return replace(case, spec=spec)


each_cases = st.tuples(
    st.sampled_from(("lead", "account")), st.sampled_from(("10d", "950400s", "2mo", "none"))
).flatmap(lambda p: cases("long", p[0]).map(lambda case: as_each(case, p[1])))


@MAIN
@given(each_cases)
def test_each_attempt_matches_reference(case: Case) -> None:
    """attempts: each: the attempts that follow one another (the next starts at the first
    anchor after the previous one converted or its window ran out) each count, with the keys
    beside them; --by and the period as of each attempt's entry."""
    assert_matches_reference(case)


@SMALL
@given(each_cases)
def test_each_counts_lie_between_first_and_best(case: Case) -> None:
    """Without --since/--until: count_k(first) <= ids_k(each) <= count_k(best), ids_k <=
    count_k, and counts of attempts never grow down the funnel."""
    spec = replace(case.spec, since=None, until=None, top=None)
    each = replace(case, spec=spec)
    assume(not as_of_before_all_entries(each))
    first = run(replace(each, spec=replace(spec, attempts="first")))
    best = run(replace(each, spec=replace(spec, attempts="best")))
    found = run(each)
    check_invariants(found)
    stages = zip(first.overall.stages, found.overall.stages, best.overall.stages, strict=True)
    for a, e, b in stages:
        assert e.ids is not None
        assert a.count <= e.ids <= b.count
        assert e.ids <= e.count

"""A plain-Python reference implementation of docs/semantics.md (no duckdb, polars or pandas).

This module is the executable statement of the counting rules. `tests/test_properties.py` runs
random CRM tables through both this code and the DuckDB query and asserts that they agree. It was
written from the semantics page alone, not from `compile.py`, so the two implementations fail
independently.

Scope: one source, wide or long (history), read as the CSV text of its cells; timed evidence
only (no `when:`, no snapshot without `at:`, so no untimed evidence); no `filter:`; at most one
breakdown column. Each rule below names the section of docs/semantics.md it implements.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from funnelcli.spec.duration import Duration

NONE_GROUP = "(none)"
OTHER_GROUP = "(other)"
SECONDS_PER_DAY = 86400.0

# --------------------------------------------------------------------------------------------
# The definition: just what the rules need.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    at: str | None = None  # wide: the stage's time column; long: an optional own time column
    match: tuple[str, ...] = ()  # long: the stage values that are evidence (exact text)
    within: Duration | None = None  # max time from the previous stage's time
    value: str | None = None  # column holding the stage's money


@dataclass(frozen=True)
class Exclude:
    """An `exclude:` item (§ Exclusions); stages 0-based here."""

    start: int  # from-stage
    end: int  # to-stage
    match: tuple[str, ...] = ()  # long: the stage values that are its evidence
    at: str | None = None  # wide: its time column; long: an optional own time column
    scope: str = "onward"  # onward | funnel


@dataclass(frozen=True)
class Spec:
    stages: tuple[Stage, ...]
    shape: str = "wide"  # wide | long
    id: str = "lead_id"
    account: str | None = None  # needed for grain: account
    stage_column: str | None = None  # long: the column holding the stage value
    at: str | None = None  # long: the source's time column
    grain: str = "lead"  # lead | account
    window: Duration | None = None
    order: str = "backfill"  # backfill | strict | sequence | any
    evidence: str = "shared"  # shared | once
    attempts: str = "first"  # first | best | each
    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    by: str | None = None  # breakdown column
    timezone: str = "UTC"  # the YAML's timezone: since/until above are wall-clock times in it
    top: int | None = None  # --top N: the breakdown's N biggest values, the rest "(other)"
    attribution: str = "entry"  # entry | first_known | last | stage:NAME (§ Breakdowns)
    exclude: tuple[Exclude, ...] = ()


# --------------------------------------------------------------------------------------------
# The result: the numbers the report prints.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeStats:
    n: int
    median_days: float | None
    p90_days: float | None
    mean_days: float | None = None  # arithmetic mean (§ Numbers per stage)


@dataclass(frozen=True)
class StageResult:
    name: str
    count: int
    conversion_from_previous: float | None
    conversion_from_entry: float | None
    dropped: int | None
    time_from_previous: TimeStats
    time_from_entry: TimeStats
    value_sum: float | None
    value_n: int | None = None
    value_avg: float | None = None
    value_median: float | None = None
    ids: int | None = None  # attempts: each: the keys with a counted attempt at the stage


@dataclass(frozen=True)
class GroupResult:
    entered: int
    immature_ids: int
    stages: tuple[StageResult, ...]


@dataclass(frozen=True)
class Report:
    overall: GroupResult
    groups: dict[str, GroupResult]  # breakdown value → group (only groups with entries)
    as_of: datetime | None
    first_entry: datetime | None
    last_entry: datetime | None
    backwards_ids: int
    backwards_by_stage: dict[str, int]  # stages 2..n
    ids_outside_period: int
    ids_without_entry_time: int
    rows_read: int
    rows_without_id: int
    excluded: tuple[int, ...] = ()  # per exclude: item, the ids it hits (§ Exclusions)
    # stage (2..n) → its time-to-convert histogram (§ Time-to-convert histogram)
    histograms: dict[str, Histogram] = field(default_factory=dict)


@dataclass(frozen=True)
class Histogram:
    unit: str | None  # minute | hour | day | week; None without any time
    width: int  # units per bin
    n: int
    bins: tuple[tuple[float, float, int], ...]  # (start_days, end_days, count)


# --------------------------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------------------------


def parse_time(text: str | None) -> datetime | None:
    """Empty → None; a date-only value is midnight; aware values are converted to UTC."""
    if text is None or not text.strip():
        return None
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    return float(text)


def text_or_none(text: str | None) -> str | None:
    return text if text else None


# --------------------------------------------------------------------------------------------
# Evidence (§ Evidence)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    time: datetime
    value: float | None
    item: str = ""  # the row's stage value (long); with the time it names one piece of evidence
    attribute: str | None = None  # the row's breakdown value (attribution: last, stage:NAME)


def row_evidence(spec: Spec, row: dict[str, str]) -> dict[int, Evidence]:
    """Stage index → the evidence this row gives for it."""
    found: dict[int, Evidence] = {}
    for k, stage in enumerate(spec.stages):
        if spec.shape == "wide":
            time = parse_time(row.get(stage.at or ""))
        else:
            if row.get(spec.stage_column or "") not in stage.match:
                continue
            time = parse_time(row.get(stage.at or spec.at or ""))
        if time is None:  # an empty time is not evidence
            continue
        if spec.as_of is not None and time > spec.as_of:  # § As of: not evidence yet
            continue
        value = parse_number(row.get(stage.value)) if stage.value else None
        item = row.get(spec.stage_column or "") or "" if spec.shape == "long" else ""
        attribute = text_or_none(row.get(spec.by or "")) if spec.by else None
        found[k] = Evidence(time, value, item, attribute)
    return found


def exclusion_evidence(spec: Spec, row: dict[str, str]) -> dict[int, datetime]:
    """§ Exclusions: item index → this row's excluding time (evidence written like a stage's)."""
    found: dict[int, datetime] = {}
    for i, item in enumerate(spec.exclude):
        if spec.shape == "long" and row.get(spec.stage_column or "") not in item.match:
            continue
        column = item.at if spec.shape == "wide" else (item.at or spec.at)
        time = parse_time(row.get(column or ""))
        if time is None or (spec.as_of is not None and time > spec.as_of):
            continue
        found[i] = time
    return found


@dataclass
class Key:
    """Everything the rows of one key (lead or account) say about it."""

    evidence: list[list[Evidence]]  # per stage, all evidence of all the key's rows
    # per row: (the time it brings the key in, its breakdown value) — § Breakdowns
    rows: list[tuple[datetime | None, str | None]] = field(default_factory=list)
    # per row that is evidence for some stage: the same (attribution: first_known)
    evidence_rows: list[tuple[datetime, str | None]] = field(default_factory=list)
    # long source: per row with a time, (its time, the stages it is evidence for) — sequence
    events: list[tuple[datetime, frozenset[int]]] = field(default_factory=list)
    excluding: list[list[datetime]] = field(default_factory=list)  # per exclude: item, its times


def collect(spec: Spec, rows: list[dict[str, str]]) -> tuple[dict[str, Key], int]:
    """Group the rows by key; rows with an empty key are ignored (and counted)."""
    keys: dict[str, Key] = {}
    without_id = 0
    key_column = spec.account if spec.grain == "account" else spec.id
    for row in rows:
        key = row.get(key_column or "")
        if not key:
            without_id += 1
            continue
        data = keys.setdefault(
            key,
            Key(evidence=[[] for _ in spec.stages], excluding=[[] for _ in spec.exclude]),
        )
        for i, moment in exclusion_evidence(spec, row).items():
            data.excluding[i].append(moment)
        found = row_evidence(spec, row)
        for k, evidence in found.items():
            data.evidence[k].append(evidence)
        moment = parse_time(row.get(spec.at or "")) if spec.shape == "long" else None
        if moment is not None:
            data.events.append((moment, frozenset(found)))
        # "the time they bring the key in: their earliest-declared stage evidence"
        first_stage = min(found) if found else None
        brings_in = found[first_stage].time if first_stage is not None else None
        data.rows.append((brings_in, text_or_none(row.get(spec.by or "")) if spec.by else None))
        if brings_in is not None:
            data.evidence_rows.append((brings_in, data.rows[-1][1]))
    return keys, without_id


# --------------------------------------------------------------------------------------------
# One key through the funnel (§ Entry, § Qualifying times, § Order policy, § Ties)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Journey:
    m: tuple[datetime | None, ...]  # earliest evidence time per stage
    entry_at: datetime | None
    t: tuple[datetime | None, ...]  # qualifying time per stage (discarded after a strict stop)
    reached: tuple[bool, ...]
    values: tuple[float | None, ...]  # value per explicitly reached stage
    backwards: tuple[bool, ...]  # per stage: m_k < max(m_1..m_{k-1})
    # per stage: the breakdown value on the row that gave t_k (None: no t_k or no value)
    credited: tuple[str | None, ...] = ()
    hits: tuple[bool, ...] = ()  # per exclude: item: its excluding evidence lies in its bounds
    in_funnel: bool = False  # reached stage 1 before the funnel-scope items


def earliest(times: list[datetime]) -> datetime | None:
    return min(times) if times else None


def walk(spec: Spec, key: Key) -> Journey:
    """One key through the funnel. Indices are 0-based: the page's stage k is index k-1.

    § Attempts (best): on a long source, one walk per distinct stage-1 evidence time (the
    attempt's anchor); the walk whose reached stages are the most counts, ties to the
    earliest anchor."""
    if spec.order == "any":
        return walk_any(spec, key)
    if spec.attempts == "best" and spec.shape == "long" and key.evidence[0]:
        anchors = sorted({e.time for e in key.evidence[0]})
        walks = [walk_from(spec, key, a) for a in anchors]
        return max(walks, key=lambda w: sum(w.reached))  # max keeps the first of equals
    return walk_from(spec, key, None)


def attempts_of(spec: Spec, key: Key) -> list[Journey]:
    """§ Attempts (each): the attempts that follow one another. The first starts at the
    earliest anchor; an attempt ends at t_n when it reaches the last stage, else at its anchor
    + window (never, without a window); the next starts at the first anchor after that end."""
    if spec.attempts != "each" or spec.shape != "long" or not key.evidence[0]:
        return [walk(spec, key)]
    anchors = sorted({e.time for e in key.evidence[0]})
    chain: list[Journey] = []
    start: datetime | None = anchors[0]
    while start is not None:
        path = walk_from(spec, key, start)
        chain.append(path)
        if path.reached[-1]:
            end = path.t[-1]
        elif spec.window is not None:
            end = spec.window.add_to(start)
        else:
            break
        assert end is not None
        start = next((a for a in anchors if a > end), None)
    return chain


def walk_from(spec: Spec, key: Key, anchor: datetime | None) -> Journey:
    """One attempt: from `anchor` (a stage-1 evidence time), else from the key's entry."""
    n = len(spec.stages)
    m = tuple(earliest([e.time for e in key.evidence[k]]) for k in range(n))

    # § Entry: m_1; under backfill without stage-1 evidence, the first time the key shows up.
    entry_at = m[0] if anchor is None else anchor
    if spec.order == "backfill" and entry_at is None:
        entry_at = earliest([x for x in m if x is not None])

    # § Qualifying times: t_1 = m_1 (the anchor); later stages take their earliest qualifying
    # evidence time.
    # § Evidence (evidence: once): a stage that shares its time column with another takes the
    # earliest qualifying (time, stage value) that no earlier stage of the group took.
    t: list[datetime | None] = [entry_at if anchor is not None else m[0]]
    taken: list[tuple[datetime, str] | None] = [None] * n
    first = [e for e in key.evidence[0] if anchor is None or e.time == anchor]
    if once_group(spec, 0) and first:
        taken[0] = min((e.time, e.item) for e in first)
    for k in range(1, n):
        if once_group(spec, k):
            used = {taken[j] for j in range(k) if once_group(spec, j) == once_group(spec, k)}
            items = sorted({(e.time, e.item) for e in key.evidence[k]} - used)
            hit = next((i for i in items if qualifies(spec, k, i[0], entry_at, t)), None)
            taken[k] = hit
            t.append(hit[0] if hit else None)
            continue
        if spec.shape == "long":
            candidates = sorted({e.time for e in key.evidence[k]})  # re-entries can qualify
        else:
            candidates = [m[k]] if m[k] is not None else []  # merged rows: earliest only
        t.append(next((x for x in candidates if qualifies(spec, k, x, entry_at, t)), None))

    # § Order policy (all evidence here is timed, so "explicitly reached" = "t_k known").
    explicit = [x is not None for x in t]
    if spec.order == "backfill":
        reached = [any(explicit[k:]) for k in range(n)]
    else:
        reached = []
        for k in range(n):
            ok = explicit[k] and (k == 0 or reached[k - 1])
            # sequence: no row between t_{k-1} and t_k that is evidence for neither stage
            if ok and k > 0 and spec.order == "sequence":
                low, high = t[k - 1], t[k]
                assert low is not None and high is not None
                ok = not any(
                    low < x < high and not ({k - 1, k} & stages) for x, stages in key.events
                )
            reached.append(ok)
        t = [x if r else None for x, r in zip(t, reached, strict=True)]

    t, reached, hits, in_funnel = exclude(spec, key, t, reached)
    values = tuple(
        stage_value([e for e in key.evidence[k] if taken[k] is None or e.item == taken[k][1]], t[k])
        if spec.stages[k].value and t[k]
        else None
        for k in range(n)
    )
    # § Ties and backwards times: over the earliest evidence times m, ties are not backwards.
    backwards = []
    for k in range(n):
        before = [x for x in m[:k] if x is not None]
        backwards.append(m[k] is not None and bool(before) and m[k] < max(before))
    credited = tuple(
        credited_value(
            [e for e in key.evidence[k] if taken[k] is None or e.item == taken[k][1]], t[k]
        )
        for k in range(n)
    )
    return Journey(
        m, entry_at, tuple(t), tuple(reached), values, tuple(backwards), credited, hits, in_funnel
    )


def walk_any(spec: Spec, key: Key) -> Journey:
    """§ Order policy, `order: any`: a stage is done from anchor a when it has an evidence
    time x with a <= x <= a + window (ties with a count). attempts: first: a = the key's
    earliest evidence time of any stage; best: every evidence time of every stage is an
    anchor, and the one doing the most stages counts (ties: the earliest). Row k is reached
    when at least k stages are done; its time t_k is the k-th smallest of their earliest
    times at or after a (t_1 = a). A wide source's stage has one time: its merged earliest."""
    n = len(spec.stages)
    m = tuple(earliest([e.time for e in key.evidence[k]]) for k in range(n))
    if spec.shape == "long":
        times = [sorted({e.time for e in key.evidence[k]}) for k in range(n)]
    else:
        times = [[x] if x is not None else [] for x in m]

    def done(a: datetime) -> list[datetime]:
        found = []
        for stage_times in times:
            x = next((x for x in stage_times if x >= a), None)
            if x is not None and (spec.window is None or x <= spec.window.add_to(a)):
                found.append(x)
        return sorted(found)

    every = sorted({x for stage_times in times for x in stage_times})
    anchors = every if spec.attempts == "best" else every[:1]
    # max keeps the first (earliest) of equals
    anchor = max(anchors, key=lambda a: len(done(a)), default=None)
    found = done(anchor) if anchor is not None else []
    t = tuple(found[k] if k < len(found) else None for k in range(n))
    reached = tuple(k < len(found) for k in range(n))
    return Journey(
        m,
        anchor,
        t,
        reached,
        values=(None,) * n,
        backwards=(False,) * n,  # no declared order to run backwards against
        credited=(None,) * n,
        in_funnel=reached[0],
    )


def credited_value(evidence: list[Evidence], time: datetime | None) -> str | None:
    """§ Breakdowns, attribution: the breakdown value on the row that gave `time`; ties: the
    smallest value: (empty last), then the smallest breakdown value (empty last)."""
    rows = sorted(
        (e for e in evidence if e.time == time),
        key=lambda e: (e.value is None, e.value or 0.0, e.attribute is None, e.attribute or ""),
    )
    return rows[0].attribute if rows and time is not None else None


def exclude(
    spec: Spec, key: Key, t: list[datetime | None], reached: list[bool]
) -> tuple[list[datetime | None], list[bool], tuple[bool, ...], bool]:
    """§ Exclusions, stage by stage: at each item's to-stage g, it hits when some excluding
    time x has t_from < x < U (U = t_g, else t_from + window, else + g's within:, else no
    bound; no hit without t_from). An onward hit at g cuts the key from g on (later items see
    no time there); a funnel-scope hit takes it out of every stage."""
    n = len(spec.stages)
    hits = [False] * len(spec.exclude)
    cut = n
    for g in range(n):
        t_g = t[g] if g < cut else None
        for i, item in enumerate(spec.exclude):
            if item.end != g:
                continue
            t_from = t[item.start] if item.start < cut else None
            if t_from is None:
                continue
            limit = spec.window or spec.stages[g].within
            upper = t_g if t_g is not None else (limit.add_to(t_from) if limit else None)
            hits[i] = any(t_from < x and (upper is None or x < upper) for x in key.excluding[i])
        onward = [h for h, item in zip(hits, spec.exclude, strict=True) if item.scope == "onward"]
        ends = [item.end for item in spec.exclude if item.scope == "onward"]
        if cut == n and any(h and end == g for h, end in zip(onward, ends, strict=True)):
            cut = g
    t = [x if k < cut else None for k, x in enumerate(t)]
    reached = [r and k < cut for k, r in enumerate(reached)]
    in_funnel = reached[0]
    if any(h and item.scope == "funnel" for h, item in zip(hits, spec.exclude, strict=True)):
        reached = [False] * n
    return t, reached, tuple(hits), in_funnel


def time_column(spec: Spec, stage: Stage) -> str | None:
    return stage.at if spec.shape == "wide" else (stage.at or spec.at)


def once_group(spec: Spec, k: int) -> str | None:
    """Under evidence: once, stage k's time column when another stage shares it (else None)."""
    if spec.evidence != "once":
        return None
    column = time_column(spec, spec.stages[k])
    sharing = [s for s in spec.stages if time_column(spec, s) == column]
    return column if len(sharing) > 1 else None


def qualifies(
    spec: Spec, k: int, x: datetime, entry_at: datetime | None, t: list[datetime | None]
) -> bool:
    """Whether evidence time x qualifies for stage k ≥ 2 (index ≥ 1); bounds are inclusive."""
    if spec.window is not None and entry_at is not None and x > spec.window.add_to(entry_at):
        return False
    within = spec.stages[k].within
    if within is not None and t[k - 1] is not None and x > within.add_to(t[k - 1]):
        return False
    if spec.order in ("strict", "sequence"):
        known = [y for y in t[:k] if y is not None]
        if known and x < known[-1]:  # lo = the nearest earlier stage with a known time
            return False
    return True


def stage_value(evidence: list[Evidence], time: datetime) -> float | None:
    """The value on the row that gave `time`; ties: the smallest value (empty values skipped)."""
    values = [e.value for e in evidence if e.time == time and e.value is not None]
    return min(values) if values else None


# --------------------------------------------------------------------------------------------
# Numbers (§ Numbers per stage, § Maturity)
# --------------------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation at position (n-1)·q of the sorted values (DuckDB quantile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def time_stats(days: list[float]) -> TimeStats:
    mean = sum(days) / len(days) if days else None
    return TimeStats(len(days), quantile(days, 0.5), quantile(days, 0.9), mean)


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_DAY


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def is_immature(spec: Spec, path: Journey, as_of: datetime | None) -> bool:
    if spec.window is None or path.entry_at is None or as_of is None:
        return False
    return spec.window.add_to(path.entry_at) > as_of


def group_numbers(
    spec: Spec, paths: list[Journey], as_of: datetime | None, names: list[str] | None = None
) -> GroupResult:
    """`names`: each path's key (attempts: each counts attempts, and the keys beside them)."""
    n = len(spec.stages)
    counts = [sum(p.reached[k] for p in paths) for k in range(n)]
    ids: list[int | None] = [None] * n
    if spec.attempts == "each":
        assert names is not None
        ids = [
            len({a for a, p in zip(names, paths, strict=True) if p.reached[k]}) for k in range(n)
        ]
    stages = []
    for k, stage in enumerate(spec.stages):
        from_previous = [
            days_between(p.t[k - 1], p.t[k])
            for p in paths
            if k > 0 and p.t[k - 1] is not None and p.t[k] is not None
        ]
        from_entry = [
            days_between(p.t[0], p.t[k])
            for p in paths
            if k > 0 and p.t[0] is not None and p.t[k] is not None
        ]
        value_sum = value_avg = value_median = None
        value_n = None
        if stage.value:
            values = sorted(p.values[k] for p in paths if p.values[k] is not None)
            value_sum = float(sum(values))
            value_n = len(values)
            if values:
                value_avg = value_sum / value_n
                middle = value_n // 2
                value_median = float(
                    values[middle] if value_n % 2 else (values[middle - 1] + values[middle]) / 2
                )
        stages.append(
            StageResult(
                # § Order policy, any: row k is "at least k stages done", not a stage
                name=row_name(spec, k),
                count=counts[k],
                conversion_from_previous=ratio(counts[k], counts[k - 1]) if k else None,
                conversion_from_entry=ratio(counts[k], counts[0]),
                dropped=counts[k - 1] - counts[k] if k else None,
                time_from_previous=time_stats(from_previous),
                time_from_entry=time_stats(from_entry),
                value_sum=value_sum,
                value_n=value_n,
                value_avg=value_avg,
                value_median=value_median,
                ids=ids[k],
            )
        )
    return GroupResult(
        entered=counts[0],
        immature_ids=sum(is_immature(spec, p, as_of) for p in paths),
        stages=tuple(stages),
    )


def row_name(spec: Spec, k: int) -> str:
    """Row k's name (0-based k): the stage's, or under `order: any` "at least k+1 stages done"
    (§ Order policy)."""
    return spec.stages[k].name if spec.order != "any" else f"stages_{k + 1}"


def group_value(spec: Spec, key: Key, path: Journey) -> str:
    """The breakdown value the key is credited with (§ Breakdowns, `attribution:`).

    entry: on the row that brings the key in first; rows are ordered by that time (rows
    without a time last), then by value (empty last). first_known: the first non-empty value
    of the rows that are evidence, in that order. stage:NAME: on the row that gave t_NAME.
    last: on the row that gave the last explicitly reached stage, else the stage before's …
    """
    kind, _, name = spec.attribution.partition(":")
    if spec.attempts == "each" and spec.shape == "long":  # § Attempts: the anchor row's
        return path.credited[0] or NONE_GROUP
    if kind == "stage":
        k = [s.name for s in spec.stages].index(name)
        return path.credited[k] or NONE_GROUP
    if kind == "last":
        return next((v for v in reversed(path.credited) if v), NONE_GROUP)
    rows = key.rows
    if kind == "first_known":
        rows = [(time, value) for time, value in key.evidence_rows if value]
    ordered = sorted(
        rows,
        key=lambda r: (r[0] is None, r[0] or datetime.min, r[1] is None, r[1] or ""),
    )
    value = ordered[0][1] if ordered else None
    return value if value else NONE_GROUP


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def latest_evidence(keys: dict[str, Key]) -> datetime | None:
    """The default as_of: the latest evidence time of any stage, all keys, before filters."""
    times = [e.time for key in keys.values() for stage in key.evidence for e in stage]
    return max(times, default=None)


def local_to_utc(moment: datetime | None, zone: str) -> datetime | None:
    """§ Entry: a --since/--until without an offset is wall-clock time in the YAML's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def report(spec: Spec, rows: list[dict[str, str]]) -> Report:
    spec = replace(
        spec,
        since=local_to_utc(spec.since, spec.timezone),
        until=local_to_utc(spec.until, spec.timezone),
    )
    keys, without_id = collect(spec, rows)
    # one path per key; under attempts: each one per attempt (§ Attempts)
    paths = [(name, p) for name, key in keys.items() for p in attempts_of(spec, key)]

    as_of = spec.as_of if spec.as_of is not None else latest_evidence(keys)

    cohort: list[tuple[str, Journey]] = []
    outside = without_entry_time = 0
    period = spec.since is not None or spec.until is not None
    for name, path in paths:
        if not path.reached[0]:
            continue
        if period and path.entry_at is None:
            without_entry_time += 1
            continue
        if path.entry_at is not None and (
            (spec.since is not None and path.entry_at < spec.since)
            or (spec.until is not None and path.entry_at >= spec.until)
        ):
            outside += 1
            continue
        cohort.append((name, path))

    members: dict[str, list[tuple[str, Journey]]] = defaultdict(list)
    if spec.by:
        for name, path in cohort:
            members[group_value(spec, keys[name], path)].append((name, path))
    if spec.top is not None:  # § Breakdowns: the N values with most entries, ties by value
        ranked = sorted(members, key=lambda value: (-len(members[value]), value))
        folded: dict[str, list[tuple[str, Journey]]] = defaultdict(list)
        for rank, value in enumerate(ranked):
            folded[value if rank < spec.top else OTHER_GROUP] += members[value]
        members = folded

    def in_period(path: Journey) -> bool:
        if not period:
            return True
        entry = path.entry_at
        return entry is not None and not (
            (spec.since is not None and entry < spec.since)
            or (spec.until is not None and entry >= spec.until)
        )

    excluded = tuple(
        sum(p.in_funnel and in_period(p) and p.hits[i] for _, p in paths)
        for i in range(len(spec.exclude))
    )
    journeys = [p for _, p in cohort]
    entries = [p.entry_at for p in journeys if p.entry_at is not None]
    histograms = {
        row_name(spec, k): histogram(
            [
                (p.t[k] - p.t[k - 1]).total_seconds()
                for p in journeys
                if p.t[k] is not None and p.t[k - 1] is not None
            ]
        )
        for k, stage in enumerate(spec.stages)
        if k > 0
    }
    return Report(
        overall=group_numbers(spec, journeys, as_of, [n for n, _ in cohort]),
        groups={
            value: group_numbers(spec, [p for _, p in ps], as_of, [n for n, _ in ps])
            for value, ps in members.items()
        },
        as_of=as_of,
        first_entry=min(entries, default=None),
        last_entry=max(entries, default=None),
        backwards_ids=sum(any(p.backwards) for p in journeys),
        backwards_by_stage={
            stage.name: sum(p.backwards[k] for p in journeys)
            for k, stage in enumerate(spec.stages)
            if k > 0
        },
        ids_outside_period=outside,
        ids_without_entry_time=without_entry_time,
        rows_read=len(rows),
        rows_without_id=without_id,
        excluded=excluded,
        histograms=histograms,
    )


# --------------------------------------------------------------------------------------------
# Time-to-convert histogram
# --------------------------------------------------------------------------------------------


def histogram(seconds: list[float]) -> Histogram:
    """Whole minutes (floored); the unit by the spread of those minutes (< 2 h: minutes,
    < 2 days: hours, < 12 weeks: days, else weeks); a bin is the fewest whole units that
    keep the bins touched by the values at most 20; bins are [i·w, (i+1)·w) from zero, every
    bin from the lowest value's to the highest value's listed."""
    if not seconds:
        return Histogram(None, 0, 0, ())
    minutes = [math.floor(s / 60) for s in seconds]
    low, high = min(minutes), max(minutes)
    spread = high - low
    if spread < 120:
        unit, size = "minute", 1
    elif spread < 2 * 1440:
        unit, size = "hour", 60
    elif spread < 84 * 1440:
        unit, size = "day", 1440
    else:
        unit, size = "week", 7 * 1440
    width = 1
    while True:  # the fewest units per bin with at most 20 bins
        step = width * size
        if math.floor(high / step) - math.floor(low / step) + 1 <= 20:
            break
        width += 1
    first, last = math.floor(low / step), math.floor(high / step)
    bins = tuple(
        (
            i * step / 1440,
            (i + 1) * step / 1440,
            sum(1 for m in minutes if math.floor(m / step) == i),
        )
        for i in range(first, last + 1)
    )
    return Histogram(unit, width, len(minutes), bins)

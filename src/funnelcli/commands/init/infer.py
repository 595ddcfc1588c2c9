"""The rules `funnel init` applies to profiled exports (profile.py): which column is the id, the
account, the stage column; whether an export is wide, long or a snapshot; the stages in their
typical order and by the data (median time, counts); values, lost, dimensions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from funnelcli.commands.init import profile as p
from funnelcli.commands.init import vocabulary as v
from funnelcli.commands.init.draft import Draft, DraftSource, DraftStage
from funnelcli.commands.init.profile import ColumnProfile, ExportProfile
from funnelcli.engine import Engine
from funnelcli.errors import DataError

MIN_JACCARD = 0.5  # a value column belongs to the stage whose filled rows it matches this well


def infer(
    engine: Engine,
    exports: Sequence[ExportProfile],
    written: Sequence[str],
    id_name: str | None = None,
) -> Draft:
    """The draft funnel for these exports (the first one defines the ids; `id_name`: its id
    column when the user chose it)."""
    primary = exports[0]
    sources: list[DraftSource] = []
    stages: list[tuple[int | None, datetime | None, DraftStage]] = []
    before: dict[tuple[str, str], int] = {}  # (a, b): rows with date a earlier than date b
    draft = Draft(sources=sources, stages=[])
    id_column = _id_column(primary) if id_name is None else primary.column(id_name)
    for export, path in zip(exports, written, strict=True):
        source = _source(export, path, primary, id_column)
        while source.name in {s.name for s in sources}:
            source.name += "_2"
        sources.append(source)
        if source.shape == "lookup":
            continue
        if source.shape == "wide":
            found = _wide_stages(engine, export, source, draft, first=export is primary)
            before.update(
                p.wide_precedence(engine, export.source, [s.at or "" for _, _, s in found])
            )
            stages += found
        else:
            _stage_log(engine, export, source, draft)
    if stages:
        draft.stages = _ordered(stages, before) + draft.stages
    if not draft.stages:
        names = ", ".join(str(e.path) for e in exports)
        raise DataError(
            f"no stage found in {names}: no date column and no stage column (a column named "
            "stage, status or 阶段); write the YAML by hand (README: The funnel definition)"
        )
    _dimensions(exports, sources, draft)
    _human_choices(exports, draft)
    return draft


# --- sources ------------------------------------------------------------------------------------


def _id_column(export: ExportProfile) -> ColumnProfile:
    """The id: a column named like one (most distinct values first), else the first column."""
    named = [c for c in export.columns if v.looks_like_id(c.name) and not c.is_time]
    if not named:
        return export.columns[0]
    return max(named, key=lambda c: (c.distinct, -export.columns.index(c)))


def _source(
    export: ExportProfile, path: str, primary: ExportProfile, id_column: ColumnProfile
) -> DraftSource:
    name = _source_name(export, primary)
    if export is primary:
        key = id_column
    else:
        same = [c for c in export.columns if v.key(c.name) == v.key(id_column.name)]
        if not same:
            return _lookup(export, path, primary, name)
        key = same[0]
    unique = key.distinct == export.rows
    stage = _stage_column(export)
    why = f"{export.rows:,} rows; {key.name}: {key.distinct:,} distinct ids"
    source = DraftSource(name=name, path=path, shape="wide", id=key.name, why=why)
    if stage is not None and export is primary:
        source.stage = stage.name
        source.shape = "snapshot" if unique else "long"
        times = [c for c in export.columns if c.is_time]
        if source.shape == "long" and times:
            source.at = max(times, key=lambda c: c.filled).name
        kind = "one row per id: its current stage" if unique else "several rows per id"
        source.why = f"{why}; {stage.name} holds stage values ({kind})"
    if export is primary:
        account = _account_column(export, key)
        if account is not None:
            source.account = account.name
    return source


def _lookup(export: ExportProfile, path: str, primary: ExportProfile, name: str) -> DraftSource:
    """A file without the id: a lookup joined on a column it shares with the first export
    (unique in the lookup)."""
    shared = {v.key(c.name): c.name for c in primary.columns}
    for column in export.columns:
        if v.key(column.name) in shared and column.distinct == export.rows:
            return DraftSource(
                name=name,
                path=path,
                shape="lookup",
                key=column.name,
                join=shared[v.key(column.name)],
                why=f"adds columns by {column.name} (one row each)",
            )
    raise DataError(
        f"{export.path}: shares neither the id column of {primary.path.name} nor a column with "
        "one row per value; pass it to funnel init on its own or write the YAML by hand"
    )


def _source_name(export: ExportProfile, primary: ExportProfile) -> str:
    stem = export.path.name.split(".")[0].lower()
    words = [w for w in re.split(r"[^0-9a-z]+", stem) if w and w not in ("olist", "dataset")]
    name = words[-1] if words else export.source
    return name if export is not primary or name else "leads"


def _stage_column(export: ExportProfile) -> ColumnProfile | None:
    """A text column named like a stage column, or holding won/lost values."""
    text = [c for c in export.columns if c.sql_type == "VARCHAR" and c.top and len(c.top) > 1]
    for column in text:
        if v.is_stage_column(column.name):
            return column
    for column in text:
        if sum(1 for value, _ in column.top if v.outcome(value)) >= 2:
            return column
    return None


def _account_column(export: ExportProfile, id_column: ColumnProfile) -> ColumnProfile | None:
    candidates = [
        c
        for c in export.columns
        if c is not id_column and v.looks_like_account(c.name) and 0 < c.distinct < export.rows
    ]
    candidates.sort(key=lambda c: (not v.looks_like_id(c.name), export.columns.index(c)))
    return candidates[0] if candidates else None


# --- stages -------------------------------------------------------------------------------------


def _wide_stages(
    engine: Engine, export: ExportProfile, source: DraftSource, draft: Draft, *, first: bool
) -> list[tuple[int | None, datetime | None, DraftStage]]:
    """One stage per date column (its typical rank and median), lost dates to `lost:`, and each
    value column on the stage whose filled rows it matches best."""
    found = []
    times = [c for c in export.columns if c.is_time and c.filled]
    for column in times:
        if v.is_lost_time(column.name):
            draft.lost = (
                {"at": column.name} if first else {"source": source.name, "at": column.name}
            )
            draft.lost_why = f"{column.name}: a lost date ({column.filled:,} rows)"
            continue
        if v.not_a_stage(column.name):
            draft.notes.append(f"{export.path.name}: {column.name} is a date, not a stage")
            continue
        rank = v.time_rank(column.name)
        median = column.median.date().isoformat() if column.median else "unknown"
        how = "its name" if rank is not None else "the data only"
        why = f"{column.filled:,} rows, median {median} (placed by {how})"
        stage = DraftStage(
            name=v.stage_name(column.name, rank),
            source=None if first else source.name,
            at=column.name,
            why=why,
        )
        found.append((rank, column.median, stage))
    values = [c for c in export.columns if c.is_numeric and v.looks_like_value(c.name)]
    pairs = [(value.name, stage.at or "") for value in values for _, _, stage in found]
    both = p.pair_counts(engine, export.source, pairs)
    for i, value in enumerate(values):
        scores = []
        for j, (_, _, stage) in enumerate(found):
            column = export.column(stage.at or "")
            shared = both[i * len(found) + j]
            union = value.filled + column.filled - shared
            scores.append((shared / union if union else 0.0, j))
        if scores and max(scores)[0] >= MIN_JACCARD:
            score, j = max(scores)
            found[j][2].value = value.name
            found[j][2].why += f"; {value.name} filled on {score:.0%} of the same rows"
        else:
            draft.notes.append(f"{value.name} looks like money but matches no stage's rows")
    return found


def _ordered(
    stages: list[tuple[int | None, datetime | None, DraftStage]],
    before: dict[tuple[str, str], int],
) -> list[DraftStage]:
    """By typical order when every stage has one, else by the data: which date usually comes
    first on the rows that have both (then the median)."""
    if all(rank is not None for rank, _, _ in stages):
        stages.sort(key=lambda s: (s[0], s[1] or datetime.max))
    else:
        stages.sort(key=lambda s: s[1] or datetime.max)
        by_at = {s.at: (r, m, s) for r, m, s in stages}
        stages = [by_at[a] for a in p.precedence_order(list(by_at), before)]  # type: ignore[arg-type]
    return _unique_names([s for _, _, s in stages])


def _unique_names(stages: list[DraftStage]) -> list[DraftStage]:
    seen: dict[str, int] = {}
    for stage in stages:
        base = stage.name
        if base in seen:
            seen[base] += 1
            stage.name = f"{base}_{seen[base]}"
        else:
            seen[base] = 1
    return stages


def _stage_log(engine: Engine, export: ExportProfile, source: DraftSource, draft: Draft) -> None:
    """Stages from a long or snapshot export's stage values."""
    assert source.stage is not None and source.id is not None
    values = p.stage_values(engine, export.source, source.id, source.stage, source.at)
    won = [x for x in values if v.outcome(x[0]) == "won"]
    lost = [x for x in values if v.outcome(x[0]) == "lost"]
    open_ = [x for x in values if v.outcome(x[0]) is None]
    if lost:
        draft.lost = {"match": [x[0] for x in lost]}
        draft.lost_why = ", ".join(f"{x[0]} ({x[2]:,} ids)" for x in lost) + ": lost values"
    if source.shape == "snapshot":
        draft.stages += _snapshot_stages(engine, export, source, open_, won)
        return
    ordered = sorted(open_, key=lambda x: (x[3] or datetime.max, -x[2]))
    if won:
        median = min((x[3] for x in won if x[3] is not None), default=None)
        ordered.append(("\x00won", sum(x[1] for x in won), sum(x[2] for x in won), median))
    if source.at is not None:  # by the keys that have both: which value usually comes first
        before = p.log_precedence(engine, export.source, source.id, source.stage, source.at)
        for w in won:
            for o in open_:
                before[("\x00won", o[0])] = before.get(("\x00won", o[0]), 0) + before.get(
                    (w[0], o[0]), 0
                )
                before[(o[0], "\x00won")] = before.get((o[0], "\x00won"), 0) + before.get(
                    (o[0], w[0]), 0
                )
        by_value = {x[0]: x for x in ordered}
        ordered = [by_value[x] for x in p.precedence_order(list(by_value), before)]
    for value, rows, keys, median in ordered:
        when = median.date().isoformat() if median else "unknown"
        if value == "\x00won":
            match = [x[0] for x in won]
            why = f"won values; {keys:,} ids, median first time {when}"
            draft.stages.append(DraftStage(name=_slug(match[0], "won"), match=match, why=why))
            continue
        why = f"{rows:,} rows, {keys:,} ids, median first time {when}"
        draft.stages.append(DraftStage(name=_slug(value, "stage"), match=[value], why=why))
    _unique_names(draft.stages)


def _snapshot_stages(
    engine: Engine,
    export: ExportProfile,
    source: DraftSource,
    open_: list[tuple[str, int, int, datetime | None]],
    won: list[tuple[str, int, int, datetime | None]],
) -> list[DraftStage]:
    """A snapshot's open values ordered by how many date columns their rows fill (a deal that
    got further has more dates), a date column named like a value is that stage's own `at:`
    (every row with it is evidence, Lost ones too); won values last, at their close date."""
    assert source.stage is not None
    times = [c.name for c in export.columns if c.is_time]
    filled = p.filled_by_value(engine, export.source, source.stage, times)

    def dates_filled(value: str) -> int:
        counts = filled.get(value, {"__rows": 0})
        rows = counts["__rows"] or 1
        return sum(1 for t in times if counts.get(t, 0) > rows / 2)

    stages = []
    used: set[str] = set()
    created = [t for t in times if v.time_rank(t) == v.CREATED]
    if created:  # a creation date: every row enters there
        used.add(created[0])
        why = f"{created[0]}: every row's creation date (the entry)"
        stages.append(DraftStage(name="lead", at=created[0], why=why))
    for value, rows, _, _ in sorted(
        open_, key=lambda x: (dates_filled(x[0]), v.step_rank(x[0]), -x[1])
    ):
        own = next((t for t in times if _same_word(t, value) and t not in used), None)
        if own is not None:
            used.add(own)
            why = f"{own}: every row with this date (any current stage), {rows:,} now at {value}"
            stages.append(DraftStage(name=_slug(value, "stage"), at=own, why=why))
        else:
            why = f"{rows:,} rows now at {value}, no date: reached untimed"
            stages.append(DraftStage(name=_slug(value, "stage"), match=[value], why=why))
    if won:
        match = [x[0] for x in won]
        rest = [t for t in times if t not in used]
        close = max(
            rest,
            key=lambda t: (v.time_rank(t) or 0, export.column(t).median or datetime.min),
            default=None,
        )
        values = [c.name for c in export.columns if c.is_numeric and v.looks_like_value(c.name)]
        stage = DraftStage(
            name=_slug(match[0], "won"), match=match, at=close, value=values[0] if values else None
        )
        stage.why = f"won values ({sum(x[1] for x in won):,} rows)" + (
            f", dated by {close}" if close else ""
        )
        stages.append(stage)
    return _unique_names(stages)


def _same_word(column: str, value: str) -> bool:
    """engage_date ~ Engaging: the column's first word and the value share 5 letters."""
    first = re.split(r"[^0-9a-z]+", column.lower())[0]
    text = value.lower()
    return len(first) >= 4 and text[:5] == first[:5]


def _slug(value: str, fallback: str) -> str:
    text = re.sub(r"\W+", "_", value.strip().lower()).strip("_")
    return text if text and not text[0].isdigit() else fallback


# --- dimensions and what is left to a human -----------------------------------------------------


def _dimensions(exports: Sequence[ExportProfile], sources: list[DraftSource], draft: Draft) -> None:
    taken = {x for s in sources for x in (s.id, s.account, s.stage, s.at) if x}  # joins stay
    taken |= {s.at for s in draft.stages if s.at} | {s.value for s in draft.stages if s.value}
    named: list[str] = []
    other: list[str] = []
    for export in exports:
        for c in export.columns:
            if c.name in taken or c.is_time or c.name in named:
                continue
            few = 1 < c.distinct <= p.TOP and c.distinct < max(2, c.filled // 2)
            if few and c.sql_type == "VARCHAR":
                (named if v.dimension_score(c.name) else other).append(c.name)
    draft.dimensions = named
    draft.breakdown = [d for d in named if v.is_breakdown(d)][:1]
    draft.dimensions_why = "few distinct values and a name like channel, segment, owner, country"
    if other:
        draft.notes.append(
            "other columns with few values (add to dimensions: to use them): " + ", ".join(other)
        )


def _human_choices(exports: Sequence[ExportProfile], draft: Draft) -> None:
    draft.human.append(
        "window: how long after entry a stage still counts (e.g. window: 18mo); none is set, "
        "so every later stage counts and no cohort is flagged immature"
    )
    draft.human.append(
        "within: on a stage, if it must follow the previous one within a time (e.g. 60d)"
    )
    long = any(s.shape == "long" for s in draft.sources)
    draft.human.append(
        "order: backfill (a later stage implies the earlier ones) is the default; "
        + (
            "a stage log is often counted with order: strict"
            if long
            else "use strict to count a stage only after every earlier one, in order"
        )
    )
    if any(re.search(r"[\u4e00-\u9fff]", c.name) for e in exports for c in e.columns):
        draft.human.append(
            "tz: naive times are read as UTC; a Chinese CRM usually writes "
            "Asia/Shanghai (set tz: on the source)"
        )
    if any(c.ambiguous for e in exports for c in e.columns):
        draft.human.append(
            "day_first: text dates like 03/04/2024 read either way; set day_first: true or "
            "false on the source (and list the column as a stage to use it)"
        )

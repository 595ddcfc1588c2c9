"""`funnel report` as a library call: spec → SQL → DuckDB → metrics → FunnelReport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from funnelcli import __version__
from funnelcli.compile import CompiledFunnel, ReportQuery, compile_funnel
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import DataError
from funnelcli.plan import Resolver
from funnelcli.result import DataQuality, FunnelInfo, FunnelReport, Period, StageInfo
from funnelcli.spec import Funnel


def compile_for(funnel: Funnel, engine: Engine, query: ReportQuery | None = None) -> CompiledFunnel:
    """Compile against the sources' real headers, so unknown columns are caught with a hint.

    The YAML's `dimensions:` and `breakdown:` are checked too, with their own keys, even when
    this run does not break down by them.
    """
    headers = engine.headers()
    resolver = Resolver(funnel, headers)
    for key in ("dimensions", "breakdown"):
        for index, name in enumerate(getattr(funnel.spec, key)):
            resolver.attribute_source(name, f"{key}[{index}]")
    return compile_funnel(funnel, headers, query)


def build_report(
    funnel: Funnel,
    query: ReportQuery | None = None,
    *,
    min_n: int | None = None,
    data_dir: Path | None = None,
    explain: Callable[[str], None] | None = None,
    cache: bool | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> FunnelReport:
    """Run the funnel over its sources and return the report (DESIGN.md §3 semantics).

    `cache` (default: the YAML's `cache:`) reads the sources through their Parquet copies in
    `cache_dir` (default: paths.default_cache_dir()). `progress` is called (from another
    thread) with the running query's done fraction.
    """
    from funnelcli.metrics import split_groups, total_row

    query = query or ReportQuery()
    min_n = funnel.spec.min_n if min_n is None else min_n
    folder = cache_folder(funnel, cache, cache_dir)
    with open_engine(funnel, data_dir, folder, progress) as engine:
        compiled = compile_for(funnel, engine, query)
        sql = compiled.sql()
        if explain is not None:
            explain(sql)
        try:
            frame = engine.frame(sql)
        except DataError as error:
            raise (find_unreadable(engine, compiled) or error) from None
    overall, breakdowns = split_groups(frame, compiled, funnel.spec.stages, min_n)
    totals = total_row(frame.to_dicts(), compiled)
    period = Period(
        since=_iso(query.since),
        until=_iso(query.until),
        as_of=_iso(totals.get("as_of")),
        first_entry=_iso(totals.get("first_entry")),
        last_entry=_iso(totals.get("last_entry")),
        immature=overall.immature_ids > 0,
    )
    return FunnelReport(
        funnel=funnel_info(funnel),
        period=period,
        overall=overall,
        breakdowns=breakdowns,
        data_quality=_data_quality(funnel, compiled, totals, overall.immature_ids),
        min_n=min_n,
        version=__version__,
    )


def cache_folder(funnel: Funnel, cache: bool | None, cache_dir: Path | None) -> Path | None:
    """Where to keep the sources' Parquet copies, or None to read the files directly."""
    if not (funnel.spec.cache if cache is None else cache):
        return None
    from funnelcli.paths import default_cache_dir

    return cache_dir or default_cache_dir()


def funnel_info(funnel: Funnel) -> FunnelInfo:
    spec = funnel.spec
    return FunnelInfo(
        name=funnel.name,
        title=spec.title or funnel.name,
        file=funnel.file,
        grain=spec.grain.value,
        order=spec.order.value,
        window=str(spec.window) if spec.window else None,
        stages=tuple(
            StageInfo(
                name=s.name,
                label=s.title,
                source=spec.stage_source(s),
                has_value=s.value is not None,
            )
            for s in spec.stages
        ),
        filter=spec.filter,
    )


def _data_quality(
    funnel: Funnel, compiled: CompiledFunnel, totals: dict[str, Any], immature_ids: int
) -> DataQuality:
    sources = compiled.source_names
    stages = compiled.stage_names
    notes = []
    if funnel.spec.window is None:
        notes.append("no window declared, so no cohort is flagged immature")
    for i, source in enumerate(sources):
        if not totals.get(f"rows_read_{i}"):
            notes.append(f"source {source} has no data rows")
    return DataQuality(
        rows_read={s: int(totals.get(f"rows_read_{i}") or 0) for i, s in enumerate(sources)},
        rows_without_id={
            s: int(totals.get(f"rows_without_id_{i}") or 0) for i, s in enumerate(sources)
        },
        ids_without_entry_time=int(totals.get("ids_without_entry_time") or 0),
        ids_outside_period=int(totals.get("ids_outside_period") or 0),
        ids_filtered_out=int(totals.get("ids_filtered_out") or 0),
        backwards_ids=int(totals.get("backwards_ids") or 0),
        backwards_by_stage={
            stages[k - 1]: int(totals.get(f"s{k}_backwards") or 0)
            for k in range(2, len(stages) + 1)
        },
        immature_ids=immature_ids,
        notes=tuple(notes),
    )


def find_unreadable(engine: Engine, compiled: CompiledFunnel) -> DataError | None:
    """The first date or amount that cannot be read, as file, row, column and its text."""
    for source, column, type_name in compiled.typed_columns:
        found = engine.first_unreadable(source, column, type_name)
        if found is not None:
            row, raw = found
            kind = "a date/time" if type_name == "TIMESTAMP" else "a number"
            return DataError(
                f"cannot read {raw!r} as {kind}",
                file=engine.files[source].label,
                row=row,
                column=column,
            )
    return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    return str(value)

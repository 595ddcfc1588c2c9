"""`funnel drivers` as a library call: conversion from one stage to another by attribute value,
each group against the rest (metrics/drivers.py), over the report query's per-key layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.per_id import ListRequest, PerIdRun, plan_per_id, refuse_each, stage_index
from funnelcli.commands.set_aside import enforce
from funnelcli.compile.per_id import REST
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import UsageError
from funnelcli.metrics.drivers import GroupCount, compare, quantile_bins
from funnelcli.outputs.base import iso
from funnelcli.outputs.drivers import Driver, Drivers
from funnelcli.spec import Funnel
from funnelcli.spec.unordered import refuse_any
from funnelcli.sql.amounts import is_numeric_type

CORRECTION = "benjamini-hochberg"
QUARTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class DriversRequest(ListRequest):
    """What `funnel drivers` is asked."""

    stage: str = ""
    from_stage: str | None = None  # None: the first stage
    min_n: int | None = None  # None: the YAML's min_n:
    by: tuple[str, ...] = ()  # attributes besides the YAML's dimensions:
    numeric: tuple[str, ...] = ()  # attributes binned by quartile (numeric columns are anyway)


def build_drivers(
    funnel: Funnel, request: DriversRequest, options: RunOptions | None = None
) -> Drivers:
    """Every attribute value with at least min_n keys against the rest, ranked."""
    options = options or RunOptions()
    spec = funnel.spec
    refuse_any(funnel, "funnel drivers")  # it lists named stages
    refuse_each(funnel, "drivers")
    target = stage_index(funnel, request.stage, "--stage")
    start = 1 if request.from_stage is None else stage_index(funnel, request.from_stage, "--from")
    if start >= target:
        first, last = spec.stages[start - 1].name, spec.stages[target - 1].name
        raise UsageError(f"--from {first} must come before --stage {last}")
    if spec.attribution != "entry":
        # last / stage:NAME / first_known take values from rows the conversion itself brings
        raise UsageError(
            f"funnel drivers compares conversion by each id's attributes as of entry; "
            f"attribution: {spec.attribution} credits values from later rows (the converting "
            "ones among them), which would bias every rate: run it with attribution: entry"
        )
    attributes = tuple(dict.fromkeys((*spec.dimensions, *request.by, *request.numeric)))
    if not attributes:
        raise UsageError("no attributes to compare: declare dimensions: in the YAML or pass --by")
    min_n = spec.min_n if request.min_n is None else request.min_n
    folder = options.cache_folder(funnel)
    with open_engine(funnel, options.data_dir, parquet_cache=folder) as engine:
        run = plan_per_id(engine, funnel, request, attributes)
        numeric = tuple(
            a for a in attributes if a in request.numeric or _numeric(engine, funnel, a)
        )
        groups: list[GroupCount] = []
        totals = (0, 0)
        as_of = request.as_of
        for attribute in attributes:
            counts, as_of = _counts(run, attribute, start, target, attribute in numeric)
            # each attribute splits the same cohort: any one gives the totals
            totals = (sum(g.n for g in counts), sum(g.converted for g in counts))
            groups += counts
        enforce(engine, funnel, options)
    tested, skipped = compare(groups, totals[0], totals[1], min_n)
    return Drivers(
        funnel=funnel.name,
        file=funnel.file,
        from_stage=spec.stages[start - 1].name,
        stage=spec.stages[target - 1].name,
        since=iso(request.since),
        until=iso(request.until),
        as_of=iso(as_of),
        min_n=min_n,
        correction=CORRECTION,
        n=totals[0],
        converted=totals[1],
        rate=totals[1] / totals[0] if totals[0] else None,
        attributes=tuple(a for a in attributes if a not in numeric),
        numeric=numeric,
        skipped=skipped,
        drivers=tuple(
            Driver(
                attribute=t.group.attribute,
                value=t.group.value,
                binned=t.group.binned,
                n=t.group.n,
                converted=t.group.converted,
                rate=t.rate,
                rate_low=t.rate_low,
                rate_high=t.rate_high,
                rest_n=t.rest_n,
                rest_converted=t.rest_converted,
                rest_rate=t.rest_rate,
                odds_ratio=t.odds_ratio,
                odds_ratio_low=t.odds_ratio_low,
                odds_ratio_high=t.odds_ratio_high,
                corrected=t.corrected,
                p_value=t.p_value,
                p_adjusted=t.p_adjusted,
            )
            for t in tested
        ),
        version=__version__,
    )


def _counts(
    run: PerIdRun, attribute: str, start: int, target: int, binned: bool
) -> tuple[list[GroupCount], datetime | None]:
    """Per value (or quartile bin) of `attribute`: keys that started and converted."""
    bins: list[tuple[float, str]] = []
    if binned:
        (found,) = run.rows(
            partial(run.per_id.quantiles, attribute=attribute, start=start, fractions=QUARTILES)
        )
        if found["n"]:
            bins = quantile_bins([float(x) for x in found["q"]])
    statement = partial(
        run.per_id.conversion_by, attribute=attribute, start=start, target=target, bins=bins
    )
    rows = run.rows(statement)
    counts = sorted(
        (
            GroupCount(attribute, str(r[REST]), int(r["n"]), int(r["converted"]), binned)
            for r in rows
            if r["n"]
        ),
        key=lambda g: g.value,
    )
    return counts, max((r["as_of"] for r in rows if r["as_of"] is not None), default=None)


def _numeric(engine: Engine, funnel: Funnel, attribute: str) -> bool:
    """Whether the first source that has the attribute reads it as numbers."""
    schema = engine.schema()
    for name in funnel.spec.funnel_sources + funnel.spec.lookup_sources:
        raw = funnel.spec.sources[name].column(attribute)
        if raw in schema.get(name, {}):
            return is_numeric_type(schema[name][raw])
    return False

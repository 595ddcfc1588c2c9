"""`funnel trace` as a library call: one key's path through the funnel, with every evidence row
read (file and row) and the rule that decided each stage (metrics/trace.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.per_id import ListRequest, plan_per_id
from funnelcli.commands.set_aside import enforce
from funnelcli.compile.evidence import ROW, evidence_queries
from funnelcli.compile.per_id import IdRow, IdStage
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import DataError, UsageError
from funnelcli.metrics.trace import Exclusion, StageRules, exclusions, verdicts
from funnelcli.outputs.base import iso
from funnelcli.outputs.trace import (
    EvidenceRow,
    EvidenceStage,
    RejectedRow,
    Trace,
    TracedStage,
)
from funnelcli.spec import Attempts, Evidence, Funnel, Grain, Order, Shape
from funnelcli.spec.hints import normalize


@dataclass(frozen=True)
class TraceRequest(ListRequest):
    """What `funnel trace` is asked: the key (a lead id, or an account at grain: account)."""

    id: str = ""


def build_trace(funnel: Funnel, request: TraceRequest, options: RunOptions | None = None) -> Trace:
    """The key's evidence rows, entry, cohort and each stage's verdict."""
    options = options or RunOptions()
    spec = funnel.spec
    if spec.order is Order.sequence or spec.evidence is Evidence.once:
        # Its rules (metrics/trace.py) do not yet explain these two (issue 16).
        raise UsageError("funnel trace does not explain order: sequence or evidence: once yet")
    if spec.exclude:  # nor exclusions: a stage stopped by exclude: would show as counted
        raise UsageError(
            "funnel trace does not explain exclude: yet (docs/semantics.md, Exclusions)"
        )
    if spec.attempts is not Attempts.first:
        # Its verdicts are read on the earliest evidence, not on an attempt's anchor.
        raise UsageError(
            f"funnel trace does not explain attempts: {spec.attempts.value} yet "
            "(use funnel stalled or funnel report; attempts: first is traced)"
        )
    folder = options.cache_folder(funnel)
    with open_engine(funnel, options.data_dir, parquet_cache=folder) as engine:
        found = plan_per_id(engine, funnel, request, spec.dimensions).ids(key=request.id)
        as_of = found[0].as_of if found else request.as_of
        evidence = _evidence(engine, funnel, request.id, as_of, request.as_of)
        rejected = _rejected(engine, funnel, request.id)
        enforce(engine, funnel, options, yaml_limit=False)
        if not found and not rejected:
            files = ", ".join(engine.files[s].label for s in spec.funnel_sources)
            raise DataError(f"no row of {files} has the {_key_name(funnel)} {request.id!r}")
    if not found:  # every row of the key was set aside: it is nowhere in the funnel
        found = [_absent(funnel, request.id)]
    row = found[0]
    names = tuple(s.name for s in spec.stages)
    times: list[list[datetime]] = [[] for _ in names]
    late: dict[int, datetime] = {}  # stage → its earliest evidence after the as-of
    for item in evidence:
        for stage in item.stages:
            if stage.after_as_of and stage.at is not None:
                k, at = names.index(stage.stage) + 1, datetime.fromisoformat(stage.at)
                late[k] = min(late.get(k, at), at)
            elif stage.at is not None:
                times[names.index(stage.stage)].append(datetime.fromisoformat(stage.at))
    rules = StageRules(
        names=names,
        within=tuple(s.within for s in spec.stages),
        window=spec.window,
        order=spec.order,
    )
    stages = tuple(
        TracedStage(
            stage=v.stage,
            counted=v.counted,
            rule=v.rule.value,
            reached_at=iso(s.qualified_at) if s.explicit else None,
            value=s.value if s.explicit else None,
            evidence_at=iso(v.evidence_at),
            limit=iso(v.limit),
            other_stage=v.other_stage,
        )
        for v, s in zip(
            verdicts(row, rules, times, _rejected_stages(funnel, rejected), late),
            row.stages,
            strict=True,
        )
    )
    return Trace(
        funnel=funnel.name,
        file=funnel.file,
        id=request.id,
        grain=spec.grain.value,
        order=spec.order.value,
        window=str(spec.window) if spec.window else None,
        since=iso(request.since),
        until=iso(request.until),
        as_of=iso(row.as_of),
        entry_at=iso(row.entry_at),
        in_cohort=row.in_cohort,
        exclusions=tuple(
            e.value for e in (exclusions(row) if evidence else (Exclusion.rejected_rows,))
        ),
        immature=row.immature,
        lost=row.lost,
        attributes=dict(row.attributes),
        stages=stages,
        evidence=evidence,
        rejected=rejected,
        version=__version__,
    )


def _key_name(funnel: Funnel) -> str:
    return "account" if funnel.spec.grain.value == "account" else "id"


def _evidence(
    engine: Engine,
    funnel: Funnel,
    key: str,
    as_of: datetime | None,
    asked: datetime | None,
) -> tuple[EvidenceRow, ...]:
    """Every row of every funnel source whose key is `key`, in file order; a stage time after
    `as_of` is marked (compile/resolve.not_after: evidence is timed at or before it), and a
    loss dated after the `--as-of` asked (the one lost_condition applies: none by default)."""
    names = [s.name for s in funnel.spec.stages]
    rows = {s: engine.file_rows(s) for s in funnel.spec.funnel_sources}
    out: list[EvidenceRow] = []
    for query in evidence_queries(funnel, engine.schema(), key, rows):
        label = engine.files[query.source].label
        results = engine.rows(query.query, source=query.source, exact=False)
        lines = engine.lines_of(query.source, {int(r[ROW]) for r in results})
        for found in results:
            stages = tuple(
                EvidenceStage(
                    stage=names[k - 1],
                    at=iso(found[f"t{k}"]),
                    value=None if found[f"v{k}"] is None else float(found[f"v{k}"]),
                    after_as_of=_after(found[f"t{k}"], as_of),
                )
                for k in query.stages
                if found[f"e{k}"]
            )
            lost = bool(found.get("lost")) if query.has_lost else False
            late = lost and _after(found.get("lost_at"), asked)
            row = int(found[ROW])
            out.append(EvidenceRow(query.source, label, row, stages, lost, lines.get(row), late))
    return tuple(out)


def _after(time: datetime | None, as_of: datetime | None) -> bool:
    """Whether an evidence time is after the as-of instant (never for untimed evidence)."""
    return time is not None and as_of is not None and time > as_of


def _rejected(engine: Engine, funnel: Funnel, key: str) -> tuple[RejectedRow, ...]:
    """The key's rows set aside for an unreadable time, per source with its own key column."""
    spec = funnel.spec
    out: list[RejectedRow] = []
    for name in spec.funnel_sources:
        source = spec.sources[name]
        column = source.account if spec.grain is Grain.account else source.id
        if column is None:  # mapped through the first source: its rows have no account
            continue
        for r in engine.rejects_of(name, source.column(column), key):
            out.append(RejectedRow(name, r.file, r.line, r.column, r.value, r.reason))
    return tuple(out)


def _rejected_stages(funnel: Funnel, rejected: tuple[RejectedRow, ...]) -> frozenset[int]:
    """The stages (1-based) whose time column is the column of a rejected value."""
    spec = funnel.spec
    found = set()
    for k, stage in enumerate(spec.stages, start=1):
        name = spec.stage_source(stage)
        source = spec.sources[name]
        at = stage.at or (source.at if source.shape is not Shape.wide else None)
        if at is None:
            continue
        raw = normalize(source.column(at))
        if any(r.source == name and normalize(r.column) == raw for r in rejected):
            found.add(k)
    return frozenset(found)


def _absent(funnel: Funnel, key: str) -> IdRow:
    """The per-key row of a key no readable row has: reached nothing."""
    stage = IdStage(None, False, None, None, False, False, False)
    return IdRow(
        key=key,
        entry_at=None,
        in_period=False,
        kept=False,
        as_of=None,
        immature=False,
        lost=False,
        attributes={},
        stages=tuple(stage for _ in funnel.spec.stages),
    )

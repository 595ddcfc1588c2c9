"""`funnel stalled` as a library call: the ids waiting at a stage (or dropped there).

An id of the report's cohort that reached stage S and not stage S+1 is *stalled* while its
window is open (it may still convert: the report's immature ids) and *dropped* once the window
has run out. Without a `window:` nothing runs out: every such id is stalled. So
stalled + dropped = count(S) − count(S+1), the report's `dropped` at S+1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.per_id import ListRequest, plan_per_id, refuse_each, stage_index
from funnelcli.commands.set_aside import enforce
from funnelcli.compile.per_id import IdRow
from funnelcli.engine import open_engine
from funnelcli.errors import UsageError
from funnelcli.outputs.base import iso
from funnelcli.outputs.stalled import StalledCounts, StalledId, StalledList
from funnelcli.spec import Funnel
from funnelcli.spec.duration import Duration
from funnelcli.spec.unordered import refuse_any

DAY = 86400.0


@dataclass(frozen=True)
class StalledRequest(ListRequest):
    """What `funnel stalled` is asked."""

    stage: str = ""
    dropped: bool = False  # list the ids whose window ran out instead
    older_than: Duration | None = None  # only ids waiting at least this long
    by: tuple[str, ...] = ()  # group the list by these attributes


def build_stalled(
    funnel: Funnel, request: StalledRequest, options: RunOptions | None = None
) -> StalledList:
    """The ids waiting at `request.stage` (or dropped there), longest wait first."""
    options = options or RunOptions()
    spec = funnel.spec
    refuse_any(funnel, "funnel stalled")  # it lists named stages
    refuse_each(funnel, "stalled")
    k = stage_index(funnel, request.stage, "--stage")
    if k == len(spec.stages):
        raise UsageError(f"--stage {request.stage}: the last stage has no next stage to wait for")
    dimensions = tuple(dict.fromkeys((*request.by, *spec.dimensions)))
    folder = options.cache_folder(funnel)
    with open_engine(funnel, options.data_dir, parquet_cache=folder) as engine:
        run = plan_per_id(engine, funnel, request, dimensions)
        waiting = run.ids(waiting_at=k)
        (counts,) = run.rows(partial(run.per_id.stage_counts, k=k))
        enforce(engine, funnel, options)
    # immature: entered less than a window before as_of (the report's own column)
    expired = [i for i in waiting if spec.window is not None and not i.immature]
    open_ = [i for i in waiting if not (spec.window is not None and not i.immature)]
    listed = expired if request.dropped else open_
    if request.older_than is not None:
        listed = [i for i in listed if _waited(i, k, request.older_than)]
    entries = [_entry(i, k) for i in listed]
    entries.sort(key=lambda e: (*(e.attributes[b] for b in request.by), -(e.days_waiting or 0)))
    as_of = counts["as_of"]
    return StalledList(
        funnel=funnel.name,
        file=funnel.file,
        stage=spec.stages[k - 1].name,
        next_stage=spec.stages[k].name,
        listing="dropped" if request.dropped else "stalled",
        window=str(spec.window) if spec.window else None,
        since=iso(request.since),
        until=iso(request.until),
        as_of=iso(as_of),
        older_than=None if request.older_than is None else str(request.older_than),
        by=request.by,
        dimensions=dimensions,
        has_value=spec.stages[k - 1].value is not None,
        counts=StalledCounts(
            at_stage=int(counts["at_stage"]),
            next_stage=int(counts["next_stage"]),
            stalled=len(open_),
            dropped=len(expired),
        ),
        ids=tuple(entries),
        version=__version__,
    )


def _entry(row: IdRow, k: int) -> StalledId:
    stage = row.stages[k - 1]
    since = waiting_since(row, k)
    days = None
    if since is not None and row.as_of is not None:
        days = (row.as_of - since).total_seconds() / DAY
    return StalledId(
        id=row.key,
        entered_at=iso(row.entry_at),
        reached_at=iso(stage.qualified_at),
        waiting_since=iso(since),
        days_waiting=days,
        value=stage.value,
        attributes=dict(row.attributes),
    )


def _waited(row: IdRow, k: int, older_than: Duration) -> bool:
    """Whether the id has waited at least `older_than` by as_of (calendar months as months)."""
    since = waiting_since(row, k)
    return since is not None and row.as_of is not None and older_than.add_to(since) <= row.as_of


def waiting_since(row: IdRow, k: int) -> datetime | None:
    """When the wait at stage k began: its qualifying time, else the latest known time of an
    earlier stage (a stage reached by implication has none), else the entry."""
    times: Sequence[datetime | None] = [s.qualified_at for s in row.stages[:k]]
    known = [t for t in times if t is not None]
    if row.stages[k - 1].qualified_at is not None:
        return row.stages[k - 1].qualified_at
    return max(known) if known else row.entry_at

"""`order: any` (docs/semantics.md, Order policy): what goes with it, and its rows.

Its rows count keys that did at least k stages, not named stages, so every rule that reads a
named stage's row (a value, `within:`, the win stage, an exclusion's stages, a stage's row for
attribution) either has a stated rule here or is refused: a SpecConflict (exit 2) naming
`order` and the other key, in `funnel validate` as in every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnelcli.errors import SpecConflict
from funnelcli.spec.enums import Attempts, Evidence, Order, Shape, done_label

if TYPE_CHECKING:
    from funnelcli.spec.loader import Funnel
    from funnelcli.spec.models import FunnelSpec, StageSpec

ROWS = "stages_done"  # JSON `funnel.rows` under order: any: row k = at least k stages done


def conflict(funnel: Funnel, key: str, what: str) -> SpecConflict:
    """`what` does not go with order: any, naming both keys (the error points at `key`)."""
    message = f"{what} does not go with order: any yet (its rows are stages done, not stages)"
    return SpecConflict(message, file=funnel.file, line=funnel.line_of(key), key=key)


def check_any(funnel: Funnel) -> None:
    """The keys a funnel under `order: any` may not declare (docs/semantics.md says why)."""
    spec = funnel.spec
    if spec.order is not Order.any:
        return
    for index, stage in enumerate(spec.stages):
        key = f"stages[{index}]"
        for field in ("value", "within", "horizon"):
            if getattr(stage, field) is not None:
                raise conflict(funnel, f"{key}.{field}", f"a stage's {field}: ({stage.name})")
        source = spec.sources.get(spec.stage_source(stage))
        timed = stage.at is not None or (
            source is not None and source.shape is not Shape.wide and source.at is not None
        )
        if source is not None and source.shape is not Shape.lookup and not timed:
            raise conflict(
                funnel, key, f"a stage without a time ({stage.name}: untimed evidence has no order)"
            )
    for field in ("won", "lost", "roi", "exclude"):
        if getattr(spec, field):
            raise conflict(funnel, field, f"{field}:")
    if spec.evidence is Evidence.once:
        raise conflict(funnel, "evidence", "evidence: once")
    if spec.attempts is Attempts.each:  # an attempt ends at the last stage, which no row names
        raise conflict(funnel, "attempts", "attempts: each")
    if spec.attribution.startswith(("last", "stage:")):
        raise conflict(funnel, "attribution", f"attribution: {spec.attribution}")


def refuse_any(funnel: Funnel, what: str) -> None:
    """A command or option that reads named stages' rows: refused under order: any."""
    if funnel.spec.order is Order.any:
        raise conflict(funnel, "order", what)


def row_stages(spec: FunnelSpec) -> list[StageSpec]:
    """The stages the report's rows are about: the declared ones, or under order: any one row
    per number of stages done (name `stages_1`, label `1 stage`; `stages_2`, `2 stages`; …:
    a name a `--fail-on` alert can spell)."""
    if spec.order is not Order.any:
        return list(spec.stages)
    return [
        stage.model_copy(update={"name": f"stages_{k}", "label": done_label(k)})
        for k, stage in enumerate(spec.stages, start=1)
    ]

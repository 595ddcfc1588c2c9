"""Cross-key rules pydantic cannot see: names that must exist, a stage's evidence on its source.

What one source, stage or roi block can say about itself is checked by its model
(spec/models.py); what takes two keys of the definition is checked here, after the models.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from funnelcli.errors import SpecConflict
from funnelcli.spec.enums import Attempts, Grain, Order, Shape, parse_attribution
from funnelcli.spec.hints import closest, did_you_mean, find
from funnelcli.spec.models import WORD, RoiSpec, SourceSpec, StageSpec
from funnelcli.spec.unordered import check_any

if TYPE_CHECKING:  # loader runs these checks: it imports this module
    from funnelcli.spec.loader import Funnel

_FORMAT_NAMES = ("iso", "unix_s", "unix_ms", "excel")


def check_references(funnel: Funnel) -> None:
    """Raise a SpecError for the first rule the definition breaks, naming its key."""
    spec = funnel.spec
    if not spec.funnel_sources:
        raise funnel.error("sources", "at least one source must not be a lookup")
    names = _check_stages(funnel)
    _check_sequence(funnel)
    _check_attempts(funnel)
    check_any(funnel)
    _check_outcome(funnel)
    _check_attribution(funnel)
    check_exclusions(funnel)
    for name, source in spec.sources.items():
        if not WORD.match(name):
            raise funnel.error(
                f"sources.{name}", f"source name {name!r} must be letters, digits or _ only"
            )
        _check_origin(funnel, name, source)
        if source.shape is Shape.lookup:
            continue
        # After the stages: a stage's own evidence error is the one to show first.
        if source.shape is not Shape.wide and source.stage is None:
            raise funnel.error(
                f"sources.{name}",
                f"a {source.shape.value} source needs stage: (the column holding the stage value)",
            )
        _check_formats(funnel, name, source)
    if spec.roi is not None:
        _check_roi(funnel, spec.roi, names)
    no_roi_contracts = spec.roi is None or spec.roi.subscriptions is None
    if spec.risk is not None and spec.risk.contracts is None and no_roi_contracts:
        raise funnel.error(
            "risk", "risk: needs contracts: (or roi.subscriptions), the contracts file"
        )
    if spec.grain is Grain.account and spec.sources[spec.primary_source].account is None:
        raise funnel.error(
            f"sources.{spec.primary_source}",
            "grain: account needs account: (the account id column) on the first source",
        )


def _check_sequence(funnel: Funnel) -> None:
    """`order: sequence` compares the rows of one history: every stage reads the same long
    source's `at:` (no stage `at:`)."""
    spec = funnel.spec
    if spec.order is not Order.sequence:
        return
    used = {spec.stage_source(s) for s in spec.stages}
    source = spec.sources.get(next(iter(used))) if len(used) == 1 else None
    own = [s.name for s in spec.stages if s.at is not None]
    if source is None or source.shape is not Shape.long or source.at is None or own:
        raise funnel.error(
            "order",
            "order: sequence needs every stage on one long source, timed by its at: "
            "(no stage at:)" + (f"; stages with their own at: {', '.join(own)}" if own else ""),
        )


def _check_attempts(funnel: Funnel) -> None:
    """An attempt counts evidence from its own entry on: `order: backfill` would count
    evidence from before it (backwards times), so attempts other than first need an order
    with that lower bound."""
    spec = funnel.spec
    if spec.attempts is not Attempts.first and spec.order is Order.backfill:
        orders = (
            "strict or order: sequence"
            if spec.attempts is Attempts.each
            else "strict, sequence or any"
        )
        message = (
            f"{spec.attempts.value} needs order: {orders} "
            "(order: backfill counts evidence from before an attempt's entry)"
        )
        line = funnel.line_of("attempts")
        raise SpecConflict(message, file=funnel.file, line=line, key="attempts")
    if spec.attempts is Attempts.each and spec.lost is not None:
        message = (
            "each is not combined with lost: yet (lost: evidence is the key's, not an "
            "attempt's); use attempts: first or best"
        )
        line = funnel.line_of("attempts")
        raise SpecConflict(message, file=funnel.file, line=line, key="attempts")


MAX_STAGES = 50


def _check_stages(funnel: Funnel) -> dict[str, int]:
    """Stage names are unique and each stage's source exists and can hold its evidence;
    returns each stage's index by name."""
    spec = funnel.spec
    if len(spec.stages) > MAX_STAGES:
        raise funnel.error(
            f"stages[{MAX_STAGES}]",
            f"{len(spec.stages)} stages, more than the {MAX_STAGES} a funnel may have (the "
            "report's SQL grows with the square of the stages: 80 stages take 10 s on 500 "
            "rows); keep the funnel's milestones and report the steps between them apart",
        )
    names: dict[str, int] = {}
    for index, stage in enumerate(spec.stages):
        key = f"stages[{index}]"
        if stage.name in names:
            raise funnel.error(f"{key}.name", f"duplicate stage name '{stage.name}'")
        names[stage.name] = index
        source_name = spec.stage_source(stage)
        if source_name not in spec.sources:
            hint = did_you_mean(source_name, list(spec.sources))
            raise funnel.error(f"{key}.source", f"unknown source '{source_name}'{hint}")
        source = spec.sources[source_name]
        if source.shape is Shape.lookup:
            raise funnel.error(
                f"{key}.source", f"source '{source_name}' is a lookup: it has no stage evidence"
            )
        if source.shape is Shape.wide:
            if stage.match is not None:
                raise funnel.error(
                    f"{key}.match",
                    f"source '{source_name}' is wide (one column per stage): use at: or when:, "
                    "or declare shape: long with a stage: column",
                )
            if stage.at is None and stage.when is None:
                raise funnel.error(
                    key, "a stage on a wide source needs at: (a time column) or when: (a condition)"
                )
        elif stage.match is None and stage.when is None and not _dated_snapshot(source, stage):
            raise funnel.error(
                key,
                f"a stage on the {source.shape.value} source '{source_name}' "
                "needs match: (its stage values) or when:",
            )
    return names


def attribution_conflict(funnel: Funnel, message: str) -> SpecConflict:
    """`attribution:` with another key or option it does not go with (exit 2)."""
    spec = funnel.spec
    line = funnel.line_of("attribution")
    return SpecConflict(
        f"{spec.attribution}: {message}", file=funnel.file, line=line, key="attribution"
    )


def _check_attribution(funnel: Funnel) -> None:
    """`stage:NAME` names a stage; a breakdown credited per attempt, or by the last or a named
    stage's row when `exclude:` removes stages, is not defined yet."""
    spec = funnel.spec
    attributed_stage(funnel)
    if spec.attribution != "entry" and spec.attempts not in (Attempts.first, Attempts.best):
        raise attribution_conflict(
            funnel,
            f"does not go with attempts: {spec.attempts.value} yet (which attempt's rows "
            "would credit the value is not defined); use attribution: entry",
        )


def attributed_stage(funnel: Funnel) -> int | None:
    """The 1-based stage `attribution: stage:NAME` names (matched by hints.find, so `Paid`
    is `paid`); None for the other attributions. An unknown NAME is a SpecError."""
    _kind, name = parse_attribution(funnel.spec.attribution)
    if name is None:
        return None
    names = [s.name for s in funnel.spec.stages]
    found = find(name, names)
    if found is None:
        hint = did_you_mean(name, names, guess=closest(name, names))
        raise funnel.error("attribution", f"stage:{name}: unknown stage{hint}")
    return names.index(found) + 1


def _dated_snapshot(source: SourceSpec, stage: StageSpec) -> bool:
    """On a snapshot, a stage's own `at:` alone is evidence (a Lost deal's engage date)."""
    return source.shape is Shape.snapshot and stage.at is not None


def _check_outcome(funnel: Funnel) -> None:
    spec = funnel.spec
    if spec.won is not None and spec.won not in [s.name for s in spec.stages]:
        hint = did_you_mean(spec.won, [s.name for s in spec.stages])
        raise funnel.error("won", f"unknown stage '{spec.won}'{hint}")
    lost = spec.lost
    if lost is None:
        return
    source_name = lost.source or spec.primary_source
    if source_name not in spec.funnel_sources:
        hint = did_you_mean(source_name, spec.funnel_sources)
        raise funnel.error("lost.source", f"unknown source '{source_name}'{hint}")
    shape = spec.sources[source_name].shape
    if shape is Shape.wide and lost.match is not None:
        raise funnel.error("lost.match", "match: needs a long or snapshot source; use when:")
    if lost.match is None and lost.when is None and lost.at is None:
        raise funnel.error("lost", "lost: needs match:, when: or at:")


def _check_formats(funnel: Funnel, name: str, source: SourceSpec) -> None:
    """Each `formats:` entry is a known name or has a % directive (a strptime pattern)."""
    for column, formats in source.formats.items():
        for fmt in formats:
            if fmt not in _FORMAT_NAMES and "%" not in fmt:
                raise funnel.error(
                    f"sources.{name}.formats.{column}",
                    f"unknown date format {fmt!r} (use iso, unix_s, unix_ms, excel "
                    "or a strptime pattern such as %d/%m/%Y)",
                )


def _check_roi(funnel: Funnel, roi: RoiSpec, stages: dict[str, int]) -> None:
    spec = funnel.spec
    for key in ("revenue", "renewal", "qualified"):
        name = getattr(roi, key)
        if name is None:
            continue
        if name not in stages:
            raise funnel.error(
                f"roi.{key}", f"unknown stage '{name}'{did_you_mean(name, list(stages))}"
            )
        if key != "qualified" and spec.stages[stages[name]].value is None:
            raise funnel.error(
                f"roi.{key}",
                f"stage '{name}' has no value: (the amount column to count as revenue)",
            )
    if (roi.spend.date is None) == (roi.spend.month is None):
        raise funnel.error("roi.spend", "spend needs exactly one of date: (a day) or month:")
    if roi.subscriptions is not None and spec.sources[spec.primary_source].account is None:
        raise funnel.error(
            "roi.subscriptions",
            "subscriptions are matched to leads by account: declare account: on the first source",
        )


def check_exclusions(funnel: Funnel) -> tuple[tuple[int, int], ...]:
    """Each item's source holds timed evidence and `between:` names two stages in order;
    returns each item's (from, to) stage indices (1-based)."""
    spec = funnel.spec
    if spec.exclude and spec.attempts not in (Attempts.first, Attempts.best):
        # An exclusion's bounds are one attempt's stage times (first, or each attempt under
        # best, which ranks the attempts after their hits); other modes are not built.
        message = (
            f"exclude: is not combined with attempts: {spec.attempts.value} yet "
            "(which attempts follow one another once an exclusion stops one is not defined)"
        )
        raise SpecConflict(message, file=funnel.file, line=funnel.line_of("exclude"), key="exclude")
    stages = [s.name for s in spec.stages]
    found: list[tuple[int, int]] = []
    for index, item in enumerate(spec.exclude):
        key = f"exclude[{index}]"
        source_name = item.source or spec.primary_source
        if source_name not in spec.funnel_sources:
            hint = did_you_mean(source_name, spec.funnel_sources)
            raise funnel.error(f"{key}.source", f"unknown source '{source_name}'{hint}")
        source = spec.sources[source_name]
        if source.shape is Shape.wide and item.match is not None:
            raise funnel.error(
                f"{key}.match",
                f"source '{source_name}' is wide (one column per stage): use at: or when:",
            )
        if item.match is None and item.when is None and item.at is None:
            raise funnel.error(key, "an exclusion needs match:, at: or when: (its evidence)")
        if item.at is None and (source.shape is Shape.wide or source.at is None):
            raise funnel.error(
                key,
                "an exclusion needs a time: at: (a time column)"
                + ("" if source.shape is Shape.wide else f" or at: on source '{source_name}'"),
            )
        ends = []
        for position, name in enumerate(item.between):
            stage = find(name, stages)
            if stage is None:
                raise funnel.error(
                    f"{key}.between[{position}]",
                    f"unknown stage '{name}'{did_you_mean(name, stages)}",
                )
            ends.append(stages.index(stage) + 1)
        if ends[0] >= ends[1]:
            raise funnel.error(
                f"{key}.between",
                f"between: needs two stages in funnel order, the first before the second "
                f"(got {item.between[0]}, {item.between[1]})",
            )
        found.append((ends[0], ends[1]))
    return tuple(found)


TABLE_NAME = re.compile(r"^\w+(\.\w+){0,2}$")  # `table:` leads, crm.leads, main.crm.leads
# about reading a file: a table source's columns are read with their own types
FILE_KEYS = ("encoding", "delimiter", "sheet", "tz", "day_first", "formats")


def _check_origin(funnel: Funnel, name: str, source: SourceSpec) -> None:
    """`path:` or `table:` (sql/tables.py), exactly one; a table takes no file key."""
    key = f"sources.{name}"
    if source.table is None:
        if not source.path:
            raise funnel.error(key, "a source needs path: (a file or glob) or table: (a table)")
        return
    if source.path:
        raise funnel.error(key, "a source takes path: or table:, not both")
    if not TABLE_NAME.match(source.table):
        raise funnel.error(
            f"{key}.table",
            f"expected a table name such as crm.leads (letters, digits or _; at most "
            f"catalog.schema.table), got {source.table!r}",
        )
    given = [k for k in FILE_KEYS if k in source.model_fields_set]
    if given:
        raise funnel.error(
            f"{key}.{given[0]}",
            f"{given[0]}: is about reading a file; a table: source's columns keep their types",
        )

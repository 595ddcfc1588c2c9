"""Why one key is or is not counted at each stage: the rule of docs/semantics.md that decided.

Pure: the report query's own per-key row (compile/per_id.py: entry, earliest and qualifying
times, reached flags) decides *whether* a stage counts; this module only names *which* rule
excluded an earliest evidence time that did not qualify, re-checking the rules of
"Qualifying times" on it. A test holds it to the SQL: a stage is explained as counted exactly
when the query reached it, and an excluded stage always finds its rule (never `unexplained`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from funnelcli.compile.per_id import IdRow
from funnelcli.spec import Order
from funnelcli.spec.duration import Duration


class Rule(StrEnum):
    """What decided a stage for a key (the words are render/'s, after docs/semantics.md)."""

    counted = "counted"  # explicitly reached at its earliest qualifying time
    counted_untimed = "counted_untimed"  # untimed evidence, accepted without checks
    implied = "implied"  # backfill: a later stage was reached
    no_evidence = "no_evidence"
    rejected_row = "rejected_row"  # its only evidence was on a row rejected (unreadable time)
    after_as_of = "after_as_of"  # its only evidence is timed after --as-of
    outside_window = "outside_window"  # x > entry + window
    within_not_met = "within_not_met"  # x > t(k-1) + within
    strict_order = "strict_order"  # strict: an earlier stage was not reached
    backwards_time = "backwards_time"  # strict: x before the latest earlier stage time
    unexplained = "unexplained"  # never expected: the SQL and these rules disagree


class Exclusion(StrEnum):
    """Why a key is not in the report's cohort at all."""

    not_in_funnel = "not_in_funnel"  # never reached the first stage
    no_entry_time = "no_entry_time"  # --since/--until and no entry time
    outside_period = "outside_period"  # entry outside [--since, --until)
    filtered_out = "filtered_out"  # filter: not true as of entry
    rejected_rows = "rejected_rows"  # every row of the key was set aside (unreadable time)


@dataclass(frozen=True)
class StageVerdict:
    """One stage for one key: counted or not, and the rule with the times it compared."""

    stage: str
    counted: bool  # the report counts the key here (order policy applied)
    rule: Rule
    evidence_at: datetime | None = None  # the evidence time the rule was applied to
    limit: datetime | None = None  # the bound it broke (window/within end, strict low, as-of)
    other_stage: str | None = None  # the stage the bound came from (within, strict)


@dataclass(frozen=True)
class StageRules:
    """What the rules need to know of the funnel."""

    names: tuple[str, ...]
    within: tuple[Duration | None, ...]
    window: Duration | None
    order: Order


def exclusions(row: IdRow) -> tuple[Exclusion, ...]:
    """Every reason the key is outside the report's cohort (none: it is counted)."""
    found = []
    if not row.stages[0].reached:
        found.append(Exclusion.not_in_funnel)
    if not row.in_period:
        found.append(Exclusion.no_entry_time if row.entry_at is None else Exclusion.outside_period)
    if not row.kept:
        found.append(Exclusion.filtered_out)
    return tuple(found)


def verdicts(
    row: IdRow,
    rules: StageRules,
    evidence: Sequence[Sequence[datetime]],
    rejected: Set[int] = frozenset(),
    late: Mapping[int, datetime] | None = None,
) -> tuple[StageVerdict, ...]:
    """Each stage's verdict for the key. `evidence[k-1]`: stage k's evidence times (sorted,
    none after the as-of); `rejected`: the stages (1-based) whose time column is unreadable on
    a row of the key; `late`: stage (1-based) → its earliest evidence time after the as-of."""
    late = late or {}
    out: list[StageVerdict] = []
    for k, stage in enumerate(row.stages, start=1):
        name = rules.names[k - 1]
        if stage.explicit:
            untimed = stage.qualified_at is None
            rule = Rule.counted_untimed if untimed else Rule.counted
            out.append(StageVerdict(name, stage.reached, rule, stage.qualified_at))
        elif stage.reached:
            out.append(StageVerdict(name, True, Rule.implied))
        else:
            verdict = _excluded(row, rules, k, sorted(evidence[k - 1]))
            if verdict.rule is Rule.no_evidence and k in rejected:
                verdict = StageVerdict(verdict.stage, False, Rule.rejected_row)
            elif verdict.rule is Rule.no_evidence and k in late:
                verdict = StageVerdict(verdict.stage, False, Rule.after_as_of, late[k], row.as_of)
            out.append(verdict)
    return tuple(out)


def _excluded(row: IdRow, rules: StageRules, k: int, times: Sequence[datetime]) -> StageVerdict:
    name = rules.names[k - 1]
    earliest = row.stages[k - 1].earliest
    if earliest is not None and earliest not in times:
        times = sorted([earliest, *times])
    if not times:
        return StageVerdict(name, False, Rule.no_evidence)
    if rules.order is Order.strict and k > 1 and not row.stages[k - 2].reached:
        stopped = next(j for j in range(1, k) if not row.stages[j - 1].reached)
        return StageVerdict(
            name, False, Rule.strict_order, times[0], None, rules.names[stopped - 1]
        )
    if k == 1:  # stage 1 is reached by any timed evidence: nothing can exclude it
        return StageVerdict(name, False, Rule.unexplained, times[0])
    return _first_broken(row, rules, k, times[0])


def _first_broken(row: IdRow, rules: StageRules, k: int, x: datetime) -> StageVerdict:
    """The first qualifying rule (in docs/semantics.md's order) that time `x` breaks."""
    name = rules.names[k - 1]
    if rules.window is not None and row.entry_at is not None:
        limit = rules.window.add_to(row.entry_at)
        if x > limit:
            return StageVerdict(name, False, Rule.outside_window, x, limit)
    previous = row.stages[k - 2].qualified_at
    within = rules.within[k - 1]
    if within is not None and previous is not None:
        limit = within.add_to(previous)
        if x > limit:
            return StageVerdict(name, False, Rule.within_not_met, x, limit, rules.names[k - 2])
    if rules.order is Order.strict:
        for j in range(k - 1, 0, -1):
            low = row.stages[j - 1].qualified_at
            if low is not None:
                if x < low:
                    return StageVerdict(
                        name, False, Rule.backwards_time, x, low, rules.names[j - 1]
                    )
                break
    return StageVerdict(name, False, Rule.unexplained, x)

"""`attribution:` (docs/semantics.md, Breakdowns): which of a key's rows gives the value a
breakdown (`--by`, `dimensions:`, `breakdown:`, roi's channel) groups it on.

- `entry` (the default): the value as of entry, layer 1's `a_<i>`; nothing here changes.
- `first_known`: the first non-empty value over the key's evidence rows, in entry's row order
  (layer 1's `a_<i>_first`, sources.py).
- `stage:NAME`: the value on the row that gave stage NAME its qualifying time — kept per
  stage like a stage's `value:` (layer 1 `x<k>_a_<i>`, or a field of each list item; layer 3
  `qx<k>_a_<i>`); "(none)" when NAME was not explicitly reached or that row has no value.
- `last`: the last explicitly reached stage's; when that row has no value, the stage before's,
  and so on (the last non-empty value along the key's path: PostHog's last_touch).

The breakdown groups on `a_<i>_by` (per_id); `filter:` still reads the value as of entry.
The column must be on the source of every stage that gives a value, else a SpecError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlglot import exp

from funnelcli.compile import attempts
from funnelcli.compile.columns import NONE_GROUP, Layer
from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Attempts, Attribution, Funnel
from funnelcli.spec.checks import attributed_stage, attribution_conflict
from funnelcli.spec.enums import parse_attribution
from funnelcli.spec.hints import find
from funnelcli.sql import ast as q


@dataclass(frozen=True)
class Attributed:
    """The breakdown attributes one query credits, and how."""

    kind: Attribution
    aliases: tuple[str, ...]  # the breakdown attributes' aliases (Layer.attribute)
    stages: tuple[int, ...] = ()  # stage:NAME: (NAME's index,); last: every stage

    @property
    def first_known(self) -> frozenset[str]:
        return frozenset(self.aliases) if self.kind is Attribution.first_known else frozenset()

    def column(self, alias: str) -> str:
        """The per-key column a breakdown on `alias` groups on."""
        return Layer.attributed(alias) if alias in self.aliases else alias

    def per_id_columns(self) -> list[exp.Expr]:
        """`a_<i>_by` for each attribute (per_id, over layer 3)."""
        found = []
        for alias in self.aliases:
            if self.kind is Attribution.first_known:
                candidates: list[exp.Expr] = [q.col(Layer.first_known(alias))]
            else:  # the latest stage first: walking back from the last reached one
                candidates = [
                    q.col("q" + Layer.stage_attribute(k, alias)) for k in reversed(self.stages)
                ]
            value = q.coalesce(*candidates, exp.Literal.string(NONE_GROUP))
            found.append(q.alias(value, Layer.attributed(alias)))
        return found


def attribute(
    funnel: Funnel,
    resolver: Resolver,
    plans: Sequence[StagePlan],
    breakdowns: Mapping[str, str],
    attributes: Mapping[str, tuple[str, str]],
    from_lookup: Mapping[str, object],
) -> tuple[list[StagePlan], Attributed | None]:
    """The plans (with their stage attributes under last / stage:NAME) and what the query
    credits; None under `entry` or without a breakdown. `breakdowns`: attribute name → alias
    of the query's breakdown attributes; `attributes`, `from_lookup` as compile_funnel's."""
    kind, _name = parse_attribution(funnel.spec.attribution)
    each = funnel.spec.attempts is Attempts.each and attempts.anchored(funnel, plans)
    if kind is Attribution.entry and breakdowns and each:  # as of each attempt's own entry
        return _at_anchor(funnel, resolver, plans, breakdowns, attributes, from_lookup)
    if kind is Attribution.entry or not breakdowns:
        return list(plans), None
    aliases = tuple(breakdowns.values())
    if kind is Attribution.first_known:
        return list(plans), Attributed(kind, aliases)
    named = attributed_stage(funnel)
    stages = tuple(p.index for p in plans) if named is None else (named,)
    found = []
    for plan in plans:
        if plan.index not in stages:
            found.append(plan)
            continue
        values = []
        for name, alias in breakdowns.items():
            value = _on_source(funnel, resolver, plan.source, name, alias, attributes, from_lookup)
            if value is None:
                raise attribution_conflict(
                    funnel,
                    f"the breakdown column '{name}' is not in source '{plan.source}', whose "
                    f"rows are stage {plan.spec.name}'s evidence; break down by a column every "
                    "such source has, or use attribution: entry or first_known",
                )
            values.append((alias, value))
        found.append(replace(plan, attributes=tuple(values)))
    return found, Attributed(kind, aliases, stages)


def _at_anchor(
    funnel: Funnel,
    resolver: Resolver,
    plans: Sequence[StagePlan],
    breakdowns: Mapping[str, str],
    attributes: Mapping[str, tuple[str, str]],
    from_lookup: Mapping[str, object],
) -> tuple[list[StagePlan], Attributed | None]:
    """attempts: each: a breakdown value as of the attempt's entry, the value on its anchor
    row (stage 1's row at t_1: stage:<first stage>); a column stage 1's source does not have
    keeps the key's value as of entry."""
    first = plans[0]
    values = []
    for name, alias in breakdowns.items():
        value = _on_source(funnel, resolver, first.source, name, alias, attributes, from_lookup)
        if value is not None:
            values.append((alias, value))
    if not values:
        return list(plans), None
    found = [replace(first, attributes=tuple(values)), *plans[1:]]
    return found, Attributed(Attribution.stage, tuple(a for a, _ in values), (first.index,))


def _on_source(
    funnel: Funnel,
    resolver: Resolver,
    source_name: str,
    name: str,
    alias: str,
    attributes: Mapping[str, tuple[str, str]],
    from_lookup: Mapping[str, object],
) -> exp.Expr | None:
    """The attribute's value on a row of `source_name` (as text), None when it has none: its
    own source's column (or lookup column joined there), else the source's same-named column."""
    own, raw = attributes[alias]
    if source_name == own:
        if alias in from_lookup:
            return q.col(alias)
        return exp.cast(q.col(raw), "VARCHAR", copy=False)
    if alias in from_lookup:
        return None
    wanted = funnel.spec.sources[source_name].column(name)
    found = find(wanted, resolver.headers.get(source_name, ()))
    return None if found is None else exp.cast(q.col(found), "VARCHAR", copy=False)

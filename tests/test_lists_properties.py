"""Properties of the per-key lists on random exports (tests/test_properties.py's strategies:
wide and long, re-entries, out-of-order stages, windows, within:, strict and backfill, account
grain, since/until/as_of): the per-key layer counts what the report counts, stalled + dropped
is the report's drop-off, and trace's rules explain every stage the SQL does not count."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from funnelcli.commands.per_id import ListRequest, plan_per_id
from funnelcli.commands.report import build_report
from funnelcli.engine import open_engine
from funnelcli.metrics.trace import Rule, StageRules, verdicts
from funnelcli.spec import parse_funnel
from test_properties import (
    SECONDARY,
    Case,
    as_of_before_all_entries,
    cases,
    csv_text,
    funnel_yaml,
    query_of,
)


def traceable(case: Case) -> Case:
    """The case under the rules `funnel trace` explains: not `evidence: once`, `order:
    sequence`, `attempts: best` nor `exclude:` (issue 16 added them; trace refuses them), no
    `--top`."""
    order = "strict" if case.spec.order == "sequence" else case.spec.order
    spec = replace(
        case.spec, evidence="shared", order=order, top=None, attempts="first", exclude=()
    )
    return replace(case, spec=spec)


pytestmark = pytest.mark.slow


def check(case: Case, *, traced: bool = True) -> None:
    assume(not as_of_before_all_entries(case))  # an error (test_properties checks it)
    yaml_text, data = funnel_yaml(case.spec), csv_text(case)
    note(f"--- funnel.yaml ---\n{yaml_text}--- data.csv ---\n{data}")
    query = query_of(case.spec)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "data.csv").write_text(data, encoding="utf-8")
        funnel = parse_funnel(yaml_text, file="funnel.yaml", base_dir=base)
        report = build_report(funnel, query)
        request = ListRequest(since=query.since, until=query.until, as_of=query.as_of)
        with open_engine(funnel) as engine:
            run = plan_per_id(engine, funnel, request)
            cohort = run.ids()
            every_key = partial(run.per_id.statement, in_cohort=False)
            everyone = run.per_id.parse(run.rows(every_key))
    spec = funnel.spec
    stages = report.overall.stages
    window = spec.window is not None
    for k, stage in enumerate(stages):
        assert sum(i.stages[k].reached for i in cohort) == stage.count
        if k + 1 < len(stages):
            waiting = [i for i in cohort if i.stages[k].reached and not i.stages[k + 1].reached]
            dropped = [i for i in waiting if window and not i.immature]
            assert len(waiting) == stages[k + 1].dropped
            assert len(waiting) - len(dropped) >= 0
    assert all(i.in_cohort for i in cohort)
    assert sum(i.in_cohort for i in everyone) == len(cohort)
    if not traced:  # trace's rules do not explain exclude: (trace refuses it)
        return
    rules = StageRules(
        names=tuple(s.name for s in spec.stages),
        within=tuple(s.within for s in spec.stages),
        window=spec.window,
        order=spec.order,
    )
    for row in everyone:
        evidence = [[s.earliest] if s.earliest is not None else [] for s in row.stages]
        for stage, verdict in zip(row.stages, verdicts(row, rules, evidence), strict=True):
            assert verdict.rule is not Rule.unexplained, (row.key, verdict)
            assert verdict.counted == stage.reached
            assert (verdict.rule in (Rule.counted, Rule.counted_untimed)) == stage.explicit


@SECONDARY
@given(cases("wide").map(traceable))
def test_wide_lists_agree_with_the_report(case: Case) -> None:
    check(case)


@SECONDARY
@given(cases("long").map(traceable))
def test_long_lists_agree_with_the_report(case: Case) -> None:
    check(case)


@SECONDARY
@given(cases("wide", grain="account").map(traceable))
def test_account_lists_agree_with_the_report(case: Case) -> None:
    check(case)


@SECONDARY
@given(st.sampled_from(("wide", "long")).flatmap(cases).filter(lambda c: bool(c.spec.exclude)))
def test_lists_agree_with_the_report_under_exclusions(case: Case) -> None:
    """`exclude:` (docs/semantics.md, Exclusions): the per-key layer counts what the report
    counts, stalled + dropped is its drop-off."""
    check(case, traced=False)

"""`funnel validate`: the YAML, the files, the columns, and that the values can be read."""

from __future__ import annotations

from sqlglot import exp

from funnelcli.commands.options import RunOptions
from funnelcli.commands.query import compile_for, find_unreadable
from funnelcli.commands.report import reject_error
from funnelcli.engine import open_engine
from funnelcli.outputs.validation import SharedMatch, SourceCheck, ValidationResult
from funnelcli.spec import Evidence, Funnel, Order
from funnelcli.sql.dates import describe


def validate_funnel(funnel: Funnel, options: RunOptions | None = None) -> ValidationResult:
    """What a valid funnel reads; the first problem is raised as a FunnelError (a SpecError
    naming the YAML key, a DataError naming file, row and column)."""
    from funnelcli.commands.roi_inputs import (
        contracts_query,
        over_contracts,
        read_spend,
        roi_sources,
    )
    from funnelcli.compile.resolve import Resolver

    options = options or RunOptions()
    roi = funnel.spec.roi
    extra = roi_sources(funnel, roi, options.data_dir) if roi is not None else {}
    risk = funnel.spec.risk
    if risk is not None:  # the usage, touches and contracts of risk: (commands/risk_inputs.py)
        from funnelcli.commands import risk_inputs

        extra = {**extra, **risk_inputs.risk_sources(funnel, risk, options.data_dir)}
    spend_rows = contracts = None
    with open_engine(funnel, options.data_dir, extra, scripted=True) as engine:
        if risk is not None:
            risk_inputs.check_usage(engine, risk_inputs.usage_columns(engine, funnel, risk))
            risk_inputs.touches_columns(engine, funnel, risk)
            risk_inputs.contracts_query(engine, funnel, risk)
        compiled = compile_for(engine, funnel)
        unreadable = find_unreadable(engine, compiled)
        if unreadable is not None:
            raise unreadable
        _, by_reason = engine.reject_counts()
        if by_reason:
            raise reject_error(engine.rejects(), "validate")
        sources = tuple(
            SourceCheck(
                name=name,
                files=tuple(f.name for f in engine.files[name].files),
                columns=len(engine.columns(name)),
                table=funnel.spec.sources[name].table,
                dates=tuple(
                    (column, describe(formats))
                    for column, formats in engine.date_formats(name).items()
                ),
            )
            for name in funnel.spec.sources
        )
        if roi is not None:
            Resolver(funnel, engine.schema()).attribute_source(roi.channel, "roi.channel")
            spend_rows = sum(r.rows for r in read_spend(engine, funnel, roi))
            if roi.subscriptions is not None:
                query = contracts_query(engine, funnel, roi)
                contracts = int(over_contracts(engine, query, exp.Count(this=exp.Star())))
    return ValidationResult(
        file=funnel.file,
        stages=tuple(s.name for s in funnel.spec.stages),
        sources=sources,
        spend_rows=spend_rows,
        contracts=contracts,
        shared_matches=shared_matches(funnel),
        any_order=funnel.spec.order is Order.any,
    )


def shared_matches(funnel: Funnel) -> tuple[SharedMatch, ...]:
    """Each `match:` value listed by two or more stages of the same source, in the order the
    values first appear; none under `evidence: once` (a row then fills one stage)."""
    spec = funnel.spec
    if spec.evidence is Evidence.once:
        return ()
    found: dict[tuple[str, str], list[str]] = {}
    for stage in spec.stages:
        for value in dict.fromkeys(stage.match or ()):
            found.setdefault((spec.stage_source(stage), value), []).append(stage.name)
    return tuple(
        SharedMatch(source=source, value=value, stages=tuple(stages))
        for (source, value), stages in found.items()
        if len(stages) > 1
    )

"""What a report's numbers rest on, as values: rows read and set aside, suspicious ids, and
findings (codes and numbers; render/wording.py words them). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from funnelcli.compile.rows import GroupRow, QualityRow
from funnelcli.outputs.report import DataQuality, Exclusion, Finding, UnmatchedLookup


def data_quality(
    quality: QualityRow,
    total: GroupRow,
    stages: Sequence[str],
    *,
    has_window: bool,
    unparseable: Mapping[str, int],
    unmatched: Sequence[UnmatchedLookup],
    rows_rejected: Mapping[str, int],
    rejects_by_reason: Mapping[str, int],
    exclusions: Sequence[tuple[str, tuple[str, str], str]] = (),
) -> DataQuality:
    """The report's data-quality section from the query's quality row and cohort row;
    `exclusions`: each `exclude:` item's (name, (from, to), scope)."""
    findings = []
    if not has_window:
        findings.append(Finding("no_window"))
    for source, read in quality.rows_read.items():
        if read:
            continue
        set_aside = rows_rejected.get(source, 0)
        if set_aside:  # a file with rows, all of them unreadable: not an empty file
            findings.append(Finding("all_set_aside", subject=source, count=set_aside))
        else:
            findings.append(Finding("empty_source", subject=source))
    findings += [
        Finding("unparseable_amounts", subject=column, count=count)
        for column, count in unparseable.items()
        if count
    ]
    findings += [
        Finding("unmatched_lookup", subject=lookup.lookup, count=len(lookup.values))
        for lookup in unmatched
        if lookup.values
    ]
    return DataQuality(
        rows_read=dict(quality.rows_read),
        rows_without_id=dict(quality.rows_without_id),
        ids_without_entry_time=quality.ids_without_entry_time,
        ids_outside_period=quality.ids_outside_period,
        ids_filtered_out=quality.ids_filtered_out,
        backwards_ids=total.backwards_ids,
        backwards_by_stage={stages[k]: total.stages[k].backwards for k in range(1, len(stages))},
        immature_ids=total.immature_ids,
        findings=tuple(findings),
        unparseable_amounts=dict(unparseable),
        rows_rejected=dict(rows_rejected),
        rejects_by_reason=dict(rejects_by_reason),
        duplicate_ids=dict(quality.duplicate_ids),
        unmatched_lookups=tuple(unmatched),
        excluded=tuple(
            Exclusion(name, between, scope, ids)
            for (name, between, scope), ids in zip(exclusions, quality.excluded, strict=True)
        ),
    )

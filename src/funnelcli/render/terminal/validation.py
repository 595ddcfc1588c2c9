"""`funnel validate` as text: one OK line, then a line per source and per roi: input."""

from __future__ import annotations

from funnelcli.outputs.validation import ValidationResult


def draw(result: ValidationResult) -> str:
    """Plain text (no Rich): the OK line, then each source and roi: input indented."""
    if result.any_order:  # order: any: no arrows
        stages = f"in any order: {', '.join(result.stages)}"
    else:
        stages = " → ".join(result.stages)
    lines = [f"OK {result.file}: {len(result.stages)} stages ({stages})"]
    for source in result.sources:
        shown = ", ".join(source.files[:3])
        if len(source.files) > 3:
            shown += f" … ({len(source.files)} files)"
        if source.table is not None:
            shown = f"table {source.table} (read by --engine spark or a --dialect script)"
        lines.append(f"  source {source.name}: {shown} — {source.columns} columns")
        lines += [f"    {column}: {formats}" for column, formats in source.dates]
    if result.spend_rows is not None:
        lines.append(f"  roi spend: {result.spend_rows} rows")
    if result.contracts is not None:
        lines.append(f"  roi subscriptions: {result.contracts} contracts")
    for shared in result.shared_matches:
        names = " and ".join(", ".join(shared.stages).rsplit(", ", 1))
        lines.append(
            f"  warning: stages {names} share the match value {shared.value!r} "
            f"(source {shared.source}): one row with it is evidence for each of them "
            "(evidence: once makes a row fill one stage)"
        )
    return "\n".join(lines) + "\n"

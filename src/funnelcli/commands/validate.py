"""`funnel validate`: the YAML, the files, the columns, and that the values can be read."""

from __future__ import annotations

from pathlib import Path

from funnelcli.commands.report import compile_for, find_unreadable, reject_error
from funnelcli.engine import open_engine
from funnelcli.spec import Funnel


def validate_funnel(funnel: Funnel, data_dir: Path | None = None) -> list[str]:
    """Lines describing a valid funnel; raises the first problem as a FunnelError."""
    lines = []
    with open_engine(funnel, data_dir) as engine:
        compiled = compile_for(funnel, engine)
        unreadable = find_unreadable(engine, compiled)
        if unreadable is not None:
            raise unreadable
        _, by_reason = engine.reject_counts()
        if by_reason:
            raise reject_error(engine.rejects(), "validate")
        for name in funnel.spec.sources:
            files = engine.files[name]
            columns = engine.columns(name)
            shown = ", ".join(f.name for f in files.files[:3]) + (
                f" … ({len(files.files)} files)" if len(files.files) > 3 else ""
            )
            lines.append(f"  source {name}: {shown} — {len(columns)} columns")
    if funnel.spec.roi is not None:
        from funnelcli.commands.roi import validate_roi

        lines += validate_roi(funnel, data_dir)
    stages = " → ".join(s.name for s in funnel.spec.stages)
    return [f"OK {funnel.file}: {len(funnel.spec.stages)} stages ({stages})", *lines]

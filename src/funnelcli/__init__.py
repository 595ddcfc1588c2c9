"""funnelcli: funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB.

The library API (funnelcli/api.py), imported lazily so that `import funnelcli` and the CLI's
start-up stay light:

    import funnelcli as f
    report = f.report(f.load_funnel("funnels/default.yaml"), by="channel")
    print(report.to_polars())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from funnelcli.api import (
        cohorts,
        drivers,
        load_funnel,
        report,
        report_sql,
        roi,
        stalled,
        summary,
        trace,
        validate,
    )
    from funnelcli.commands.options import RunOptions
    from funnelcli.errors import DataError, FunnelError, QueryError, SpecError, UsageError

__all__ = [
    "DataError",
    "FunnelError",
    "QueryError",
    "RunOptions",
    "SpecError",
    "UsageError",
    "__version__",
    "cohorts",
    "drivers",
    "load_funnel",
    "report",
    "report_sql",
    "roi",
    "stalled",
    "summary",
    "trace",
    "validate",
]
_API = (
    "cohorts",
    "drivers",
    "load_funnel",
    "report",
    "report_sql",
    "roi",
    "stalled",
    "summary",
    "trace",
    "validate",
)
_ERRORS = ("DataError", "FunnelError", "QueryError", "SpecError", "UsageError")


def __getattr__(name: str) -> Any:
    if name in _API:
        from funnelcli import api

        return getattr(api, name)
    if name in _ERRORS:
        from funnelcli import errors

        return getattr(errors, name)
    if name == "RunOptions":
        from funnelcli.commands.options import RunOptions

        return RunOptions
    raise AttributeError(f"module 'funnelcli' has no attribute {name!r}")

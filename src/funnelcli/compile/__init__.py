"""Pure: (Funnel, Schema, ReportQuery) → CompiledFunnel, a sqlglot AST with named columns.

Never imports duckdb. `compile_funnel` builds the query; `rewrites` holds the execution
tactics a plan may apply to it; `columns` names every column and parses the rows.
"""

from funnelcli.compile.columns import NONE_GROUP, ResultColumns
from funnelcli.compile.funnel import CompiledFunnel, ReportQuery, Schema, compile_funnel
from funnelcli.compile.rows import QueryResult

__all__ = [
    "NONE_GROUP",
    "CompiledFunnel",
    "QueryResult",
    "ReportQuery",
    "ResultColumns",
    "Schema",
    "compile_funnel",
]

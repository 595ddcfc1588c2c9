"""How a `table:` source becomes a view: the catalog table's columns, its times and values cast.

Pure. A table source (`table: crm.leads`) is read by another engine (--engine spark, or a
`funnel sql --dialect` script), never by DuckDB. Its view `source_<name>` selects the table's
columns (quoted identifiers, one per name part) and casts the columns the funnel reads as
times to TIMESTAMP and its stage values to DOUBLE, so the compiled query sees the types it
was compiled against whatever the warehouse stored (TIMESTAMP, DATE, ISO text; DECIMAL,
INT). A plain CAST: a value the engine cannot cast is that engine's error, never a silent
NULL. Nothing is set aside, so a table source has no rejects.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.spec import FunnelSpec, SourceSpec
from funnelcli.sql import ast as q
from funnelcli.sql.readers import referenced_names, time_names

TIME_TYPE = "TIMESTAMP"
VALUE_TYPE = "DOUBLE"


def origin(source: SourceSpec) -> str:
    """What a source reads, for messages: its path, or `table crm.leads`."""
    return f"table {source.table}" if source.table is not None else source.path


def table_sources(spec: FunnelSpec) -> list[str]:
    """The sources declared with `table:`, in declared order."""
    return [name for name, source in spec.sources.items() if source.table is not None]


def reference(spec: FunnelSpec, source_name: str) -> exp.Table:
    """The catalog table as a reference with each part quoted: `"crm"."leads"`."""
    table = spec.sources[source_name].table
    assert table is not None
    *prefix, name = table.split(".")
    parts = [exp.to_identifier(p, quoted=True) for p in prefix]
    return exp.Table(
        this=exp.to_identifier(name, quoted=True),
        db=parts[-1] if parts else None,
        catalog=parts[0] if len(parts) == 2 else None,
    )


def value_names(spec: FunnelSpec, source_name: str) -> list[str]:
    """The raw names of the stage values this source brings."""
    source = spec.sources[source_name]
    return [
        source.column(stage.value)
        for stage in spec.stages
        if spec.stage_source(stage) == source_name and stage.value is not None
    ]


def declared_columns(spec: FunnelSpec, source_name: str) -> list[tuple[str, str]]:
    """Without a catalog to ask (`funnel sql`, validate): the columns the YAML names for this
    source, typed as its view casts them (times, values); the others' types are unknown ("")."""
    return column_types(spec, source_name, [(n, "") for n in referenced_names(spec, source_name)])


def column_types(
    spec: FunnelSpec, source_name: str, catalog: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the view's columns, given the table's (name, DuckDB type or "")."""
    times = set(time_names(spec, source_name))
    values = set(value_names(spec, source_name))
    out = []
    for name, sql_type in catalog:
        if name in times:
            sql_type = TIME_TYPE
        elif name in values:
            sql_type = VALUE_TYPE
        out.append((name, sql_type))
    return out


def table_view(spec: FunnelSpec, source_name: str, columns: Sequence[str]) -> exp.Select:
    """The view's body: `columns` of the table, times and values cast."""
    times = set(time_names(spec, source_name))
    values = set(value_names(spec, source_name))
    projection: list[exp.Expr] = []
    for name in columns:
        column = q.col(name)
        if name in times or name in values:
            to = TIME_TYPE if name in times else VALUE_TYPE
            projection.append(q.alias(exp.cast(column, exp.DataType.build(to)), name))
        else:
            projection.append(column)
    return exp.select(*projection).from_(reference(spec, source_name))


def empty_view(columns: Sequence[tuple[str, str]]) -> exp.Select:
    """A typed relation without rows (DuckDB's stand-in for a table it does not read)."""
    projection = [
        q.alias(exp.cast(exp.null(), _duckdb_type(sql_type)), name) for name, sql_type in columns
    ]
    return exp.select(*projection).where(exp.false())


def _duckdb_type(sql_type: str) -> exp.DataType:
    return exp.DataType.build(sql_type or "VARCHAR", dialect="duckdb")

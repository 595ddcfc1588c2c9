"""`--engine spark`: the compiled queries run on a SparkSession; the only pyspark importer.

The engine is still opened as for DuckDB (engine.py): DuckDB probes each CSV here (dialect,
headers, the date formats of its time columns) and reads the sources tolerantly, which is
what gives rejects and their counts. Spark then gets each source as the typed view of
`funnel sql --dialect spark` (engine/scripts.py: it reads the same files and leaves out the
same rows), and every query the commands run (Engine.rows) goes to Spark, rewritten by
sql/dialects.portable. So the files must be readable here and by the cluster at the same
path (a shared file system, or local mode).

The session: `--spark-master` / FUNNELCLI_SPARK_MASTER, default `local[*]`; an `sc://` URL is
Spark Connect. A session already running in this process (spark-submit, a Databricks notebook,
the tests) is used as it is and left running.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from funnelcli.errors import FunnelError, QueryError, UsageError
from funnelcli.sql import dialects, tables

if TYPE_CHECKING:
    from funnelcli.engine.engine import Engine


class Remote(Protocol):
    """Another engine an Engine's queries run on (Engine.use_remote): SparkRunner."""

    def rows(self, query: exp.Expr, *, exact: bool = True) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


DEFAULT_MASTER = "local[*]"
MASTER_ENV = "FUNNELCLI_SPARK_MASTER"


def master(option: str | None) -> str:
    """The master a run asked for: the option, else FUNNELCLI_SPARK_MASTER, else local[*]."""
    return option or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


class SparkRunner:
    """Runs the funnel's queries on a SparkSession that has its source views."""

    def __init__(self, url: str) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UsageError(
                "--engine spark needs pyspark (4 or newer): pip install 'funnelcli[spark]'"
            ) from None
        self._owned = SparkSession.getActiveSession() is None
        builder = SparkSession.builder.appName("funnelcli")
        if url.startswith("sc://"):
            builder = builder.remote(url)
        elif self._owned:
            builder = builder.master(url).config("spark.ui.showConsoleProgress", "false")
        try:
            self._session: Any = builder.getOrCreate()
        except Exception as exc:  # Java missing, a bad master URL, an unreachable cluster
            raise FunnelError(
                f"--engine spark: cannot start a session at {url}: {_first(exc)}"
            ) from None
        self._session.conf.set("spark.sql.session.timeZone", "UTC")
        from funnelcli.engine.scripts import SPARK_RECURSION

        for name in SPARK_RECURSION:  # attempts: each's chain (a recursive CTE) has no limit
            self._session.conf.set(name, "-1")

    def create_views(self, statements: list[str]) -> None:
        for statement in statements:
            self._run(statement)

    def rows(self, query: exp.Expr, *, exact: bool = True) -> list[dict[str, Any]]:
        sql = dialects.render(query, "spark", purpose="--engine spark")
        frame = self._run(sql)
        # a TIMESTAMP is collected in this process's time zone: read it as UTC wall time
        columns = [
            f"CAST(`{f.name}` AS TIMESTAMP_NTZ) AS `{f.name}`"
            if f.dataType.typeName() == "timestamp"
            else f"`{f.name}`"
            for f in frame.schema.fields
        ]
        try:  # the query runs here (an ANSI cast of a table's value can fail now)
            rows = [row.asDict() for row in frame.selectExpr(*columns).collect()]
        except Exception as exc:
            raise QueryError(f"Spark: {_first(exc)}", sql=sql) from None
        if not exact:
            rows = [{k: _inexact(v) for k, v in row.items()} for row in rows]
        return rows

    def catalog_columns(self, reference: str, key: str) -> list[tuple[str, str]]:
        """(name, DuckDB type or "") of each column of a catalog table; `key` is the YAML key
        that named it (in the error when the table is missing)."""
        try:
            fields = self._session.table(reference).schema.fields
        except Exception as exc:  # AnalysisException: TABLE_OR_VIEW_NOT_FOUND
            raise UsageError(f"{key}: Spark cannot read table {reference}: {_first(exc)}") from None
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in fields]

    def close(self) -> None:
        if self._owned:
            self._session.stop()

    def _run(self, sql: str) -> Any:
        try:
            return self._session.sql(sql)
        except Exception as exc:  # pyspark's errors: AnalysisException, SparkRuntimeException…
            raise QueryError(f"Spark: {_first(exc)}", sql=sql) from None


def attach(engine: Engine, url: str) -> None:
    """Make `engine` run its queries on Spark: the sources read tolerantly (so its rejects
    describe what Spark's views leave out), their views created on the session."""
    from funnelcli.engine.scripts import source_statements

    engine.read_tolerantly()
    runner = SparkRunner(url)
    try:
        spec = engine.funnel.spec
        for name in tables.table_sources(spec):  # typed as the catalog has them
            reference = tables.reference(spec, name).sql(dialect="spark")
            found = runner.catalog_columns(reference, f"sources.{name}.table")
            engine.define_table(name, tables.column_types(spec, name, found))
        runner.create_views(source_statements(engine, "spark", purpose="--engine spark"))
    except BaseException:
        runner.close()
        raise
    engine.use_remote(runner)


def duckdb_type(spark_type: str) -> str:
    """A Spark type as DuckDB names it (what the compiler reads types as); "" when unknown."""
    try:
        name = exp.DataType.build(spark_type, dialect="spark").sql(dialect="duckdb")
    except Exception:  # sqlglot cannot parse it: the type stays unknown, as in a script
        return ""
    if name.startswith("TEXT"):
        return "VARCHAR"
    return {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE", "INT": "INTEGER"}.get(name, name)


def _inexact(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

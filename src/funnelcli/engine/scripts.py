"""The report as a script another engine runs: each source as a typed view `source_<name>`
(read from its files, or from a table), then the query (DESIGN.md §7).

A CSV is read as text, as DuckDB's tolerant reading reads it (every column a string, the
time columns parsed with the formats probing detected, a row with an unreadable time left
out), and each column is then cast to the type DuckDB's view gives it, so the compiled query
sees the schema it was compiled against. Spark reads the files itself (`USING csv`);
PostgreSQL copies them in with psql's `\\copy` (client side: no server file access needed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from funnelcli.engine.engine import Engine
from funnelcli.engine.files import is_xlsx
from funnelcli.engine.text import detect
from funnelcli.engine.views import CsvSource
from funnelcli.errors import UsageError
from funnelcli.sql import ast as q
from funnelcli.sql import dialects, readers, tables
from funnelcli.sql.ast import source_view

# Python's codec names → PostgreSQL's client encodings (UTF-16 has none)
_PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "gb18030": "GB18030", "latin-1": "LATIN1"}
_SPARK_ENCODINGS = {"utf-8-sig": "UTF-8", "latin-1": "ISO-8859-1"}


@dataclass(frozen=True)
class Script:
    """The statements, in order, each a complete SQL statement or a psql meta-command."""

    dialect: str
    statements: tuple[str, ...]

    def text(self) -> str:
        return "\n\n".join(s if s.startswith("\\") else s + ";" for s in self.statements) + "\n"


# Spark stops a recursive CTE at 100 levels and 1,000,000 rows by default; attempts: each's
# chain (one level per attempt of a key, one row per attempt) must not stop there.
SPARK_RECURSION = ("spark.sql.cteRecursionLevelLimit", "spark.sql.cteRecursionRowLimit")


def session_settings(dialect: str, recursive: bool = False) -> list[str]:
    """Times are UTC, as in DuckDB's session; `recursive` (a WITH RECURSIVE query): Spark's
    recursion limits lifted."""
    if dialect in dialects.SPARK:
        lifted = [f"SET {name} = -1" for name in SPARK_RECURSION] if recursive else []
        return ["SET spark.sql.session.timeZone = UTC", *lifted]
    return ["SET TIME ZONE 'UTC'"]


def source_statements(engine: Engine, dialect: str, purpose: str | None = None) -> list[str]:
    """Each source (the funnel's, then extra views such as roi:'s spend) as a typed view
    `source_<name>` in `dialect`; `purpose` names what asked in an error (default
    `--dialect X`). A `table:` source reads its table (sql/tables.py)."""
    label = purpose or f"--dialect {dialect}"
    readings = engine.readings()
    out: list[str] = []
    for name, found in engine.files.items():
        types = dict(engine.columns(name))
        if found.is_table:
            body = tables.table_view(engine.funnel.spec, name, list(types))
            out.append(_create_view(name, body, dialect, label))
        elif name in readings:
            csv, _ = readings[name]
            if any(is_xlsx(f) for f in found.files):
                raise UsageError(
                    f"{label}: source '{name}' is an .xlsx workbook, which only "
                    "DuckDB's path converts; export it as CSV or Parquet"
                )
            out += _csv_statements(name, csv, types, _glob(found.files), dialect, label)
        elif dialect in dialects.SPARK:
            body = exp.select(exp.Star()).from_(_spark_files("parquet", _glob(found.files)))
            out.append(_create_view(name, body, dialect, label))
        else:
            raise UsageError(
                f"{label}: source '{name}' is Parquet, which PostgreSQL cannot read; "
                "load it into a table first"
            )
    return out


def _csv_statements(
    name: str, csv: CsvSource, types: dict[str, str], pattern: str, dialect: str, label: str
) -> list[str]:
    text = f"{source_view(name)}_text"
    encoding = _original_encoding(csv)
    if dialect in dialects.SPARK:
        statements = _spark_text(text, csv, pattern, encoding)
    else:
        statements = _postgres_text(text, csv, encoding)
    projection, checks = readers.view_parts(csv.headers, dict(csv.renames), csv.times, csv.tz)
    typed = [_typed(column, types) for column in projection]
    body = readers.view_select(q.table(text), typed, checks)
    statements.append(_create_view(name, body, dialect, label))
    return statements


def _typed(column: exp.Expr, types: dict[str, str]) -> exp.Expr:
    """A projected column cast to the type DuckDB's view has (text columns stay text)."""
    name = column.alias_or_name
    sql_type = types.get(name, "VARCHAR")
    if sql_type.upper() in ("VARCHAR", "TEXT"):
        return column
    value = column.this if isinstance(column, exp.Alias) else column
    return q.alias(exp.cast(value.copy(), exp.DataType.build(sql_type)), name)


def _create_view(name: str, body: exp.Expr, dialect: str, label: str) -> str:
    view = exp.Create(
        this=q.table(source_view(name)),
        kind="VIEW",
        expression=dialects.portable(body, dialect, label),
        replace=dialect in dialects.SPARK,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    return view.sql(dialect=dialect, pretty=True)


def _glob(files: tuple[Path, ...]) -> str:
    """One Hadoop path naming exactly `files` (absolute): the file, or `folder/{a,b,…}`."""
    paths = [os.path.abspath(f) for f in files]  # not resolve(): keep the symlinks named
    if len(paths) == 1:
        return paths[0]
    folder = os.path.commonpath(paths)
    names = [os.path.relpath(p, folder) for p in paths]
    return f"{folder}/{{{','.join(names)}}}"


def _spark_files(kind: str, pattern: str) -> exp.Table:
    """Spark's `parquet.`path`` (a glob allowed)."""
    return exp.Table(
        this=exp.to_identifier(pattern, quoted=True),
        db=exp.to_identifier(kind),
    )


def _original_encoding(csv: CsvSource) -> str:
    """The encoding of the files themselves (DuckDB may read transcoded copies)."""
    if tuple(str(p) for p in csv.originals) == csv.paths:
        return csv.encoding
    with open(csv.originals[0], "rb") as file:
        return detect(file.read(65536))


def _spark_text(text: str, csv: CsvSource, pattern: str, encoding: str) -> list[str]:
    dialect = csv.dialect
    quote = dialect.quote if dialect is not None and dialect.quote else '"'
    escape = dialect.escape if dialect is not None and dialect.escape else quote
    delimiter = dialect.delimiter if dialect is not None else (csv.delimiter or ",")
    options = {
        "path": pattern,
        "header": "true",
        "inferSchema": "false",
        "sep": delimiter,
        "quote": quote,
        "escape": escape,
        "encoding": _SPARK_ENCODINGS.get(encoding, encoding.upper()),
        # Spark reads quoted line breaks only in the Unicode encodings (GB18030: line by line)
        "multiLine": "true" if encoding.startswith("utf") else "false",
        "mode": "FAILFAST",
    }
    pairs = ", ".join(f"{k} {exp.Literal.string(v).sql('spark')}" for k, v in options.items())
    name = exp.to_identifier(text, quoted=True).sql("spark")
    statements = [f"CREATE OR REPLACE TEMPORARY VIEW {name} USING csv OPTIONS ({pairs})"]
    if not encoding.startswith(("utf", "latin", "ascii")):  # Spark 4 lists a few by default
        statements.insert(0, "SET spark.sql.legacy.javaCharsets = true")
    return statements


def _postgres_text(text: str, csv: CsvSource, python_encoding: str) -> list[str]:
    encoding = _PG_ENCODINGS.get(python_encoding)
    if encoding is None:
        raise UsageError(
            f"--dialect postgres: files in {python_encoding} cannot be copied into PostgreSQL; "
            "save them as UTF-8"
        )
    if any(str(f).lower().endswith(".gz") for f in csv.originals):
        raise UsageError("--dialect postgres: psql's \\copy cannot read a .gz file; unpack it")
    columns = [
        exp.ColumnDef(this=exp.to_identifier(h, quoted=True), kind=exp.DataType.build("TEXT"))
        for h in csv.headers
    ]
    table = exp.Schema(this=q.table(text), expressions=columns)
    create = exp.Create(
        this=table,
        kind="TABLE",
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    dialect = csv.dialect
    quote = dialect.quote if dialect is not None and dialect.quote else '"'
    escape = dialect.escape if dialect is not None and dialect.escape else quote
    delimiter = dialect.delimiter if dialect is not None else (csv.delimiter or ",")
    options = ", ".join(
        [
            "FORMAT csv",
            "HEADER true",
            f"DELIMITER {_pg_text(delimiter)}",
            f"QUOTE {_pg_text(quote)}",
            f"ESCAPE {_pg_text(escape)}",
            f"ENCODING {_pg_text(encoding)}",
        ]
    )
    statements = [create.sql(dialect="postgres")]
    target = q.table(text).sql(dialect="postgres")
    for original in csv.originals:
        path = _pg_text(os.path.abspath(original))
        statements.append(f"\\copy {target} FROM {path} WITH ({options})")
    return statements


def _pg_text(value: str) -> str:
    return exp.Literal.string(value).sql(dialect="postgres")

"""How a CSV source becomes a view: typed stage columns, tolerant header names, row rejects.

Pure: builds sqlglot ASTs from the spec, the file's raw headers and the date formats; the engine
runs them (engine/views.py keeps what probing a source found). Stage time columns, ids, accounts
and stage values are read as VARCHAR (the types come from the spec, never from DuckDB's sniffer,
which samples only the first 20,480 rows), then times are parsed with the declared or detected
formats (dates.py). A row with a non-empty time that cannot be read is *rejected*: left out of
the view and listed with its line, column and reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from funnelcli.spec import FunnelSpec, Shape, SourceSpec
from funnelcli.sql import ast as q
from funnelcli.sql import dates
from funnelcli.sql.conditions import condition_columns
from funnelcli.sql.dates import UNPARSEABLE, parse_column


@dataclass(frozen=True)
class TimeColumn:
    raw: str  # header in the file
    name: str  # column name in the view (the YAML's spelling)
    formats: tuple[str, ...]
    detected: bool = False  # formats came from a sample: any ISO 8601 value is read as well

    @property
    def readings(self) -> tuple[str, ...]:
        """The formats tried row by row (a detected column also accepts ISO 8601 last)."""
        if self.detected and "iso" not in self.formats:
            return (*self.formats, "iso")
        return self.formats


@dataclass(frozen=True)
class RejectCheck:
    column: str  # the view's column name
    raw: str
    reason: str
    condition: exp.Expr  # over the reader's raw columns: TRUE = this value is rejected


def time_names(spec: FunnelSpec, source_name: str) -> list[str]:
    """The raw header names (YAML spelling) the funnel reads as times from this source."""
    source = spec.sources[source_name]
    names = []
    if source.shape is not Shape.wide and source.at is not None:
        names.append(source.column(source.at))
    for stage in spec.stages:
        if spec.stage_source(stage) == source_name and stage.at is not None:
            names.append(source.column(stage.at))
    return list(dict.fromkeys(names))


def own_time_names(source: SourceSpec) -> list[str]:
    """The time column of an extra view (risk: usage, touches): its `at:`, parsed and rejected
    like a funnel source's times (an roi: file declares none and parses its own dates)."""
    return [source.column(source.at)] if source.at is not None else []


def text_names(spec: FunnelSpec, source_name: str) -> list[str]:
    """Columns read as text whatever they look like: id, account and stage values."""
    source = spec.sources[source_name]
    names = [source.id, source.account, source.stage]
    return [source.column(n) for n in names if n is not None]


def referenced_names(spec: FunnelSpec, source_name: str) -> list[str]:
    """Every header spelling the YAML may use for this source (for tolerant matching)."""
    source = spec.sources[source_name]
    names = [*text_names(spec, source_name), *time_names(spec, source_name)]
    names += list(source.columns.values())
    names += [source.column(n) for n in (*spec.dimensions, *spec.breakdown)]
    conditions = [s.when for s in spec.stages if spec.stage_source(s) == source_name]
    for text in [*conditions, spec.filter]:
        if text:
            with contextlib.suppress(Exception):  # reported with its YAML key at compile time
                names += [source.column(n) for n in condition_columns(text)]
    for stage in spec.stages:
        if spec.stage_source(stage) == source_name and stage.value is not None:
            names.append(source.column(stage.value))
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Dialect:
    """What DuckDB's sniffer found once (sniff_csv); later reads reuse it and skip sniffing."""

    delimiter: str
    quote: str
    escape: str
    columns: tuple[tuple[str, str], ...]  # header → sniffed type

    def to_json(self) -> dict[str, Any]:
        return {
            "delimiter": self.delimiter,
            "quote": self.quote,
            "escape": self.escape,
            "columns": [list(c) for c in self.columns],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dialect:
        return cls(
            delimiter=str(data["delimiter"]),
            quote=str(data["quote"]),
            escape=str(data["escape"]),
            columns=tuple((str(n), str(t)) for n, t in data["columns"]),
        )


def sniff_query(path: str, encoding: str, delimiter: str | None) -> exp.Select:
    options = [
        _option("header", exp.true()),
        _option("skip", exp.Literal.number(0)),
        _option("encoding", exp.Literal.string(encoding)),
    ]
    if delimiter is not None:
        options.append(_option("delim", exp.Literal.string(delimiter)))
    columns = [q.col(c) for c in ("Delimiter", "Quote", "Escape", "Columns")]
    return exp.select(*columns).from_(
        exp.Table(this=exp.func("sniff_csv", exp.Literal.string(path), *options))
    )


def csv_reader(
    paths: Sequence[str],
    encoding: str,
    delimiter: str | None,
    types: dict[str, str] | None = None,
    *,
    all_varchar: bool = False,
    formats: dict[str, str] | None = None,
    dialect: Dialect | None = None,
) -> exp.Expr:
    """read_csv over `paths`; with a `dialect` nothing is sniffed: every column is declared
    (`types` override the sniffed types) and the delimiter and quoting are given."""
    array = exp.Array(expressions=[exp.Literal.string(p) for p in paths])
    if dialect is not None:
        declared = {name: (types or {}).get(name, sql_type) for name, sql_type in dialect.columns}
        fixed = [
            _option("auto_detect", exp.false()),
            _option("header", exp.true()),
            _option("skip", exp.Literal.number(0)),
            _option("encoding", exp.Literal.string(encoding)),
            _option("delim", exp.Literal.string(dialect.delimiter)),
            _option("quote", exp.Literal.string(dialect.quote)),
            _option("escape", exp.Literal.string(dialect.escape)),
            _option("columns", _struct(declared)),
        ]
        fixed += [_option(o, exp.Literal.string(f)) for o, f in (formats or {}).items()]
        return exp.func("read_csv", array, *fixed)
    options = [
        _option("header", exp.true()),
        _option("skip", exp.Literal.number(0)),  # never let the sniffer skip leading rows
        _option("union_by_name", exp.true()),
        _option("encoding", exp.Literal.string(encoding)),
    ]
    if delimiter is not None:
        options.append(_option("delim", exp.Literal.string(delimiter)))
    if all_varchar:
        options.append(_option("all_varchar", exp.true()))
    for option, fmt in (formats or {}).items():
        options.append(_option(option, exp.Literal.string(fmt)))
    if types:
        options.append(_option("types", _struct(types)))
    return exp.func("read_csv", array, *options)


def parquet_reader(paths: Sequence[str]) -> exp.Expr:
    """read_parquet over `paths`, columns matched by name across files."""
    array = exp.Array(expressions=[exp.Literal.string(p) for p in paths])
    return exp.func("read_parquet", array, _option("union_by_name", exp.true()))


def _struct(pairs: dict[str, str]) -> exp.Expr:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.Literal.string(k), expression=exp.Literal.string(v))
            for k, v in pairs.items()
        ]
    )


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=value)


def sample_query(reader: exp.Expr, raw: str, size: int) -> exp.Select:
    """Up to `size` distinct non-empty values of a text column, in file order of discovery."""
    trimmed = exp.func("trim", q.col(raw))
    inner = (
        exp.select(q.alias(trimmed, "v"))
        .from_(reader.copy())
        .where(
            exp.and_(
                q.not_null(q.col(raw)),
                exp.NEQ(this=trimmed.copy(), expression=exp.Literal.string("")),
            )
        )
        .limit(size * 5)
    )
    return exp.select(q.col("v")).from_(inner.subquery("s")).distinct().limit(size)


def rows_query(reader: exp.Expr, raws: Sequence[str], size: int) -> exp.Select:
    """The first `size` rows with a non-empty value in any of `raws` (those columns only)."""
    return (
        exp.select(*[q.col(r) for r in raws])
        .from_(reader.copy())
        .where(exp.or_(*[exp.Paren(this=_present(r)) for r in raws]))
        .limit(size)
    )


def _present(raw: str) -> exp.Expr:
    trimmed = exp.func("trim", q.col(raw))
    return exp.and_(
        q.not_null(q.col(raw)), exp.NEQ(this=trimmed, expression=exp.Literal.string(""))
    )


def native_times(times: Sequence[TimeColumn]) -> tuple[dict[str, str], dict[str, str]]:
    """The time columns DuckDB's reader can type itself (raw header → DATE or TIMESTAMP): those
    with one plain format, at most one format per type; with the reader's format options."""
    types: dict[str, str] = {}
    formats: dict[str, str] = {}
    for column in times:
        if len(column.formats) != 1:
            continue
        typed = dates.native(column.formats[0])
        if typed is None:
            continue
        sql_type, fmt = typed
        option = "timestampformat" if sql_type == "TIMESTAMP" else "dateformat"
        if formats.setdefault(option, fmt) != fmt:
            continue
        types[column.raw] = sql_type
    return types, formats


def view_parts(
    headers: Sequence[str],
    renames: dict[str, str],
    times: Sequence[TimeColumn],
    tz: str | None,
    native: Sequence[str] = (),
) -> tuple[list[exp.Expr], list[RejectCheck]]:
    """The view's projection over the reader's raw columns, and the per-value reject checks.

    `native` time columns were typed by DuckDB's reader (a read error, not a reject, if a value
    does not fit: the engine then falls back to reading them as text).
    """
    by_raw = {t.raw: t for t in times}
    projection: list[exp.Expr] = []
    checks: list[RejectCheck] = []
    for raw in headers:
        name = renames.get(raw, raw)
        column = by_raw.get(raw)
        if column is None:
            projection.append(q.alias(q.col(raw), name))
            continue
        if raw in native:
            value: exp.Expr = q.col(raw)
            if tz is not None:
                value = exp.cast(
                    exp.AtTimeZone(this=exp.cast(value, "TIMESTAMP"), zone=exp.Literal.string(tz)),
                    "TIMESTAMP",
                )
            projection.append(q.alias(value, name))
            continue
        text = exp.func("trim", q.col(raw))
        parsed = parse_column(text, column.readings, tz)
        projection.append(q.alias(parsed.value, name))
        missing = q.is_null(parsed.value.copy())
        checks.append(RejectCheck(name, raw, UNPARSEABLE, exp.and_(_present(raw), missing)))
    return projection, checks


def any_rejected(checks: Sequence[RejectCheck]) -> exp.Expr | None:
    if not checks:
        return None
    return exp.or_(*[exp.Paren(this=c.condition.copy()) for c in checks])


def view_select(
    reader: exp.Expr, projection: list[exp.Expr], checks: list[RejectCheck]
) -> exp.Select:
    select = exp.select(*projection).from_(reader)
    rejected = any_rejected(checks)
    if rejected is not None:
        select = select.where(exp.not_(exp.Paren(this=rejected)))
    return select


def count_query(reader: exp.Expr, checks: Sequence[RejectCheck]) -> exp.Select:
    """One pass: rows rejected, rows in all, then the count of each check (same order as
    `checks`)."""
    rejected = any_rejected(checks)
    assert rejected is not None
    columns = [q.alias(q.count_if(rejected), "rows"), q.alias(exp.Count(this=exp.Star()), "total")]
    columns += [q.alias(q.count_if(c.condition.copy()), f"c{i}") for i, c in enumerate(checks)]
    return exp.select(*columns).from_(reader)


def detail_query(
    reader: exp.Expr, checks: Sequence[RejectCheck], key: tuple[str, str] | None = None
) -> exp.Select:
    """Every rejected value of one file: line (the header is line 1), column, text, reason;
    with `key` (raw column, value) only the rows where that column has that value."""
    raws = list(dict.fromkeys(c.raw for c in checks))
    if key is not None and key[0] not in raws:
        raws.append(key[0])
    numbered = exp.select(
        q.alias(
            exp.Add(this=exp.Window(this=exp.RowNumber()), expression=exp.Literal.number(1)),
            "__line",
        ),
        *[q.col(r) for r in raws],
    ).from_(reader)
    parts: list[exp.Select] = []
    for check in checks:
        parts.append(
            exp.select(
                q.col("__line"),
                q.alias(exp.Literal.string(check.column), "__column"),
                q.alias(exp.cast(q.col(check.raw), "VARCHAR"), "__value"),
                q.alias(exp.Literal.string(check.reason), "__reason"),
            )
            .from_(q.table("numbered"))
            .where(check.condition.copy())
        )
        if key is not None:
            same = exp.EQ(
                this=exp.cast(q.col(key[0]), "VARCHAR"), expression=exp.Literal.string(key[1])
            )
            parts[-1] = parts[-1].where(same)
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    final = exp.select(exp.Star()).from_(union.subquery("r")).order_by("__line", "__column")
    return final.with_("numbered", as_=numbered)

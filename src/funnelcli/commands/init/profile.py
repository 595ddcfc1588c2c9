"""What `funnel init` reads of the exports: each file opened by the engine exactly as a report
would read it (encoding, delimiter, header spellings, date types: engine/probe.py and the
readers), then profiled with a few queries: columns, types, counts, distinct values, medians."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from funnelcli.engine import Engine
from funnelcli.spec import Funnel, parse_funnel
from funnelcli.sql import ast as q
from funnelcli.sql import dates
from funnelcli.sql.amounts import is_numeric_type

PLACEHOLDER = "\x00"  # a column no export has: the provisional funnel reads every column as is
TOP = 60  # distinct values listed per text column (stage columns, dimensions)
SAMPLE = 200


@dataclass
class ColumnProfile:
    """One column of one export."""

    name: str
    sql_type: str
    filled: int  # non-empty values
    distinct: int
    top: list[tuple[str, int]] = field(default_factory=list)  # most frequent values (≤ TOP)
    text_time: bool = False  # text that reads as dates (DuckDB did not type it)
    ambiguous: bool = False  # day/month order undecided (e.g. 03/04/2024)
    median: datetime | None = None

    @property
    def is_time(self) -> bool:
        return self.sql_type in ("DATE",) or self.sql_type.startswith("TIMESTAMP") or self.text_time

    @property
    def is_numeric(self) -> bool:
        return is_numeric_type(self.sql_type)


@dataclass
class ExportProfile:
    """One export file: its source name, rows and columns."""

    source: str
    path: Path
    rows: int
    columns: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


def provisional(
    paths: Sequence[Path],
    names: Sequence[str],
    times: Mapping[str, Sequence[str]] | None = None,
    day_first: bool | None = None,
) -> Funnel:
    """A funnel over the exports: opening it reads each file as a report would (the probe).
    Without `times` it names no column (DuckDB's sniffer types them); with `times` (source →
    date columns) each is a stage time, read and parsed as a report reads stage times (formats
    detected, unreadable or ambiguous values set aside; `day_first` reads 03/04/2024 one way,
    only to profile: the YAML written leaves it to the user)."""
    stages = [
        {"name": f"t{i}_{j}", "source": source, "at": column}
        for i, (source, columns) in enumerate((times or {}).items())
        for j, column in enumerate(columns)
    ]
    data = {
        "sources": {
            n: {"path": str(p.resolve()), "id": PLACEHOLDER, "day_first": day_first}
            for n, p in zip(names, paths, strict=True)
        },
        "stages": stages or [{"name": "x", "at": PLACEHOLDER}],
    }
    return parse_funnel(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), file="<init>")


def view(source: str) -> exp.Table:
    return q.table(q.source_view(source))


def profile(engine: Engine, source: str, path: Path) -> ExportProfile:
    """Counts, distinct values, top values and time medians of every column of one export."""
    columns = engine.columns(source)
    stats: list[exp.Expr] = [q.alias(exp.Count(this=exp.Star()), "__rows")]
    for i, (name, sql_type) in enumerate(columns):
        raw = q.col(name)
        stats.append(q.alias(exp.Count(this=raw.copy()), f"f{i}"))
        stats.append(q.alias(exp.Count(this=exp.Distinct(expressions=[raw.copy()])), f"d{i}"))
        if sql_type == "DATE" or sql_type.startswith("TIMESTAMP"):
            stats.append(q.alias(exp.Median(this=q.ts(raw.copy())), f"m{i}"))
    (row,) = engine.rows(exp.select(*stats, copy=False).from_(view(source)), source=source)
    found = []
    for i, (name, sql_type) in enumerate(columns):
        found.append(
            ColumnProfile(
                name=name,
                sql_type=sql_type,
                filled=int(row[f"f{i}"]),
                distinct=int(row[f"d{i}"]),
                median=_moment(row.get(f"m{i}")),
            )
        )
    rows = int(row["__rows"])
    for column in found:
        if column.sql_type == "VARCHAR" and column.distinct <= TOP:
            column.top = top_values(engine, source, column.name)
        if column.sql_type == "VARCHAR" and column.filled:
            _classify_text_time(engine, source, column)
    return ExportProfile(source, path, rows, found)


def top_values(engine: Engine, source: str, name: str) -> list[tuple[str, int]]:
    column = q.col(name)
    query = (
        exp.select(
            q.alias(exp.cast(column, "VARCHAR"), "v"), q.alias(exp.Count(this=exp.Star()), "n")
        )
        .from_(view(source))
        .where(q.not_null(column.copy()))
        .group_by(column.copy())
        .order_by(exp.Ordered(this=q.col("n"), desc=True), q.col("v"))
        .limit(TOP)
    )
    return [(str(r["v"]), int(r["n"])) for r in engine.rows(query, source=source)]


def _classify_text_time(engine: Engine, source: str, column: ColumnProfile) -> None:
    """Text that DuckDB did not type but reads as dates (sql/dates.py's formats)."""
    name = q.col(column.name)
    query = (
        exp.select(q.alias(exp.cast(name, "VARCHAR"), "v"))
        .from_(view(source))
        .where(q.not_null(name.copy()))
        .limit(SAMPLE)
    )
    values = [str(r["v"]) for r in engine.rows(query, source=source) if str(r["v"]).strip()]
    shapes = [dates.classify(v, None) for v in values]
    numbers = ("unix_ms", "unix_s", "excel")  # plain numbers are not taken for dates
    readable = [s for s in shapes if s is not None and s.format not in numbers]
    if values and len(readable) >= 0.9 * len(values):
        column.text_time = True
        try:  # the column's day/month order, decided as a report decides it
            dates.detect(values, None)
        except dates.DateOrderError:
            column.ambiguous = True


def pair_counts(engine: Engine, source: str, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """For each (a, b): rows where both columns are filled."""
    if not pairs:
        return []
    counts = [
        q.alias(q.count_if(exp.and_(q.not_null(q.col(a)), q.not_null(q.col(b)))), f"p{i}")
        for i, (a, b) in enumerate(pairs)
    ]
    (row,) = engine.rows(exp.select(*counts, copy=False).from_(view(source)), source=source)
    return [int(row[f"p{i}"]) for i in range(len(pairs))]


def stage_values(
    engine: Engine, source: str, key: str, stage: str, time: str | None
) -> list[tuple[str, int, int, datetime | None]]:
    """Per value of a stage column: (value, rows, distinct keys, median over keys of their first
    time with the value)."""
    value = exp.cast(q.col(stage), "VARCHAR")
    firsts: list[exp.Expr] = [
        q.alias(value.copy(), "v"),
        q.alias(q.col(key), "k"),
        q.alias(exp.Count(this=exp.Star()), "n"),
    ]
    if time is not None:
        firsts.append(q.alias(exp.Min(this=q.ts(q.col(time))), "t"))
    per_key = (
        exp.select(*firsts, copy=False)
        .from_(view(source))
        .where(q.not_null(q.col(stage)))
        .group_by(value.copy(), q.col(key))
    )
    median: exp.Expr = exp.Median(this=q.col("t")) if time is not None else exp.null()
    query = (
        exp.select(
            q.col("v"),
            q.alias(exp.Sum(this=q.col("n")), "rows"),
            q.alias(exp.Count(this=exp.Star()), "keys"),
            q.alias(median, "median"),
        )
        .from_(per_key.subquery("per_key"))
        .group_by(q.col("v"))
    )
    return [
        (str(r["v"]), int(r["rows"]), int(r["keys"]), _moment(r["median"]))
        for r in engine.rows(query, source=source)
    ]


def filled_by_value(
    engine: Engine, source: str, stage: str, columns: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per stage value: how many of its rows have each column filled (snapshot exports)."""
    value = exp.cast(q.col(stage), "VARCHAR")
    counts = [q.alias(exp.Count(this=q.col(c)), f"c{i}") for i, c in enumerate(columns)]
    query = (
        exp.select(q.alias(value, "v"), q.alias(exp.Count(this=exp.Star()), "n"), *counts)
        .from_(view(source))
        .group_by(value.copy())
    )
    found: dict[str, dict[str, int]] = {}
    for r in engine.rows(query, source=source):
        found[str(r["v"])] = {
            "__rows": int(r["n"]),
            **{c: int(r[f"c{i}"]) for i, c in enumerate(columns)},
        }
    return found


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def wide_precedence(
    engine: Engine, source: str, columns: Sequence[str]
) -> dict[tuple[str, str], int]:
    """For each ordered pair of time columns (a, b): rows where a is earlier than b."""
    pairs = [(a, b) for a in columns for b in columns if a != b]
    if not pairs:
        return {}
    counts = [
        q.alias(q.count_if(exp.LT(this=q.ts(q.col(a)), expression=q.ts(q.col(b)))), f"p{i}")
        for i, (a, b) in enumerate(pairs)
    ]
    (row,) = engine.rows(exp.select(*counts, copy=False).from_(view(source)), source=source)
    return {pair: int(row[f"p{i}"]) for i, pair in enumerate(pairs)}


def log_precedence(
    engine: Engine, source: str, key: str, stage: str, time: str
) -> dict[tuple[str, str], int]:
    """For each ordered pair of stage values (a, b): keys whose first a is earlier than their
    first b (a stage log's order, from the keys that have both)."""
    value = exp.cast(q.col(stage), "VARCHAR")
    firsts = (
        exp.select(
            q.alias(value.copy(), "v"),
            q.alias(q.col(key), "k"),
            q.alias(exp.Min(this=q.ts(q.col(time))), "t"),
        )
        .from_(view(source))
        .where(q.not_null(q.col(stage)))
        .group_by(value.copy(), q.col(key))
    )
    earlier = exp.LT(this=q.col("t", "a"), expression=q.col("t", "b"))
    query = (
        exp.select(
            q.alias(q.col("v", "a"), "a"),
            q.alias(q.col("v", "b"), "b"),
            q.alias(q.count_if(earlier), "n"),
        )
        .from_(firsts.subquery("a"))
        .join(
            firsts.subquery("b"),
            on=exp.and_(
                exp.EQ(this=q.col("k", "a"), expression=q.col("k", "b")),
                exp.NEQ(this=q.col("v", "a"), expression=q.col("v", "b")),
            ),
        )
        .group_by(q.col("v", "a"), q.col("v", "b"))
    )
    return {(str(r["a"]), str(r["b"])): int(r["n"]) for r in engine.rows(query, source=source)}


def precedence_order(items: Sequence[str], before: dict[tuple[str, str], int]) -> list[str]:
    """Items ordered by how many others they usually precede (a before b when more rows or
    keys have a earlier than b than the reverse); stable for ties."""

    def wins(a: str) -> int:
        return sum(1 for b in items if b != a and before.get((a, b), 0) > before.get((b, a), 0))

    return sorted(items, key=lambda a: -wins(a))

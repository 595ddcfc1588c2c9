"""Stored query results for `--cache` runs: the same query over the same files is read back.

A `--cache` run reads its sources from Parquet copies (copies.py) and also keeps the result of
each query it runs (aggregates: a few rows per group) in `<cache dir>/results/`. The entry's
name is a hash of everything that decides the result: the query's SQL, the SQL of every view it
can read (a cached copy's view names its Parquet file, whose name hashes the source's files and
settings), each declared file's fingerprint (path, size, mtime, first and last 64 KiB), the
funnelcli and DuckDB versions, the mode each CSV source is read in (views.ReadMode) and the
store's format. Re-running the same report (another `--format`, a cron job, a second look) then
costs the start-up and a small Parquet read.

Results are written by the engine's own locked-down connection to one scratch file it was
allowed up front, renamed into place, and read back by a second connection the session opens
allowed only that entry (Session.read_back). DuckDB's Parquet writer keeps every type the report
uses except HUGEINT (which it writes as DOUBLE), so HUGEINT columns are stored as DECIMAL(38,0)
and cast back on reading; a query with UHUGEINT or a nested HUGEINT is not stored, and every
read-back is checked against the recorded column types, so a type that changes on the way (BIT,
fixed-size ARRAY, …) is run instead of served.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine import store
from funnelcli.sql.ast import copy_to_parquet

if TYPE_CHECKING:
    from funnelcli.engine.session import Cursor, Session

FORMAT = 2  # 2: keyed by store.key, with each source's read mode; records say "tolerant"
KEEP = 500  # entries kept (newest by use); each is a few KiB
_STORED_AS = {"HUGEINT": "DECIMAL(38,0)"}


@dataclass(frozen=True)
class Stored:
    """One stored result: its Parquet file, its columns with their DuckDB types, and whether
    computing it switched the CSV views to the tolerant (rejecting) reading."""

    parquet: Path
    columns: tuple[tuple[str, str], ...]
    tolerant: bool


class ResultStore:
    """The `results/` folder of one cache directory, as seen by one engine's session."""

    def __init__(self, session: Session, cache_dir: Path, context: Mapping[str, Any]) -> None:
        """`context`: what besides the SQL decides every result (views, files, versions)."""
        self.folder = cache_dir / store.RESULTS
        self.scratch = store.temp_path(self.folder / f"result-{secrets.token_hex(6)}")
        self._session = session
        self._context = {"format": FORMAT, **context}

    def key(self, sql: str, modes: Mapping[str, str]) -> str:
        """The entry name of `sql` run while the CSV sources are read in `modes`."""
        return store.key({"context": self._context, "sql": sql, "modes": dict(modes)})

    def find(self, key: str) -> Stored | None:
        """The entry under `key`, or None when it is absent or its record is unreadable."""
        try:
            record = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            parquet = self.folder / f"{key}.parquet"
            if not parquet.is_file():
                return None
            with contextlib.suppress(OSError):  # a read-only cache still answers
                os.utime(parquet)  # newest by use: pruning drops the least recently read
            return Stored(
                parquet=parquet,
                columns=tuple((str(n), str(t)) for n, t in record["columns"]),
                tolerant=bool(record["tolerant"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def storable(columns: Sequence[tuple[str, str]]) -> bool:
        """Whether every column survives a Parquet round trip (with the HUGEINT cast)."""
        names = [name for name, _ in columns]
        return len(set(names)) == len(names) and all(
            type_name in _STORED_AS or "HUGEINT" not in type_name for _, type_name in columns
        )

    def keep(
        self,
        key: str,
        query: exp.Expr,
        columns: Sequence[tuple[str, str]],
        run: Callable[[str], bool],
    ) -> Stored:
        """Store the query's rows under `key`: `run` executes the COPY statement it is given (to
        the scratch file allowed up front) and says whether the views switched meanwhile."""
        select = exp.select(
            *(_as(name, _STORED_AS.get(type_name)) for name, type_name in columns)
        ).from_(exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier("q"))))
        parquet = self.folder / f"{key}.parquet"
        with store.replacing(parquet, self.scratch, cache=True) as scratch:
            tolerant = run(copy_to_parquet(select, str(scratch)).sql(dialect="duckdb"))
        record = {"columns": [list(c) for c in columns], "tolerant": tolerant}
        store.write_atomic(self.folder / f"{key}.json", json.dumps(record) + "\n", cache=True)
        prune(self.folder)
        return Stored(parquet=parquet, columns=tuple(columns), tolerant=tolerant)

    def read(self, stored: Stored) -> Cursor | None:
        """A cursor over the entry's rows with the original column types, read by a connection
        that may read that one file; None when the file is damaged (then it is recomputed) or
        a column comes back with another type (then the query is run)."""
        select = exp.select(
            *(
                _as(name, type_name if type_name in _STORED_AS else None)
                for name, type_name in stored.columns
            )
        ).from_(exp.func("read_parquet", exp.Literal.string(str(stored.parquet))))
        cursor = self._session.read_back(stored.parquet, select)
        if cursor is None:
            return None
        found = [(str(d[0]), str(d[1])) for d in cursor.description]
        if found != [(name, _read_as(type_name)) for name, type_name in stored.columns]:
            return None  # a type that does not survive Parquet: the query is run instead
        return cursor


def _read_as(type_name: str) -> str:
    """The type a column of `type_name` has when read back (an ENUM's values come back as
    the same strings, typed VARCHAR)."""
    return "VARCHAR" if type_name.startswith("ENUM(") else type_name


def _as(name: str, type_name: str | None) -> exp.Expr:
    column: exp.Expr = exp.column(name, quoted=True)
    if type_name is not None:
        column = exp.cast(column, exp.DataType.build(type_name, dialect="duckdb"))
    return exp.alias_(column, name, quoted=True)


def prune(folder: Path, keep: int = KEEP) -> None:
    """Drop all but the `keep` most recently used entries. Only entries as this module names
    them (a store.key stem, regular files, not links) are candidates: a look-alike someone
    put in the folder, or a link out of it, is never deleted."""
    found = sorted((p for p in folder.glob("*.parquet") if _entry(p)), key=_mtime, reverse=True)
    for parquet in found[keep:]:
        for path in (parquet, parquet.with_suffix(".json")):
            if _entry(path):
                with contextlib.suppress(OSError):
                    path.unlink()


def _entry(path: Path) -> bool:
    """Whether `path` is a regular file named like an entry (store.key's name)."""
    return store.is_key(path.name) and not path.is_symlink() and path.is_file()


def usage(cache_dir: Path) -> tuple[int, int]:
    """(entries, bytes) stored under `cache_dir`."""
    folder = cache_dir / store.RESULTS
    if not folder.is_dir():
        return 0, 0
    sizes = [_size(p) for p in folder.glob("*.parquet") if _entry(p)]
    return len(sizes), sum(sizes)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

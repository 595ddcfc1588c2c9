"""Source views: how each declared source becomes the view `source_<name>`, and what it rejects.

A Parquet source is read as it is. A CSV (or a transcoded text file, or a converted .xlsx sheet)
is probed once — DuckDB's sniffer for its dialect and headers, samples of its time columns for
their date formats, remembered under the cache's readings/ folder — and then read in a ReadMode:
`fast` (DuckDB's reader types each time column with one plain format itself; a value that does
not fit fails the read) or `tolerant` (times read as text and parsed; a row with a time that
cannot be read is rejected and listed with its file, line, column and reason). Views start fast;
the first read that fails switches every fast one to tolerant (SourceViews.tolerate).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine import headers, store
from funnelcli.engine.files import SourceFiles, is_xlsx
from funnelcli.engine.text import SheetNotFound, readable, transcode, xlsx_to_csv
from funnelcli.errors import FunnelError
from funnelcli.spec import Funnel, SourceSpec
from funnelcli.sql import dates, readers
from funnelcli.sql.ast import source_view, table
from funnelcli.sql.readers import Dialect, RejectCheck, TimeColumn

if TYPE_CHECKING:
    from funnelcli.engine.session import Session

MEMO_FORMAT = 1


class ReadMode(enum.Enum):
    """How a CSV source's time columns are read (see the module docstring)."""

    fast = "fast"
    tolerant = "tolerant"


@dataclass(frozen=True)
class SourceView:
    """A view's body and the per-value reject checks it applies (none for a fast column)."""

    select: exp.Select
    checks: tuple[RejectCheck, ...]


@dataclass(frozen=True)
class CsvSource:
    """What probing a CSV source found: the files DuckDB opens (originals or readable copies),
    their dialect and headers, and how each time column is read."""

    originals: tuple[Path, ...]
    paths: tuple[str, ...]
    encoding: str
    delimiter: str | None
    types: Mapping[str, str]  # raw header → type every reading declares (VARCHAR)
    headers: tuple[str, ...]
    renames: Mapping[str, str]  # raw header → the view's column name
    times: tuple[TimeColumn, ...]
    tz: str | None
    dialect: Dialect | None = None  # single file: sniffed once, then declared

    def reader(self, paths: Sequence[str] | None = None) -> exp.Expr:
        """The reader with every time column as text (rejects are found over this one)."""
        return readers.csv_reader(
            paths or self.paths,
            self.encoding,
            self.delimiter,
            dict(self.types),
            dialect=self.dialect,
        )

    @property
    def types_natively(self) -> bool:
        """Whether the fast reading types any time column itself (else both modes read alike)."""
        return bool(readers.native_times(self.times)[0])

    def view(self, mode: ReadMode) -> SourceView:
        native, formats = readers.native_times(self.times) if mode is ReadMode.fast else ({}, {})
        reader = readers.csv_reader(
            self.paths,
            self.encoding,
            self.delimiter,
            {**self.types, **native},
            formats=formats,
            dialect=self.dialect,
        )
        projection, checks = readers.view_parts(
            self.headers, dict(self.renames), self.times, self.tz, list(native)
        )
        return SourceView(readers.view_select(reader, projection, checks), tuple(checks))


@dataclass(frozen=True)
class Reject:
    """One value set aside: where it is (original file, line with the header as line 1), why."""

    source: str
    file: str
    line: int
    column: str
    value: str
    reason: str


def parquet_view(found: SourceFiles) -> exp.Select:
    return exp.select(exp.Star()).from_(readers.parquet_reader([str(f) for f in found.files]))


def create_view(session: Session, name: str, body: exp.Expr, *, replace: bool = False) -> str:
    """Create (or replace) the source's view over `body`; its SQL."""
    view = exp.Create(this=table(source_view(name)), kind="VIEW", expression=body, replace=replace)
    sql = view.sql(dialect="duckdb")
    session.run(sql, source=name)
    return sql


class SourceViews:
    """The CSV sources' readings and the mode each is read in now: the one thing about an
    engine's views that changes while it runs."""

    def __init__(
        self, session: Session, csv: Mapping[str, CsvSource], modes: Mapping[str, ReadMode]
    ) -> None:
        self._session = session
        self._csv = dict(csv)
        self._modes = dict(modes)

    def modes(self) -> dict[str, str]:
        """Each CSV source's read mode now (part of every stored result's key)."""
        return {name: mode.value for name, mode in self._modes.items()}

    def tolerate(self) -> list[str]:
        """Re-create every view still read fast as tolerant (text, parsed, rejects); the
        sources switched (none when no view was fast)."""
        switched = [
            name
            for name, csv in self._csv.items()
            if self._modes[name] is ReadMode.fast and csv.types_natively
        ]
        for name in switched:
            self._modes[name] = ReadMode.tolerant
            body = self._csv[name].view(ReadMode.tolerant).select
            create_view(self._session, name, body, replace=True)
        return switched

    def reject_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(rows rejected per source, values rejected per reason) over every source."""
        rows: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for name, csv, checks in self._checked():
            if not checks:
                rows[name] = 0
                continue
            query = readers.count_query(csv.reader(), checks)
            counts = self._session.fetch(query, source=name)[0]
            rows[name] = int(counts[0])
            for check, count in zip(checks, counts[1:], strict=True):
                if count:
                    reasons[check.reason] = reasons.get(check.reason, 0) + int(count)
        return rows, reasons

    def rejects(self) -> list[Reject]:
        """Every rejected value, file by file in line order."""
        out: list[Reject] = []
        for name, csv, checks in self._checked():
            if not checks:
                continue
            for original, path in zip(csv.originals, csv.paths, strict=True):
                query = readers.detail_query(csv.reader([path]), checks)
                for line, column, value, reason in self._session.fetch(query, source=name):
                    out.append(Reject(name, str(original), int(line), column, value, reason))
        return out

    def _checked(self) -> list[tuple[str, CsvSource, tuple[RejectCheck, ...]]]:
        return [(n, csv, csv.view(self._modes[n]).checks) for n, csv in self._csv.items()]


def locate_query(rows: exp.Expr, column: str, bad: exp.Expr) -> exp.Select:
    """(row_no, text) of the first of `rows`, in scan order, where `bad` holds of `column`."""
    numbered = exp.select(
        exp.alias_(exp.Window(this=exp.RowNumber()), "row_no"),
        exp.alias_(exp.cast(exp.column(column, quoted=True), "VARCHAR"), "text"),
        exp.alias_(bad, "bad"),
    ).from_(rows)
    return (
        exp.select(exp.column("row_no"), exp.column("text"))
        .from_(numbered.subquery("t"))
        .where(exp.column("bad"))
        .order_by("row_no")
        .limit(1)
    )


@dataclass(frozen=True)
class ReadingMemo:
    """What probing a CSV found (its sniffed dialect and headers, the date formats detected from
    samples), kept in `<cache dir>/readings/` so that a --cache run over unchanged files skips
    the probing. One file per (source settings, file paths, versions), overwritten when the
    files change, so the folder does not grow with every edit."""

    path: Path
    prints: tuple[str, ...]  # the files' fingerprints: a memo of other files is not used

    @classmethod
    def of(
        cls, cache_dir: Path, source: SourceSpec, files: Sequence[Path], context: str
    ) -> ReadingMemo:
        """The memo of `source` read from `files`; `context`: what else decides the probing's
        outcome (versions)."""
        parts = {
            "format": MEMO_FORMAT,
            "context": context,
            "source": source.model_dump(mode="json"),
            "files": [str(f.resolve()) for f in files],
        }
        path = cache_dir / store.READINGS / f"{store.key(parts)}.json"
        return cls(path, tuple(store.fingerprint(f) for f in files))

    def load(self) -> dict[str, Any] | None:
        """The recorded findings, or None when absent, unreadable or made from other files."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("files") != list(self.prints):
            return None
        found = data.get("found")
        return found if isinstance(found, dict) else None

    def save(self, found: dict[str, Any]) -> None:
        try:
            store.ensure_dir(self.path.parent)
            text = json.dumps({"files": list(self.prints), "found": found}, ensure_ascii=False)
            store.write_atomic(self.path, text + "\n")
        except (OSError, FunnelError):
            pass  # only a lost speed-up: the next run probes again


def probe_csv(
    session: Session,
    funnel: Funnel,
    name: str,
    source: SourceSpec,
    found: SourceFiles,
    folder: store.CopiesFolder,
    memo: ReadingMemo | None,
) -> CsvSource:
    """Probe a CSV source (or its readable copies): dialect, headers, tolerant names, the
    formats of its time columns (declared, remembered in `memo`, or detected from samples)."""
    paths, encoding = _readable(session, funnel, name, source, found, folder)
    first = found.files[0].name.lower()
    delimiter = source.delimiter or ("\t" if ".tsv" in first else None)
    known = (memo.load() if memo is not None else None) or {}
    try:
        dialect = Dialect.from_json(known["dialect"]) if "dialect" in known else None
        raw_headers = [str(h) for h in known["headers"]]
        detected = {
            str(raw): [dates.format_from_json(f) for f in formats]
            for raw, formats in known["formats"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        dialect, raw_headers = _layout(session, name, paths, encoding, delimiter)
        known, detected = {}, {}
    if headers.looks_like_one_column(raw_headers) and not found.files[0].name.endswith(".gz"):
        raise headers.explain_one_column(found.files[0], Path(paths[0]), encoding, raw_headers[0])
    spec = funnel.spec
    in_funnel = name in spec.sources  # else an extra view (roi: spend, contracts)
    referenced = readers.referenced_names(spec, name) if in_funnel else []
    renames = headers.rename_map(raw_headers, referenced)
    raw_of = {view_name: raw for raw, view_name in renames.items()}
    if in_funnel:
        text = readers.text_names(spec, name) + readers.time_names(spec, name)
        types = {raw_of[n]: "VARCHAR" for n in text if n in raw_of}
    else:  # small files read as text; roi_inputs parses dates and amounts itself
        types = dict.fromkeys(raw_headers, "VARCHAR")
    wanted = [
        (n, raw_of[n]) for n in (readers.time_names(spec, name) if in_funnel else []) if n in raw_of
    ]  # a missing column is reported, with its YAML key, at compile time
    declared = {raw: source.formats.get(n) or declared_by_raw(source, raw) for n, raw in wanted}
    missing = [raw for raw, formats in declared.items() if not formats and raw not in detected]
    reader = readers.csv_reader(paths, encoding, delimiter, types, dialect=dialect)
    for raw, values in _samples(session, name, reader, missing).items():
        detected[raw] = dates.detect(values, source.day_first)
    times = tuple(
        TimeColumn(raw, view_name, tuple(declared[raw] or detected[raw]), not declared[raw])
        for view_name, raw in wanted
    )
    if memo is not None and (missing or not known):
        layout = {"dialect": dialect.to_json()} if dialect is not None else {}
        written = {raw: [dates.format_to_json(f) for f in fs] for raw, fs in detected.items()}
        memo.save({**layout, "headers": raw_headers, "formats": written})
    return CsvSource(
        originals=found.files,
        paths=tuple(paths),
        encoding=encoding,
        delimiter=delimiter,
        types=types,
        headers=tuple(raw_headers),
        renames=renames,
        times=times,
        tz=source.tz,
        dialect=dialect,
    )


def _readable(
    session: Session,
    funnel: Funnel,
    name: str,
    source: SourceSpec,
    found: SourceFiles,
    folder: store.CopiesFolder,
) -> tuple[list[str], str]:
    """(files DuckDB reads, their encoding): the originals, or transcoded / converted copies."""
    paths: list[str] = []
    encodings: list[str] = []
    for file in found.files:
        if is_xlsx(file):
            try:
                paths.append(str(xlsx_to_csv(file, source.sheet, folder.path())))
            except SheetNotFound as exc:
                raise funnel.error(
                    f"sources.{name}.sheet",
                    f"no sheet {exc.sheet!r} in {file.name} (sheets: {', '.join(exc.names)})",
                ) from None
            encodings.append("utf-8")
        else:
            path, encoding = readable(file, source.encoding, folder.path())
            paths.append(str(path))
            encodings.append(encoding)
    encoding = encodings[0]
    if len(set(encodings)) > 1:  # a glob mixing encodings: read every file as UTF-8
        paths = [
            str(transcode(f, "latin-1", folder.path())) if e == "latin-1" else p
            for f, p, e in zip(found.files, paths, encodings, strict=True)
        ]
        encoding = "utf-8"
    for file, copy in zip(found.files, paths, strict=True):
        session.read_as(copy, file)
    return paths, encoding


def _layout(
    session: Session, name: str, paths: list[str], encoding: str, delimiter: str | None
) -> tuple[Dialect | None, list[str]]:
    """(sniffed dialect of a single file, raw headers): DuckDB's sniffer, run once; every
    later read of the file declares it all. A glob's files are only probed for headers."""
    if len(paths) == 1:
        sniffed = session.fetch(readers.sniff_query(paths[0], encoding, delimiter), source=name)[0]
        dialect = Dialect(
            delimiter=str(sniffed[0]),
            quote='"' if sniffed[1] == "(empty)" else str(sniffed[1]),
            escape='"' if sniffed[2] == "(empty)" else str(sniffed[2]),
            columns=tuple((str(c["name"]), str(c["type"])) for c in sniffed[3]),
        )
        return dialect, [c for c, _ in dialect.columns]
    probe = readers.csv_reader(paths, encoding, delimiter, all_varchar=True)
    described = session.describe(exp.select(exp.Star()).from_(probe), source=name)
    return None, [column for column, _ in described]


def _samples(
    session: Session, name: str, reader: exp.Expr, raws: list[str]
) -> dict[str, list[str]]:
    """Non-empty values of each column: one pass over the first rows that have any, then a
    query of its own for a column still without values (a newest-first export)."""
    values: dict[str, list[str]] = {raw: [] for raw in raws}
    if not raws:
        return values
    for row in session.fetch(readers.rows_query(reader, raws, dates.SAMPLE_SIZE), source=name):
        for raw, value in zip(raws, row, strict=True):
            if value is not None and str(value).strip():
                values[raw].append(str(value).strip())
    for raw in raws:
        if not values[raw]:
            sample = readers.sample_query(reader, raw, dates.SAMPLE_SIZE)
            values[raw] = [str(r[0]) for r in session.fetch(sample, source=name)]
    return values


def declared_by_raw(source: SourceSpec, raw: str) -> list[str] | None:
    """`formats:` keyed by the raw header (or a tolerant spelling of it) rather than the YAML's."""
    for key, value in source.formats.items():
        if headers.normalize(source.column(key)) == headers.normalize(raw):
            return value
    return None

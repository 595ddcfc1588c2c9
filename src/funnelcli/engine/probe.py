"""Probing a CSV source once: what DuckDB must read, how, and how its time columns are written.

Its files are made readable (transcoded text, converted .xlsx sheets: text.py), DuckDB's sniffer
finds the dialect and the headers (read tolerantly: headers.py), and the date formats of the
time columns the YAML does not declare are detected from samples (sql/dates.py). With the cache,
what was found is remembered per source and files (ReadingMemo), so a re-run over unchanged
files probes nothing. The result is a CsvSource (views.py), a value.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine import headers, store
from funnelcli.engine.files import SourceFiles, is_xlsx
from funnelcli.engine.lines import Layout, physical
from funnelcli.engine.text import SheetNotFound, readable, transcode, with_lf, xlsx_to_csv
from funnelcli.engine.views import CsvSource, locate_query
from funnelcli.errors import DataError, DayMonthError, FunnelError
from funnelcli.spec import Funnel, SourceSpec
from funnelcli.spec.hints import normalize
from funnelcli.sql import ast as q
from funnelcli.sql import dates, readers
from funnelcli.sql.readers import Dialect, TimeColumn

if TYPE_CHECKING:
    from funnelcli.engine.session import Session

MEMO_FORMAT = 2  # 2: one day/month order per column (no per-value pairs)


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
            store.ensure_dir(store.ensure_cache(self.path.parent.parent) / store.READINGS)
            text = json.dumps({"files": list(self.prints), "found": found}, ensure_ascii=False)
            store.write_atomic(self.path, text + "\n", cache=True)
        except (OSError, FunnelError):
            pass  # only a lost speed-up: the next run probes again


class Probe:
    """Probes the CSV sources of one funnel through one session (before it is locked down),
    writing readable copies to `folder`."""

    def __init__(self, session: Session, funnel: Funnel, folder: store.CopiesFolder) -> None:
        self.session = session
        self._funnel = funnel
        self._folder = folder

    def csv(
        self, name: str, source: SourceSpec, found: SourceFiles, memo: ReadingMemo | None
    ) -> CsvSource:
        """Dialect, headers, tolerant names and the formats of the time columns (declared,
        remembered in `memo`, or detected from samples) of a CSV source."""
        paths, encoding = self._readable(name, source, found)
        first = found.files[0].name.lower()
        delimiter = source.delimiter or ("\t" if ".tsv" in first else None)
        known = (memo.load() if memo is not None else None) or {}
        one_ending = bool(known.get("lf"))  # the files mix CRLF and LF: read LF copies
        if one_ending:
            paths = self._one_line_ending(found, paths) or paths
        try:
            dialect = Dialect.from_json(known["dialect"]) if "dialect" in known else None
            raw_headers = [str(h) for h in known["headers"]]
            detected = {
                str(raw): [_format(f) for f in formats] for raw, formats in known["formats"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError):
            try:
                dialect, each_file = self._layout(name, paths, encoding, delimiter)
            except FunnelError:  # DuckDB's sniffer refuses lines ending in both CRLF and LF
                fixed = self._one_line_ending(found, paths)
                if fixed is None:
                    raise
                paths, one_ending = fixed, True
                dialect, each_file = self._layout(name, paths, encoding, delimiter)
            raw_headers = by_name(each_file)
            known, detected = {}, {}
        if headers.looks_like_one_column(raw_headers) and not found.files[0].name.endswith(".gz"):
            original, copy = found.files[0], Path(paths[0])
            raise headers.explain_one_column(original, copy, encoding, raw_headers[0])
        if len(paths) > 1 and not known:
            self._each_file_a_table(name, source, found, paths, encoding, each_file)
        if len(raw_headers) == 1:  # no source is one column: not the export it should be
            raise headers.not_a_table(found.files[0])
        spec = self._funnel.spec
        in_funnel = name in spec.sources  # else an extra view (roi: spend, risk: usage)
        referenced = readers.referenced_names(spec, name) if in_funnel else list(source.columns)
        renames = headers.rename_map(raw_headers, referenced)
        raw_of = {view_name: raw for raw, view_name in renames.items()}
        if in_funnel:
            text = readers.text_names(spec, name) + readers.time_names(spec, name)
            types = {raw_of[n]: "VARCHAR" for n in text if n in raw_of}
        else:  # small files read as text; roi_inputs parses dates and amounts itself
            types = dict.fromkeys(raw_headers, "VARCHAR")
        times = readers.time_names(spec, name) if in_funnel else readers.own_time_names(source)
        # a missing column is reported, with its YAML key, at compile time
        wanted = [(n, raw_of[n]) for n in times if n in raw_of]
        declared = {raw: source.formats.get(n) or declared_by_raw(source, raw) for n, raw in wanted}
        missing = [raw for raw, formats in declared.items() if not formats and raw not in detected]
        reader = readers.csv_reader(paths, encoding, delimiter, types, dialect=dialect)
        for raw, values in self._samples(name, reader, missing).items():
            try:
                detected[raw] = dates.detect(values, source.day_first)
            except dates.DateOrderError as exc:
                lines = None  # a glob's rows are numbered across its files: no one file's lines
                if len(paths) == 1 and not is_xlsx(found.files[0]):
                    lines = Layout.of(paths[0], dialect, delimiter, encoding)
                raise self._order_error(name, found, reader, raw, exc.examples, lines) from None
        if memo is not None and (missing or not known):
            layout: dict[str, Any] = {"dialect": dialect.to_json()} if dialect else {}
            if one_ending:
                layout["lf"] = True
            written = {raw: list(fs) for raw, fs in detected.items()}
            memo.save({**layout, "headers": raw_headers, "formats": written})
        return CsvSource(
            originals=found.files,
            paths=tuple(paths),
            encoding=encoding,
            delimiter=delimiter,
            types=types,
            headers=tuple(raw_headers),
            renames=renames,
            times=tuple(
                TimeColumn(raw, view_name, tuple(declared[raw] or detected[raw]), not declared[raw])
                for view_name, raw in wanted
            ),
            tz=source.tz,
            dialect=dialect,
        )

    def _readable(self, name: str, source: SourceSpec, found: SourceFiles) -> tuple[list[str], str]:
        """(files DuckDB reads, their encoding): the originals, or transcoded / converted
        copies (errors about a copy name its original)."""
        paths: list[str] = []
        encodings: list[str] = []
        for file in found.files:
            if is_xlsx(file):
                try:
                    paths.append(str(xlsx_to_csv(file, source.sheet, self._folder.path())))
                except SheetNotFound as exc:
                    raise self._funnel.error(
                        f"sources.{name}.sheet",
                        f"no sheet {exc.sheet!r} in {file.name} (sheets: {', '.join(exc.names)})",
                    ) from None
                encodings.append("utf-8")
            else:
                path, encoding = readable(file, source.encoding, self._folder.path())
                paths.append(str(path))
                encodings.append(encoding)
        encoding = encodings[0]
        if len(set(encodings)) > 1:  # a glob mixing encodings: read every file as UTF-8
            paths = [
                str(transcode(f, "latin-1", self._folder.path())) if e == "latin-1" else p
                for f, p, e in zip(found.files, paths, encodings, strict=True)
            ]
            encoding = "utf-8"
        for file, copy in zip(found.files, paths, strict=True):
            self.session.read_as(copy, file)
        return paths, encoding

    def _one_line_ending(self, found: SourceFiles, paths: list[str]) -> list[str] | None:
        """`paths` with a file whose lines end in both CRLF and LF replaced by an LF copy;
        None when no file mixes them."""
        fixed = [with_lf(Path(p), self._folder.path()) for p in paths]
        if not any(fixed):
            return None
        out = [str(f) if f is not None else p for f, p in zip(fixed, paths, strict=True)]
        for file, copy in zip(found.files, out, strict=True):
            self.session.read_as(copy, file)
        return out

    def _layout(
        self, name: str, paths: list[str], encoding: str, delimiter: str | None
    ) -> tuple[Dialect | None, list[list[str]]]:
        """(sniffed dialect of a single file, each file's raw headers): DuckDB's sniffer, run
        once per file. A single file's later reads declare it all; a glob's files are read
        together (union_by_name), each sniffed again by that read."""
        each_file: list[list[str]] = []
        dialect = None
        for path in paths:
            sniff = readers.sniff_query(path, encoding, delimiter)
            delimiter_found, quote, escape, columns = self.session.fetch(sniff, source=name)[0]
            dialect = Dialect(
                delimiter=str(delimiter_found),
                quote='"' if quote == "(empty)" else str(quote),
                escape='"' if escape == "(empty)" else str(escape),
                columns=tuple((str(c["name"]), str(c["type"])) for c in columns),
            )
            each_file.append([c for c, _ in dialect.columns])
        return (dialect if len(paths) == 1 else None), each_file

    def _each_file_a_table(
        self,
        name: str,
        source: SourceSpec,
        found: SourceFiles,
        paths: list[str],
        encoding: str,
        each_file: list[list[str]],
    ) -> None:
        """A glob's files are read together, each sniffed on its own: a file the sniffer reads
        as one column (a ragged row, another delimiter), or one without the id column, would
        add its rows without an id. Each file gets the one-column check a single file gets and
        must carry the id column (matched like every name)."""
        key = source.column(source.id) if name in self._funnel.spec.sources and source.id else None
        for original, path, columns in zip(found.files, paths, each_file, strict=True):
            if original.name.endswith(".gz"):
                continue
            if headers.looks_like_one_column(columns):
                raise headers.explain_one_column(original, Path(path), encoding, columns[0])
            if key is not None and normalize(key) not in {normalize(c) for c in columns}:
                raise DataError(
                    f"has no column {key!r}, which every file of sources.{name}.path must "
                    "carry (it is the id); is it another export?",
                    file=str(original),
                )

    def _order_error(
        self,
        name: str,
        found: SourceFiles,
        reader: exp.Expr,
        raw: str,
        examples: Sequence[str],
        layout: Layout | None,
    ) -> DayMonthError:
        """A column whose day/month order its values do not decide, naming the example rows."""
        lines = []
        for value in examples:
            query = locate_query(
                reader,
                raw,
                exp.EQ(this=exp.func("trim", q.col(raw)), expression=exp.Literal.string(value)),
            )
            hit = self.session.fetch(query, source=name)
            if hit:
                row = int(hit[0][0])
                lines.append(f"line {physical(layout, {row})[row]} {value!r}")
            else:
                lines.append(repr(value))
        key = f"set day_first: true or false on source {name}"
        if len(examples) == 2:
            message = (
                f"day/month order is mixed: {lines[0]} is day-first, {lines[1]} month-first "
                f"(one column reads one way; fix the export or {key})"
            )
        else:
            message = (
                f"day/month order unknown: no value has a day over 12 ({lines[0]} reads two "
                f"ways); {key}"
            )
        return DayMonthError(message, file=str(found.files[0]), column=raw)

    def _samples(self, name: str, reader: exp.Expr, raws: list[str]) -> dict[str, list[str]]:
        """Non-empty values of each column: one pass over the first rows that have any, then a
        query of its own for a column still without values (a newest-first export)."""
        values: dict[str, list[str]] = {raw: [] for raw in raws}
        if not raws:
            return values
        first_rows = readers.rows_query(reader, raws, dates.SAMPLE_SIZE)
        for row in self.session.fetch(first_rows, source=name):
            for raw, value in zip(raws, row, strict=True):
                if value is not None and str(value).strip():
                    values[raw].append(str(value).strip())
        for raw in raws:
            if not values[raw]:
                sample = readers.sample_query(reader, raw, dates.SAMPLE_SIZE)
                values[raw] = [str(r[0]) for r in self.session.fetch(sample, source=name)]
        return values


def _format(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)  # a memo of another layout: probed again
    return value


def declared_by_raw(source: SourceSpec, raw: str) -> list[str] | None:
    """`formats:` keyed by the raw header (or a tolerant spelling of it) rather than the YAML's."""
    for key, value in source.formats.items():
        if normalize(source.column(key)) == normalize(raw):
            return value
    return None


def by_name(each_file: list[list[str]]) -> list[str]:
    """The columns of files read with union_by_name, as DuckDB names them: each name at its
    first appearance, names matched across files ignoring ASCII case only (`Lead_ID` and
    `lead_id` are one column, `Número` and `NÚMERO` two)."""
    seen: set[str] = set()
    union: list[str] = []
    for columns in each_file:
        for column in columns:
            folded = column.translate(_ASCII_LOWER)
            if folded not in seen:
                seen.add(folded)
                union.append(column)
    return union


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

"""The one base of every artifact: a schema id, its JSON document, its JSON Schema, a tidy frame.

An artifact is a frozen dataclass that renderers only read. `to_dict()` is the versioned JSON
document (`schema` first, tuples as lists, non-finite floats as null), `to_json()` the text
`--format json` prints, and `to_polars()` one tidy frame for notebooks (polars is imported only
there: the CLI never pays for it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, overload

if TYPE_CHECKING:
    import polars


class Artifact:
    """Mixin for the frozen dataclasses `funnelcli` returns (report, summary, cohorts, roi, …)."""

    schema: ClassVar[str]  # e.g. "funnelcli.report/1"
    schema_file: ClassVar[str]  # e.g. "report-1": outputs/schemas/report-1.schema.json

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: plain JSON types, `schema` first."""
        document = {"schema": self.schema, **plain(asdict(self))}  # type: ignore[call-overload]
        funnel = document.get("funnel")
        if isinstance(funnel, dict):  # a rule at its default is left out: documents stay
            for key in ("attribution", "attempts", "evidence", "rows"):  # as they were
                if key in funnel and funnel[key] is None:
                    del funnel[key]
        return document

    def to_json(self) -> str:
        """The JSON document as indented UTF-8 text ending with a newline (what --format json
        prints)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    @classmethod
    def schema_document(cls) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) this artifact's documents follow, as shipped."""
        return load_schema(cls.schema_file)

    def tidy_rows(self) -> list[dict[str, Any]]:
        """The artifact as tidy records (one per group × stage, or per row of its table)."""
        raise NotImplementedError

    def tidy_columns(self) -> tuple[str, ...]:
        """The column names of tidy_rows(), in order (also when there is no row)."""
        raise NotImplementedError

    def to_polars(self) -> polars.DataFrame:
        """tidy_rows() as a polars DataFrame (install `funnelcli[polars]`)."""
        try:
            import polars as pl
        except ImportError:
            from funnelcli.errors import FunnelError

            raise FunnelError("to_polars() needs polars: pip install 'funnelcli[polars]'") from None
        rows = self.tidy_rows()
        columns = list(self.tidy_columns())
        if not rows:
            return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
        return pl.DataFrame(rows, infer_schema_length=None).select(columns)


def plain(value: Any) -> Any:
    """Lists for tuples, None for NaN/±inf: what json.dumps(allow_nan=False) accepts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@overload
def iso(value: datetime | date) -> str: ...
@overload
def iso(value: datetime | date | str | None) -> str | None: ...
def iso(value: datetime | date | str | None) -> str | None:
    """A moment as ISO text: a date alone when it is midnight, else `YYYY-MM-DD HH:MM:SS`."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in funnelcli/outputs/schemas/, e.g. "summary-1"."""
    from importlib import resources  # not at import: importlib.resources costs ~9 ms

    path = resources.files("funnelcli").joinpath(f"outputs/schemas/{name}.schema.json")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def csv_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as spreadsheet-safe CSV text (render.csv_out's cells), for files the commands
    write themselves (`--rejects`)."""
    from funnelcli.render.csv_out import csv_text

    return csv_text(columns, rows)

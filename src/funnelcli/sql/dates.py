"""Reading date/time columns: declared formats or formats detected from a sample, as SQL.

A column's *formats* are tried in order, the first that reads a value wins:

- `iso`      ISO 8601 (`2024-03-05`, `2024-03-05 14:30`, `2024-03-05T14:30:00+08:00`, `…Z`);
             an explicit offset converts to UTC, naive values are in the source's `tz:`.
- `unix_s`, `unix_ms`  Unix epoch seconds / milliseconds (UTC).
- `excel`    Excel serial day numbers (days since 1899-12-30, fraction = time of day).
- anything with `%`: a strptime format (`%d/%m/%Y`, `%Y年%m月%d日`, `%Y/%m/%d %H:%M`).
- `dmy|mdy`-pairs from auto-detection of `05/03/2024` when `day_first:` is not set: a value is
  read only when exactly one reading is a valid date or both agree (`13/03/2024`, `03/03/2024`);
  otherwise the row is rejected as an ambiguous date — never guessed.

Auto-detection (`format:` not declared) looks at up to 2,000 non-empty values and collects the
formats those values use, in order of first appearance, then `iso` as a last resort (so a
`2024-03-05 14:30` after a sample of plain dates still reads); values matching none are rejected
per row. With no values at all it is `iso` alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from funnelcli.sql import ast as q

SAMPLE_SIZE = 2000
AMBIGUOUS = "ambiguous date (day/month order unknown: set day_first:)"
UNPARSEABLE = "unparseable date"

_TIME = r"(?:[ T]?(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
_ISO = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?$",
    re.IGNORECASE,
)
_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:([ T])(\d{2}:\d{2})(:\d{2})?)?$")
_YMD_SLASH = re.compile(r"^\d{4}([/.])\d{1,2}\1\d{1,2}" + _TIME + "$")
_CHINESE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日" + _TIME + "$")
_DAY_MONTH = re.compile(r"^\d{1,2}([/.-])\d{1,2}\1\d{4}" + _TIME + "$")
_UNIX_S = re.compile(r"^\d{9,10}(?:\.\d+)?$")
_UNIX_MS = re.compile(r"^\d{12,13}$")
_EXCEL = re.compile(r"^\d{5}(?:\.\d+)?$")


def _time_suffix(time_text: str | None) -> str:
    if not time_text:
        return ""
    return " %H:%M:%S" if time_text.count(":") >= 2 else " %H:%M"


@dataclass(frozen=True)
class Ambiguous:
    """05/03/2024 read day-first or month-first: accepted only where the readings agree."""

    day_first: str
    month_first: str


Format = str | Ambiguous


def format_to_json(fmt: Format) -> str | list[str]:
    """A format as JSON: a strptime pattern, or [day-first, month-first] for an Ambiguous."""
    return fmt if isinstance(fmt, str) else [fmt.day_first, fmt.month_first]


def format_from_json(data: object) -> Format:
    if isinstance(data, str):
        return data
    if isinstance(data, list) and len(data) == 2 and all(isinstance(d, str) for d in data):
        return Ambiguous(day_first=data[0], month_first=data[1])
    raise ValueError(f"not a date format: {data!r}")


def classify(value: str, day_first: bool | None) -> Format | None:
    """The format one sample value is written in, or None when none is recognised."""
    text = value.strip()
    if m := _PLAIN_ISO.match(text):
        return "%Y-%m-%d" + (
            "" if not m.group(2) else m.group(1) + ("%H:%M:%S" if m.group(3) else "%H:%M")
        )
    if _ISO.match(text):
        return "iso"
    if m := _YMD_SLASH.match(text):
        sep = m.group(1)
        fmt = f"%Y{sep}%m{sep}%d" + _time_suffix(m.group(2))
        return fmt if not m.group(2) or " " in text else fmt.replace(" ", "")
    if m := _CHINESE.match(text):
        suffix = _time_suffix(m.group(1))
        return "%Y年%m月%d日" + (suffix if " " in text else suffix.strip())
    if m := _DAY_MONTH.match(text):
        sep = m.group(1)
        suffix = _time_suffix(m.group(2))
        dmy = f"%d{sep}%m{sep}%Y{suffix}"
        mdy = f"%m{sep}%d{sep}%Y{suffix}"
        if day_first is None:
            return Ambiguous(day_first=dmy, month_first=mdy)
        return dmy if day_first else mdy
    if _UNIX_MS.match(text):
        return "unix_ms"
    if _UNIX_S.match(text):
        return "unix_s"
    if _EXCEL.match(text):
        return "excel"
    return None


def detect(values: Iterable[str], day_first: bool | None) -> list[Format]:
    """The formats used by sample values, in order of first appearance (default: iso)."""
    found: list[Format] = []
    for value in values:
        fmt = classify(value, day_first)
        if fmt is not None and fmt not in found:
            found.append(fmt)
    return found or ["iso"]


@dataclass(frozen=True)
class ParsedColumn:
    """SQL for one text column: its UTC timestamp, and when a non-empty value is ambiguous."""

    value: exp.Expr  # TIMESTAMP (UTC) or NULL
    ambiguous: exp.Expr | None  # TRUE where the row is rejected as ambiguous


def _naive_to_utc(value: exp.Expr, tz: str | None) -> exp.Expr:
    if tz is None:
        return value
    zoned = exp.AtTimeZone(this=value, zone=exp.Literal.string(tz))
    return exp.cast(zoned, "TIMESTAMP")


def _strptime(text: exp.Expr, fmt: str) -> exp.Expr:
    return exp.Anonymous(this="try_strptime", expressions=[text.copy(), exp.Literal.string(fmt)])


def _one(text: exp.Expr, fmt: str, tz: str | None) -> exp.Expr:
    if fmt == "iso":
        with_offset = exp.cast(
            exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMPTZ")), "TIMESTAMP"
        )
        if tz is None:
            return with_offset
        naive = exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMP"))
        has_offset = exp.func(
            "regexp_matches", text.copy(), exp.Literal.string(r"(Z|UTC|[+-]\d{2}(:?\d{2})?)$")
        )
        return exp.Case().when(has_offset, with_offset).else_(_naive_to_utc(naive, tz))
    if fmt in _SHAPES:  # a number is read only in its own shape (45362.25 is not epoch seconds)
        shaped = exp.func("regexp_full_match", text.copy(), exp.Literal.string(_SHAPES[fmt]))
        return q.case(shaped, _number(text, fmt, tz))
    parsed = _strptime(text, fmt)
    if "%z" in fmt or "%Z" in fmt:
        return exp.cast(parsed, "TIMESTAMP")
    return _naive_to_utc(parsed, tz)


# Each number format in its own shape, disjoint from the others' (a mixed column reads each value
# once). Epochs also as 0 and negative (before 1970): 0 and -86400 are times, not unparseable.
_SHAPES = {
    "unix_s": r"(-\d{1,11}|0|\d{9,10})(\.\d+)?",
    "unix_ms": r"-\d{1,14}|0|\d{12,13}",
    "excel": r"\d{5}(\.\d+)?",
}


def _number(text: exp.Expr, fmt: str, tz: str | None) -> exp.Expr:
    if fmt == "unix_s":
        number = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"))
        return exp.cast(exp.func("to_timestamp", number), "TIMESTAMP")
    if fmt == "unix_ms":
        number = exp.TryCast(this=text.copy(), to=exp.DataType.build("BIGINT"))
        return exp.func("epoch_ms", number)
    if fmt == "excel":
        number = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"))
        micros = exp.cast(
            exp.func("round", exp.Mul(this=number, expression=exp.Literal.number(86_400_000_000))),
            "BIGINT",
        )
        base = exp.cast(exp.Literal.string("1899-12-30"), "TIMESTAMP")
        serial = exp.Add(this=base, expression=exp.func("to_microseconds", micros))
        return _naive_to_utc(serial, tz)
    raise AssertionError(fmt)


def parse_column(text: exp.Expr, formats: Sequence[Format], tz: str | None) -> ParsedColumn:
    """A VARCHAR column expression read with `formats`, in order."""
    readings: list[exp.Expr] = []
    ambiguous: list[exp.Expr] = []
    for fmt in formats:
        if isinstance(fmt, Ambiguous):
            dmy = _one(text, fmt.day_first, tz)
            mdy = _one(text, fmt.month_first, tz)
            clash = exp.and_(
                q.not_null(dmy.copy()),
                q.not_null(mdy.copy()),
                exp.NEQ(this=dmy.copy(), expression=mdy.copy()),
            )
            readings.append(q.case(exp.not_(exp.Paren(this=clash.copy())), q.coalesce(dmy, mdy)))
            ambiguous.append(exp.Paren(this=clash))
        else:
            readings.append(_one(text, fmt, tz))
    value = readings[0] if len(readings) == 1 else q.coalesce(*readings)
    return ParsedColumn(value=value, ambiguous=exp.or_(*ambiguous) if ambiguous else None)


def native(fmt: Format) -> tuple[str, str] | None:
    """(DuckDB type, format) when DuckDB's CSV reader can parse the format itself, else None.

    Only unpadded-safe, offset-free strptime formats qualify; DATE for date-only formats.
    """
    if not isinstance(fmt, str) or "%" not in fmt or "%z" in fmt or "%Z" in fmt:
        return None
    return ("TIMESTAMP" if "%H" in fmt else "DATE"), fmt

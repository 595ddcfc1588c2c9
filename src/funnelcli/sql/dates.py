"""Reading date/time columns: declared formats or formats detected from a sample, as SQL.

A column's *formats* are tried in order, the first that reads a value wins:

- `iso`      ISO 8601 (`2024-03-05`, `2024-03-05 14:30`, `2024-03-05T14:30:00+08:00`, `…Z`,
             Salesforce's `2025-03-04T09:47:00.000+0000`); an explicit offset converts to UTC,
             naive values are in the source's `tz:`.
- `unix_s`, `unix_ms`  Unix epoch seconds / milliseconds (UTC).
- `excel`    Excel serial day numbers (days since 1899-12-30, fraction = time of day).
- anything with `%`: a strptime format (`%d/%m/%Y`, `%Y年%m月%d日`, `%b %d, %Y %I:%M %p`).

Auto-detection (`formats:` not declared) reads up to 2,000 non-empty values of the column,
decides one reading for the column from all of them, and applies it to every row: the formats
those values use (`3/4/25 9:47 AM`, `04.03.2025`, `Mar 04, 2025`, `4 March 2025`, `2025年3月4日
14时30分`, …), in order of first appearance, then `iso` as a last resort; a value in none of them
is rejected ("not a date in the detected format"). The day/month order of `4/3/2025`-like values
is decided once per column (`detect`), never per value. With no values at all it is `iso` alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from funnelcli.sql import ast as q

SAMPLE_SIZE = 2000
UNPARSEABLE = "unparseable date"

_CLOCK = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_AMPM = r"(?:\s*([AaPp][Mm]))?"
_ISO = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?$",
    re.IGNORECASE,
)
_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:([ T])(\d{2}:\d{2})(:\d{2})?)?$")
_TIME = r"(?:[ T]?(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
_YMD_SLASH = re.compile(r"^\d{4}([/.])\d{1,2}\1\d{1,2}" + _TIME + "$")
_CHINESE = re.compile(
    r"^\d{4}年\d{1,2}月\d{1,2}日(?:(\s*)(?:(\d{1,2}:\d{2}(?::\d{2})?)|\d{1,2}时\d{1,2}分(\d{1,2}秒)?))?$"
)
# 4/3/2025, 04.03.2025, 4-3-25, each with an optional h:mm[:ss] [AM/PM]
_DAY_MONTH = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:(\s+|T)" + _CLOCK + _AMPM + ")?$"
)
# Mar 4, 2025 · March 4 2025 · 4 Mar 2025, each with an optional h:mm[:ss] [AM/PM]
_MONTH_FIRST = re.compile(
    r"^([A-Za-z]{3,9}) (\d{1,2})(,?) (\d{4})(?:(,?\s+)" + _CLOCK + _AMPM + ")?$"
)
_DAY_FIRST = re.compile(r"^(\d{1,2}) ([A-Za-z]{3,9}) (\d{4})(?:(,?\s+)" + _CLOCK + _AMPM + ")?$")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_UNIX_S = re.compile(r"^\d{9,10}(?:\.\d+)?$")
_UNIX_MS = re.compile(r"^\d{12,13}$")
_EXCEL = re.compile(r"^\d{5}(?:\.\d+)?$")


def _time_suffix(time_text: str | None) -> str:
    if not time_text:
        return ""
    return " %H:%M:%S" if time_text.count(":") >= 2 else " %H:%M"


def _clock(separator: str | None, seconds: str | None, ampm: str | None) -> str:
    """The strptime of an optional h:mm[:ss] [AM/PM] after a date ("" when there is none)."""
    if separator is None:
        return ""
    hours = "%I" if ampm else "%H"
    text = separator.replace("\t", " ") + f"{hours}:%M" + (":%S" if seconds else "")
    return text + (" %p" if ampm else "")


def _month_word(word: str) -> str | None:
    """%b or %B for an English month name or its three-letter abbreviation, else None."""
    lower = word.lower()
    if len(lower) == 3 and any(m.startswith(lower) for m in _MONTHS):
        return "%b"
    return "%B" if lower in _MONTHS else None


@dataclass(frozen=True)
class Shape:
    """How one sample value is written: its strptime format (or iso/unix_s/unix_ms/excel)
    and, for a day/month value (4/3/2025), its two numbers and the other reading."""

    format: str  # day-first reading for a day/month value
    fields: tuple[int, int] | None = None  # day/month value: (first number, second number)
    month_first: str | None = None  # day/month value: the month-first reading


class DateOrderError(ValueError):
    """A column's day/month order cannot be decided from its values: `examples` are the
    values that say so (day-first, month-first), or the one that reads both ways."""

    def __init__(self, examples: tuple[str, ...]) -> None:
        super().__init__(examples)
        self.examples = examples


def classify(value: str, day_first: bool | None = None) -> Shape | None:
    """How one sample value is written, or None when no format is recognised. `day_first`
    picks the reading of a day/month value (else both are kept for detect to decide)."""
    text = value.strip()
    if m := _PLAIN_ISO.match(text):
        return Shape(
            "%Y-%m-%d"
            + ("" if not m.group(2) else m.group(1) + ("%H:%M:%S" if m.group(3) else "%H:%M"))
        )
    if _ISO.match(text):  # offsets, Z, fractions (Salesforce API 2025-03-04T09:47:00.000+0000)
        return Shape("iso")
    if m := _YMD_SLASH.match(text):
        sep = m.group(1)
        fmt = f"%Y{sep}%m{sep}%d" + _time_suffix(m.group(2))
        return Shape(fmt if not m.group(2) or " " in text else fmt.replace(" ", ""))
    if m := _CHINESE.match(text):
        space, clock = m.group(1) or "", m.group(2)
        if clock:
            time = _time_suffix(clock).strip()
        elif "时" in text:
            time = "%H时%M分" + ("%S秒" if m.group(3) else "")
        else:
            time = ""
        return Shape("%Y年%m月%d日" + (space + time if time else ""))
    if m := _DAY_MONTH.match(text):
        first, sep, second, year = m.group(1), m.group(2), m.group(3), m.group(4)
        clock = _clock(m.group(5), m.group(8), m.group(9))
        y = "%Y" if len(year) == 4 else "%y"
        dmy, mdy = f"%d{sep}%m{sep}{y}{clock}", f"%m{sep}%d{sep}{y}{clock}"
        if day_first is not None:
            return Shape(dmy if day_first else mdy)
        return Shape(dmy, (int(first), int(second)), mdy)
    if m := _MONTH_FIRST.match(text):
        word = _month_word(m.group(1))
        if word is not None:
            clock = _clock(m.group(5), m.group(8), m.group(9))
            return Shape(f"{word} %d{m.group(3)} %Y{clock}")
    if m := _DAY_FIRST.match(text):
        word = _month_word(m.group(2))
        if word is not None:
            return Shape(f"%d {word} %Y" + _clock(m.group(4), m.group(7), m.group(8)))
    if _UNIX_MS.match(text):
        return Shape("unix_ms")
    if _UNIX_S.match(text):
        return Shape("unix_s")
    if _EXCEL.match(text):
        return Shape("excel")
    return None


def detect(values: Iterable[str], day_first: bool | None) -> list[str]:
    """The formats a column's sample values use, in order of first appearance (default: iso).

    The day/month order of `4/3/2025`-like values is decided once for the column: a value
    whose first number is over 12 makes it day-first, one whose second is makes it month-
    first; a DateOrderError when values say both, or when none says either and some value
    would read differently (`03/04/2025`; `03/03/2025` reads the same both ways)."""
    shaped = [(shape, v) for v in values if (shape := classify(v, day_first)) is not None]
    pairs = [(s.fields, v) for s, v in shaped if s.fields is not None]
    month_first = False
    if pairs:
        day = next((v for (first, _), v in pairs if first > 12), None)
        month = next((v for (_, second), v in pairs if second > 12), None)
        if day is not None and month is not None:
            raise DateOrderError((day, month))
        unsure = next((v for (first, second), v in pairs if first != second), None)
        if day is None and month is None and unsure is not None:
            raise DateOrderError((unsure,))
        month_first = month is not None
    shapes = [
        Shape(s.month_first) if month_first and s.month_first is not None else s for s, _ in shaped
    ]
    found: list[str] = []
    for shape in shapes:
        if shape.format not in found:
            found.append(shape.format)
    return found or ["iso"]


def describe(formats: Sequence[str]) -> str:
    """Formats as `validate` shows them: `iso` as ISO 8601, patterns as written with the
    day/month order they chose, each next one tried where the one before does not read."""
    names = {
        "iso": "ISO 8601",
        "unix_s": "Unix seconds",
        "unix_ms": "Unix milliseconds",
        "excel": "Excel serial days",
    }

    def one(fmt: str) -> str:
        if fmt.startswith("%d") and "%m" in fmt:
            return f"{fmt} (day first)"
        if fmt.startswith("%m"):
            return f"{fmt} (month first)"
        return names.get(fmt, fmt)

    return ", else ".join(one(f) for f in formats)


@dataclass(frozen=True)
class ParsedColumn:
    """SQL for one text column: its UTC timestamp (NULL where a value is not in a format)."""

    value: exp.Expr  # TIMESTAMP (UTC) or NULL


def _naive_to_utc(value: exp.Expr, tz: str | None) -> exp.Expr:
    if tz is None:
        return value
    zoned = exp.AtTimeZone(this=value, zone=exp.Literal.string(tz))
    return exp.cast(zoned, "TIMESTAMP")


def _strptime(text: exp.Expr, fmt: str) -> exp.Expr:
    return exp.StrToTime(this=text.copy(), format=exp.Literal.string(fmt), safe=True)


def _one(text: exp.Expr, fmt: str, tz: str | None) -> exp.Expr:
    if fmt == "iso":
        with_offset = exp.cast(
            exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMPTZ")), "TIMESTAMP"
        )
        if tz is None:
            return with_offset
        naive = exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMP"))
        has_offset = exp.RegexpLike(
            this=text.copy(), expression=exp.Literal.string(r"(Z|UTC|[+-]\d{2}(:?\d{2})?)$")
        )
        return exp.Case().when(has_offset, with_offset).else_(_naive_to_utc(naive, tz))
    if fmt in _SHAPES:  # a number is read only in its own shape (45362.25 is not epoch seconds)
        shaped = exp.RegexpFullMatch(this=text.copy(), expression=exp.Literal.string(_SHAPES[fmt]))
        return q.case(shaped, _number(text, fmt, tz))
    parsed = _strptime(text, fmt)
    if "%z" in fmt or "%Z" in fmt:
        return exp.cast(parsed, "TIMESTAMP")
    return _naive_to_utc(parsed, tz)


_EXCEL_EPOCH_MICROS = 25_569 * 86_400_000_000
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
        return exp.cast(exp.UnixToTime(this=number), "TIMESTAMP")
    if fmt == "unix_ms":
        number = exp.TryCast(this=text.copy(), to=exp.DataType.build("BIGINT"))
        return exp.UnixToTime(this=number, scale=exp.Literal.number(3))
    if fmt == "excel":
        number = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"))
        micros = exp.cast(
            exp.func("round", exp.Mul(this=number, expression=exp.Literal.number(86_400_000_000))),
            "BIGINT",
        )
        # microseconds since 1970: Excel's day 0 (1899-12-30) is 25,569 days before it
        since_1970 = exp.Sub(this=micros, expression=exp.Literal.number(_EXCEL_EPOCH_MICROS))
        serial = exp.UnixToTime(this=since_1970, scale=exp.Literal.number(6))
        return _naive_to_utc(serial, tz)
    raise AssertionError(fmt)


def parse_column(text: exp.Expr, formats: Sequence[str], tz: str | None) -> ParsedColumn:
    """A VARCHAR column expression read with `formats`, in order."""
    readings = [_one(text, fmt, tz) for fmt in formats]
    value = readings[0] if len(readings) == 1 else q.coalesce(*readings)
    return ParsedColumn(value=value)


def native(fmt: str) -> tuple[str, str] | None:
    """(DuckDB type, format) when DuckDB's CSV reader can parse the format itself, else None.

    Only unpadded-safe, offset-free strptime formats qualify; DATE for date-only formats.
    """
    if "%" not in fmt or "%z" in fmt or "%Z" in fmt or "%p" in fmt or "%b" in fmt or "%B" in fmt:
        return None
    return ("TIMESTAMP" if "%H" in fmt else "DATE"), fmt

"""Durations written as `15s`, `36h`, `30d`, `12w`, `6mo`, `1y`: calendar months stay months."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_UNIT_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_MONTHS = {"mo": 1, "y": 12}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|min|h|d|w|mo|y)\s*$")


@dataclass(frozen=True)
class Duration:
    """A span of calendar months plus a fixed number of seconds (one of the two is zero)."""

    months: int = 0
    seconds: int = 0
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(
                f"invalid duration {text!r}: use a whole number and a unit, e.g. 36h, 30d, 12w, "
                "6mo, 1y (units: s, min, h, d, w, mo, y)"
            )
        amount, unit = int(match.group(1)), match.group(2)
        canonical = f"{amount}{unit}"
        if unit in _UNIT_MONTHS:
            return cls(months=amount * _UNIT_MONTHS[unit], text=canonical)
        return cls(seconds=amount * _UNIT_SECONDS[unit], text=canonical)

    def add_to(self, moment: datetime) -> datetime:
        """`moment + self`, months clamped to the month's end like DuckDB's interval arithmetic."""
        if self.months:
            month_index = moment.month - 1 + self.months
            year, month = moment.year + month_index // 12, month_index % 12 + 1
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        return moment + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return self.text

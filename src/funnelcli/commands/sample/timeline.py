"""The sample's time span: its days, their months and weekdays, and times written as text.

Times are whole seconds since ``start`` 00:00:00 (negative for the few backdated ones); the data
end (``start`` + ``months`` calendar months) is exclusive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

DAY = 86400  # seconds
_PAD_DAYS = 32  # times may be written this many days before `start` (backdated qualifications)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the end of a shorter month."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


class Timeline:
    """Days 0 .. ``days - 1`` from ``start``: their months and weekdays, and timestamp text."""

    def __init__(self, start: date, months: int) -> None:
        self.start = start
        self.days = (add_months(start, months) - start).days
        self.end = self.days * DAY  # the data end, exclusive
        # The months covered ("YYYY-MM", a partial last one included) and each day's month.
        self.months: list[str] = []
        self.month_of_day: list[int] = []
        for day in range(self.days):
            key = (start + timedelta(days=day)).strftime("%Y-%m")
            if not self.months or self.months[-1] != key:
                self.months.append(key)
            self.month_of_day.append(len(self.months) - 1)
        self.timestamp = _timestamp_writer(start, self.days)

    def weekday(self, day: int) -> int:
        """Monday 0 .. Sunday 6."""
        return (self.start + timedelta(days=day)).weekday()


def _timestamp_writer(start: date, days: int) -> Callable[[int], str]:
    """A function writing a time as ``YYYY-MM-DD HH:MM:SS``, from tables (it runs millions of
    times)."""
    first_day = start - timedelta(days=_PAD_DAYS)
    day_text = [
        (first_day + timedelta(days=i)).isoformat() + " " for i in range(_PAD_DAYS + days + 1)
    ]
    hour_minute_text = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
    second_text = [f"{s:02d}" for s in range(60)]

    def timestamp(second: int) -> str:
        day, in_day = divmod(second, DAY)
        return day_text[day + _PAD_DAYS] + hour_minute_text[in_day // 60] + second_text[in_day % 60]

    return timestamp

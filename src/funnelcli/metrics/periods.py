"""Calendar periods for summaries and cohorts: weeks or months in the funnel's time zone.

The engine keeps every time as naive UTC. A period is a half-open range `[start, end)` of
local wall-clock time in the YAML's `timezone:`; its edges are converted to UTC once, so an
entry belongs to the period its *local* time falls in (an entry at 23:30 UTC on a Sunday is
already Monday in Asia/Shanghai). Weeks start on `week_start:` (Monday: ISO 8601 weeks, labelled
`2025-W01`); months are calendar months (`2025-01`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from funnelcli.spec.enums import WeekStart  # plain enums: no pydantic at start-up

if TYPE_CHECKING:  # the CLI imports PeriodKind at start-up: keep this module light
    from funnelcli.spec import FunnelSpec
    from funnelcli.spec.duration import Duration


class PeriodKind(StrEnum):
    """The length of a summary or cohort period."""

    week = "week"
    month = "month"


@dataclass(frozen=True)
class PeriodRange:
    """One period: local `[start, end)` and the same edges in UTC (`since`, `until`)."""

    label: str
    start: datetime  # local wall-clock time, naive
    end: datetime
    since: datetime  # UTC, naive: the report's --since
    until: datetime  # UTC, naive: the report's --until


@dataclass(frozen=True)
class Calendar:
    """Period arithmetic for one funnel: kind, first weekday and time zone."""

    kind: PeriodKind
    week_start: WeekStart = WeekStart.monday
    timezone: str = "UTC"

    @classmethod
    def of(cls, spec: FunnelSpec, kind: PeriodKind) -> Calendar:
        return cls(kind=kind, week_start=spec.week_start, timezone=spec.timezone)

    def to_local(self, moment: datetime) -> datetime:
        """A naive UTC time as naive local wall-clock time."""
        return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)

    def to_utc(self, moment: datetime) -> datetime:
        """A naive local wall-clock time as naive UTC (the earlier instant when ambiguous)."""
        return moment.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC).replace(tzinfo=None)

    def start_of(self, local: datetime) -> datetime:
        """The local start of the period containing the local time `local`."""
        day = datetime(local.year, local.month, local.day)
        if self.kind is PeriodKind.month:
            return day.replace(day=1)
        # WeekStart lists the days in datetime.weekday() order.
        offset = (day.weekday() - list(WeekStart).index(self.week_start)) % 7
        return day - timedelta(days=offset)

    def shift(self, start: datetime, periods: int) -> datetime:
        """The start of the period `periods` after (negative: before) the one at `start`."""
        if self.kind is PeriodKind.week:
            return start + timedelta(weeks=periods)
        index = start.year * 12 + start.month - 1 + periods
        return datetime(index // 12, index % 12 + 1, 1)

    def year_before(self, start: datetime) -> datetime:
        """The same period a year earlier: 52 weeks before (same weekday), or the same month."""
        return self.shift(start, -52 if self.kind is PeriodKind.week else -12)

    def period(self, start: datetime) -> PeriodRange:
        """The period starting at the local time `start` (a period start)."""
        end = self.shift(start, 1)
        return PeriodRange(
            label=self.label(start),
            start=start,
            end=end,
            since=self.to_utc(start),
            until=self.to_utc(end),
        )

    def containing(self, moment: datetime) -> PeriodRange:
        """The period a naive UTC time falls in (by its local time)."""
        return self.period(self.start_of(self.to_local(moment)))

    def last_complete(self, as_of: datetime) -> PeriodRange:
        """The latest period that has ended by the naive UTC time `as_of`."""
        return self.period(self.shift(self.containing(as_of).start, -1))

    def label(self, start: datetime) -> str:
        """`2025-W01` (ISO week), `week of 2024-12-29` (other first weekday) or `2025-01`."""
        if self.kind is PeriodKind.month:
            return f"{start.year:04d}-{start.month:02d}"
        if self.week_start == "monday":
            year, week, _ = start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"week of {start.date().isoformat()}"


def is_immature(period: PeriodRange, window: Duration | None, as_of: datetime) -> bool:
    """True when an id entering at the period's end would still be inside its window at as_of.

    Such a period's later-stage counts may still grow. Without a window nothing is immature.
    """
    return window is not None and window.add_to(period.until) > as_of


def is_partial(period: PeriodRange, as_of: datetime) -> bool:
    """True when the period has not ended by as_of (its entries are still arriving)."""
    return period.until > as_of

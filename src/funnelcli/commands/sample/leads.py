"""leads.csv: how many leads arrive each day and when, with their accounts, channels and
journeys; written a day at a time, each day's leads also handed to the stage history."""

from __future__ import annotations

import csv
import random
from bisect import bisect
from collections.abc import Callable
from pathlib import Path

from funnelcli.commands.sample.accounts import AccountPool
from funnelcli.commands.sample.history import ExtraHistory, StageHistory
from funnelcli.commands.sample.journeys import Journeys
from funnelcli.commands.sample.timeline import DAY, Timeline
from funnelcli.commands.sample.vocabulary import (
    CHANNEL_WEIGHTS_CN,
    CHANNEL_WEIGHTS_OTHER,
    CHANNELS,
    LEAD_COLUMNS,
    MISSING_CHANNEL,
    MISSING_CHANNEL_RATE,
    WEEKDAY_HOUR_WEIGHTS,
    WEEKEND_HOUR_WEIGHTS,
    LeadRow,
    cumulative,
)
from funnelcli.engine.store import writing

# Leads by month (Timeline.months order) and channel (CHANNELS order), for the spend.
LeadCounts = list[list[int]]


def lead_id_width(leads: int) -> int:
    """Digits in a lead id (``L000001``): fixed, so that ids sort as text in creation order."""
    return max(6, len(str(leads)))


def write_leads(
    path: Path, history: StageHistory, *, leads: int, rng: random.Random, timeline: Timeline
) -> LeadCounts:
    """Write `leads` leads to `path` in created_at order, adding their rows to `history`; return
    the lead counts by month and channel."""
    rand = rng.random
    timestamp = timeline.timestamp
    per_day = _leads_per_day(timeline, leads, rand)
    accounts = AccountPool(rng, leads=leads, days=timeline.days)
    journeys = Journeys(rng, timeline)
    channel_shares_cn = cumulative(CHANNEL_WEIGHTS_CN)
    channel_shares_other = cumulative(CHANNEL_WEIGHTS_OTHER)
    id_width = lead_id_width(leads)
    counts: LeadCounts = [[0] * len(CHANNELS) for _ in timeline.months]
    with writing(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(LEAD_COLUMNS)
        lead_number = 0
        for day, arriving in enumerate(per_day):
            if arriving <= 0:
                continue
            month_counts = counts[timeline.month_of_day[day]]
            day_leads: list[LeadRow] = []
            day_extra_history: list[ExtraHistory] = []
            for created in _creation_times(timeline, day, arriving, rand):
                lead_number += 1
                lead_id = "L" + str(lead_number).zfill(id_width)
                account_id, company, segment, segment_name, owner, country = (
                    accounts.account_for_next_lead()
                )
                if rand() < MISSING_CHANNEL_RATE:
                    channel = MISSING_CHANNEL
                else:
                    shares = channel_shares_cn if country == "CN" else channel_shares_other
                    channel = bisect(shares, rand())
                month_counts[channel] += 1
                stages, extra_history = journeys.follow(day, created, channel, segment)
                day_leads.append(
                    (lead_id, account_id, company, timestamp(created), CHANNELS[channel],
                     segment_name, owner, country, *stages)
                )  # fmt: skip
                day_extra_history.append(extra_history)
            writer.writerows(day_leads)
            history.add_leads(day_leads, day_extra_history)
    return counts


def _leads_per_day(timeline: Timeline, leads: int, rand: Callable[[], float]) -> list[int]:
    """Weekday-heavy, mild growth, noise; the exact total by cumulative rounding."""
    weights = []
    for day in range(timeline.days):
        weekday = timeline.weekday(day)
        weight = (1.0 + 0.5 * day / timeline.days) * (
            0.22 if weekday >= 5 else (0.85 if weekday == 4 else 1.0)
        )
        weights.append(weight * (0.75 + 0.5 * rand()))
    total = sum(weights)
    per_day, running, before = [], 0.0, 0
    for weight in weights:
        running += weight
        so_far = round(leads * running / total)
        per_day.append(so_far - before)
        before = so_far
    per_day[-1] += leads - before
    return per_day


_WEEKDAY_HOURS = [h * 3600 for h, n in enumerate(WEEKDAY_HOUR_WEIGHTS) for _ in range(n)]
_WEEKEND_HOURS = [h * 3600 for h, n in enumerate(WEEKEND_HOUR_WEIGHTS) for _ in range(n)]


def _creation_times(
    timeline: Timeline, day: int, arriving: int, rand: Callable[[], float]
) -> list[int]:
    """The created_at seconds of the day's `arriving` leads, in order."""
    hours = _WEEKEND_HOURS if timeline.weekday(day) >= 5 else _WEEKDAY_HOURS
    n_hours = len(hours)
    start = day * DAY
    return sorted(
        [start + hours[int(rand() * n_hours)] + int(rand() * 3600) for _ in range(arriving)]
    )

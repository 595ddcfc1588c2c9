"""One lead's way down the funnel: when (if at all) it qualified, started a trial, paid and renewed,
with its deal amounts, re-entries and Closed Lost, and the counter-based warts."""

from __future__ import annotations

import math
import random

from funnelcli.commands.sample.history import ExtraHistory
from funnelcli.commands.sample.timeline import DAY, Timeline
from funnelcli.commands.sample.vocabulary import (
    BACKWARDS_EVERY,
    CHANNELS,
    DAYS_TRIAL_TO_PAID,
    DEAL_VALUES,
    LONG_PAID_EVERY,
    LOST_RATE,
    MAX_CONVERSION,
    PAID_BY_CHANNEL,
    PAID_SEGMENT_FACTOR,
    QUALIFIED_BY_CHANNEL,
    QUALIFIED_SEGMENT_FACTOR,
    REENTRY_RATE,
    RENEWED_BY_SEGMENT,
    RENEWED_CHANNEL_FACTOR,
    SEGMENTS,
    TRIAL_BY_SEGMENT,
    TRIAL_CHANNEL_FACTOR,
    TRIAL_GAP_EVERY,
    WORKDAY_SECONDS,
    WORKDAY_START_SECOND,
)

# A lead's qualified_at, trial_started_at, paid_at, deal_amount, renewed_at and renewal_amount
# (each empty when not reached), as in LEAD_COLUMNS.
StageColumns = tuple[str, str, str, str, str, str]
Journey = tuple[StageColumns, ExtraHistory]

_NEVER_QUALIFIED: Journey = (("", "", "", "", "", ""), ())


def _per_pair(by_channel: tuple[float, ...], by_segment: tuple[float, ...]) -> list[float]:
    """Probabilities by (channel, segment) pair, at index ``channel * len(SEGMENTS) + segment``."""
    return [
        min(MAX_CONVERSION, by_channel[channel] * by_segment[segment])
        for channel in range(len(CHANNELS))
        for segment in range(len(SEGMENTS))
    ]


class Journeys:
    """Draws each lead's stage times in turn; the warts count leads across calls."""

    def __init__(self, rng: random.Random, timeline: Timeline) -> None:
        self._rng = rng
        self._rand = rng.random
        self._timestamp = timeline.timestamp
        self._end = timeline.end
        # Leads created on or before this day can pay late (200-280 days) before the data end.
        self._last_long_paid_day = timeline.days - 281
        self._p_qualified = _per_pair(QUALIFIED_BY_CHANNEL, QUALIFIED_SEGMENT_FACTOR)
        self._p_trial = _per_pair(TRIAL_CHANNEL_FACTOR, TRIAL_BY_SEGMENT)
        self._p_paid = _per_pair(PAID_BY_CHANNEL, PAID_SEGMENT_FACTOR)
        self._p_renewed = _per_pair(RENEWED_CHANNEL_FACTOR, RENEWED_BY_SEGMENT)
        self._deal_values = [
            (math.log(median), sigma, lowest, highest)
            for median, sigma, lowest, highest in DEAL_VALUES
        ]
        self._days_to_paid = [(fewest, most - fewest + 1) for fewest, most in DAYS_TRIAL_TO_PAID]
        self._qualified = 0
        self._paid = 0
        self._long_paid_candidates = 0

    def _at_work(self, day: int) -> int:
        """A time during working hours on `day`."""
        return day * DAY + WORKDAY_START_SECOND + int(self._rand() * WORKDAY_SECONDS)

    def follow(self, day: int, created: int, channel: int, segment: int) -> Journey:
        """The journey of a lead created at second `created` (on `day`) from `channel` in
        `segment` (indexes). Stages that would fall on or after the data end are not reached."""
        rand, timestamp, end = self._rand, self._timestamp, self._end
        pair = channel * len(SEGMENTS) + segment
        if rand() >= self._p_qualified[pair]:
            # Never qualified; a few come back as a second New row.
            if rand() < REENTRY_RATE:
                again = created + (1 + int(rand() * 30)) * DAY + int(rand() * 3600)
                if again < end:
                    return ("", "", "", "", "", ""), (("New", timestamp(again)),)
            return _NEVER_QUALIFIED

        r = rand()  # squared below: most leads move on soon, a few take much longer
        qualified = self._at_work(day + 1 + int(20 * r * r))  # 1-20 days after creation
        if qualified >= end:
            return _NEVER_QUALIFIED
        self._qualified += 1
        if self._qualified % BACKWARDS_EVERY == BACKWARDS_EVERY // 2:
            # Re-imported lead: the qualification predates the record.
            shown = created - (1 + int(rand() * 15)) * DAY - int(rand() * 3600)
        else:
            shown = qualified
        qualified_at = timestamp(shown)
        extra: ExtraHistory = ()
        if rand() < REENTRY_RATE:
            again = shown + (2 + int(rand() * 19)) * DAY + int(rand() * 3600)
            if again < end:
                extra = (("MQL", timestamp(again)),)

        if rand() >= self._p_trial[pair]:
            return (qualified_at, "", "", "", "", ""), extra
        r = rand()
        trial_day = qualified // DAY + 2 + int(29 * r * r)  # 2-30 days after qualifying
        trial = self._at_work(trial_day)
        if trial >= end:
            return (qualified_at, "", "", "", "", ""), extra
        trial_started_at = timestamp(trial)

        if rand() >= self._p_paid[pair]:
            if rand() < LOST_RATE:
                lost = trial + (7 + int(rand() * 54)) * DAY
                if lost < end:
                    extra += (("Closed Lost", timestamp(lost)),)
            return (qualified_at, trial_started_at, "", "", "", ""), extra
        fewest, span = self._days_to_paid[segment]
        r = rand()
        paid_day = trial_day + fewest + int(span * r * r)
        if day <= self._last_long_paid_day:
            self._long_paid_candidates += 1
            if self._long_paid_candidates % LONG_PAID_EVERY == 0:
                paid_day = day + 200 + int(rand() * 81)  # 200-280 days after creation
        paid = self._at_work(paid_day)
        if paid >= end:
            return (qualified_at, trial_started_at, "", "", "", ""), extra
        self._paid += 1
        if self._paid % TRIAL_GAP_EVERY == TRIAL_GAP_EVERY // 2:
            trial_started_at = ""  # closed without a trial record
        paid_at = timestamp(paid)
        mu, sigma, lowest, highest = self._deal_values[segment]
        value = round(min(highest, max(lowest, self._rng.lognormvariate(mu, sigma))), -1)
        deal_amount = f"{value:.2f}"

        if rand() >= self._p_renewed[pair]:
            return (qualified_at, trial_started_at, paid_at, deal_amount, "", ""), extra
        renewed = self._at_work(paid_day + 335 + int(rand() * 61))  # about a year after paying
        if renewed >= end:
            return (qualified_at, trial_started_at, paid_at, deal_amount, "", ""), extra
        factor = 0.85 + 0.25 * (rand() + rand())  # contraction or expansion
        renewal = (timestamp(renewed), f"{value * factor:.2f}")  # renewed_at, renewal_amount
        return (qualified_at, trial_started_at, paid_at, deal_amount, *renewal), extra

"""usage.csv and touches.csv: the product usage and customer touches of the contracted accounts,
read back from subscriptions.csv (for `funnel risk`, docs/risk.md).

They draw from a random stream of their own (seeded from the sample's seed), so the other files
stay byte-identical. An account uses the product from its first contract's start to its last
contract's end (or the data end); weekdays only (a weekend day has no row: zero usage). Each has
a size (seats, from its first contract's amount) and a daily rhythm with noise.

Accounts whose last contract ends before the data end without a renewal churned; in the months
before, most of them show what a customer-success team looks for: logins and active users
falling (70%), an export or API burst as they pull their data out (40%), seats removed (35%),
touches stopping (55%). Some healthy accounts look alike for a while: a holiday dip, a one-off
export for an audit, a quiet quarter. Accounts whose contract runs past the data end churn
later with the same odds, so the list at the data end has at-risk accounts in it.

``usage.csv``: ``account_id,date,logins,active_users,exports,api_calls,seats``, ordered by
account then date. ``touches.csv``: ``account_id,touched_at,kind`` (ticket, meeting, email),
ordered by account then time.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from funnelcli.engine.store import writing

USAGE_COLUMNS = ("account_id", "date", "logins", "active_users", "exports", "api_calls", "seats")
TOUCH_COLUMNS = ("account_id", "touched_at", "kind")
_KINDS = ("ticket", "meeting", "email")
_FUTURE_CHURN = 0.25  # of accounts whose contract runs past the data end


@dataclass(frozen=True)
class _Account:
    account: str
    start: date  # first contract's start
    end: date  # last contract's end
    amount: float  # first contract's amount


@dataclass(frozen=True)
class _Plan:
    """How one account's usage unfolds: the days its decline, burst, seat cut and silence
    start (None: not for this account)."""

    seats: int
    rate: float  # logins per seat per weekday
    decline_from: date | None
    burst_on: date | None
    cut_on: date | None
    silent_from: date | None
    dip: tuple[date, date] | None  # a healthy look-alike's temporary dip


def _accounts(subscriptions: Path) -> list[_Account]:
    spans: dict[str, list[tuple[date, date, float]]] = {}
    with open(subscriptions, encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            amount = float(row["amount"].replace("¥", "").replace(",", ""))
            start, end = date.fromisoformat(row["start_date"]), date.fromisoformat(row["end_date"])
            spans.setdefault(row["account_id"], []).append((start, end, amount))
    out = []
    for account in sorted(spans):
        periods = sorted(spans[account])
        out.append(_Account(account, periods[0][0], max(e for _, e, _ in periods), periods[0][2]))
    return out


def _plan(rng: random.Random, account: _Account, data_end: date) -> _Plan:
    seats = max(3, round(account.amount / 1500 * rng.uniform(0.7, 1.3)))
    rate = rng.uniform(0.6, 1.6)
    churns = account.end <= data_end or rng.random() < _FUTURE_CHURN
    lead = timedelta(days=rng.randint(60, 150))
    decline = burst = cut = silent = None
    dip = None
    if churns:
        decline = account.end - lead if rng.random() < 0.7 else None
        burst = account.end - timedelta(days=rng.randint(20, 75)) if rng.random() < 0.4 else None
        cut = account.end - timedelta(days=rng.randint(50, 140)) if rng.random() < 0.35 else None
        silent = account.end - timedelta(days=rng.randint(60, 130)) if rng.random() < 0.55 else None
    else:
        span = (min(account.end, data_end) - account.start).days
        if span > 200 and rng.random() < 0.15:
            first = account.start + timedelta(days=rng.randint(120, span - 40))
            dip = (first, first + timedelta(days=rng.randint(21, 35)))
        if span > 200 and rng.random() < 0.08:
            burst = account.start + timedelta(days=rng.randint(120, span - 10))
        if span > 200 and rng.random() < 0.1:
            silent = account.start + timedelta(days=rng.randint(150, span))
    return _Plan(seats, rate, decline, burst, cut, silent, dip)


def _factor(plan: _Plan, day: date, end: date) -> float:
    """The share of its usual activity the account shows on `day`."""
    factor = 1.0
    if plan.decline_from is not None and day >= plan.decline_from:
        left = max(1, (end - plan.decline_from).days)
        factor *= max(0.1, 1 - 0.9 * (day - plan.decline_from).days / left)
    if plan.dip is not None and plan.dip[0] <= day < plan.dip[1]:
        factor *= 0.45
    return factor


def write_usage(
    subscriptions: Path, usage_path: Path, touches_path: Path, *, seed: int, data_end: date
) -> None:
    """Write usage.csv and touches.csv for the accounts of `subscriptions`."""
    rng = random.Random(f"funnelcli-usage-{seed}")
    with writing(usage_path) as usage_stream, writing(touches_path) as touch_stream:
        usage = csv.writer(usage_stream, lineterminator="\n")
        touches = csv.writer(touch_stream, lineterminator="\n")
        usage.writerow(USAGE_COLUMNS)
        touches.writerow(TOUCH_COLUMNS)
        for account in _accounts(subscriptions):
            plan = _plan(rng, account, data_end)
            last = min(account.end, data_end)
            day = account.start
            while day < last:
                _write_day(rng, usage, touches, account, plan, day)
                day += timedelta(days=1)


def _write_day(
    rng: random.Random,
    usage: csv._writer,  # type: ignore[name-defined]
    touches: csv._writer,  # type: ignore[name-defined]
    account: _Account,
    plan: _Plan,
    day: date,
) -> None:
    silent = plan.silent_from is not None and day >= plan.silent_from
    if not silent and rng.random() < 1 / 12:
        second = rng.randint(8 * 3600, 19 * 3600)
        moment = f"{day.isoformat()} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        touches.writerow((account.account, moment, rng.choice(_KINDS)))
    if day.weekday() >= 5:
        return  # weekends: no row
    factor = _factor(plan, day, account.end)
    seats = plan.seats
    if plan.cut_on is not None and day >= plan.cut_on:
        seats = max(1, round(plan.seats * 0.55))
    active = min(seats, round(seats * 0.55 * factor * rng.uniform(0.7, 1.3)))
    logins = round(active * plan.rate * rng.uniform(0.6, 1.4))
    api_calls = round(seats * 12 * factor * rng.uniform(0.5, 1.5))
    exports = 1 if rng.random() < 0.12 else 0
    if plan.burst_on is not None and 0 <= (day - plan.burst_on).days < 6:
        exports += rng.randint(8, 20)
        api_calls *= rng.randint(5, 9)
    usage.writerow((account.account, day.isoformat(), logins, active, exports, api_calls, seats))

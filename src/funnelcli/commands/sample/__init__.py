"""Seeded synthetic B2B CRM export: the bundled sample data and ``funnel sample``.

``generate_sample(out_dir, rows=..., seed=...)`` writes four files into ``out_dir``:

``leads.csv``
    One row per lead, a "wide" export with one column per stage time::

        lead_id,account_id,company,created_at,channel,segment,owner,country,
        qualified_at,trial_started_at,paid_at,deal_amount,renewed_at,renewal_amount

    Leads are written in ``created_at`` order, so ``lead_id`` (``L000001``…) follows creation.
    Accounts (``A00001``…) have 1–6 leads that share company, segment, country and owner.
    Stage times are left empty when the lead never reached the stage *or* when the time would fall
    on or after the data end (``start`` + ``months`` calendar months); every later stage is then
    empty too. ``deal_amount`` is present iff ``paid_at`` is, ``renewal_amount`` iff
    ``renewed_at`` is.

``stage_history.csv``
    The same leads as a long stage-change log ``lead_id,account_id,stage,changed_at,owner,channel``
    with CRM stage names ``New`` (created_at), ``MQL`` (qualified_at), ``Trial``
    (trial_started_at), ``Closed Won`` (paid_at) and ``Renewed`` (renewed_at), plus ``Closed Lost``
    rows and re-entry rows (see warts below). Rows are ordered by ``changed_at``, ties by
    ``lead_id`` then stage order (New, MQL, Trial, Closed Won, Closed Lost, Renewed).

``spend.csv``
    Monthly marketing spend ``month,channel,amount`` (``YYYY-MM``), with channel names as the
    *spend system* spells them. They deliberately differ from the lead ``channel`` values; the
    mapping (spend channel ↔ lead channel) is exactly::

        Google Ads    ↔ google_cpc
        LinkedIn Ads  ↔ linkedin_ads
        百度推广       ↔ sem_baidu
        Events        ↔ events
        Outbound SDR  ↔ outbound
        Trade Press   ↔ (no leads at all)

    ``organic`` and ``referral`` have no spend. Months run from the month of ``start`` to the month
    of the last day before the data end (so a partial last month is included).

``subscriptions.csv``
    Yearly contracts ``contract_id,account_id,start_date,end_date,amount`` derived from the
    leads (paid → first contract, renewed → second); amounts written like ``¥12,000.00``.

Deliberate, deterministic warts (so the tool's data-quality paths have something to find):

- about 2% of leads have an empty ``channel`` (the ``(none)`` group);
- every 100th paid lead has an empty ``trial_started_at`` (closed without a trial record);
- every 150th qualified lead (~0.3% of leads) has ``qualified_at`` *before* ``created_at``
  (a re-imported lead); no other times go backwards;
- every 10th paid lead created early enough converts 200–280 days after creation (beyond a 180d
  window);
- about 3% of leads have an extra re-entry row in the history (a second ``MQL`` row, or a
  second ``New`` row for leads never qualified);
- about 1% of leads (those that reached trial but were not won) have a ``Closed Lost`` row.

Output is byte-identical for the same arguments: one ``random.Random(seed)`` drives everything,
rows are streamed (memory is bounded by one day of leads, the open-account pool and one sort
chunk of history rows; the history is ordered with an external merge sort), and each file is
written to a temporary file in ``out_dir`` and moved into place with ``os.replace``.
"""

from __future__ import annotations

import csv
import heapq
import math
import os
import random
import tempfile
from bisect import bisect
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from funnelcli.engine.store import writing

__all__ = ["HISTORY_COLUMNS", "LEAD_COLUMNS", "SPEND_CHANNELS", "SPEND_COLUMNS", "generate_sample"]

LEAD_COLUMNS = (
    "lead_id",
    "account_id",
    "company",
    "created_at",
    "channel",
    "segment",
    "owner",
    "country",
    "qualified_at",
    "trial_started_at",
    "paid_at",
    "deal_amount",
    "renewed_at",
    "renewal_amount",
)
HISTORY_COLUMNS = ("lead_id", "account_id", "stage", "changed_at", "owner", "channel")
SPEND_COLUMNS = ("month", "channel", "amount")
SUBSCRIPTION_COLUMNS = ("contract_id", "account_id", "start_date", "end_date", "amount")

# Lead channels; index 7 is the missing channel (written as an empty field).
CHANNELS = (
    "google_cpc",
    "linkedin_ads",
    "sem_baidu",
    "organic",
    "referral",
    "events",
    "outbound",
    "",
)
# Spend-system channel name -> lead channel (None: a spend line with no leads at all).
SPEND_CHANNELS: dict[str, str | None] = {
    "Google Ads": "google_cpc",
    "LinkedIn Ads": "linkedin_ads",
    "百度推广": "sem_baidu",
    "Events": "events",
    "Outbound SDR": "outbound",
    "Trade Press": None,
}
# Cost per lead by lead channel (used to make spend roughly proportional to lead volume).
_COST_PER_LEAD = {
    "google_cpc": 120.0,
    "linkedin_ads": 260.0,
    "sem_baidu": 110.0,
    "events": 650.0,
    "outbound": 320.0,
}
_MISSING_CHANNEL_RATE = 0.02

# Channel volume weights (same order as CHANNELS[:7]): Baidu is a China channel.
_CHANNEL_WEIGHTS_CN = (4, 3, 40, 20, 10, 8, 12)
_CHANNEL_WEIGHTS_OTHER = (30, 14, 1, 20, 8, 6, 14)

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
_SEGMENT_WEIGHTS = (0.64, 0.26, 0.10)
# Contacts per account (1..6) by segment: SMB mostly 1-2, Enterprise more.
_ACCOUNT_SIZE_WEIGHTS = (
    (0.52, 0.26, 0.11, 0.06, 0.03, 0.02),
    (0.34, 0.26, 0.17, 0.11, 0.07, 0.05),
    (0.16, 0.18, 0.20, 0.18, 0.15, 0.13),
)

COUNTRIES = ("CN", "US", "DE", "GB", "SG", "JP")
_COUNTRY_WEIGHTS = (0.35, 0.25, 0.12, 0.10, 0.08, 0.10)
_COMPANY_SUFFIX = {
    "CN": ("Co.", "Co. Ltd", "Group"),
    "US": ("Inc", "LLC", "Corp"),
    "DE": ("GmbH", "AG", "GmbH"),
    "GB": ("Ltd", "plc", "Ltd"),
    "SG": ("Pte Ltd", "Pte Ltd", "Ltd"),
    "JP": ("K.K.", "Co.", "Inc"),
}
_NAME_HEADS = (
    "Nova", "Zen", "Lumi", "Quan", "Vero", "Astra", "Blue", "Sino", "Hua", "Xin", "Kai",
    "Orbi", "Helio", "Vanta", "Pixa", "Data", "Cloud", "Iron", "Peak", "Brio", "Cora", "Delta",
    "Evo", "Fenn", "Gala", "Hoshi", "Jin", "Kobo", "Lark", "Mira", "Nord", "Opti", "Pola",
)  # fmt: skip
_NAME_TAILS = (
    "tek", "ware", "logic", "wave", "soft", "ra", "nex", "lytics", "gen", "via", "line", "bit",
    "field", "stone", "core", "spring", "mind", "works", "sys", "hub",
)  # fmt: skip
_NAME_KINDS = (
    "", "", "", "Systems", "Technologies", "Logistics", "Labs", "Solutions", "Manufacturing",
    "Health", "Software", "Trading", "Analytics", "Robotics", "Foods",
)  # fmt: skip
# Sales reps: territories (CN vs the rest) with one rep covering both.
_OWNERS_CN = ("chen.jie", "li.na", "wang.fang", "alice.wang")
_OWNERS_OTHER = ("bob.smith", "carol.jones", "david.mueller", "emma.brown", "alice.wang")

# Conversion probabilities. Channel index rows (CHANNELS order incl. missing), segment columns.
_P_QUALIFIED = (0.36, 0.50, 0.32, 0.48, 0.72, 0.56, 0.42, 0.40)
_P_QUALIFIED_SEG = (1.0, 1.0, 1.05)
_P_TRIAL_SEG = (0.56, 0.48, 0.36)
_P_TRIAL_CH = (0.95, 1.0, 0.92, 1.0, 1.15, 1.05, 0.95, 0.95)
_P_PAID = (0.30, 0.37, 0.28, 0.36, 0.52, 0.40, 0.33, 0.30)
_P_PAID_SEG = (1.0, 0.95, 0.9)
_P_RENEWED_SEG = (0.64, 0.74, 0.84)
_P_RENEWED_CH = (1.0, 1.0, 0.95, 1.0, 1.1, 1.0, 1.0, 1.0)
# Deal value (annual contract value): log-normal (median, sigma), clamped to (lo, hi).
_DEAL = ((7000.0, 0.45, 3000.0, 15000.0), (30000.0, 0.4, 15000.0, 60000.0),
         (120000.0, 0.5, 60000.0, 300000.0))  # fmt: skip
# Days from trial to paid (lo, hi) by segment: Enterprise cycles are longer.
_PAID_DELAY = ((5, 45), (7, 60), (20, 110))

# Wart rates (counter based, so they are exact and always present at moderate sizes).
_TRIAL_GAP_EVERY = 100  # every Nth paid lead has no trial_started_at
_BACKWARDS_EVERY = 150  # every Nth qualified lead has qualified_at < created_at
_LONG_PAID_EVERY = 10  # every Nth paid lead created >= 280 days before data end converts late
_REENTRY_RATE = 0.03
_LOST_RATE = 0.07  # of leads that reached trial and were not won (≈1% of all leads)

_DAY = 86400
_PAD_DAYS = 32  # formatted-date table starts this many days before `start` (backwards times)
_CHUNK = 200_000  # history rows sorted in memory before spilling a sorted run to disk
_STAGE_ORDER = {"New": 0, "MQL": 1, "Trial": 2, "Closed Won": 3, "Closed Lost": 4, "Renewed": 5}


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(d.day, (nxt - timedelta(days=1)).day))


def _cum(weights: tuple[float, ...]) -> list[float]:
    total = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0 + 1e-9
    return out


def generate_sample(
    out_dir: Path,
    *,
    rows: int = 3000,
    seed: int = 7,
    start: date = date(2024, 1, 8),
    months: int = 24,
) -> list[Path]:
    """Write leads.csv, stage_history.csv and spend.csv into out_dir (created if needed); return the paths."""  # noqa: E501
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if months < 1:
        raise ValueError("months must be >= 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    leads_path = out_dir / "leads.csv"
    history_path = out_dir / "stage_history.csv"
    spend_path = out_dir / "spend.csv"

    rng = random.Random(seed)
    rand = rng.random

    end = _add_months(start, months)
    ndays = (end - start).days
    end_t = ndays * _DAY  # data end, exclusive, in seconds since start 00:00:00
    # "YYYY-MM-DD " for every day offset from -_PAD_DAYS up to the data end.
    day_str = [
        (start + timedelta(days=i - _PAD_DAYS)).isoformat() + " "
        for i in range(ndays + _PAD_DAYS + 1)
    ]
    hm_str = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
    ss_str = [f"{s:02d}" for s in range(60)]

    def fmt(t: int) -> str:
        d, s = divmod(t, _DAY)
        return day_str[d + _PAD_DAYS] + hm_str[s // 60] + ss_str[s % 60]

    # Months covered (for spend) and each day's month index.
    month_keys: list[str] = []
    day_month: list[int] = []
    for i in range(ndays):
        key = (start + timedelta(days=i)).strftime("%Y-%m")
        if not month_keys or month_keys[-1] != key:
            month_keys.append(key)
        day_month.append(len(month_keys) - 1)
    lead_counts = [[0] * 8 for _ in month_keys]

    # Leads per day: weekday-heavy, mild growth, noise; exact total by cumulative rounding.
    day_w = []
    for i in range(ndays):
        wd = (start + timedelta(days=i)).weekday()
        w = (1.0 + 0.5 * i / ndays) * (0.22 if wd >= 5 else (0.85 if wd == 4 else 1.0))
        day_w.append(w * (0.75 + 0.5 * rand()))
    total_w = sum(day_w)
    day_n, acc, prev = [], 0.0, 0
    for w in day_w:
        acc += w
        cur = round(rows * acc / total_w)
        day_n.append(cur - prev)
        prev = cur
    day_n[-1] += rows - prev

    # Hour-of-day tables for created_at (weekday business hours; flatter weekends).
    wk_hours = (1, 1, 1, 1, 1, 2, 4, 8, 16, 22, 24, 22, 14, 18, 22, 22, 20, 16, 10, 7, 6, 5, 3, 2)
    we_hours = (2, 1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 7, 7, 7, 7, 6, 5, 4, 3)
    wk_table = [h * 3600 for h, n in enumerate(wk_hours) for _ in range(n)]
    we_table = [h * 3600 for h, n in enumerate(we_hours) for _ in range(n)]

    ch_cum_cn = _cum(_CHANNEL_WEIGHTS_CN)
    ch_cum_other = _cum(_CHANNEL_WEIGHTS_OTHER)
    seg_cum = _cum(_SEGMENT_WEIGHTS)
    size_cum = [_cum(w) for w in _ACCOUNT_SIZE_WEIGHTS]
    country_cum = _cum(_COUNTRY_WEIGHTS)
    # Per (channel, segment) probabilities, flattened: index ci * 3 + si.
    p_q = [min(0.95, _P_QUALIFIED[c] * _P_QUALIFIED_SEG[s]) for c in range(8) for s in range(3)]
    p_t = [min(0.95, _P_TRIAL_SEG[s] * _P_TRIAL_CH[c]) for c in range(8) for s in range(3)]
    p_p = [min(0.95, _P_PAID[c] * _P_PAID_SEG[s]) for c in range(8) for s in range(3)]
    p_r = [min(0.95, _P_RENEWED_SEG[s] * _P_RENEWED_CH[c]) for c in range(8) for s in range(3)]
    deal = [(math.log(m), sg, lo, hi) for m, sg, lo, hi in _DEAL]
    paid_delay = [(lo, hi - lo + 1) for lo, hi in _PAID_DELAY]

    lid_w = max(6, len(str(rows)))
    aid_w = max(5, len(str(rows)))
    # Open accounts still expecting contacts; joining one is likelier the more there are, so the
    # pool stays near pool_k (leads of one account arrive within a few weeks of each other).
    pool: list[list[Any]] = []
    pool_k = max(10.0, 10.0 * rows / ndays)
    n_accounts = 0

    n_qualified = n_paid = n_long_eligible = 0
    history_runs: list[str] = []
    buf: list[str] = []
    buf_append = buf.append
    bus_start, bus_span = 8 * 3600, 11 * 3600  # stage changes happen 08:00-19:00
    last_long_day = ndays - 281

    with tempfile.TemporaryDirectory(prefix=".funnel-sample-", dir=out_dir) as run_dir:

        def spill() -> None:
            buf.sort()
            run = os.path.join(run_dir, f"run{len(history_runs):05d}")
            with open(run, "w", encoding="utf-8", newline="") as rf:
                rf.writelines(buf)
            history_runs.append(run)
            buf.clear()

        with writing(leads_path) as lf:
            writer = csv.writer(lf, lineterminator="\n")
            writer.writerow(LEAD_COLUMNS)
            writerow = writer.writerow
            lead_no = 0
            for day in range(ndays):
                n = day_n[day]
                if n <= 0:
                    continue
                table = we_table if (start + timedelta(days=day)).weekday() >= 5 else wk_table
                tl = len(table)
                base = day * _DAY
                times = sorted(
                    [base + table[int(rand() * tl)] + int(rand() * 3600) for _ in range(n)]
                )
                counts = lead_counts[day_month[day]]
                for t0 in times:
                    lead_no += 1
                    lid = "L" + str(lead_no).zfill(lid_w)
                    created = fmt(t0)

                    # Account: join an open one or open a new one.
                    lp = len(pool)
                    if lp and rand() * (lp + pool_k) < lp:
                        i = int(rand() * lp)
                        acct = pool[i]
                        acct[0] -= 1
                        if acct[0] <= 0:
                            pool[i] = pool[-1]
                            pool.pop()
                    else:
                        n_accounts += 1
                        si = bisect(seg_cum, rand())
                        country = COUNTRIES[bisect(country_cum, rand())]
                        owners = _OWNERS_CN if country == "CN" else _OWNERS_OTHER
                        owner = owners[int(rand() * len(owners))]
                        kind = _NAME_KINDS[int(rand() * len(_NAME_KINDS))]
                        suffix = _COMPANY_SUFFIX[country]
                        company = (
                            _NAME_HEADS[int(rand() * len(_NAME_HEADS))]
                            + _NAME_TAILS[int(rand() * len(_NAME_TAILS))]
                            + (" " + kind if kind else "")
                            + " "
                            + suffix[int(rand() * len(suffix))]
                        )
                        size = bisect(size_cum[si], rand()) + 1
                        acct = [
                            size - 1,
                            "A" + str(n_accounts).zfill(aid_w),
                            company,
                            si,
                            SEGMENTS[si],
                            owner,
                            country,
                        ]
                        if size > 1:
                            pool.append(acct)
                    _, aid, company, si, segment, owner, country = acct

                    if rand() < _MISSING_CHANNEL_RATE:
                        ci = 7
                    else:
                        ci = bisect(ch_cum_cn if country == "CN" else ch_cum_other, rand())
                    channel = CHANNELS[ci]
                    counts[ci] += 1
                    k = ci * 3 + si
                    tail = "," + owner + "," + channel + "\n"
                    head = lid + "," + aid + ","

                    q_s = t_s = p_s = amount = r_s = r_amount = ""
                    trial_t = -1
                    won = False
                    buf_append(created + lid + "0" + head + "New," + created + tail)
                    if rand() < p_q[k]:
                        r = rand()
                        q_t = (
                            (day + 1 + int(20 * r * r)) * _DAY + bus_start + int(rand() * bus_span)
                        )
                        if q_t < end_t:
                            n_qualified += 1
                            if n_qualified % _BACKWARDS_EVERY == _BACKWARDS_EVERY // 2:
                                # Re-imported lead: the qualification predates the record.
                                shown_q = t0 - (1 + int(rand() * 15)) * _DAY - int(rand() * 3600)
                            else:
                                shown_q = q_t
                            q_s = fmt(shown_q)
                            buf_append(q_s + lid + "1" + head + "MQL," + q_s + tail)
                            if rand() < _REENTRY_RATE:
                                re_t = shown_q + (2 + int(rand() * 19)) * _DAY + int(rand() * 3600)
                                if re_t < end_t:
                                    s = fmt(re_t)
                                    buf_append(s + lid + "1" + head + "MQL," + s + tail)
                            if rand() < p_t[k]:
                                r = rand()
                                tt = q_t // _DAY + 2 + int(29 * r * r)
                                trial_t = tt * _DAY + bus_start + int(rand() * bus_span)
                                if trial_t < end_t:
                                    t_s = fmt(trial_t)
                                    won = rand() < p_p[k]
                                    if won:
                                        lo, span = paid_delay[si]
                                        r = rand()
                                        pd = tt + lo + int(span * r * r)
                                        if day <= last_long_day:
                                            n_long_eligible += 1
                                            if n_long_eligible % _LONG_PAID_EVERY == 0:
                                                pd = day + 200 + int(rand() * 81)
                                        paid_t = pd * _DAY + bus_start + int(rand() * bus_span)
                                        if paid_t < end_t:
                                            n_paid += 1
                                            if n_paid % _TRIAL_GAP_EVERY == _TRIAL_GAP_EVERY // 2:
                                                t_s = ""  # closed without a trial record
                                            p_s = fmt(paid_t)
                                            mu, sigma, lo_a, hi_a = deal[si]
                                            value = rng.lognormvariate(mu, sigma)
                                            value = round(min(hi_a, max(lo_a, value)), -1)
                                            amount = f"{value:.2f}"
                                            buf_append(
                                                p_s + lid + "3" + head + "Closed Won," + p_s + tail
                                            )
                                            if rand() < p_r[k]:
                                                r_t = (
                                                    (pd + 335 + int(rand() * 61)) * _DAY
                                                    + bus_start
                                                    + int(rand() * bus_span)
                                                )
                                                if r_t < end_t:
                                                    r_s = fmt(r_t)
                                                    factor = 0.85 + 0.25 * (rand() + rand())
                                                    r_amount = f"{value * factor:.2f}"
                                                    buf_append(
                                                        r_s + lid + "5" + head + "Renewed," + r_s
                                                        + tail
                                                    )  # fmt: skip
                                    elif rand() < _LOST_RATE:
                                        lost_t = trial_t + (7 + int(rand() * 54)) * _DAY
                                        if lost_t < end_t:
                                            s = fmt(lost_t)
                                            buf_append(
                                                s + lid + "4" + head + "Closed Lost," + s + tail
                                            )
                                    if t_s:
                                        buf_append(t_s + lid + "2" + head + "Trial," + t_s + tail)
                    elif rand() < _REENTRY_RATE:
                        re_t = t0 + (1 + int(rand() * 30)) * _DAY + int(rand() * 3600)
                        if re_t < end_t:
                            s = fmt(re_t)
                            buf_append(s + lid + "0" + head + "New," + s + tail)

                    writerow(
                        (lid, aid, company, created, channel, segment, owner, country,
                         q_s, t_s, p_s, amount, r_s, r_amount)
                    )  # fmt: skip
                    if len(buf) >= _CHUNK:
                        spill()

        # stage_history.csv: merge the sorted runs; each line is a fixed-width sort key + row.
        key_len = 19 + 1 + lid_w + 1
        with writing(history_path) as hf:
            hf.write(",".join(HISTORY_COLUMNS) + "\n")
            if not history_runs:
                buf.sort()
                hf.writelines([line[key_len:] for line in buf])
            else:
                if buf:
                    spill()
                files = [open(p, encoding="utf-8", newline="") for p in history_runs]  # noqa: SIM115
                try:
                    hf.writelines(line[key_len:] for line in heapq.merge(*files))
                finally:
                    for f in files:
                        f.close()
            buf.clear()

    # spend.csv: roughly proportional to each channel's lead volume that month, with noise.
    with writing(spend_path) as sf:
        writer = csv.writer(sf, lineterminator="\n")
        writer.writerow(SPEND_COLUMNS)
        for mi, month in enumerate(month_keys):
            counts = lead_counts[mi]
            for spend_name, lead_channel in SPEND_CHANNELS.items():
                if lead_channel is None:
                    amount_f = 1000.0 + 1500.0 * rand()
                else:
                    n = counts[CHANNELS.index(lead_channel)]
                    cpl = _COST_PER_LEAD[lead_channel]
                    amount_f = (800.0 + n * cpl) * (0.85 + 0.3 * rand())
                writer.writerow((month, spend_name, f"{amount_f:.2f}"))

    subscriptions_path = out_dir / "subscriptions.csv"
    _write_subscriptions(leads_path, subscriptions_path)
    return [leads_path, history_path, spend_path, subscriptions_path]


def _write_subscriptions(leads_path: Path, out_path: Path) -> None:
    """subscriptions.csv from the leads just written (no random draws: leads stay unchanged).

    Each paid lead opens a yearly contract on its paid date for its ``deal_amount``; a renewed
    lead's next contract starts on its renewal date for its ``renewal_amount`` (0.85–1.35 of the
    first: contraction or expansion). Paid leads that never renew are churn (once their year
    is over). Amounts are written as people type them (``¥12,000.00``) for the money parser.
    """
    with open(leads_path, encoding="utf-8", newline="") as f:
        leads = list(csv.DictReader(f))
    with writing(out_path) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SUBSCRIPTION_COLUMNS)
        number = 0
        for lead in leads:
            periods = [(lead["paid_at"], lead["deal_amount"])]
            periods.append((lead["renewed_at"], lead["renewal_amount"]))
            for at, amount in periods:
                if not at:
                    break
                number += 1
                start = date.fromisoformat(at[:10])
                writer.writerow(
                    (
                        f"C{number:06d}",
                        lead["account_id"],
                        start.isoformat(),
                        _add_months(start, 12).isoformat(),
                        f"¥{float(amount):,.2f}",
                    )
                )

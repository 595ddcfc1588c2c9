"""The synthetic CRM's fixed vocabulary and knobs: column names, channels, segments, countries,
company names and owners, volume weights, conversion probabilities and wart rates.

Changing any value here changes the bytes of every sample (and the snapshot hashes).
"""

from __future__ import annotations

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
# A leads.csv row, in LEAD_COLUMNS order.
LeadRow = tuple[str, str, str, str, str, str, str, str, str, str, str, str, str, str]
HISTORY_COLUMNS = ("lead_id", "account_id", "stage", "changed_at", "owner", "channel")
SPEND_COLUMNS = ("month", "channel", "amount")
SUBSCRIPTION_COLUMNS = ("contract_id", "account_id", "start_date", "end_date", "amount")

# Lead channels; the last one is the missing channel (written as an empty field).
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
MISSING_CHANNEL = len(CHANNELS) - 1
MISSING_CHANNEL_RATE = 0.02
# Channel volume weights (same order as CHANNELS without the missing one): Baidu is a China
# channel.
CHANNEL_WEIGHTS_CN = (4, 3, 40, 20, 10, 8, 12)
CHANNEL_WEIGHTS_OTHER = (30, 14, 1, 20, 8, 6, 14)

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
COST_PER_LEAD = {
    "google_cpc": 120.0,
    "linkedin_ads": 260.0,
    "sem_baidu": 110.0,
    "events": 650.0,
    "outbound": 320.0,
}

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_WEIGHTS = (0.64, 0.26, 0.10)
# Contacts per account (1..6) by segment: SMB mostly 1-2, Enterprise more.
ACCOUNT_SIZE_WEIGHTS = (
    (0.52, 0.26, 0.11, 0.06, 0.03, 0.02),
    (0.34, 0.26, 0.17, 0.11, 0.07, 0.05),
    (0.16, 0.18, 0.20, 0.18, 0.15, 0.13),
)

COUNTRIES = ("CN", "US", "DE", "GB", "SG", "JP")
COUNTRY_WEIGHTS = (0.35, 0.25, 0.12, 0.10, 0.08, 0.10)
COMPANY_SUFFIXES = {
    "CN": ("Co.", "Co. Ltd", "Group"),
    "US": ("Inc", "LLC", "Corp"),
    "DE": ("GmbH", "AG", "GmbH"),
    "GB": ("Ltd", "plc", "Ltd"),
    "SG": ("Pte Ltd", "Pte Ltd", "Ltd"),
    "JP": ("K.K.", "Co.", "Inc"),
}
NAME_HEADS = (
    "Nova", "Zen", "Lumi", "Quan", "Vero", "Astra", "Blue", "Sino", "Hua", "Xin", "Kai",
    "Orbi", "Helio", "Vanta", "Pixa", "Data", "Cloud", "Iron", "Peak", "Brio", "Cora", "Delta",
    "Evo", "Fenn", "Gala", "Hoshi", "Jin", "Kobo", "Lark", "Mira", "Nord", "Opti", "Pola",
)  # fmt: skip
NAME_TAILS = (
    "tek", "ware", "logic", "wave", "soft", "ra", "nex", "lytics", "gen", "via", "line", "bit",
    "field", "stone", "core", "spring", "mind", "works", "sys", "hub",
)  # fmt: skip
NAME_KINDS = (
    "", "", "", "Systems", "Technologies", "Logistics", "Labs", "Solutions", "Manufacturing",
    "Health", "Software", "Trading", "Analytics", "Robotics", "Foods",
)  # fmt: skip
# Sales reps: territories (CN vs the rest) with one rep covering both.
OWNERS_CN = ("chen.jie", "li.na", "wang.fang", "alice.wang")
OWNERS_OTHER = ("bob.smith", "carol.jones", "david.mueller", "emma.brown", "alice.wang")

# Relative lead volume by hour of day for created_at: business hours on weekdays, flatter at
# weekends.
WEEKDAY_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 16, 22, 24, 22, 14, 18, 22, 22, 20, 16, 10, 7, 6,
                        5, 3, 2)  # fmt: skip
WEEKEND_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 7, 7, 7, 7, 6, 5, 4, 3)
# Stage changes after creation happen during working hours, 08:00-19:00.
WORKDAY_START_SECOND = 8 * 3600
WORKDAY_SECONDS = 11 * 3600

# Conversion probabilities: a rate by channel (CHANNELS order, missing included) or by segment
# (SEGMENTS order), times a factor by the other; each capped at 0.95.
QUALIFIED_BY_CHANNEL = (0.36, 0.50, 0.32, 0.48, 0.72, 0.56, 0.42, 0.40)
QUALIFIED_SEGMENT_FACTOR = (1.0, 1.0, 1.05)
TRIAL_BY_SEGMENT = (0.56, 0.48, 0.36)
TRIAL_CHANNEL_FACTOR = (0.95, 1.0, 0.92, 1.0, 1.15, 1.05, 0.95, 0.95)
PAID_BY_CHANNEL = (0.30, 0.37, 0.28, 0.36, 0.52, 0.40, 0.33, 0.30)
PAID_SEGMENT_FACTOR = (1.0, 0.95, 0.9)
RENEWED_BY_SEGMENT = (0.64, 0.74, 0.84)
RENEWED_CHANNEL_FACTOR = (1.0, 1.0, 0.95, 1.0, 1.1, 1.0, 1.0, 1.0)
MAX_CONVERSION = 0.95
# Deal value (annual contract value) by segment: log-normal (median, sigma), clamped to
# (lowest, highest).
DEAL_VALUES = ((7000.0, 0.45, 3000.0, 15000.0), (30000.0, 0.4, 15000.0, 60000.0),
               (120000.0, 0.5, 60000.0, 300000.0))  # fmt: skip
# Days from trial to paid (fewest, most) by segment: Enterprise cycles are longer.
DAYS_TRIAL_TO_PAID = ((5, 45), (7, 60), (20, 110))

# Wart rates (counter based, so they are exact and always present at moderate sizes).
TRIAL_GAP_EVERY = 100  # every Nth paid lead has no trial_started_at
BACKWARDS_EVERY = 150  # every Nth qualified lead has qualified_at < created_at
LONG_PAID_EVERY = 10  # every Nth paid lead created >= 280 days before data end converts late
REENTRY_RATE = 0.03
LOST_RATE = 0.07  # of leads that reached trial and were not won (≈1% of all leads)


def cumulative(weights: tuple[float, ...]) -> list[float]:
    """Cumulative shares of `weights` for `bisect(shares, rand())`; the last is just above 1 so
    that every draw in [0, 1) lands on an index."""
    total = float(sum(weights))
    shares, running = [], 0.0
    for weight in weights:
        running += weight / total
        shares.append(running)
    shares[-1] = 1.0 + 1e-9
    return shares

"""spend.csv: monthly spend per spend-system channel, roughly proportional to that month's leads
from the matching lead channel, with noise."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from funnelcli.commands.sample.vocabulary import (
    CHANNELS,
    COST_PER_LEAD,
    SPEND_CHANNELS,
    SPEND_COLUMNS,
)
from funnelcli.engine.store import writing


def write_spend(
    path: Path, months: list[str], lead_counts: list[list[int]], rng: random.Random
) -> None:
    """Write a row per month and spend channel; `lead_counts` are leads by month and channel."""
    rand = rng.random
    with writing(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(SPEND_COLUMNS)
        for month, counts in zip(months, lead_counts, strict=True):
            for spend_channel, lead_channel in SPEND_CHANNELS.items():
                if lead_channel is None:
                    amount = 1000.0 + 1500.0 * rand()
                else:
                    leads = counts[CHANNELS.index(lead_channel)]
                    amount = (800.0 + leads * COST_PER_LEAD[lead_channel]) * (0.85 + 0.3 * rand())
                writer.writerow((month, spend_channel, f"{amount:.2f}"))

"""subscriptions.csv: the yearly contracts of the paid and renewed leads, read back from leads.csv.

It draws nothing from the random stream, so adding it left the other files unchanged. Each paid
lead opens a yearly contract on its paid date for its ``deal_amount``; a renewed lead's next
contract starts on its renewal date for its ``renewal_amount`` (0.85–1.35 of the first:
contraction or expansion). Paid leads that never renew are churn (once their year is over).
Amounts are written as people type them (``¥12,000.00``) for the money parser.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from funnelcli.commands.sample.timeline import add_months
from funnelcli.commands.sample.vocabulary import LEAD_COLUMNS, SUBSCRIPTION_COLUMNS
from funnelcli.engine.store import writing


def write_subscriptions(leads_path: Path, path: Path) -> None:
    """Write the contracts of the leads in `leads_path` to `path`, numbered in lead order; the
    leads are streamed, one row at a time."""
    account_id = LEAD_COLUMNS.index("account_id")
    # (start, amount) columns of a lead's first and second contract.
    periods = [
        (LEAD_COLUMNS.index("paid_at"), LEAD_COLUMNS.index("deal_amount")),
        (LEAD_COLUMNS.index("renewed_at"), LEAD_COLUMNS.index("renewal_amount")),
    ]
    with open(leads_path, encoding="utf-8", newline="") as leads, writing(path) as stream:
        reader = csv.reader(leads)
        next(reader)  # the header, LEAD_COLUMNS
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(SUBSCRIPTION_COLUMNS)
        number = 0
        for lead in reader:
            for started_at, amount in periods:
                if not lead[started_at]:
                    break
                number += 1
                start = date.fromisoformat(lead[started_at][:10])
                writer.writerow(
                    (
                        f"C{number:06d}",
                        lead[account_id],
                        start.isoformat(),
                        add_months(start, 12).isoformat(),
                        f"¥{float(lead[amount]):,.2f}",
                    )
                )

"""Seeded synthetic B2B CRM export: the bundled sample data and ``funnel sample``.

``generate_sample(out_dir, rows=..., seed=...)`` writes six files into ``out_dir``:

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

``usage.csv`` and ``touches.csv``
    Daily product usage and customer touches of the contracted accounts, for ``funnel risk``
    (``usage.py`` says how churners and look-alikes behave); their own random stream.

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

Modules: ``vocabulary`` (names, weights, probabilities, wart rates), ``timeline`` (days, months,
timestamp text), ``accounts`` and ``journeys`` (who a lead is and how far it gets), then one writer
per file: ``leads``, ``history`` (with the external merge sort), ``spend``, ``subscriptions``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from funnelcli.commands.sample.history import CHUNK_ROWS, StageHistory
from funnelcli.commands.sample.leads import lead_id_width, write_leads
from funnelcli.commands.sample.spend import write_spend
from funnelcli.commands.sample.subscriptions import write_subscriptions
from funnelcli.commands.sample.timeline import Timeline
from funnelcli.commands.sample.usage import write_usage
from funnelcli.commands.sample.vocabulary import (
    CHANNELS,
    COUNTRIES,
    HISTORY_COLUMNS,
    LEAD_COLUMNS,
    SEGMENTS,
    SPEND_CHANNELS,
    SPEND_COLUMNS,
    SUBSCRIPTION_COLUMNS,
)
from funnelcli.errors import FunnelError

__all__ = [
    "CHANNELS",
    "COUNTRIES",
    "HISTORY_COLUMNS",
    "LEAD_COLUMNS",
    "SEGMENTS",
    "SPEND_CHANNELS",
    "SPEND_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "generate_sample",
]

# History rows sorted in memory per run; read when generate_sample runs, so a test can make it
# small to force the external merge.
_CHUNK = CHUNK_ROWS


def generate_sample(
    out_dir: Path,
    *,
    rows: int = 3000,
    seed: int = 7,
    start: date = date(2024, 1, 8),
    months: int = 24,
    force: bool = False,
) -> list[Path]:
    """Write leads.csv, stage_history.csv, spend.csv, subscriptions.csv, usage.csv and
    touches.csv into out_dir (created if needed); return their paths in that order. A folder
    that holds anything is refused unless `force` (its files are then replaced): a sample never
    overwrites an export."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if months < 1:
        raise ValueError("months must be >= 1")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FunnelError(f"{out_dir}: not a folder; the sample is several files")
    if not force and out_dir.is_dir() and any(out_dir.iterdir()):
        raise FunnelError(
            f"{out_dir}: the folder is not empty; choose an empty or new folder, "
            "or pass --force to replace its leads.csv, stage_history.csv, spend.csv, "
            "and subscriptions.csv"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    leads_path = out_dir / "leads.csv"
    history_path = out_dir / "stage_history.csv"
    spend_path = out_dir / "spend.csv"
    subscriptions_path = out_dir / "subscriptions.csv"

    # One stream, drawn in a fixed order: leads per day, then lead by lead (creation times of
    # the day, account, channel, journey), then the spend.
    rng = random.Random(seed)
    timeline = Timeline(start, months)
    history = StageHistory(out_dir, lead_id_width=lead_id_width(rows), chunk_rows=_CHUNK)
    with history:
        lead_counts = write_leads(leads_path, history, leads=rows, rng=rng, timeline=timeline)
        history.write(history_path)
    write_spend(spend_path, timeline.months, lead_counts, rng)
    write_subscriptions(leads_path, subscriptions_path)
    usage_path, touches_path = out_dir / "usage.csv", out_dir / "touches.csv"
    data_end = start + timedelta(days=timeline.days)
    write_usage(subscriptions_path, usage_path, touches_path, seed=seed, data_end=data_end)
    return [leads_path, history_path, spend_path, subscriptions_path, usage_path, touches_path]

"""The seeded synthetic CRM export: determinism, shape, funnel invariants and the injected warts."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from funnelcli.commands import sample
from funnelcli.commands.sample import (
    HISTORY_COLUMNS,
    LEAD_COLUMNS,
    SPEND_CHANNELS,
    SPEND_COLUMNS,
    generate_sample,
)

ROWS = 3000
START = date(2024, 1, 8)
DATA_END = "2026-01-08 00:00:00"  # START + 24 months (the defaults)
TS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
LEAD_CHANNELS = {
    "google_cpc",
    "linkedin_ads",
    "sem_baidu",
    "organic",
    "referral",
    "events",
    "outbound",
}
STAGE_COLUMN = {
    "New": "created_at",
    "MQL": "qualified_at",
    "Trial": "trial_started_at",
    "Closed Won": "paid_at",
    "Renewed": "renewed_at",
}
STAGE_ORDER = ["New", "MQL", "Trial", "Closed Won", "Closed Lost", "Renewed"]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _days(a: str, b: str) -> float:
    fmt = "%Y-%m-%d %H:%M:%S"
    return (datetime.strptime(b, fmt) - datetime.strptime(a, fmt)) / timedelta(days=1)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("sample")
    paths = generate_sample(d, rows=ROWS, seed=7, start=START)
    assert paths == [
        d / "leads.csv",
        d / "stage_history.csv",
        d / "spend.csv",
        d / "subscriptions.csv",
        d / "usage.csv",
        d / "touches.csv",
    ]
    return d


@pytest.fixture(scope="module")
def leads(out: Path) -> list[dict[str, str]]:
    header, rows = _read(out / "leads.csv")
    assert header == list(LEAD_COLUMNS)
    return rows


@pytest.fixture(scope="module")
def history(out: Path) -> list[dict[str, str]]:
    header, rows = _read(out / "stage_history.csv")
    assert header == list(HISTORY_COLUMNS)
    return rows


def test_columns_are_exact() -> None:
    assert LEAD_COLUMNS == (
        "lead_id", "account_id", "company", "created_at", "channel", "segment", "owner",
        "country", "qualified_at", "trial_started_at", "paid_at", "deal_amount", "renewed_at",
        "renewal_amount",
    )  # fmt: skip
    assert HISTORY_COLUMNS == ("lead_id", "account_id", "stage", "changed_at", "owner", "channel")
    assert SPEND_COLUMNS == ("month", "channel", "amount")


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path: Path, out: Path) -> None:
    again = generate_sample(tmp_path / "a", rows=ROWS, seed=7)
    for p in again:
        assert p.read_bytes() == (out / p.name).read_bytes()
    other = generate_sample(tmp_path / "b", rows=ROWS, seed=8)
    for p in other:
        assert p.read_bytes() != (out / p.name).read_bytes()


def test_external_sort_gives_the_same_history(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force many sorted runs on disk plus a merge; the bytes must not change.
    monkeypatch.setattr(sample, "_CHUNK", 500)
    paths = generate_sample(tmp_path, rows=ROWS, seed=7)
    for p in paths:
        assert p.read_bytes() == (out / p.name).read_bytes()
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_files_are_clean_utf8_with_lf(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == [
        "leads.csv",
        "spend.csv",
        "stage_history.csv",
        "subscriptions.csv",
        "touches.csv",
        "usage.csv",
    ]
    for p in out.iterdir():
        data = p.read_bytes()
        assert b"\r" not in data
        assert data.endswith(b"\n")
        data.decode("utf-8")


def test_lead_rows_and_ids(leads: list[dict[str, str]]) -> None:
    assert len(leads) == ROWS
    ids = [r["lead_id"] for r in leads]
    assert len(set(ids)) == ROWS
    assert all(re.fullmatch(r"L\d{6,}", i) for i in ids)
    assert ids[0] == "L000001"
    assert all(re.fullmatch(r"A\d{5,}", r["account_id"]) for r in leads)
    created = [r["created_at"] for r in leads]
    assert created == sorted(created)  # lead ids follow creation


def test_timestamps_iso_and_before_data_end(leads: list[dict[str, str]]) -> None:
    cols = ["created_at", "qualified_at", "trial_started_at", "paid_at", "renewed_at"]
    for r in leads:
        for c in cols:
            v = r[c]
            if v:
                assert TS.match(v), (c, v)
                assert v < DATA_END, (r["lead_id"], c, v)
    assert min(r["created_at"] for r in leads) >= "2024-01-08 00:00:00"


def test_funnel_invariants(leads: list[dict[str, str]]) -> None:
    q = {r["lead_id"] for r in leads if r["qualified_at"]}
    t = {r["lead_id"] for r in leads if r["trial_started_at"]}
    p = {r["lead_id"] for r in leads if r["paid_at"]}
    rn = {r["lead_id"] for r in leads if r["renewed_at"]}
    assert rn <= p
    assert p <= q
    assert t <= q
    paid_without_trial = p - t
    assert 1 <= len(paid_without_trial) <= max(2, len(p) // 50)
    # Counts by stage are non-increasing (trial counted under backfill: trial or paid).
    assert ROWS > len(q) > len(t | p) > len(p) >= len(rn)
    for r in leads:
        assert bool(r["deal_amount"]) == bool(r["paid_at"])
        assert bool(r["renewal_amount"]) == bool(r["renewed_at"])
        # Once a stage is empty (other than the trial wart), all later stages are empty.
        if not r["qualified_at"]:
            assert not (r["trial_started_at"] or r["paid_at"] or r["renewed_at"])


def test_times_only_go_backwards_in_the_injected_wart(leads: list[dict[str, str]]) -> None:
    backwards = [r for r in leads if r["qualified_at"] and r["qualified_at"] < r["created_at"]]
    assert 1 <= len(backwards) <= ROWS // 100  # ~0.3%
    for r in leads:
        chain = [r["created_at"], r["trial_started_at"], r["paid_at"], r["renewed_at"]]
        chain = [v for v in chain if v]
        assert chain == sorted(chain), r
        if r["qualified_at"] and r["trial_started_at"]:
            assert r["qualified_at"] < r["trial_started_at"]


def test_some_paid_leads_convert_beyond_180_days(leads: list[dict[str, str]]) -> None:
    late = [r for r in leads if r["paid_at"] and _days(r["created_at"], r["paid_at"]) >= 200]
    assert 1 <= len(late) <= 15


def test_drop_off_rates_roughly_as_requested(leads: list[dict[str, str]]) -> None:
    n_q = sum(1 for r in leads if r["qualified_at"])
    # Count trial under backfill: a paid lead without a trial record did reach trial.
    n_t = sum(1 for r in leads if r["trial_started_at"] or r["paid_at"])
    n_p = sum(1 for r in leads if r["paid_at"])
    assert 0.38 <= n_q / ROWS <= 0.52
    assert 0.38 <= n_t / n_q <= 0.60
    assert 0.25 <= n_p / n_t <= 0.45


def test_renewal_rate_on_mature_paid_leads(tmp_path: Path) -> None:
    # With 12 months of data hardly anyone is 11-13 months past payment; use a longer span.
    leads_path = generate_sample(tmp_path, rows=ROWS, seed=7, start=date(2025, 1, 6), months=30)[0]
    _, rows = _read(leads_path)
    mature = [r for r in rows if r["paid_at"] and r["paid_at"] < "2026-06-01 00:00:00"]
    renewed = [r for r in mature if r["renewed_at"]]
    assert len(mature) >= 50
    assert 0.5 <= len(renewed) / len(mature) <= 0.85
    for r in renewed:
        assert 330 <= _days(r["paid_at"], r["renewed_at"]) <= 397
        ratio = float(r["renewal_amount"]) / float(r["deal_amount"])
        assert 0.849 <= ratio <= 1.351


def test_amounts_by_segment(leads: list[dict[str, str]]) -> None:
    bounds = {"SMB": (3000, 15000), "Mid-Market": (15000, 60000), "Enterprise": (60000, 300000)}
    seen = Counter()
    for r in leads:
        if r["deal_amount"]:
            assert re.fullmatch(r"\d+\.\d{2}", r["deal_amount"])
            lo, hi = bounds[r["segment"]]
            assert lo <= float(r["deal_amount"]) <= hi
            seen[r["segment"]] += 1
    assert set(seen) == set(bounds)


def test_channels_segments_countries(leads: list[dict[str, str]]) -> None:
    channels = Counter(r["channel"] for r in leads)
    assert set(channels) == LEAD_CHANNELS | {""}
    assert 0.005 <= channels[""] / ROWS <= 0.04
    assert {r["segment"] for r in leads} == {"SMB", "Mid-Market", "Enterprise"}
    assert {r["country"] for r in leads} == {"CN", "US", "DE", "GB", "SG", "JP"}
    assert 5 <= len({r["owner"] for r in leads}) <= 10


def test_accounts_have_one_to_six_leads_sharing_attributes(leads: list[dict[str, str]]) -> None:
    by_account = defaultdict(list)
    for r in leads:
        by_account[r["account_id"]].append(r)
    sizes = Counter(len(v) for v in by_account.values())
    assert set(sizes) <= set(range(1, 7))
    assert sizes[1] + sizes[2] > sizes[4] + sizes[5] + sizes[6] > 0
    for rows in by_account.values():
        for col in ("company", "segment", "country", "owner"):
            assert len({r[col] for r in rows}) == 1
    assert all(r["company"] and "," not in r["company"] for r in leads)


def test_history_matches_leads(leads: list[dict[str, str]], history: list[dict[str, str]]) -> None:
    by_id = {r["lead_id"]: r for r in leads}
    assert {h["lead_id"] for h in history} <= set(by_id)
    rows_of: dict[str, list[dict[str, str]]] = defaultdict(list)
    for h in history:
        rows_of[h["lead_id"]].append(h)
        lead = by_id[h["lead_id"]]
        assert h["account_id"] == lead["account_id"]
        assert h["owner"] == lead["owner"]
        assert h["channel"] == lead["channel"]
        assert TS.match(h["changed_at"]) and h["changed_at"] < DATA_END
    extra = lost = 0
    for lid, lead in by_id.items():
        stages = Counter(h["stage"] for h in rows_of[lid])
        for stage, col in STAGE_COLUMN.items():
            if lead[col]:
                assert any(
                    h["stage"] == stage and h["changed_at"] == lead[col] for h in rows_of[lid]
                ), (lid, stage)
            else:
                assert stages[stage] == 0, (lid, stage)
        extra += sum(n - 1 for n in stages.values() if n > 1)
        if stages["Closed Lost"]:
            lost += 1
            assert lead["trial_started_at"] and not lead["paid_at"]
    assert 0.015 * ROWS <= extra <= 0.05 * ROWS  # ~3% re-entries
    assert 0.004 * ROWS <= lost <= 0.02 * ROWS  # ~1% Closed Lost


def test_history_is_ordered(history: list[dict[str, str]]) -> None:
    keys = [(h["changed_at"], h["lead_id"], STAGE_ORDER.index(h["stage"])) for h in history]
    assert keys == sorted(keys)


def test_spend(out: Path, leads: list[dict[str, str]]) -> None:
    header, rows = _read(out / "spend.csv")
    assert header == list(SPEND_COLUMNS)
    assert {r["channel"] for r in rows} == set(SPEND_CHANNELS)
    assert set(SPEND_CHANNELS.values()) - {None} <= LEAD_CHANNELS
    assert "organic" not in SPEND_CHANNELS.values()
    assert "referral" not in SPEND_CHANNELS.values()
    months = sorted({r["month"] for r in rows})
    assert months == sorted({r["created_at"][:7] for r in leads})
    assert len(rows) == len(months) * len(SPEND_CHANNELS)
    for r in rows:
        assert re.fullmatch(r"\d{4}-\d{2}", r["month"])
        assert re.fullmatch(r"\d+\.\d{2}", r["amount"])
        assert 500 <= float(r["amount"]) <= 100_000
    # Roughly proportional to volume: Google Ads (high volume) out-spends Trade Press overall.
    total = Counter()
    for r in rows:
        total[r["channel"]] += float(r["amount"])
    assert total["Google Ads"] > total["Trade Press"]


def test_zero_rows_writes_headers_only(tmp_path: Path) -> None:
    paths = generate_sample(tmp_path / "new" / "dir", rows=0)
    assert paths[0].read_text(encoding="utf-8") == ",".join(LEAD_COLUMNS) + "\n"
    assert paths[1].read_text(encoding="utf-8") == ",".join(HISTORY_COLUMNS) + "\n"


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_sample(tmp_path, rows=-1)
    with pytest.raises(ValueError):
        generate_sample(tmp_path, rows=10, months=0)

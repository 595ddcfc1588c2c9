"""`--as-of` is a point in time (docs/semantics.md, "As of"): a report run later with
`--as-of T` equals the report run at T on the data as it was then.

The data "as it was at T" is made from the bundled sample by undoing everything after T: rows
entering after T are not there yet, stage times (and their values) after T are not filled in
yet, contracts starting and spend booked after T are not there yet.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import funnelcli as f
from funnelcli.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
AS_OF = datetime(2025, 6, 1)
# leads.csv: a stage time column → the value column filled in with it
LEAD_TIMES = {
    "created_at": None,
    "qualified_at": None,
    "trial_started_at": None,
    "paid_at": "deal_amount",
    "renewed_at": "renewal_amount",
}


def _after(text: str) -> bool:
    return bool(text) and datetime.fromisoformat(text) > AS_OF


def _rewrite(path: Path, keep: Any) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            kept = keep(row)
            if kept is not None:
                writer.writerow(kept)


def _as_it_was(folder: Path) -> Path:
    """A copy of the sample and the default funnel as they were at AS_OF."""
    data = folder / "sample_data"
    shutil.copytree(SAMPLE, data)
    shutil.copytree(ROOT / "funnels", folder / "funnels")

    def lead(row: dict[str, str]) -> dict[str, str] | None:
        if _after(row["created_at"]):
            return None
        for time, value in LEAD_TIMES.items():
            if _after(row[time]):
                row[time] = ""
                if value is not None:
                    row[value] = ""
        return row

    _rewrite(data / "leads.csv", lead)
    _rewrite(data / "stage_history.csv", lambda r: None if _after(r["changed_at"]) else r)
    _rewrite(data / "subscriptions.csv", lambda r: None if _after(r["start_date"]) else r)
    _rewrite(data / "spend.csv", lambda r: None if _after(r["month"] + "-01") else r)
    return folder / "funnels"


@pytest.fixture(scope="module")
def then(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _as_it_was(tmp_path_factory.mktemp("as_of"))


def _numbers(document: dict[str, Any]) -> dict[str, Any]:
    """A report's numbers: everything but the counts of rows in the files (a later export has
    more rows, which is not a different funnel) and the file's name."""
    document = dict(document)
    quality = dict(document.pop("data_quality", {}) or {})
    for key in ("rows_read", "rows_without_id", "duplicate_ids", "rows_rejected"):
        quality.pop(key, None)
    document["funnel"] = {k: v for k, v in document["funnel"].items() if k != "file"}
    return {**document, "data_quality": quality}


@pytest.mark.parametrize("name", ["default", "history", "accounts"])
def test_a_later_report_as_of_t_equals_the_report_at_t(then: Path, name: str) -> None:
    now = f.report(ROOT / "funnels" / f"{name}.yaml", as_of=AS_OF, by="channel")
    past = f.report(then / f"{name}.yaml", as_of=AS_OF, by="channel")
    assert now.overall.entered < f.report(ROOT / "funnels" / f"{name}.yaml").overall.entered
    assert _numbers(now.to_dict()) == _numbers(past.to_dict())
    assert now.to_dict()["period"]["as_of"] == "2025-06-01"  # JSON echoes it


def test_summary_cohorts_and_roi_as_of_t_equal_them_at_t(then: Path) -> None:
    default = ROOT / "funnels" / "default.yaml"
    past = then / "default.yaml"
    for run in (
        lambda y: f.summary(y, period="week", as_of=AS_OF).to_dict(),
        lambda y: f.cohorts(y, period="month", as_of=AS_OF, last=6).to_dict(),
        lambda y: f.roi(y, as_of=AS_OF).to_dict(),
    ):
        assert _numbers(run(default)) == _numbers(run(past))


def test_an_as_of_before_all_data_names_the_first_entry() -> None:
    default = ROOT / "funnels" / "default.yaml"
    for run in (f.report, f.summary, f.cohorts, f.roi):
        with pytest.raises(UsageError, match=r"before the first entry in the data \(2024-01-08"):
            run(default, as_of="2020-01-01")

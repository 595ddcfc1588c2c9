"""Summaries compare stages at equal age (docs/summary.md, "Horizons"): a stage with a horizon
counts ids reaching it within the horizon of entry, on the latest two periods whose ids are all
that old; only stages without one are provisional; alerts never fire on a provisional number
unless --fail-on-provisional."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from funnelcli.cli import app

ENV = {"NO_COLOR": "1", "COLUMNS": "120", "TERM": "dumb"}
# (lead, created, qualified, paid); as_of Monday 2025-03-03: qualified (horizon 14d) is judged
# on 2025-W07 (Feb 10-16, all ≥ 14 days old) against 2025-W06.
LEADS = [
    ("a1", "2025-02-10", "2025-02-13", ""),  # W07, qualified in 3 days
    ("a2", "2025-02-11", "2025-02-21", "2025-02-25"),  # W07, in 10 days
    ("a3", "2025-02-12", "2025-03-01", ""),  # W07, in 17 days: outside the horizon
    ("a4", "2025-02-13", "", ""),  # W07, never
    ("b1", "2025-02-03", "2025-02-08", ""),  # W06, in 5 days
    ("b2", "2025-02-04", "", ""),
    ("b3", "2025-02-05", "", ""),
    ("b4", "2025-02-06", "", ""),
    ("c1", "2025-02-24", "", ""),  # W09: the nominal current week
    ("c2", "2025-02-25", "2025-02-26", ""),
    ("d1", "2025-02-17", "", ""),  # W08
]


def _funnel(folder: Path) -> Path:
    rows = "".join(f"{i},{c},{q},{p}\n" for i, c, q, p in LEADS)
    (folder / "leads.csv").write_text("id,created,qualified,paid\n" + rows, encoding="utf-8")
    path = folder / "funnel.yaml"
    path.write_text(
        "sources:\n  leads: {path: leads.csv, id: id}\n"
        "stages:\n  - {name: lead, at: created}\n"
        "  - {name: qualified, at: qualified, horizon: 14d}\n  - {name: paid, at: paid}\n"
        "window: 1y\nmin_n: 1\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout


def test_a_stage_with_a_horizon_is_judged_at_equal_age(tmp_path: Path) -> None:
    code, out = run("summary", str(_funnel(tmp_path)), "--as-of", "2025-03-03", "-f", "json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["current"]["label"], summary["previous"]["label"]) == ("2025-W09", "2025-W08")
    lead, qualified, paid = summary["stages"]
    assert lead["horizon"] is None and lead["metrics"]["count"]["final"]
    assert (qualified["horizon"], qualified["current_period"], qualified["previous_period"]) == (
        "14d",
        "2025-W07",
        "2025-W06",
    )
    rate = qualified["metrics"]["conversion_from_previous"]
    assert (rate["current"], rate["previous"]) == (0.5, 0.25)  # a3 (17 days) is not counted
    assert (rate["current_n"], rate["previous_n"]) == (4, 4)
    assert qualified["metrics"]["count"]["current"] == 2.0
    assert rate["final"] and rate["verdict"] == "not_significant"
    # paid has no horizon: the nominal weeks, provisional (1y window)
    assert paid["horizon"] is None
    assert paid["metrics"]["count"]["final"] is False


def test_horizon_option_applies_to_stages_without_their_own(tmp_path: Path) -> None:
    path = _funnel(tmp_path)
    code, out = run("summary", str(path), "--as-of", "2025-03-03", "--horizon", "7d", "-f", "json")
    stages = json.loads(out)["stages"]
    assert stages[1]["horizon"] == "14d"  # the stage's own horizon: wins
    assert (stages[2]["horizon"], stages[2]["current_period"]) == ("7d", "2025-W08")
    code, _ = run("summary", str(path), "--horizon", "soon")
    assert code == 2


def test_alerts_fire_on_judged_numbers_only(tmp_path: Path) -> None:
    path = str(_funnel(tmp_path))
    base = ("summary", path, "--as-of", "2025-03-03")
    code, out = run(*base, "--fail-on", "qualified.conversion_from_previous > 0.4")
    assert code == 3 and "ALERT: qualified.conversion_from_previous > 0.4" in out
    code, out = run(*base, "--fail-on", "paid.count < 1")  # provisional: never fires
    assert code == 0 and "No alert met" in out
    code, out = run(*base, "--fail-on", "paid.count < 1", "--fail-on-provisional")
    assert code == 3

"""`funnel cohorts` on the bundled sample data: every row is the report of its period, and every
format says the same (JSON against funnelcli.cohorts/1)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.metrics.periods import PeriodKind
from funnelcli.outputs.cohorts import CohortMatrix
from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "funnels" / "default.yaml"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
AS_OF = "2025-06-15"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_rows_are_the_report_of_their_period() -> None:
    funnel = load_funnel(DEFAULT)
    as_of = datetime.fromisoformat(AS_OF)
    matrix = funnelcli.cohorts(funnel, period="month", as_of=as_of, last=40)
    # The data starts 2024-01-08: every month from 2024-01 to 2025-06 (the month of as_of).
    assert matrix.rows[0].label == "2024-01"
    assert matrix.rows[-1].label == "2025-06"
    assert len(matrix.rows) == 18
    for label in ("2024-01", "2024-12", "2025-06"):
        row = next(r for r in matrix.rows if r.label == label)
        since = datetime.fromisoformat(row.start)
        until = datetime.fromisoformat(row.end)
        report = funnelcli.report(funnel, since=since, until=until, as_of=as_of)
        assert row.entered == report.overall.entered
        assert [c.count for c in row.cells] == [s.count for s in report.overall.stages]
        assert [c.conversion_from_entry for c in row.cells] == [
            s.conversion_from_entry for s in report.overall.stages
        ]
    # 18mo window: a month is mature once its end + 18 months ≤ as_of; none is by 2025-06-15.
    assert all(r.immature for r in matrix.rows)
    assert [r.partial for r in matrix.rows] == [False] * 17 + [True]
    # Together the cohorts are the whole funnel up to as_of's month.
    everything = funnelcli.report(funnel, until=datetime(2025, 7, 1), as_of=as_of).overall
    assert sum(r.entered for r in matrix.rows) == everything.entered
    for k in range(len(everything.stages)):
        assert sum(r.cells[k].count for r in matrix.rows) == everything.stages[k].count


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "funnels", tmp_path / "funnels")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_format(repo: Path) -> None:
    base = ["cohorts", "--as-of", AS_OF, "--last", "3"]
    code, out, _ = run(*base, "--format", "json")
    assert code == 0
    document = json.loads(out)
    jsonschema.validate(document, CohortMatrix.schema_document())
    assert [r["label"] for r in document["rows"]] == ["2025-04", "2025-05", "2025-06"]
    april = document["rows"][0]

    code, out, _ = run(*base, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3 * 5  # cohorts × stages
    assert rows[1]["cohort"] == "2025-04" and rows[1]["stage"] == "qualified"
    assert int(rows[1]["count"]) == april["cells"][1]["count"]
    assert float(rows[1]["conversion_from_entry"]) == april["cells"][1]["conversion_from_entry"]
    assert rows[0]["immature"] == "true" and rows[-1]["partial"] == "true"

    code, out, _ = run(*base, "--format", "markdown")
    assert "| 2025-06 (partial) |" in out
    assert f"| 2025-04 | {april['entered']:,} |" in out

    code, out, _ = run(*base)
    assert code == 0
    assert "Entry cohorts by month · Lead to renewal" in out
    april_mql = april["cells"][1]
    assert f"{april_mql['count']} {april_mql['conversion_from_entry'] * 100:.1f}%~" in out

    code, _, err = run(*base, "--format", "csv", "--output", "c.csv")
    assert code == 0 and err == "Wrote c.csv\n"
    assert (repo / "c.csv").read_text(encoding="utf-8").startswith("cohort,")
    code, _, err = run(*base, "--format", "csv", "--output", "c.csv", "--quiet")
    assert code == 0 and err == ""


def test_weeks_and_usage_errors(repo: Path) -> None:
    code, out, _ = run(
        "cohorts", "--period", "week", "--as-of", "2025-01-08", "--last", "2", "-f", "json"
    )
    assert code == 0
    assert [r["label"] for r in json.loads(out)["rows"]] == ["2025-W01", "2025-W02"]
    code, _, err = run("cohorts", "--period", "year")
    assert code == 2 and "year" in err
    code, _, err = run("cohorts", "--as-of", "soon")
    assert code == 2 and err.startswith("Error: --as-of")


def test_period_groups_are_the_report_breakdown_of_their_period() -> None:
    """run_periods' one query, split by period and group, equals one report per period."""
    from funnelcli.commands.periodic import run_periods
    from funnelcli.engine import open_engine
    from funnelcli.metrics.periods import Calendar

    funnel = load_funnel(DEFAULT)
    calendar = Calendar(PeriodKind.week, timezone="Asia/Shanghai")
    as_of = datetime.fromisoformat(AS_OF)
    periods = [
        calendar.containing(datetime(2025, 3, 2, 20)),
        calendar.containing(datetime(2024, 3, 5)),
    ]
    with open_engine(funnel) as engine:
        results = run_periods(
            engine, funnel, periods, as_of=as_of, breakdown=("channel",), min_n=30
        )
    for item in results:
        report = funnelcli.report(
            funnel, since=item.period.since, until=item.period.until, as_of=as_of, by="channel"
        )
        assert item.overall == report.overall
        assert item.groups == report.breakdowns[0].groups
        assert item.overall.entered > 0 and len(item.groups) > 1

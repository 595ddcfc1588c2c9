"""Dates people actually export, read without `formats:`: one reading detected per column from
all its sampled values, then applied to the whole column (sql/dates.detect), and the
day/month order of a slashed column decided once."""

from __future__ import annotations

from pathlib import Path

import pytest

import funnelcli
from funnelcli.errors import DataError
from funnelcli.outputs.report import FunnelReport
from funnelcli.spec import parse_funnel
from funnelcli.sql import dates

# (export, values written in it) → the UTC times they are, in order
EXPORTS: dict[str, tuple[list[str], list[str]]] = {
    "HubSpot UI": (
        ["Mar 04, 2025", "Mar 15, 2025", "Dec 01, 2025"],
        ["2025-03-04", "2025-03-15", "2025-12-01"],
    ),
    "Salesforce US report": (
        ["3/4/25 9:47 AM", "3/15/25 1:05 PM", "12/1/25 12:00 AM", "12/1/25 12:30:15 PM"],
        ["2025-03-04 09:47", "2025-03-15 13:05", "2025-12-01 00:00", "2025-12-01 12:30:15"],
    ),
    "Salesforce API": (
        ["2025-03-04T09:47:00.000+0000", "2025-03-05T10:00:00.000+0800"],
        ["2025-03-04 09:47", "2025-03-05 02:00"],
    ),
    "German export": (
        ["04.03.2025", "15.03.2025", "1.12.2025 14:30"],
        ["2025-03-04", "2025-03-15", "2025-12-01 14:30"],
    ),
    "day-first dashes": (["04-03-2025", "25-03-2025"], ["2025-03-04", "2025-03-25"]),
    "day-first slashes": (["04/03/2025", "25/03/2025"], ["2025-03-04", "2025-03-25"]),
    "US M/D/YYYY": (
        ["03/04/2025", "10/30/2025", "3/5/2025 4:05 PM"],
        ["2025-03-04", "2025-10-30", "2025-03-05 16:05"],
    ),
    "month names": (
        ["Mar 4, 2025", "4 Mar 2025", "March 4, 2025 9:47 AM", "May 1 2025", "1 September 2025"],
        ["2025-03-04", "2025-03-04", "2025-03-04 09:47", "2025-05-01", "2025-09-01"],
    ),
    "Chinese": (
        ["2025年3月4日", "2025年3月4日 14时30分", "2025年3月5日14:30"],
        ["2025-03-04", "2025-03-04 14:30", "2025-03-05 14:30"],
    ),
    "ISO variants": (
        ["2025-03-04", "2025-03-04T09:47", "2025-03-04 09:47:05.250", "2025-03-04T09:47:00Z"],
        ["2025-03-04", "2025-03-04 09:47", "2025-03-04 09:47:05.25", "2025-03-04 09:47"],
    ),
    "Unix seconds": (["1741081620", "1741081620.5"], ["2025-03-04 09:47", "2025-03-04 09:47:00.5"]),
    "Unix milliseconds": (["1741081620000"], ["2025-03-04 09:47"]),
    "Excel serials": (["45720", "45720.5"], ["2025-03-04", "2025-03-04 12:00"]),
}


def _write(folder: Path, values: list[str], extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f'L{i},"{value}"\n' for i, value in enumerate(values))
    (folder / "d.csv").write_text("id,t\n" + rows, encoding="utf-8")
    return folder


def _report(folder: Path, values: list[str], extra: str = "") -> FunnelReport:
    _write(folder, values)
    yaml_text = (
        f"sources:\n  s: {{path: d.csv, id: id{extra}}}\nstages:\n  - {{name: lead, at: t}}\n"
    )
    funnel = parse_funnel(yaml_text, file=str(folder / "f.yaml"), base_dir=folder)
    return funnelcli.report(funnel, by="id", min_n=0)


def _iso(text: str) -> str:
    """The report's spelling of a time: a date alone at midnight, else date and time."""
    from datetime import datetime

    moment = datetime.fromisoformat(text)
    if moment == datetime(moment.year, moment.month, moment.day):
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_real_export_reads_every_value_exactly(tmp_path: Path, export: str) -> None:
    values, expected = EXPORTS[export]
    report = _report(tmp_path, values)
    assert report.data_quality.rows_rejected == {"s": 0}
    assert report.overall.entered == len(values)
    (by_id,) = report.breakdowns
    entries = {g.key["id"]: g for g in by_id.groups}
    # one lead per row: each lead's entry is its row's time
    firsts = [entries[f"L{i}"] for i in range(len(values))]
    assert all(g.entered == 1 for g in firsts)
    found = [
        funnelcli.report(
            parse_funnel(
                "sources:\n  s: {path: d.csv, id: id}\nstages:\n  - {name: lead, at: t}\n"
                f"filter: id = 'L{i}'\n",
                file=str(tmp_path / "f.yaml"),
                base_dir=tmp_path,
            )
        ).period.first_entry
        for i in range(len(values))
    ]
    assert found == [_iso(e) for e in expected]


def test_the_order_is_decided_once_per_column() -> None:
    # a month-first value decides for the whole column: 03/04/2025 is 4 March, not rejected
    assert dates.detect(["10/30/2025", "03/04/2025"], None) == ["%m/%d/%Y"]
    assert dates.detect(["13/03/2025", "03/04/2025"], None) == ["%d/%m/%Y"]
    # values that read the same both ways need no decision
    assert dates.detect(["03/03/2025", "05/05/2025"], None) == ["%d/%m/%Y"]
    # day_first: decides when the values do not
    assert dates.detect(["03/04/2025"], False) == ["%m/%d/%Y"]
    with pytest.raises(dates.DateOrderError) as mixed:
        dates.detect(["13/03/2025", "10/30/2025"], None)
    assert mixed.value.examples == ("13/03/2025", "10/30/2025")
    with pytest.raises(dates.DateOrderError) as unsure:
        dates.detect(["03/04/2025", "05/06/2025"], None)
    assert unsure.value.examples == ("03/04/2025",)


def test_a_mixed_order_column_is_an_error_naming_two_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="day/month order is mixed") as err:
        _report(tmp_path, ["01/02/2025", "13/03/2025", "10/30/2025"])
    text = str(err.value)
    assert "line 3 '13/03/2025' is day-first" in text
    assert "line 4 '10/30/2025' month-first" in text
    assert err.value.column == "t" and "d.csv" in text


def test_an_undecided_column_asks_for_day_first(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="set day_first: true or false on source s") as err:
        _report(tmp_path, ["03/04/2025", "05/06/2025"])
    assert "line 2 '03/04/2025'" in str(err.value)
    report = _report(tmp_path, ["03/04/2025", "05/06/2025"], ", day_first: true")
    assert report.period.first_entry == "2025-04-03"


def test_validate_prints_the_format_it_chose(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    _write(tmp_path, ["3/4/25 9:47 AM", "3/15/25 1:05 PM"])
    (tmp_path / "f.yaml").write_text(
        "sources:\n  s: {path: d.csv, id: id}\nstages:\n  - {name: lead, at: t}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "f.yaml")])
    assert result.exit_code == 0
    assert "    t: %m/%d/%y %I:%M %p (month first), else ISO 8601" in result.stdout

"""`--format xlsx`: workbooks read back with openpyxl hold real numbers with percentage and money
formats, frozen headers, a Notes sheet, the artifact's exact values, and text never a formula."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from artifacts import cohorts, report, roi, summary
from funnelcli.cli import app
from funnelcli.render import Format, render_bytes

ARTIFACTS = {"report": report(sales=True), "summary": summary(), "cohorts": cohorts(), "roi": roi()}


def book(artifact: Any) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render_bytes(artifact, Format.xlsx)))


def rows(sheet: Any) -> list[dict[str, Any]]:
    header = [cell.value for cell in sheet[1]]
    return [
        dict(zip(header, values, strict=True)) for values in sheet.iter_rows(2, values_only=True)
    ]


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_every_sheet_has_a_frozen_header_and_notes_come_last(name: str) -> None:
    workbook = book(ARTIFACTS[name])
    assert workbook.sheetnames[-1] == "Notes"
    for sheet in workbook:
        assert sheet.freeze_panes == "B2"
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.max_row >= 2


def test_report_numbers_are_numbers_with_formats() -> None:
    workbook = book(ARTIFACTS["report"])
    assert workbook.sheetnames == ["Funnel", "By channel", "Sales", "Notes"]
    funnel = workbook["Funnel"]
    paid = rows(funnel)[1]
    stage = ARTIFACTS["report"].overall.stages[1]
    assert paid["Count"] == stage.count and isinstance(paid["Count"], int)
    assert paid["Step %"] == stage.conversion_from_previous
    assert paid["Value"] == stage.value_sum
    formats = {funnel.cell(1, c).value: funnel.cell(3, c).number_format for c in range(1, 10)}
    assert formats["Step %"] == "0.0%" and formats["Value"] == "#,##0.00"
    assert formats["Count"] == "#,##0" and formats["Median days from previous"] == "0.0"
    groups = rows(workbook["By channel"])
    assert [g["Group"] for g in groups] == ["ads", "partner"]
    assert groups[1]["Below min n"] is True and groups[0]["Entered"] == 80
    notes = {row["What"]: row["Detail"] for row in rows(workbook["Notes"])}
    assert notes["Rows read"].startswith("leads ")
    assert "Ids with backwards times" in notes


def test_summary_keeps_p_values_and_intervals() -> None:
    artifact = ARTIFACTS["summary"]
    sheet = book(artifact).worksheets[0]
    paid = rows(sheet)[1]
    step = artifact.stages[1].metrics["conversion_from_previous"]
    assert paid["Step %"] == step.current and paid["p"] == step.p_value
    assert paid["95% CI low"] == step.current_interval.low
    assert sheet.cell(3, 9).number_format == "0.000"


def test_cohorts_one_row_per_cohort() -> None:
    artifact = ARTIFACTS["cohorts"]
    sheet = book(artifact).worksheets[0]
    found = rows(sheet)
    assert [r["Cohort"] for r in found] == [r.label for r in artifact.rows]
    later = artifact.funnel.stages[1].label
    assert found[0][f"{later} %"] == artifact.rows[0].cells[1].conversion_from_entry
    assert found[1]["Immature"] is True


def test_roi_money_and_percent_formats() -> None:
    artifact = ARTIFACTS["roi"]
    sheet = book(artifact)["Channels"]
    first = rows(sheet)[0]
    assert first["Spend"] == artifact.channels[0].spend and first["ROI"] == artifact.channels[0].roi
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, header.index("Spend") + 1).number_format == "#,##0.00"
    assert sheet.cell(2, header.index("ROI") + 1).number_format == "0.0%"
    assert "Renewals" in book(artifact).sheetnames


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"])
def test_a_formula_looking_value_stays_text(name: str) -> None:
    data = render_bytes(roi(name), Format.xlsx)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if "worksheets" in n)
    assert "<f>" not in xml  # no formula anywhere
    cell = openpyxl.load_workbook(io.BytesIO(data))["Channels"]["A2"]
    assert cell.value == name and cell.data_type == "s" and cell.quotePrefix


def test_a_name_too_long_or_odd_for_a_sheet_is_made_valid() -> None:
    artifact = ARTIFACTS["report"]
    breakdown = dataclasses.replace(artifact.breakdowns[0], by=("a/very:long[name]*" * 3,))
    workbook = book(dataclasses.replace(artifact, breakdowns=(breakdown, breakdown)))
    names = workbook.sheetnames
    assert len(set(names)) == len(names) and all(len(n) <= 31 for n in names)
    assert not any(set(n) & set("[]:*?/\\") for n in names)


def test_cli_writes_atomically_and_refuses_a_terminal(tmp_path: Path) -> None:
    """-o replaces a file whole; without -o the bytes go to stdout only when it is not a tty."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "funnels", tmp_path / "funnels")
    shutil.copytree(root / "sample_data", tmp_path / "sample_data")
    target = tmp_path / "roi.xlsx"
    target.write_text("old")
    env = {"COLUMNS": "100", "NO_COLOR": "1"}
    funnel = str(tmp_path / "funnels" / "default.yaml")
    result = CliRunner().invoke(app, ["roi", funnel, "-f", "xlsx", "-o", str(target)], env=env)
    assert result.exit_code == 0 and result.stderr == f"Wrote {target}\n"
    assert openpyxl.load_workbook(target).sheetnames == ["Channels", "Renewals", "Notes"]
    assert list(tmp_path.glob("*.tmp*")) == []
    piped = CliRunner().invoke(app, ["roi", funnel, "-f", "xlsx"], env=env)
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"PK")

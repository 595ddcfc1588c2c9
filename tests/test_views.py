"""The table views (render/views.py) and the formats that lay them out, on hand-built artifacts:
no DuckDB, every cell written out."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest

from artifacts import cache_info, cohorts, report, roi, summary
from funnelcli.render import Format, render
from funnelcli.render.csv_out import cell
from funnelcli.render.markdown import table
from funnelcli.render.roi_views import channel_view, renewals_view
from funnelcli.render.views import (
    Mark,
    TableView,
    breakdown_views,
    cohort_view,
    funnel_view,
    sales_view,
    summary_views,
)
from funnelcli.render.wording import format_ratio, format_roi, format_whole_amount, nouns, plural

# funnel report ---------------------------------------------------------------------------------


def test_funnel_view_terminal_and_document_cells() -> None:
    terminal = funnel_view(report(), compact=True)
    assert terminal.title == "100 leads entered"
    assert terminal.header == (
        "Stage", "Count", "Step %", "Overall %", "Dropped", "Median", "P90", "Value",
    )  # fmt: skip
    # Times as durations (0.25 days = 6 h); a sum of 1,000 or more without cents.
    assert terminal.rows[1] == ("Paid", "25", "25.0%", "25.0%", "75", "1.5d", "6.0h", "1,234")
    document = funnel_view(report(), compact=False)
    assert document.header[5:7] == ("Median days (from prev)", "P90 days")
    assert document.rows[1] == ("Paid", "25", "25.0%", "25.0%", "75", "1.5", "0.2", "1,234.50")
    assert document.rows[0][2] == document.rows[0][4] == "—"  # no previous stage


def test_breakdown_view_stars_and_dims_a_group_below_min_n() -> None:
    (terminal,) = breakdown_views(report(), compact=True)
    assert terminal.title == "By channel"
    assert terminal.header == ("Group", "Entered", "Lead", "Paid")
    assert terminal.rows == (
        ("ads", "80", "80 100.0%", "24 30.0%"),
        ("partner*", "20", "20 100.0%", "1 5.0%"),
    )
    assert terminal.marks == (None, Mark.few)
    assert terminal.note.endswith("\n* fewer than 30 entries")
    (document,) = breakdown_views(report(), compact=False)
    assert document.rows[1][2:] == ("20 (100.0%)", "1 (5.0%)")
    assert document.note == "* fewer than 30 entries: too few to compare."


def test_sales_view_has_a_heading_row_per_breakdown() -> None:
    assert sales_view(report()) is None  # no won: stage
    view = sales_view(report(sales=True))
    assert view is not None and view.title == "Sales (won = paid)"
    assert [row[0] for row in view.rows] == ["All", "by channel", "ads", "partner"]
    assert view.marks == (None, Mark.heading, None, None)
    assert view.rows[1][1:] == ("",) * 8
    # won, lost (no lost:), open, closed win, open win, cycle, average deal, velocity
    assert view.rows[2][1:] == ("24", "—", "56", "—", "30.0%", "12.0", "800", "2")


# summary ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdict", "words"),
    [
        ("significant", "significant"),
        ("not_significant", "not significant"),
        ("too_few", "n < 30"),
        ("provisional", "provisional"),
    ],
)
def test_the_verdict_column_words_the_code(verdict: str, words: str) -> None:
    comparison = summary_views(summary(verdict), compact=False)[0]
    assert comparison.header[9] == "Verdict"
    assert [row[9] for row in comparison.rows] == ["—", words]
    assert comparison.marks == (None, Mark.significant if verdict == "significant" else None)


def test_comparison_view_cells_and_the_significance_level_in_the_note() -> None:
    comparison, groups = summary_views(summary(), compact=False)
    assert comparison.title == "2025-W02 against 2025-W01"
    assert comparison.rows[1] == (
        "Paid", "20", "10", "+10 (+100.0%)", "20.0%", "10.0–30.0%", "10.0%", "+10.0 pts",
        "0.020", "significant", "2.0d", "−1.5d",
    )  # fmt: skip
    assert "significant only when final, p < 0.05 and n ≥ 30 in both periods" in comparison.note
    compact = summary_views(summary(), compact=True)[0]
    assert compact.header == (
        "Stage", "Count", "Δ", "Step %", "95% CI", "Δ", "p", "Verdict", "Median",
    )  # fmt: skip
    assert groups.title == "By channel (biggest 1)"
    assert groups.rows == (("ads|paid", "60", "+10 (+11.1%)", "20.0% (+10.0)*"),)


# cohorts ---------------------------------------------------------------------------------------


def test_cohort_view_marks_immature_and_partial_periods() -> None:
    terminal = cohort_view(cohorts(), compact=True)
    assert terminal.title == "Entry cohorts by month · Lead to paid"
    assert terminal.header == ("Cohort", "Entered", "Paid")
    assert terminal.rows == (("2025-01", "40", "1,234 25.0%"), ("2025-02 (partial)", "0", "—~"))
    document = cohort_view(cohorts(), compact=False)
    assert document.rows[0][2] == "1,234 (25.0%)"
    assert "younger than the 30d window and may still convert" in document.note


# roi -------------------------------------------------------------------------------------------


def test_channel_view_ends_with_the_blended_total_in_its_own_section() -> None:
    view = channel_view(roi())
    assert [row[0] for row in view.rows] == ["ads|paid", "organic", "(blended)"]
    assert view.marks == (None, None, Mark.total)
    assert view.sections == (2,)
    # spend, leads, CPL, CPQL, customers, CAC, revenue, ROI, payback, LTV:CAC
    assert view.rows[0][1:] == (
        "1,500", "10", "150", "300", "2", "750", "3,000", "100%", "1.2", "—",
    )  # fmt: skip
    assert view.rows[1][3] == view.rows[1][8] == "—"  # no spend: no CPL, no ROI


def test_renewals_view_per_channel_then_per_cohort() -> None:
    terminal = renewals_view(roi(), compact=True)
    assert terminal is not None
    assert terminal.title == "Renewals: contracts ending in the period, decided by 2025-02-01"
    assert [row[0] for row in terminal.rows][-1] == "cohort 2024"
    assert terminal.sections == (3,)
    assert terminal.rows[-1][1:] == ("8", "6", "75.0%", "25.0%", "80.0%", "90.0%")
    document = renewals_view(roi(), compact=False)
    assert document is not None
    assert document.title == "Renewals (contracts ending in the period, decided by 2025-02-01)"
    none = replace(roi(), channels=(), blended=replace(roi().blended, renewals=None))
    assert renewals_view(none, compact=True) is None


# Markdown --------------------------------------------------------------------------------------


def test_one_markdown_table_writer_escapes_every_cell() -> None:
    view = TableView(
        "t",
        ("Group", "a|b"),
        (("x_1", "2"), ("*top*", "3"), ("by [x]", "")),
        (None, Mark.significant, Mark.heading),
    )
    assert table(view) == [
        "| Group | a\\|b |",
        "| --- | ---: |",
        "| x\\_1 | 2 |",
        "| **\\*top\\*** | 3 |",
        "| *by \\[x\\]* |  |",
    ]


def test_roi_markdown_escapes_a_pipe_in_a_channel_name() -> None:
    """Confirmed bug: `funnel roi --format markdown` did not escape `|` in a channel name."""
    lines = render(roi("ads|paid"), Format.markdown).splitlines()
    assert "| ads\\|paid | 1,500 | 10 | 150 | 300 | 2 | 750 | 3,000 | 100% | 1.2 | — |" in lines
    assert "| ads\\|paid | 4 | 3 | 75.0% | 25.0% | 80.0% | 90.0% |" in lines
    assert {line.count(" | ") for line in lines if line.startswith("| ads")} == {10, 6}


def test_summary_markdown_escapes_a_group_name() -> None:
    assert "| **ads\\|paid** | 60 | +10 (+11.1%) | 20.0% (+10.0)\\* |" in render(
        summary(), Format.markdown
    )


# CSV and numbers -------------------------------------------------------------------------------


def test_one_csv_cell_format() -> None:
    assert [cell(v) for v in (None, True, False, 3, 0.25, 1.0, "a,b")] == [
        "", "true", "false", "3", "0.25", "1.0", "a,b",
    ]  # fmt: skip
    assert [cell(v) for v in (math.nan, math.inf, Decimal("2.50"))] == ["", "", "2.5"]


def test_cohorts_csv_is_the_tidy_records() -> None:
    assert render(cohorts(), Format.csv).splitlines() == [
        "cohort,cohort_start,cohort_end,immature,partial,stage,count,conversion_from_entry",
        "2025-01,2025-01-01,2025-02-01,false,false,lead,40,1.0",
        "2025-01,2025-01-01,2025-02-01,false,false,paid,1234,0.25",
        "2025-02,2025-02-01,2025-03-01,true,true,lead,0,",
        "2025-02,2025-02-01,2025-03-01,true,true,paid,0,",
    ]


def test_money_and_plural_words() -> None:
    assert format_whole_amount(12345.5) == "12,346"
    assert [format_roi(v) for v in (12.867, None, math.nan)] == ["1,287%", "—", "—"]
    assert [format_ratio(v, "x") for v in (15.24, None)] == ["15.2x", "—"]
    assert [plural(1, "id"), plural(1250, "lead"), nouns(2, "row")] == [
        "1 id",
        "1,250 leads",
        "rows",
    ]


# terminal --------------------------------------------------------------------------------------


def test_terminal_prints_user_labels_literally() -> None:
    """Cells are Rich Text, never markup: "[paid]" must not vanish as a style tag."""
    text = render(roi("[paid]"), Format.table, width=120)
    assert "[paid]" in text
    named = replace(summary(), groups=(replace(summary().groups[0], key={"channel": "[vip]"}),))
    assert "[vip]" in render(named, Format.table, width=120)


def test_cache_info_table_and_json() -> None:
    assert render(cache_info(), Format.table) == (
        "/cache: 1 cached source(s), 68.3 KiB\n"
        "  leads: /data/leads.csv\n"
        "    → " + "a" * 40 + ".parquet\n"
        "    3,000 rows, 68.3 KiB, built 2026-11-30T04:00:51+00:00\n"
        "  stored query results: 2, 2.0 KiB\n"
    )
    text = render(cache_info(), Format.json)
    assert text.startswith('{\n  "schema": "funnelcli.cache/1",\n  "cache_dir": "/cache",\n')
    assert '"results": {\n    "entries": 2,\n    "bytes": 2048\n  }\n}\n' in text

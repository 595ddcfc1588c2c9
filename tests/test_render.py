"""The report's renderers on a hand-built report: exact JSON/CSV/Markdown/terminal output,
schema validity."""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import replace
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from funnelcli.outputs.report import (
    TIDY_COLUMNS,
    Breakdown,
    DataQuality,
    Finding,
    FunnelInfo,
    FunnelReport,
    GroupResult,
    Period,
    StageInfo,
    StageRow,
    TimeStats,
)
from funnelcli.render import Format, draw, render
from funnelcli.render.terminal.report import funnel_bar
from funnelcli.render.wording import describe_cohort, format_duration

NO_TIMES = TimeStats(n=0, median_days=None, p90_days=None)


def _stage(
    name: str,
    label: str,
    count: int,
    step: float | None,
    overall: float | None,
    dropped: int | None,
    from_previous: TimeStats = NO_TIMES,
    from_entry: TimeStats = NO_TIMES,
    value_sum: float | None = None,
) -> StageRow:
    return StageRow(
        name, label, count, step, overall, dropped, from_previous, from_entry, value_sum
    )


@pytest.fixture
def report() -> FunnelReport:
    """Lead → MQL → Paid; 200 leads, split by channel+segment into 180 and 20 (below min_n 30)."""
    overall = GroupResult(
        key={},
        entered=200,
        below_min_n=False,
        immature_ids=37,
        stages=(
            _stage("lead", "Lead", 200, None, 1.0, None),
            _stage("qualified", "MQL", 84, 0.42, 0.42, 116, TimeStats(80, 3.5, 12.4)),
            _stage(
                "paid", "Paid", 21, 0.25, 0.105, 63,
                TimeStats(21, 0.5, 30.0), TimeStats(21, 9.0, 41.5), 123456.75,
            ),
        ),
    )  # fmt: skip
    ads = GroupResult(
        key={"channel": "ads", "segment": "SMB"},
        entered=180,
        below_min_n=False,
        immature_ids=30,
        stages=(
            _stage("lead", "Lead", 180, None, 1.0, None),
            _stage("qualified", "MQL", 80, 80 / 180, 80 / 180, 100, TimeStats(76, 3.0, 11.0)),
            _stage(
                "paid", "Paid", 20, 0.25, 20 / 180, 60, TimeStats(20, 0.5, 28.0), value_sum=120000.0
            ),
        ),
    )  # fmt: skip
    partner = GroupResult(
        key={"channel": "partner", "segment": "(none)"},
        entered=20,
        below_min_n=True,
        immature_ids=7,
        stages=(
            _stage("lead", "Lead", 20, None, 1.0, None),
            _stage("qualified", "MQL", 4, 0.2, 0.2, 16, TimeStats(4, 6.0, 9.5)),
            _stage("paid", "Paid", 1, 0.25, 0.05, 3, value_sum=3456.5),
        ),
    )
    return FunnelReport(
        funnel=FunnelInfo(
            name="saas",
            title="Lead to paid",
            file="funnels/saas.yaml",
            grain="lead",
            order="backfill",
            window="180d",
            stages=(
                StageInfo("lead", "Lead", "leads", has_value=False),
                StageInfo("qualified", "MQL", "leads", has_value=False),
                StageInfo("paid", "Paid", "deals", has_value=True),
            ),
        ),
        period=Period(
            since="2024-01-01",
            until="2024-04-01",
            as_of="2024-06-30",
            first_entry="2024-01-02T09:00:00",
            last_entry="2024-03-31T17:30:00",
            immature=True,
        ),
        overall=overall,
        breakdowns=(Breakdown(by=("channel", "segment"), groups=(ads, partner)),),
        data_quality=DataQuality(
            rows_read={"leads": 1250, "deals": 40},
            rows_without_id={"leads": 3},
            ids_without_entry_time=2,
            ids_outside_period=1040,
            ids_filtered_out=5,
            backwards_ids=4,
            backwards_by_stage={"paid": 3, "qualified": 1, "lead": 0},
            immature_ids=37,
            findings=(Finding("unparseable_amounts", subject="deals.amount", count=2),),
        ),
        min_n=30,
        version="0.1.0",
    )


def report_json(report: FunnelReport) -> str:
    return render(report, Format.json)


def report_schema() -> dict[str, Any]:
    return FunnelReport.schema_document()


def report_csv(report: FunnelReport) -> str:
    return render(report, Format.csv)


def report_markdown(report: FunnelReport) -> str:
    return render(report, Format.markdown)


def _as_json_types(value: Any) -> Any:
    """to_dict() keeps tuples; JSON has only lists."""
    if isinstance(value, dict):
        return {key: _as_json_types(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json_types(item) for item in value]
    return value


# JSON ----------------------------------------------------------------------------------------


def test_json_validates_against_the_shipped_schema(report: FunnelReport) -> None:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(report_json(report))
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="funnelcli.report/2"), "was expected"),
        (lambda d: d["overall"]["stages"][0].update(extra=1), "Additional properties"),
        (lambda d: d["overall"]["stages"][1].update(count=None), "is not of type 'integer'"),
        (lambda d: d["overall"]["stages"][1].update(conversion_from_entry="42%"), "not of type"),
        (lambda d: d["data_quality"]["rows_read"].update(leads="many"), "not of type"),
        (lambda d: d["breakdowns"][0]["groups"][0]["key"].update(segment=None), "not of type"),
        (lambda d: d["funnel"].update(grain="contact"), "is not one of"),
        (lambda d: d["period"].pop("as_of"), "'as_of' is a required property"),
    ],
)
def test_schema_rejects_invalid_documents(report: FunnelReport, mutate: Any, message: str) -> None:
    document = copy.deepcopy(json.loads(report_json(report)))
    mutate(document)
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(document, report_schema(), cls=jsonschema.Draft202012Validator)


def test_json_round_trips_to_the_report_dict(report: FunnelReport) -> None:
    text = report_json(report)
    assert text.endswith("}\n")
    assert text.startswith(
        '{\n  "schema": "funnelcli.report/1",\n  "funnel": {\n    "name": "saas",'
    )
    assert json.loads(text) == _as_json_types(report.to_dict())


def test_json_writes_non_finite_numbers_as_null_and_keeps_unicode(report: FunnelReport) -> None:
    stages = list(report.overall.stages)
    stages[2] = replace(stages[2], value_sum=float("nan"), conversion_from_previous=float("inf"))
    funnel = replace(report.funnel, title="线索到赢单")
    broken = replace(report, funnel=funnel, overall=replace(report.overall, stages=tuple(stages)))
    text = report_json(broken)
    assert '"title": "线索到赢单"' in text
    paid = json.loads(text)["overall"]["stages"][2]
    assert (paid["value_sum"], paid["conversion_from_previous"]) == (None, None)
    jsonschema.validate(json.loads(text), report_schema(), cls=jsonschema.Draft202012Validator)


# CSV -----------------------------------------------------------------------------------------

EXPECTED_CSV = """\
breakdown,group,stage,label,count,conversion_from_previous,conversion_from_entry,dropped,\
median_days_from_previous,p90_days_from_previous,median_days_from_entry,p90_days_from_entry,\
value_sum,entered,below_min_n,value_n,value_avg,value_median,won,lost,open,\
win_rate_closed,win_rate_open,cycle_median_days,average_deal_value,sales_velocity,\
mean_days_from_previous,mean_days_from_entry
overall,,lead,Lead,200,,1.0,,,,,,,200,false,,,,,,,,,,,,,
overall,,qualified,MQL,84,0.42,0.42,116,3.5,12.4,,,,200,false,,,,,,,,,,,,,
overall,,paid,Paid,21,0.25,0.105,63,0.5,30.0,9.0,41.5,123456.75,200,false,,,,,,,,,,,,,
channel+segment,ads / SMB,lead,Lead,180,,1.0,,,,,,,180,false,,,,,,,,,,,,,
channel+segment,ads / SMB,qualified,MQL,80,0.4444444444444444,0.4444444444444444,100,3.0,11.0,\
,,,180,false,,,,,,,,,,,,,
channel+segment,ads / SMB,paid,Paid,20,0.25,0.1111111111111111,60,0.5,28.0,,,120000.0,180,false,\
,,,,,,,,,,,,
channel+segment,partner / (none),lead,Lead,20,,1.0,,,,,,,20,true,,,,,,,,,,,,,
channel+segment,partner / (none),qualified,MQL,4,0.2,0.2,16,6.0,9.5,,,,20,true,,,,,,,,,,,,,
channel+segment,partner / (none),paid,Paid,1,0.25,0.05,3,,,,,3456.5,20,true,,,,,,,,,,,,,
"""


def test_csv_is_tidy_long_format(report: FunnelReport) -> None:
    text = report_csv(report)
    assert text == EXPECTED_CSV
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == TIDY_COLUMNS
    assert {len(row) for row in rows} == {len(TIDY_COLUMNS)}


def test_csv_quotes_awkward_group_names(report: FunnelReport) -> None:
    breakdown = report.breakdowns[0]
    group = replace(breakdown.groups[0], key={"channel": 'Ads, "paid"', "segment": "SMB"})
    odd = replace(report, breakdowns=(replace(breakdown, groups=(group,)),))
    line = report_csv(odd).splitlines()[4]
    assert line.startswith('channel+segment,"Ads, ""paid"" / SMB",lead,Lead,180,')


# Markdown ------------------------------------------------------------------------------------


def test_markdown_has_the_funnel_and_breakdown_tables(report: FunnelReport) -> None:
    lines = report_markdown(report).splitlines()
    assert lines[:5] == [
        "# Lead to paid",
        "",
        "`saas` · grain: lead · order: backfill · window: 180d",
        "",
        "Entry cohort: ids entering since 2024-01-01 until 2024-04-01 (exclusive), as of "
        "2024-06-30; later stages counted whenever they happened within the window (180d).",
    ]
    funnel_table = [
        "| Stage | Count | Step % | Overall % | Dropped | Median days (from prev) | P90 days "
        "| Value |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| Lead | 200 | — | 100.0% | — | — | — | — |",
        "| MQL | 84 | 42.0% | 42.0% | 116 | 3.5 | 12.4 | — |",
        "| Paid | 21 | 25.0% | 10.5% | 63 | 0.5 | 30.0 | 123,456.75 |",
    ]
    start = lines.index(funnel_table[0])
    assert lines[start : start + 5] == funnel_table
    breakdown = [
        "### By channel + segment",
        "",
        "| Group | Entered | Lead | MQL | Paid |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| ads / SMB | 180 | 180 (100.0%) | 80 (44.4%) | 20 (11.1%) |",
        "| partner / (none)\\* | 20 | 20 (100.0%) | 4 (20.0%) | 1 (5.0%) |",
        "",
        "\\* fewer than 30 entries: too few to compare.",
    ]
    start = lines.index(breakdown[0])
    assert lines[start : start + 8] == breakdown
    assert (
        "> **Immature:** 37 ids entered less than 180d before 2024-06-30 and may still convert."
        in lines
    )


def test_markdown_data_quality_section(report: FunnelReport) -> None:
    text = report_markdown(report)
    section = text[text.index("## Data quality") :]
    assert section == (
        "## Data quality\n"
        "\n"
        "- Rows read: leads 1,250; deals 40\n"
        "- Rows without id: leads 3\n"
        "- Ids with backwards times: 4 (qualified 1; paid 3)\n"
        "- Immature ids: 37\n"
        "- Ids without entry time: 2\n"
        "- Ids outside the period: 1,040\n"
        "- Ids filtered out: 5\n"
        "- Notes:\n"
        "  - 2 unparseable amounts in deals.amount left out of the value sums (funnel validate "
        "shows the first; rules: docs/money.md)\n"
        "\n"
        "Generated by funnelcli 0.1.0 from `funnels/saas.yaml`.\n"
    )


def test_markdown_escapes_pipes_and_stars_in_user_values(report: FunnelReport) -> None:
    breakdown = report.breakdowns[0]
    group = replace(breakdown.groups[0], key={"channel": "a|b", "segment": "*vip*"})
    odd = replace(report, breakdowns=(replace(breakdown, groups=(group,)),))
    assert "| a\\|b / \\*vip\\* | 180 |" in report_markdown(odd)


# Terminal ------------------------------------------------------------------------------------


def _panel_line(content: str, width: int = 100) -> str:
    return "│ " + content.ljust(width - 4) + " │"


EXPECTED_TERMINAL_LINES = [
    "Lead to paid  saas · lead grain · backfill order · window 180d",
    "200 leads entered",
    "Stage  Count  Step %  Overall %  Dropped  Median    P90    Value",
    "Lead     200       —     100.0%        —       —      —        —  " + "█" * 30,
    "MQL       84   42.0%      42.0%      116    3.5d  12.4d        —  ████████████▋",
    "Paid      21   25.0%      10.5%       63   12.0h  30.0d  123,457  ███▏",
    "Median and P90: time from the previous stage.",
    "By channel + segment",
    "Group              Entered        Lead       MQL      Paid",
    "ads / SMB              180  180 100.0%  80 44.4%  20 11.1%",
    "partner / (none)*       20   20 100.0%   4 20.0%    1 5.0%",
    "Per stage: count and % of the group's entries.",
    "* fewer than 30 entries",
    "Immature: 37 ids entered less than 180d before 2024-06-30 and may still convert.",
    "╭─ Data quality " + "─" * 83 + "╮",
    _panel_line("Rows read        leads 1,250 · deals 40"),
    _panel_line("Set aside        3 rows without an id (leads 3)"),
    _panel_line("                 1,040 ids entered outside the period"),
    _panel_line("                 2 ids without an entry time"),
    _panel_line("                 5 ids removed by the filter"),
    _panel_line("Backwards times  4 ids (qualified 1 · paid 3)"),
    _panel_line("Immature         37 ids may still convert"),
    _panel_line(
        "Notes            2 unparseable amounts in deals.amount left out of the value sums (funnel"
    ),
    _panel_line("                 validate shows the first; rules: docs/money.md)"),
    "╰" + "─" * 98 + "╯",
]


def test_terminal_text_at_width_100(report: FunnelReport) -> None:
    text = render(report, Format.table, width=100)
    lines = text.splitlines()
    positions = [lines.index(expected) for expected in EXPECTED_TERMINAL_LINES]
    assert positions == sorted(positions), "sections out of order"
    assert max(len(line) for line in lines) <= 100
    assert "\x1b" not in text


@pytest.mark.parametrize("width", [60, 80, 120])
def test_terminal_fits_the_width_without_cutting_numbers(report: FunnelReport, width: int) -> None:
    text = render(report, Format.table, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    for number in ("123,457", "42.0%", "1,040", "partner / (none)*"):
        assert number in text


def test_terminal_bar_shrinks_at_width_80(report: FunnelReport) -> None:
    lines = render(report, Format.table, width=80).splitlines()
    bar_rows = [
        "Lead     200       —     100.0%        —       —      —        —  " + "█" * 14,
        "MQL       84   42.0%      42.0%      116    3.5d  12.4d        —  █████▉",
        "Paid      21   25.0%      10.5%       63   12.0h  30.0d  123,457  █▌",
    ]
    start = lines.index(bar_rows[0])
    assert lines[start : start + 3] == bar_rows


def test_terminal_splits_a_wide_breakdown_instead_of_cutting_it(report: FunnelReport) -> None:
    breakdown = report.breakdowns[0]
    labels = ["Lead", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won"]

    def widen(group: GroupResult) -> GroupResult:
        stage = group.stages[1]
        extra = tuple(replace(stage, name=f"s{i}", label=label) for i, label in enumerate(labels))
        return replace(group, stages=extra)

    wide = replace(
        report, breakdowns=(replace(breakdown, groups=tuple(map(widen, breakdown.groups))),)
    )
    text = render(wide, Format.table, width=80)
    assert "By channel + segment (continued)" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text


def _print(report: FunnelReport, console: Console) -> None:
    for renderable in draw(report, Format.table):
        console.print(renderable)


def test_terminal_colours_only_through_styles(report: FunnelReport) -> None:
    coloured = io.StringIO()
    _print(report, Console(file=coloured, width=100, force_terminal=True, color_system="standard"))
    assert "\x1b[" in coloured.getvalue()
    plain = io.StringIO()
    _print(report, Console(file=plain, width=100, force_terminal=True, no_color=True))
    assert "\x1b[3" not in plain.getvalue()  # no foreground colours under NO_COLOR


def test_terminal_shows_cents_only_for_small_sums(report: FunnelReport) -> None:
    stages = list(report.overall.stages)
    stages[2] = replace(stages[2], value_sum=950.5)
    small = replace(report, overall=replace(report.overall, stages=tuple(stages)))
    lines = render(small, Format.table, width=100).splitlines()
    assert "Paid      21   25.0%      10.5%       63   12.0h  30.0d  950.50  ███▏" in lines


def test_terminal_prints_user_text_literally(report: FunnelReport) -> None:
    stages = list(report.overall.stages)
    stages[0] = replace(stages[0], label="[bold]Lead[/bold]")
    odd = replace(report, overall=replace(report.overall, stages=tuple(stages)))
    assert "[bold]Lead[/bold]" in render(odd, Format.table, width=120)


def test_durations_and_bars() -> None:
    assert [format_duration(d) for d in (3.5, 1.0, 0.75, 0.0, None)] == [
        "3.5d",
        "1.0d",
        "18.0h",
        "0.0h",
        "—",
    ]
    assert [funnel_bar(f, 4).plain for f in (1.0, 0.5, 0.42, 0.001, 0.0, None)] == [
        "████",
        "██",
        "█▋",
        "▏",
        "",
        "",
    ]


def test_cohort_sentence_without_since_until(report: FunnelReport) -> None:
    open_period = replace(report.period, since=None, until=None, as_of=None)
    assert describe_cohort(open_period, None) == (
        "Entry cohort: ids entering from the first entry (2024-01-02T09:00:00) to the last entry "
        "(2024-03-31T17:30:00); later stages counted whenever they happened."
    )

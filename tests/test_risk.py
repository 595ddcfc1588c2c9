"""`funnel risk` on hand-computed fixtures: each signal, the score and levels, the exact
thresholds, missing days, as-of as a point in time, and bad input (docs/risk.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from funnelcli.commands.risk import RiskRequest, build_risk
from funnelcli.errors import DataError, SpecError
from funnelcli.outputs.risk import Reason, RiskReport
from funnelcli.render.risk_views import reason_text
from risk_fixtures import STEADY, YAML, E, list_case, write_case

AT = datetime(E.year, E.month, E.day)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> RiskReport:
    funnel = list_case(tmp_path_factory.mktemp("risk"))
    return build_risk(funnel, RiskRequest(as_of=AT))


def _account(report: RiskReport, name: str):  # type: ignore[no-untyped-def]
    return next(a for a in report.accounts if a.account == name)


def test_the_ranked_list(report: RiskReport) -> None:
    assert [(a.account, a.score, a.level) for a in report.accounts] == [
        ("A", 54, "medium"),  # drop 45 × renewal boost 1.2 = 54
        ("B", 45, "medium"),
        ("D", 30, "medium"),  # exactly the medium cut-off
        ("G", 25, "low"),
        ("E", 20, "low"),
    ]
    assert [a.rank for a in report.accounts] == [1, 2, 3, 4, 5]


def test_drop_numbers(report: RiskReport) -> None:
    a = _account(report, "A")
    assert a.signals == ("drop", "renewal")
    drop = a.reasons[0]
    assert drop == Reason("drop", "logins", recent=4, baseline=10, change=-0.6, z=-6, weeks=12)
    assert a.reasons[1] == Reason("renewal", days=30)
    assert reason_text(drop) == "logins −60% vs its 12-week median, z = −6.0"
    assert a.arr == 12000  # ¥12,000 for 365 days: 12 months
    assert a.contract_end == (E + timedelta(days=30)).isoformat()
    assert a.days_to_renewal == 30


def test_a_drop_of_exactly_the_threshold_is_flagged(report: RiskReport) -> None:
    b = _account(report, "B")
    assert b.reasons == (
        Reason("drop", "logins", recent=6, baseline=10, change=-0.4, z=-4, weeks=12),
    )
    assert b.arr == 12000  # 18,000 for 535 days: 18 months


def test_just_short_of_the_threshold_is_not(report: RiskReport) -> None:
    assert "C" not in {a.account for a in report.accounts}
    assert report.totals is not None and report.totals.levels["low"].accounts == 4  # C E F G


def test_spike_at_exactly_z_4(report: RiskReport) -> None:
    d = _account(report, "D")
    assert d.reasons == (Reason("spike", "exports", recent=5, baseline=1, change=4, z=4, weeks=12),)
    assert (
        reason_text(d.reasons[0]) == "exports spike: 5 last week, 5.0× its 12-week median, z = 4.0"
    )


def test_silence(report: RiskReport) -> None:
    assert _account(report, "E").reasons == (Reason("silence", days=60),)
    assert "F" not in {a.account for a in report.accounts}


def test_contraction_reads_levels_as_the_mean_of_the_days_with_a_row(report: RiskReport) -> None:
    g = _account(report, "G")
    assert g.reasons == (Reason("contraction", "seats", recent=12, baseline=20, change=-0.4),)


def test_totals_and_the_accounts_not_scored(report: RiskReport) -> None:
    totals = report.totals
    assert totals is not None
    assert (totals.accounts, totals.scored, totals.not_enough_history) == (9, 7, 2)
    assert {k: v.accounts for k, v in totals.levels.items()} == {"high": 0, "medium": 3, "low": 4}
    assert totals.levels["medium"].arr == 36000
    assert totals.signals == {"drop": 2, "spike": 1, "silence": 1, "contraction": 1, "renewal": 1}
    assert totals.usage_without_contract == 1  # X: counted, not scored
    assert [(s.account, s.history_weeks, s.first_usage) for s in report.not_enough_history] == [
        ("H", 5, (E - timedelta(days=35)).isoformat()),
        ("Y", 0, None),
    ]


def test_top_and_min_score(tmp_path: Path) -> None:
    funnel = list_case(tmp_path)
    top = build_risk(funnel, RiskRequest(as_of=AT, top=2))
    assert [a.account for a in top.accounts] == ["A", "B"]
    assert top.totals == build_risk(funnel, RiskRequest(as_of=AT)).totals
    high = build_risk(funnel, RiskRequest(as_of=AT, min_score=30))
    assert [a.account for a in high.accounts] == ["A", "B", "D"]


def test_as_of_is_a_point_in_time(tmp_path: Path) -> None:
    """Usage after the as-of date changes nothing: a run later with --as-of equals the run
    then. Without --as-of the anchor is the day after the last usage row."""
    funnel = list_case(tmp_path / "then")
    before = build_risk(funnel, RiskRequest(as_of=AT))
    later = list_case(tmp_path / "later")
    usage = tmp_path / "later" / "usage.csv"
    with open(usage, "a", encoding="utf-8") as stream:  # a collapse after E, and a touch
        for day in range(1, 40):
            stream.write(f"A,{(E + timedelta(days=day)).isoformat()},0,99,1\n")
    with open(tmp_path / "later" / "touches.csv", "a", encoding="utf-8") as stream:
        stream.write(f"E,{E.isoformat()} 08:00:00\n")
    after = build_risk(later, RiskRequest(as_of=AT))
    assert after.accounts == before.accounts and after.totals == before.totals
    assert build_risk(later, RiskRequest()).as_of == (E + timedelta(days=40)).isoformat()


def test_by_groups_accounts_by_their_first_lead(tmp_path: Path) -> None:
    report = build_risk(list_case(tmp_path), RiskRequest(as_of=AT, by="segment"))
    assert [(a.account, a.group) for a in report.accounts[:3]] == [
        ("A", "SMB"),
        ("B", "SMB"),
        ("D", "SMB"),
    ]
    groups = {g.group: (g.accounts, g.medium, g.arr_at_risk) for g in report.groups}
    assert groups["SMB"] == (3, 3, 36000)
    assert groups["Enterprise"] == (1, 0, 0)  # C
    assert groups["(none)"][0] == 5  # E F G H Y: no lead


# bad input --------------------------------------------------------------------------------------


def test_a_missing_metric_column_names_its_key(tmp_path: Path) -> None:
    yaml = YAML.replace(
        "{logins: count, exports: count, seats: level}",
        "{logins: count, exports: count, seats: level, api_calls: count}",
    )
    funnel = write_case(tmp_path, {"A": STEADY}, [("A", E, E, "1")], yaml=yaml)
    with pytest.raises(
        SpecError,
        match=r"risk\.usage\.metrics\.api_calls.*column 'api_calls' not found in usage\.csv",
    ):
        build_risk(funnel)


def test_a_negative_count_is_an_error_at_its_row(tmp_path: Path) -> None:
    usage = {"A": {**STEADY, E - timedelta(days=3): {"logins": -3}}}
    funnel = write_case(tmp_path, usage, [("A", E, E, "1")])
    with pytest.raises(
        DataError,
        match=r"usage\.csv.*line 18: column 'logins': cannot read '-3' as a usage value \(it is ne",
    ):
        build_risk(funnel)


def test_a_value_that_is_not_a_number(tmp_path: Path) -> None:
    usage = {"A": {**STEADY, E - timedelta(days=3): {"logins": "lots"}}}
    funnel = write_case(tmp_path, usage, [("A", E, E, "1")])
    with pytest.raises(DataError, match=r"cannot read 'lots' as a number"):
        build_risk(funnel)


def test_an_unreadable_date_is_a_rejected_row(tmp_path: Path) -> None:
    funnel = list_case(tmp_path)
    with open(tmp_path / "usage.csv", "a", encoding="utf-8") as stream:
        stream.write("A,not a date,1,0,\n")
    report = build_risk(funnel, RiskRequest(as_of=AT))
    assert report.rows_rejected == {"usage": 1, "touches": 0}
    assert report.accounts[0].account == "A"


def test_a_metric_named_by_a_signal_must_be_declared(tmp_path: Path) -> None:
    yaml = YAML.replace("drop: {metrics: [logins]}", "drop: {metrics: [logins, logouts]}")
    with pytest.raises(
        SpecError, match=r"signals\.drop: metric 'logouts' is not in usage\.metrics"
    ):
        write_case(tmp_path, {"A": STEADY}, [], yaml=yaml)


def test_windows_are_whole_weeks(tmp_path: Path) -> None:
    yaml = YAML.replace("drop: {metrics: [logins]}", "drop: {metrics: [logins], window: 30d}")
    with pytest.raises(SpecError, match=r"risk\.signals\.drop\.window.*whole weeks"):
        write_case(tmp_path, {"A": STEADY}, [], yaml=yaml)


def test_without_a_risk_block(tmp_path: Path) -> None:
    funnel = write_case(tmp_path, {"A": STEADY}, [], yaml=YAML.split("risk:")[0])
    with pytest.raises(SpecError, match="no risk: block"):
        build_risk(funnel)


def test_long_usage_gives_the_same_list(tmp_path: Path, report: RiskReport) -> None:
    """A long export (account, date, metric, value) reads as the wide one."""
    wide = list_case(tmp_path / "wide")
    long_rows = ["account,day,metric,value"]
    lines = (tmp_path / "wide" / "usage.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        cells = line.split(",")
        for name, value in zip(header[2:], cells[2:], strict=True):
            if value:
                long_rows.append(f"{cells[0]},{cells[1]},{name},{value}")
    (tmp_path / "wide" / "usage_long.csv").write_text("\n".join(long_rows) + "\n", encoding="utf-8")
    yaml = (
        (tmp_path / "wide" / "risk.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "path: usage.csv",
            "path: usage_long.csv\n    shape: long\n    account: account\n    time: day\n"
            "    metric: metric\n    value: value",
        )
    )
    from funnelcli.spec import parse_funnel

    funnel = parse_funnel(yaml, file=wide.file, base_dir=wide.base_dir)
    long = build_risk(funnel, RiskRequest(as_of=AT))
    assert long.accounts == report.accounts and long.totals == report.totals


def test_metric_rows_missing_days_are_zero(tmp_path: Path) -> None:
    """The same weekly totals spread over daily rows, or one row a week: the same numbers."""
    daily = {}
    for b in range(16):
        total = 4 if b < 4 else 10
        start = E - timedelta(days=7 * (b + 1))
        daily[start] = {"logins": total - 2}
        daily[start + timedelta(days=3)] = {"logins": 2}
    funnel = write_case(
        tmp_path, {"A": daily}, [("A", E - timedelta(days=200), E + timedelta(days=200), "1")]
    )
    a = build_risk(funnel, RiskRequest(as_of=AT)).accounts[0]
    assert a.reasons[0] == Reason(
        "drop", "logins", recent=4, baseline=10, change=-0.6, z=-6, weeks=12
    )


# read like the funnel's sources ------------------------------------------------------------------


def test_a_gb18030_export_with_chinese_headers_and_slashed_dates(tmp_path: Path) -> None:
    """Encoding detected, 中文 headers named in the YAML, dates as 2025/03/01: the same list."""
    wide = list_case(tmp_path)
    lines = (tmp_path / "usage.csv").read_text(encoding="utf-8").splitlines()
    out = ["账户,日期,登录次数,导出次数,席位"]
    for line in lines[1:]:
        account, day, *values = line.split(",")
        out.append(",".join([account, day.replace("-", "/"), *values]))
    (tmp_path / "usage_cn.csv").write_bytes(("\n".join(out) + "\n").encode("gb18030"))
    yaml = (
        (tmp_path / "risk.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "    path: usage.csv\n    metrics: {logins: count, exports: count, seats: level}",
            "    path: usage_cn.csv\n    account: 账户\n    time: 日期\n"
            "    metrics:\n      logins: {column: 登录次数}\n      exports: {column: 导出次数}\n"
            "      seats: {column: 席位, kind: level}",
        )
    )
    from funnelcli.spec import parse_funnel

    funnel = parse_funnel(yaml, file=wide.file, base_dir=wide.base_dir)
    chinese = build_risk(funnel, RiskRequest(as_of=AT))
    expected = build_risk(wide, RiskRequest(as_of=AT))
    assert chinese.accounts == expected.accounts and chinese.totals == expected.totals


def test_weekly_rows_count_in_the_week_of_their_last_day(tmp_path: Path) -> None:
    funnel = list_case(tmp_path)
    yaml = (
        (tmp_path / "risk.yaml")
        .read_text(encoding="utf-8")
        .replace("    path: usage.csv\n", "    path: usage.csv\n    every: week\n")
    )
    from funnelcli.spec import parse_funnel

    weekly = parse_funnel(yaml, file=funnel.file, base_dir=funnel.base_dir)
    report = build_risk(weekly, RiskRequest(as_of=AT))
    daily = build_risk(funnel, RiskRequest(as_of=AT))
    assert report.accounts[:3] == daily.accounts[:3]  # A, B, D: one row per grid week
    # the last row (week 0, dated E − 7) is complete on E − 1: the default as-of is E
    assert build_risk(weekly).as_of == E.isoformat()


def test_the_cache_keeps_the_result(tmp_path: Path) -> None:
    from funnelcli.commands.options import RunOptions

    funnel = list_case(tmp_path / "data")
    options = RunOptions(cache=True, cache_dir=tmp_path / "cache")
    first = build_risk(funnel, RiskRequest(as_of=AT), options)
    assert any((tmp_path / "cache").rglob("*.parquet"))  # the stored query results
    again = build_risk(funnel, RiskRequest(as_of=AT), options)
    assert again == first


def test_validate_checks_the_risk_files(tmp_path: Path) -> None:
    from funnelcli.commands.validate import validate_funnel

    funnel = list_case(tmp_path)
    validate_funnel(funnel)
    with open(tmp_path / "usage.csv", "a", encoding="utf-8") as stream:
        stream.write("A,2025-03-30,,-1,\n")
    with pytest.raises(DataError, match=r"column 'exports': cannot read '-1' as a usage value"):
        validate_funnel(funnel)


def test_a_usage_file_without_rows(tmp_path: Path) -> None:
    funnel = list_case(tmp_path)
    (tmp_path / "usage.csv").write_text("account_id,date,logins,exports,seats\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"usage\.csv: no usage row with an account and a date"):
        build_risk(funnel)
    assert build_risk(funnel, RiskRequest(as_of=AT)).totals is not None  # all short of history


@pytest.mark.parametrize("doc", ["README.md", "docs/risk.md"])
def test_the_documented_risk_blocks_parse(doc: str) -> None:
    import re

    from funnelcli.spec import parse_funnel

    root = Path(__file__).resolve().parent.parent
    base = "sources:\n  leads: {path: x.csv, id: id, account: a}\nstages:\n  - {name: l, at: t}\n"
    text = (root / doc).read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("risk:")]
    assert blocks
    for block in blocks:
        assert parse_funnel(base + block).spec.risk is not None


def test_a_bad_value_before_the_as_of_date_is_found_in_the_query_pass(tmp_path: Path) -> None:
    """With --as-of no pass reads the file before the signals query: it counts bad values
    itself, then the first one is located."""
    funnel = list_case(tmp_path)
    with open(tmp_path / "usage.csv", "a", encoding="utf-8") as stream:
        stream.write(f"B,{(E - timedelta(days=2)).isoformat()},x7,0,\n")
    with pytest.raises(DataError, match=r"column 'logins': cannot read 'x7' as a number"):
        build_risk(funnel, RiskRequest(as_of=AT))


def test_a_long_file_checks_only_the_declared_metrics(tmp_path: Path) -> None:
    funnel = write_case(
        tmp_path, {}, [("A", E - timedelta(days=300), E + timedelta(days=300), "1")]
    )
    rows = ["account,day,metric,value"]
    rows += [f"A,{(E - timedelta(days=7 * (b + 1))).isoformat()},logins,10" for b in range(16)]
    rows += [f"A,{(E - timedelta(days=3)).isoformat()},plan,gold"]  # not a declared metric
    (tmp_path / "long.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    yaml = (
        (tmp_path / "risk.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "    path: usage.csv\n",
            "    path: long.csv\n    shape: long\n    account: account\n    time: day\n"
            "    metric: metric\n    value: value\n",
        )
    )
    from funnelcli.spec import parse_funnel

    long = parse_funnel(yaml, file=funnel.file, base_dir=funnel.base_dir)
    report = build_risk(long, RiskRequest(as_of=AT))
    assert report.totals is not None and report.totals.scored == 1

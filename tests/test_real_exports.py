"""Issue 6: real CRM exports — encodings, tolerant headers, date formats, xlsx, rejects."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelcli
from funnelcli.engine import text as encodings
from funnelcli.errors import DataError, SpecError
from funnelcli.outputs.report import FunnelReport
from funnelcli.spec import parse_funnel
from funnelcli.sql import dates

CN_YAML = """\
sources:
  leads:
    path: {path}
    id: 编号
    columns:
      {{created: 创建时间, opportunity: 商机时间, won: 赢单时间, channel: 渠道, amount: 金额}}
stages:
  - {{name: lead, at: created}}
  - {{name: opportunity, at: opportunity}}
  - {{name: won, at: won, value: amount}}
breakdown: [channel]
"""
CN_HEADER = ["编号", "创建时间", "渠道", "商机时间", "赢单时间", "金额"]


def cn_rows(n: int = 120, seed: int = 6) -> list[list[str]]:
    """A seeded Chinese-header export: ids, times, channels in Chinese, amounts."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 9, 0)
    rows = []
    for i in range(1, n + 1):
        created = start + timedelta(hours=rng.randint(0, 24 * 200))
        opp = created + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.5 else None
        won = opp + timedelta(days=rng.randint(1, 60)) if opp and rng.random() < 0.5 else None
        rows.append(
            [
                f"C{i:04d}",
                created.strftime("%Y-%m-%d %H:%M:%S"),
                rng.choice(["百度推广", "展会", "转介绍", "官网"]),
                opp.strftime("%Y-%m-%d %H:%M:%S") if opp else "",
                won.strftime("%Y-%m-%d %H:%M:%S") if won else "",
                str(rng.randint(1, 50) * 1000) if won else "",
            ]
        )
    return rows


def csv_text(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> str:
    return newline.join(",".join(r) for r in [header, *rows]) + newline


def run(tmp_path: Path, yaml_text: str, **options: object) -> FunnelReport:
    funnel = parse_funnel(yaml_text, file=str(tmp_path / "funnel.yaml"), base_dir=tmp_path)
    return funnelcli.report(funnel, **options)  # type: ignore[arg-type]


def numbers(report: FunnelReport) -> dict[str, object]:
    data = report.to_dict()
    data["funnel"].pop("file")
    return {k: data[k] for k in ("overall", "breakdowns", "data_quality", "period")}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_xlsx(path: Path, header: list[str], rows: list[list[str]], sheet: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "说明"
    first.append(["这个工作表不是数据"])
    data = book.create_sheet(sheet)
    data.append(header)
    for row in rows:
        cells: list[object] = []
        for name, value in zip(header, row, strict=True):
            if value and name.endswith("时间"):
                cells.append(datetime.strptime(value, "%Y-%m-%d %H:%M:%S"))  # real Excel dates
            elif value and name == "金额":
                cells.append(int(value))
            else:
                cells.append(value or None)
        data.append(cells)
    book.save(path)


def test_same_numbers_in_every_encoding_and_in_xlsx(tmp_path: Path) -> None:
    text = csv_text(CN_HEADER, cn_rows())
    variants = {
        "utf8.csv": text.encode("utf-8"),
        "bom.csv": codecs.BOM_UTF8 + text.encode("utf-8"),
        "gb18030.csv": text.encode("gb18030"),
        "gbk.csv": text.encode("gbk"),
        "utf16.csv": text.encode("utf-16"),  # with BOM (LE on this machine)
        "utf16be.csv": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        "utf16le_no_bom.csv": text.encode("utf-16-le"),
        "gb18030.csv.gz": gzip.compress(text.encode("gb18030"), mtime=0),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    write_xlsx(tmp_path / "export.xlsx", CN_HEADER, cn_rows(), "线索")
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    baseline = numbers(run(tmp_path, CN_YAML.format(path="utf8.csv")))
    overall = baseline["overall"]
    assert isinstance(overall, dict) and overall["entered"] == 120
    for name in variants:
        assert numbers(run(tmp_path, CN_YAML.format(path=name))) == baseline, name
    xlsx_yaml = CN_YAML.format(path="export.xlsx").replace("id: 编号", "id: 编号\n    sheet: 线索")
    assert numbers(run(tmp_path, xlsx_yaml)) == baseline
    index_yaml = CN_YAML.format(path="export.xlsx").replace("id: 编号", "id: 编号\n    sheet: 1")
    assert numbers(run(tmp_path, index_yaml)) == baseline
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before  # inputs untouched


def test_transcoded_copies_are_kept_only_with_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --cache a GB18030 or .xlsx source is read through copies in a temporary folder
    that is gone after the run; with it they are kept in the cache folder and reused."""
    import tempfile

    (tmp_path / "gb.csv").write_bytes(csv_text(CN_HEADER, cn_rows(10)).encode("gb18030"))
    write_xlsx(tmp_path / "book.xlsx", CN_HEADER, cn_rows(10), "线索")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "user-cache"))
    cache = tmp_path / "cache"
    for path in ("gb.csv", "book.xlsx"):
        yaml_text = CN_YAML.format(path=path)
        if path.endswith(".xlsx"):
            yaml_text = yaml_text.replace("id: 编号", "id: 编号\n    sheet: 线索")
        plain = numbers(run(tmp_path, yaml_text))
        assert not (tmp_path / "user-cache").exists()
        assert not [p for p in scratch.iterdir() if p.name.startswith("funnelcli-copies")]
        assert numbers(run(tmp_path, yaml_text, cache_dir=cache, cache=True)) == plain
    assert len(list((cache / "text").glob("*.csv"))) == 1
    assert len(list((cache / "xlsx").glob("*.csv"))) == 1


def test_a_glob_of_monthly_exports_in_different_encodings(tmp_path: Path) -> None:
    rows = cn_rows()
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "1.csv").write_bytes(csv_text(CN_HEADER, rows[:60]).encode("gb18030"))
    (tmp_path / "exports" / "2.csv").write_bytes(csv_text(CN_HEADER, rows[60:]).encode("utf-16"))
    (tmp_path / "all.csv").write_text(csv_text(CN_HEADER, rows), encoding="utf-8")
    whole = numbers(run(tmp_path, CN_YAML.format(path="all.csv")))
    assert numbers(run(tmp_path, CN_YAML.format(path="exports/*.csv"))) == whole


def test_encoding_detection() -> None:
    text = "编号,渠道\n1,百度推广\n"
    assert encodings.detect(text.encode("utf-8")) == "utf-8"
    assert encodings.detect(codecs.BOM_UTF8 + text.encode()) == "utf-8-sig"
    assert encodings.detect(text.encode("utf-16")) == "utf-16"
    assert encodings.detect(text.encode("utf-16-le")) == "utf-16-le"
    assert encodings.detect(text.encode("utf-16-be")) == "utf-16-be"
    assert encodings.detect(text.encode("gb18030")) == "gb18030"
    assert encodings.detect("name\nCafé, Zürich\n".encode("latin-1")) == "latin-1"
    assert encodings.detect("city\nZürich\nSão Paulo\n".encode("latin-1")) == "latin-1"
    assert encodings.detect("渠道\n百度推广\n展会\n".encode("gbk")) == "gb18030"
    assert encodings.detect(b"id,x\n1,2\n") == "utf-8"


def test_latin1_export_reads_correctly(tmp_path: Path) -> None:
    text = "id,created_at,city\n1,2024-01-01,Zürich\n2,2024-01-02,São Paulo\n3,2024-01-03,Zürich\n"
    (tmp_path / "l.csv").write_bytes(text.encode("latin-1"))
    yaml_text = "sources:\n  l: {path: l.csv, id: id}\nstages:\n  - {name: lead, at: created_at}\n"
    report = run(tmp_path, yaml_text, by="city")
    groups = {g.key["city"]: g.entered for g in report.breakdowns[0].groups}
    assert groups == {"Zürich": 2, "São Paulo": 1}


def test_transcoding_streams_across_chunk_boundaries_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encodings, "_CHUNK", 7)  # split multi-byte characters on purpose
    text = "编号,渠道\n" + "".join(f"{i},百度推广{i}\n" for i in range(50))
    source = tmp_path / "gbk.csv"
    source.write_bytes(text.encode("gb18030"))
    cache = tmp_path / "cache"
    copy, encoding = encodings.readable(source, "auto", cache)
    assert encoding == "utf-8" and copy.parent.parent == cache
    assert copy.read_text(encoding="utf-8") == text
    assert encodings.readable(source, "auto", cache)[0] == copy  # reused
    source.write_bytes((text + "99,展会\n").encode("gb18030"))  # a changed original …
    again, _ = encodings.readable(source, "auto", cache)
    assert again != copy and again.read_text(encoding="utf-8").endswith("99,展会\n")


def test_wrong_encoding_declared_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_bytes(b"id,created_at\n1,2024-01-01\n2,2024-01-02\xff\xff\n")
    yaml_text = (
        "sources:\n  leads: {path: l.csv, id: id, encoding: gb18030}\n"
        "stages:\n  - {name: lead, at: created_at}\n"
    )
    with pytest.raises(DataError) as err:
        run(tmp_path, yaml_text)
    assert str(err.value) == (
        f"{tmp_path / 'l.csv'}:line 3: bytes at offset 39 are not valid gb18030 "
        "(declare the right encoding: or use encoding: auto)"
    )


def test_headers_tolerate_case_spaces_full_width_and_bom(tmp_path: Path) -> None:
    header = "\ufeff Lead_ID ,ＣＲＥＡＴＥＤ＿ＡＴ,　渠道　\n"
    (tmp_path / "l.csv").write_text(header + "1,2024-01-01,展会\n2,2024-01-02,官网\n")
    yaml_text = (
        "sources:\n  leads: {path: l.csv, id: lead_id}\n"
        "stages:\n  - {name: lead, at: created_at}\nbreakdown: [渠道]\n"
    )
    report = run(tmp_path, yaml_text, by="渠道")
    assert report.overall.entered == 2
    groups = sorted(g.key["渠道"] for g in report.breakdowns[0].groups)
    assert groups == ["官网", "展会"]


def test_missing_header_suggests_the_closest(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("编号,创建时间,赢单时间\n1,2024-01-01,\n")
    yaml_text = (
        "sources:\n  leads: {path: l.csv, id: 编号}\n"
        "stages:\n  - {name: lead, at: 创建时间}\n  - {name: won, at: 赢单日期}\n"
    )
    with pytest.raises(SpecError) as err:
        run(tmp_path, yaml_text)
    assert err.value.line == 5 and err.value.key == "stages[1].at"
    assert "did you mean '赢单时间'" in str(err.value)


def test_chinese_stage_names_in_match(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(
        "商机编号,阶段,变更时间\n"
        "O1,线索,2024-01-01\nO1,商机,2024-01-05\nO1,赢单,2024-02-01\n"
        "O2,线索,2024-01-02\nO2,输单,2024-01-09\n"
        "O3,线索,2024-01-03\nO3,商机,2024-01-04\n",
        encoding="gb18030",
    )
    yaml_text = (
        "sources:\n  h: {path: h.csv, shape: long, id: 商机编号, stage: 阶段, at: 变更时间}\n"
        "stages:\n  - {name: lead, match: 线索}\n  - {name: opp, match: [商机]}\n"
        "  - {name: won, match: [赢单, 成交]}\n"
    )
    report = run(tmp_path, yaml_text)
    assert [s.count for s in report.overall.stages] == [3, 2, 1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", "%Y-%m-%d"),
        ("2024-03-05 14:30", "%Y-%m-%d %H:%M"),
        ("2024-03-05T14:30:00", "%Y-%m-%dT%H:%M:%S"),
        ("2024-03-05T14:30:00+08:00", "iso"),
        ("2024-3-5", "iso"),
        ("2024/3/5", "%Y/%m/%d"),
        ("2024/03/05 14:30", "%Y/%m/%d %H:%M"),
        ("2024年3月5日", "%Y年%m月%d日"),
        ("2024年3月5日 14:30:05", "%Y年%m月%d日 %H:%M:%S"),
        ("1709632800", "unix_s"),
        ("1709632800000", "unix_ms"),
        ("45356.5", "excel"),
        ("next tuesday", None),
    ],
)
def test_classify(value: str, expected: str | None) -> None:
    shape = dates.classify(value, None)
    assert (shape.format if shape else None) == expected


def test_day_month_classification() -> None:
    assert dates.classify("05/03/2024", True) == dates.Shape("%d/%m/%Y")
    assert dates.classify("05/03/2024", False) == dates.Shape("%m/%d/%Y")
    assert dates.classify("05.03.2024 10:00", None) == dates.Shape(
        "%d.%m.%Y %H:%M", (5, 3), "%m.%d.%Y %H:%M"
    )


DATES_CSV = """\
id,t
1,2024-03-05 14:30
2,2024/3/6
3,2024年3月7日
4,1709632800
5,1709719200000
6,45362.25
7,13/03/2024
8,05/03/2024
9,03/03/2024
10,not a date
11,
"""


def entry_times(
    tmp_path: Path, extra: str = "", csv: str = DATES_CSV, **options: object
) -> FunnelReport:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "d.csv").write_text(csv)
    yaml_text = (
        f"sources:\n  s: {{path: d.csv, id: id{extra}}}\nstages:\n  - {{name: lead, at: t}}\n"
        "max_rejected: 50%\n"
    )
    return run(tmp_path, yaml_text, **options)


def test_auto_detected_dates_and_rejects(tmp_path: Path) -> None:
    report = entry_times(tmp_path, rejects=tmp_path / "rejects.csv")
    quality = report.data_quality
    # 13/03/2024 makes the column day-first, so 05/03/2024 is 5 March; row 10 is rejected,
    # 11 is empty (no entry).
    assert quality.rows_rejected == {"s": 1}
    assert quality.rejects_by_reason == {dates.UNPARSEABLE: 1}
    assert quality.rows_read == {"s": 10}
    assert report.overall.entered == 9
    assert report.period.first_entry == "2024-03-03"
    assert report.period.last_entry == "2024-03-13"
    rejects = (tmp_path / "rejects.csv").read_text().splitlines()
    assert rejects == [
        "source,file,line,column,value,reason",
        f"s,{tmp_path / 'd.csv'},11,t,not a date,{dates.UNPARSEABLE}",
    ]


def test_each_format_gives_the_exact_utc_time(tmp_path: Path) -> None:
    cases = {
        "2024-03-05 14:30": "2024-03-05 14:30:00",
        "2024/3/6": "2024-03-06",
        "2024年3月7日": "2024-03-07",
        "1709632800": "2024-03-05 10:00:00",
        "1709719200000": "2024-03-06 10:00:00",
        "45362.25": "2024-03-11 06:00:00",
        "2024-03-05T14:30:00+08:00": "2024-03-05 06:30:00",
    }
    for raw, expected in cases.items():
        report = entry_times(tmp_path / raw.replace("/", "_"), csv=f"id,t\n1,{raw}\n")
        assert report.period.first_entry == expected, raw


def test_day_first_and_time_zone(tmp_path: Path) -> None:
    csv = "id,t\n1,05/03/2024 08:00\n2,06/03/2024 09:00\n"
    report = entry_times(tmp_path / "a", ", day_first: true, tz: Asia/Shanghai", csv=csv)
    assert report.period.first_entry == "2024-03-05"  # 08:00 in Shanghai = 00:00 UTC
    assert report.period.last_entry == "2024-03-06 01:00:00"
    report = entry_times(tmp_path / "b", ", day_first: false", csv=csv)
    assert report.period.first_entry == "2024-05-03 08:00:00"


def test_declared_formats_tried_in_order(tmp_path: Path) -> None:
    csv = "id,t\n1,05.03.2024\n2,20240306\n3,2024-03-07\n"
    report = entry_times(tmp_path, ", formats: {t: ['%d.%m.%Y', '%Y%m%d']}", csv=csv)
    assert report.overall.entered == 2
    assert report.data_quality.rejects_by_reason == {dates.UNPARSEABLE: 1}


def test_unknown_tz_and_format_are_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown time zone 'Mars/Base'") as err:
        entry_times(tmp_path, ", tz: Mars/Base")
    assert err.value.key == "sources.s.tz"
    with pytest.raises(SpecError, match="unknown date format 'dd/mm'") as err:
        entry_times(tmp_path, ", formats: {t: dd/mm}")
    assert err.value.key == "sources.s.formats.t"


def test_newest_first_export_with_an_empty_first_20k_rows(tmp_path: Path) -> None:
    """Issue 8.4: DuckDB's sniffer samples 20,480 rows; types come from the spec instead."""
    lines = ["id,created_at,paid_at,note"]
    for i in range(25_000):
        paid = "2024-02-01 10:00:00" if i >= 21_000 and i % 10 == 0 else ""
        lines.append(f"{i},2024-01-01 09:00:00,{paid},x")
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    yaml_text = (
        "sources:\n  l: {path: l.csv, id: id}\n"
        "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n"
    )
    report = run(tmp_path, yaml_text)
    assert [s.count for s in report.overall.stages] == [25_000, 400]
    assert report.data_quality.rows_rejected == {"l": 0}


def test_ids_keep_leading_zeros_and_duplicates_are_merged(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text(
        "id,created_at,paid_at\n007,2024-01-01,\n7,2024-01-02,2024-01-05\n"
        "007,2024-01-03,2024-01-04\n"
    )
    yaml_text = (
        "sources:\n  l: {path: l.csv, id: id}\n"
        "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n"
    )
    report = run(tmp_path, yaml_text)
    assert report.overall.entered == 2  # '007' and '7' are different ids
    assert report.data_quality.duplicate_ids == {"l": 1}
    assert [s.count for s in report.overall.stages] == [2, 2]
    # 007: entry 2024-01-01 (earliest row), paid 2024-01-04: 3 days.
    assert report.overall.stages[1].time_from_previous.median_days == 3.0


def test_strict_turns_a_reject_into_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        entry_times(tmp_path, strict=True)
    assert err.value.line == 11 and err.value.column == "t"
    assert "unparseable date" in str(err.value)


def test_missing_sheet_names_the_key(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "e.xlsx", CN_HEADER, cn_rows(3), "线索")
    yaml_text = CN_YAML.format(path="e.xlsx").replace("id: 编号", "id: 编号\n    sheet: 商机")
    with pytest.raises(SpecError, match=r"no sheet '商机' in e\.xlsx") as err:
        run(tmp_path, yaml_text)
    assert err.value.key == "sources.leads.sheet"


def test_a_bad_date_after_the_sample_falls_back_to_rejects(tmp_path: Path) -> None:
    """The fast path (DuckDB types the column itself) fails on a value the sample did not see;
    the engine then re-reads the column as text and sets that row aside with its line."""
    lines = ["id,created_at"] + [f"{i},2024-01-01 09:00:00" for i in range(3000)]
    lines[2500] = "2499,31.12.2024"
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    yaml_text = "sources:\n  l: {path: l.csv, id: id}\nstages:\n  - {name: lead, at: created_at}\n"
    report = run(tmp_path, yaml_text, rejects=tmp_path / "r.csv")
    assert report.overall.entered == 2999
    assert report.data_quality.rows_rejected == {"l": 1}
    assert (tmp_path / "r.csv").read_text().splitlines()[1].split(",")[2:] == [
        "2501",
        "created_at",
        "31.12.2024",
        dates.UNPARSEABLE,
    ]


def test_a_detected_date_column_still_reads_a_later_iso_time(tmp_path: Path) -> None:
    lines = ["id,created_at"] + [f"{i},2024-01-01" for i in range(2500)]
    lines.append("2500,2024-01-02 10:30:00")
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    yaml_text = "sources:\n  l: {path: l.csv, id: id}\nstages:\n  - {name: lead, at: created_at}\n"
    report = run(tmp_path, yaml_text)
    assert report.data_quality.rows_rejected == {"l": 0}
    assert report.period.last_entry == "2024-01-02 10:30:00"


def test_duckdb_reads_only_the_declared_files(tmp_path: Path) -> None:
    from funnelcli.engine import open_engine
    from funnelcli.errors import FunnelError

    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    (tmp_path / "l.csv").write_bytes("编号,创建时间\n1,2024-01-01\n".encode("gb18030"))
    yaml_text = "sources:\n  l: {path: l.csv, id: 编号}\nstages:\n  - {name: lead, at: 创建时间}\n"
    funnel = parse_funnel(yaml_text, file=str(tmp_path / "f.yaml"), base_dir=tmp_path)
    with open_engine(funnel) as engine:
        for sql in (
            f"SELECT * FROM read_csv('{secret}')",
            f"SELECT * FROM read_csv('{tmp_path / 'l.csv'}')",  # the original: only its copy
            f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(FunnelError):
                engine.session.run(sql)
        count = sqlglot.parse_one('SELECT count(*) AS n FROM "source_l"', read="duckdb")
        assert engine.rows(count) == [{"n": 1}]
    assert not (tmp_path / "out.csv").exists()


def test_chinese_example_funnel_matches_a_plain_python_count() -> None:
    """funnels/chinese.yaml over sample_data/stage_changes_cn.csv (GB18030): the counts equal a
    direct count of ids per stage (backfill: reaching a stage implies the earlier ones)."""
    import csv
    import io

    from funnelcli.spec import load_funnel

    root = Path(__file__).parent.parent
    raw = (root / "sample_data" / "stage_changes_cn.csv").read_bytes()
    assert encodings.detect(raw[:65536]) == "gb18030"
    order = ["线索", "商机", "试用", "赢单", "续费"]
    furthest: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(raw.decode("gb18030"))):
        if row["阶段"] in order:
            k = order.index(row["阶段"])
            furthest[row["客户编号"]] = max(furthest.get(row["客户编号"], -1), k)
    expected = [sum(1 for k in furthest.values() if k >= i) for i in range(len(order))]
    report = funnelcli.report(load_funnel(root / "funnels" / "chinese.yaml"))
    assert [s.count for s in report.overall.stages] == expected
    assert [s.label for s in report.funnel.stages] == order


def test_report_json_with_rejects_and_duplicates_matches_the_schema(tmp_path: Path) -> None:
    import jsonschema

    from funnelcli.outputs.report import FunnelReport

    csv = DATES_CSV + "1,2024-03-01\n"
    report = entry_times(tmp_path, csv=csv)
    data = report.to_dict()
    jsonschema.validate(data, FunnelReport.schema_document())
    assert data["data_quality"]["duplicate_ids"] == {"s": 1}
    assert data["data_quality"]["rows_rejected"] == {"s": 1}


@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)).map(
            lambda d: d.replace(microsecond=0)
        ),
        min_size=1,
        max_size=8,
    ),
    style=st.sampled_from(
        [
            *("iso", "slash", "chinese", "day_first", "unix_s", "unix_ms", "excel"),
            *("us_ampm", "month_name", "day_month_name", "dotted", "chinese_shi", "sf_api"),
        ]
    ),
)
@settings(
    max_examples=int(os.environ.get("FUNNEL_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_written_format_reads_back_the_same_moment(
    tmp_path: Path, moments: list[datetime], style: str
) -> None:
    """Property: a moment written in any supported style is read back exactly (to the second,
    or to the minute for styles without seconds), by a pure-Python reference formatter."""
    from funnelcli.engine import open_engine

    def write(d: datetime) -> tuple[str, datetime]:
        if style == "iso":
            return d.strftime("%Y-%m-%d %H:%M:%S"), d
        if style == "slash":
            return f"{d.year}/{d.month}/{d.day} {d:%H:%M}", d.replace(second=0)
        if style == "chinese":
            return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M:%S}", d
        if style == "day_first":
            return d.strftime("%d/%m/%Y %H:%M"), d.replace(second=0)
        hour12 = f"{(d.hour - 1) % 12 + 1}:{d:%M} {'AM' if d.hour < 12 else 'PM'}"
        if style == "us_ampm":  # Salesforce US reports: 3/4/25 9:47 AM
            return f"{d.month}/{d.day}/{d:%y} {hour12}", d.replace(second=0)
        if style == "month_name":  # HubSpot: Mar 04, 2025 / March 4, 2025 9:47 AM
            return f"{d:%b %d, %Y} {hour12}", d.replace(second=0)
        if style == "day_month_name":
            return f"{d.day} {d:%B %Y}", d.replace(hour=0, minute=0, second=0)
        if style == "dotted":
            return f"{d.day}.{d.month}.{d.year} {d:%H:%M:%S}", d
        if style == "chinese_shi":
            return f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分", d.replace(second=0)
        if style == "sf_api":
            return d.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), d
        epoch = int((d - datetime(1970, 1, 1)).total_seconds())
        if style == "unix_s":
            return str(epoch), d
        if style == "unix_ms":
            return str(epoch * 1000), d
        days = (d - datetime(1899, 12, 30)).total_seconds() / 86400
        return repr(days), d

    import tempfile

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    pairs = [write(d) for d in moments]
    if style == "unix_s":
        pairs = [(t, d) for t, d in pairs if 9 <= len(t) <= 10]
    if style == "excel":
        pairs = [(t, d) for t, d in pairs if len(t.split(".")[0]) == 5]
    if not pairs:
        return
    lines = ["id,t"] + [f'{i},"{text}"' for i, (text, _) in enumerate(pairs)]
    (folder / "d.csv").write_text("\n".join(lines) + "\n")
    extra = {"day_first": ", day_first: true", "dotted": ", day_first: true"}.get(style, "")
    extra = ", day_first: false" if style == "us_ampm" else extra
    yaml_text = f"sources:\n  s: {{path: d.csv, id: id{extra}}}\nstages:\n  - {{name: a, at: t}}\n"
    funnel = parse_funnel(yaml_text, file=str(folder / "f.yaml"), base_dir=folder)
    with open_engine(funnel) as engine:
        query = 'SELECT id, t FROM "source_s" ORDER BY CAST(id AS INTEGER)'
        rows = engine.rows(sqlglot.parse_one(query, read="duckdb"))
    got = [row["t"] for row in rows]
    for (text, expected), value in zip(pairs, got, strict=True):
        if style == "excel":  # serial days carry float rounding: within a millisecond
            assert abs((value - expected).total_seconds()) < 1e-3, text
        else:
            assert value == expected, text

"""The Parquet cache: hit, miss, invalidation, damage recovery, clear/info, same numbers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlglot
from sqlglot import exp
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.compile import ReportQuery
from funnelcli.engine import copies as cache
from funnelcli.engine import open_engine, results
from funnelcli.engine.store import default_cache_dir
from funnelcli.errors import DataError
from funnelcli.outputs.cache import CacheInfo
from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "funnels", tmp_path / "funnels")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _report(repo: Path, name: str = "default", **options: Any) -> dict[str, Any]:
    funnel = load_funnel(repo / "funnels" / f"{name}.yaml")
    return funnelcli.report(funnel, **options).to_dict()


def _parquets(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


@pytest.mark.parametrize("name", ["default", "history", "accounts"])
def test_cached_report_has_the_same_numbers(repo: Path, name: str) -> None:
    plain = _report(repo, name=name)
    first = _report(repo, name=name, cache=True)  # miss: builds the copies
    second = _report(repo, name=name, cache=True)  # hit
    assert first == plain and second == plain
    assert _parquets(repo / "cache")


def test_second_run_reuses_the_entry(repo: Path) -> None:
    _report(repo, cache=True)
    (parquet,) = _parquets(repo / "cache")
    built = parquet.stat().st_mtime_ns
    _report(repo, cache=True)
    assert _parquets(repo / "cache") == [parquet]
    assert parquet.stat().st_mtime_ns == built


def test_cache_off_writes_nothing(repo: Path) -> None:
    _report(repo)
    assert not (repo / "cache").exists()


def test_the_yaml_setting_turns_the_cache_on(repo: Path) -> None:
    yaml_file = repo / "funnels" / "default.yaml"
    yaml_file.write_text(yaml_file.read_text() + "cache: true\n")
    _report(repo)
    assert len(_parquets(repo / "cache")) == 1
    _report(repo, cache=False)  # --no-cache wins over the YAML


def test_a_changed_file_replaces_its_entry(repo: Path) -> None:
    before = _report(repo, cache=True)
    (old,) = _parquets(repo / "cache")
    leads = repo / "sample_data" / "leads.csv"
    lines = leads.read_text().splitlines(keepends=True)
    leads.write_text("".join(lines[:-1000]))  # drop the last 1000 leads
    after = _report(repo, cache=True)
    assert after == _report(repo)
    assert after != before
    (new,) = _parquets(repo / "cache")
    assert new != old


def test_same_size_and_mtime_but_new_bytes_is_a_miss(repo: Path) -> None:
    leads = repo / "sample_data" / "leads.csv"
    stat = leads.stat()
    key_before = _key(repo)
    text = leads.read_text()
    changed = text.replace("L000001,", "L000009,", 1)  # same size, first block differs
    assert changed != text
    leads.write_text(changed)
    os.utime(leads, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert leads.stat().st_size == stat.st_size
    assert _key(repo) != key_before


def test_a_same_size_middle_edit_with_the_mtime_restored_is_a_miss(repo: Path) -> None:
    """The edit touches neither 64 KiB end; the ctime (which no one can set back) moves."""
    leads = repo / "sample_data" / "leads.csv"
    data = leads.read_bytes()
    assert len(data) > 3 * 64 * 1024
    before_report = _report(repo, cache=True)
    info = leads.stat()
    key_before = _key(repo)
    middle = len(data) // 2
    digit = data.index(b",", middle) + 1  # a field in the middle of the file
    changed = data[:digit] + b"X" + data[digit + 1 :]
    leads.write_bytes(changed)
    os.utime(leads, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert leads.stat().st_size == info.st_size and leads.stat().st_mtime_ns == info.st_mtime_ns
    assert _key(repo) != key_before
    assert _report(repo, cache=True) == _report(repo)  # the cache answers from the new bytes
    leads.write_bytes(data)
    assert _report(repo, cache=True) == before_report


def _key(repo: Path) -> str:
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    source = funnel.spec.sources["leads"]
    return cache.cache_key(source, [repo / "sample_data" / "leads.csv"], "x", "created_at")


def test_source_settings_are_part_of_the_key(repo: Path) -> None:
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    source = funnel.spec.sources["leads"]
    files = [repo / "sample_data" / "leads.csv"]
    other = source.model_copy(update={"delimiter": ";"})
    assert cache.cache_key(source, files, "x", None) != cache.cache_key(other, files, "x", None)


def test_a_damaged_cache_file_is_rebuilt(repo: Path) -> None:
    plain = _report(repo)
    _report(repo, cache=True)
    (parquet,) = _parquets(repo / "cache")
    parquet.write_bytes(b"not a parquet file")
    assert _report(repo, cache=True) == plain
    assert parquet.stat().st_size > 1000
    (meta,) = (repo / "cache").glob("*.json")
    meta.write_text("{broken")
    assert _report(repo, cache=True) == plain


def test_unreadable_value_names_the_original_line_with_the_cache(repo: Path) -> None:
    """The Parquet copy is sorted by entry time; rejects still name the CSV's own line."""
    leads = repo / "sample_data" / "leads.csv"
    lines = leads.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = lines[5].rstrip("\n").split(",")
    row[header.index("paid_at")] = "31/02/2025"
    lines[5] = ",".join(row) + "\n"
    leads.write_text("".join(lines))
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    plain = funnelcli.report(funnel, cache=False)
    cached = funnelcli.report(funnel, cache=True, rejects=repo / "rejects.csv")
    assert cached == plain
    assert cached.data_quality.rows_rejected == {"leads": 1}
    rejects = (repo / "rejects.csv").read_text().splitlines()
    assert len(rejects) == 2 and ",6,paid_at,31/02/2025,unparseable date" in rejects[1]
    with pytest.raises(DataError, match=r"leads\.csv:line 6: column 'paid_at'"):
        funnelcli.report(funnel, cache=True, strict=True)


def test_cache_info_and_clear(repo: Path) -> None:
    runner = CliRunner()
    folder = repo / "cache"
    result = runner.invoke(app, ["cache", "info"], env=ENV)
    assert result.exit_code == 0 and "0 cached source(s)" in result.stdout
    assert runner.invoke(app, ["report", "--cache", "-f", "json"], env=ENV).exit_code == 0
    result = runner.invoke(app, ["cache", "info", "--format", "json"], env=ENV)
    document = json.loads(result.stdout)
    assert document["schema"] == "funnelcli.cache/1"
    jsonschema.validate(document, CacheInfo.schema_document())
    (entry,) = document["entries"]
    assert entry["source"] == "leads"
    assert entry["rows"] == 3000
    assert entry["files"] == [str((repo / "sample_data" / "leads.csv").resolve())]
    assert document["total_bytes"] == entry["bytes"] == Path(entry["parquet"]).stat().st_size
    # the report, the check for one row per id and the first pass for the default as_of
    stored = list((folder / "results").glob("*.parquet"))
    size = sum(p.stat().st_size for p in stored)
    assert document["results"] == {"entries": 3, "bytes": size}
    result = runner.invoke(app, ["cache", "info"], env=ENV)
    assert "1 cached source(s)" in result.stdout and "stored query results: 3," in result.stdout
    (folder / "notes.txt").write_text("not ours")
    result = runner.invoke(app, ["cache", "clear"], env=ENV)
    # the copy, the three stored results, their records and the leads.csv probing memo
    assert result.exit_code == 0 and "Removed 9 file(s)" in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["CACHEDIR.TAG", "notes.txt"]
    (folder / "notes.txt").unlink()  # nothing but the tag left: an empty folder, cleared again
    assert runner.invoke(app, ["cache", "clear"], env=ENV).exit_code == 0
    assert not any(folder.iterdir())
    assert "Removed 0 file(s)" in runner.invoke(app, ["cache", "clear"], env=ENV).stdout
    other = repo / "elsewhere"
    args = ["report", "--cache", "--cache-dir", str(other), "-f", "json"]
    assert runner.invoke(app, args, env=ENV).exit_code == 0
    assert len(_parquets(other)) == 1 and not _parquets(folder)


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("FUNNELCLI_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "x" / "funnelcli"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "funnelcli"


def test_the_copy_is_sorted_by_entry_time(repo: Path) -> None:
    import csv

    import duckdb

    _report(repo, cache=True)
    (parquet,) = _parquets(repo / "cache")
    rows = duckdb.sql(f"SELECT created_at, lead_id FROM read_parquet('{parquet}')").fetchall()
    assert len(rows) == 3000
    created = [r[0] for r in rows]
    assert created == sorted(created)
    with (repo / "sample_data" / "leads.csv").open(encoding="utf-8", newline="") as stream:
        original = [r["lead_id"] for r in csv.DictReader(stream)]
    assert sorted(r[1] for r in rows) == sorted(original)


def _copy_statements(seen: list[str]) -> list[str]:
    """The statements that wrote a source's copy (not a stored result)."""
    return [s for s in seen if s.startswith("COPY") and "/results/" not in s]


@pytest.mark.parametrize(
    ("order", "sorts"),
    [
        ("as exported", 0),  # already in entry order: written in file order, no sort
        ("newest first", 1),  # its first rows are out of order: sorted while copying
        ("ordered head, shuffled tail", 1),  # checked after writing, then sorted
        ("empty times first", 1),  # NULLs sort last: a time after an empty one is out of order
    ],
)
def test_the_copy_is_sorted_whatever_the_file_order(
    repo: Path, monkeypatch: pytest.MonkeyPatch, order: str, sorts: int
) -> None:
    import csv
    import random

    import duckdb

    monkeypatch.setattr(cache, "ORDER_CHECK_ROWS", 1000)  # the check's head: a third of the file
    leads = repo / "sample_data" / "leads.csv"
    header, *rows = leads.read_text().splitlines(keepends=True)
    if order == "newest first":
        rows.reverse()
    elif order == "ordered head, shuffled tail":
        tail = rows[2000:]
        random.Random(7).shuffle(tail)
        rows[2000:] = tail
    elif order == "empty times first":
        names = header.rstrip("\n").split(",")
        blank = rows[0].rstrip("\n").split(",")
        blank[names.index("created_at")] = ""
        rows[0] = ",".join(blank) + "\n"
    leads.write_text(header + "".join(rows))
    plain = _report(repo)
    seen = _statements(monkeypatch)
    assert _report(repo, cache=True) == plain
    copies = _copy_statements(seen)
    assert len([c for c in copies if "ORDER BY" in c]) == sorts
    assert len(copies) == (2 if order == "ordered head, shuffled tail" else 1)
    (parquet,) = _parquets(repo / "cache")
    found = duckdb.sql(f"SELECT created_at, lead_id FROM read_parquet('{parquet}')").fetchall()
    times = [t for t, _ in found]
    present = [t for t in times if t is not None]
    assert times == present + [None] * (len(times) - len(present))
    assert present == sorted(present)
    with leads.open(encoding="utf-8", newline="") as stream:
        assert sorted(i for _, i in found) == sorted(r["lead_id"] for r in csv.DictReader(stream))
    assert not [p for p in (repo / "cache").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("change", ["none", "repeated id", "missing id"])
def test_a_copy_with_one_row_per_id_is_read_per_row(repo: Path, change: str) -> None:
    """Distinct ids (checked once per copy, stored): layer 1 without GROUP BY; a repeated id,
    or one missing, keeps the GROUP BY. The numbers are the same either way."""
    from funnelcli.commands.query import compile_for, plan_query
    from funnelcli.compile import rewrites

    leads = repo / "sample_data" / "leads.csv"
    header, first, *rest = leads.read_text().splitlines(keepends=True)
    if change == "repeated id":
        leads.write_text(header + first + "".join(rest) + first)  # lead L000001 twice
    elif change == "missing id":
        leads.write_text(header + first.replace("L000001", "", 1) + "".join(rest))
    duplicate = change != "none"
    plain = _report(repo)
    assert _report(repo, cache=True) == plain
    assert _report(repo, cache=True) == plain  # the check read back
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    with open_engine(funnel, parquet_cache=repo / "cache") as engine:
        compiled = compile_for(engine, funnel)
        plan = plan_query(engine, compiled, ReportQuery())
    assert rewrites.per_row_candidates(compiled) == ("leads",)
    assert plan.per_row == (frozenset() if duplicate else {"leads"})
    final = plan.apply(compiled).query
    ctes = {cte.alias: cte.this for cte in final.args["with_"].expressions}
    assert (ctes["agg_0"].args.get("group") is None) is not duplicate
    # read per row, the default as_of comes from a first pass, as a literal: no layer is read
    # twice and the query streams
    assert (ctes["scored"].find(exp.Subquery) is None) is not duplicate
    if change == "repeated id":
        assert plain["data_quality"]["duplicate_ids"] == {"leads": 1}
    if change == "missing id":
        assert plain["data_quality"]["rows_without_id"] == {"leads": 1}


@pytest.mark.parametrize("change", ["none", "repeated id early", "repeated id late"])
def test_a_csv_is_read_per_row_on_trust_and_checked(
    repo: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Without the cache, a CSV whose first rows have one row per id is read per row with the
    check in the same query; a repeated id among the first rows skips that, a later one voids
    it and the GROUP BY runs. The report is the same."""
    from funnelcli.commands import query
    from funnelcli.commands.query import run_report_query

    monkeypatch.setattr(query, "TRIAL_HEAD_ROWS", 100)
    monkeypatch.setattr(query, "TRUST_WITHOUT_HEAD_BYTES", 0)  # the sample is small
    leads = repo / "sample_data" / "leads.csv"
    header, *rows = leads.read_text().splitlines(keepends=True)
    before = _report(repo)
    if change == "repeated id early":
        leads.write_text(header + "".join(rows[:10]) + rows[0] + "".join(rows[10:]))
    elif change == "repeated id late":
        leads.write_text(header + "".join(rows) + rows[0])
    seen = _statements(monkeypatch)
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    with open_engine(funnel) as engine:
        compiled, _ = run_report_query(engine, funnel, ReportQuery())
    reports = [s for s in seen if "agg_0" in s]
    assert compiled.columns.checks == (("leads",) if change == "none" else ())
    assert len(reports) == (2 if change == "repeated id late" else 1)
    assert ("GROUP BY" not in reports[0].split('"ids"')[0]) is (change != "repeated id early")
    after = _report(repo)
    if change == "none":
        assert after == before
    else:
        assert after["data_quality"]["duplicate_ids"] == {"leads": 1}


@pytest.mark.parametrize("repeated", [False, True])
def test_a_small_csv_is_read_per_row_on_trust_without_checking_its_first_rows(
    repo: Path, monkeypatch: pytest.MonkeyPatch, repeated: bool
) -> None:
    """A CSV under TRUST_WITHOUT_HEAD_BYTES skips the first rows' check (one statement fewer);
    the check inside the query still covers every row: an id repeated early voids the per-row
    result and the GROUP BY gives the report."""
    from funnelcli.commands.query import run_report_query

    leads = repo / "sample_data" / "leads.csv"
    header, *rows = leads.read_text().splitlines(keepends=True)
    if repeated:
        leads.write_text(header + rows[0] + "".join(rows))
    seen = _statements(monkeypatch)
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    with open_engine(funnel) as engine:
        compiled, _ = run_report_query(engine, funnel, ReportQuery())
    assert not [s for s in seen if "AS head" in s]
    assert len([s for s in seen if "agg_0" in s]) == (2 if repeated else 1)
    assert compiled.columns.checks == ((), ("leads",))[not repeated]
    report = _report(repo)
    assert report["data_quality"]["duplicate_ids"] == {"leads": int(repeated)}


@pytest.mark.parametrize("cached", [False, True])
def test_a_given_as_of_keeps_the_per_key_layer_once_unless_rereading_is_cheap(
    repo: Path, cached: bool
) -> None:
    """With --as-of nothing makes DuckDB materialise `scored`, which both aggregates read: from
    a CSV it is marked MATERIALIZED (else two parses); over copies read per row it streams."""
    from datetime import datetime

    from funnelcli.commands.query import compile_for, plan_query

    query = ReportQuery(as_of=datetime(2025, 6, 1))
    plain = _report(repo, as_of=query.as_of)
    assert _report(repo, as_of=query.as_of, cache=cached) == plain
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    with open_engine(funnel, parquet_cache=repo / "cache" if cached else None) as engine:
        compiled = compile_for(engine, funnel, query)
        final = plan_query(engine, compiled, query).apply(compiled)
    (scored,) = [c for c in final.query.args["with_"].expressions if c.alias == "scored"]
    assert bool(scored.args.get("materialized")) is not cached


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the engine runs from now on."""
    from funnelcli.engine.session import Session

    seen: list[str] = []
    original = Session.run

    def recording(self: Session, sql: str, **kwargs: Any) -> Any:
        seen.append(sql)
        return original(self, sql, **kwargs)

    monkeypatch.setattr(Session, "run", recording)
    return seen


def test_a_rerun_skips_probing_the_csv(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sniffed dialect and the detected date formats are remembered for unchanged files;
    a changed file, or a memo that is damaged, is probed again; the numbers never change."""
    plain = _report(repo)
    assert _report(repo, cache=True) == plain
    (memo,) = (repo / "cache" / "readings").glob("*.json")
    recorded = json.loads(memo.read_text())["found"]
    assert recorded["headers"][0] == "lead_id"
    assert recorded["formats"]["created_at"] == ["%Y-%m-%d %H:%M:%S"]
    seen = _statements(monkeypatch)
    assert _report(repo, cache=True) == plain
    assert not [s for s in seen if "SNIFF_CSV" in s or "LIMIT" in s], seen
    memo.write_text("{broken")
    seen.clear()
    assert _report(repo, cache=True) == plain
    assert [s for s in seen if "SNIFF_CSV" in s]
    assert json.loads(memo.read_text())["found"] == recorded
    leads = repo / "sample_data" / "leads.csv"
    lines = leads.read_text().splitlines(keepends=True)
    leads.write_text("".join(lines[:-100]))
    seen.clear()
    assert _report(repo, cache=True) == _report(repo) != plain
    assert [s for s in seen if "SNIFF_CSV" in s]
    assert len(list((repo / "cache" / "readings").glob("*.json"))) == 1  # overwritten


def test_a_memo_without_a_new_stage_column_samples_only_that_column(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini = repo / "funnels" / "mini.yaml"
    head = "sources:\n  leads: {path: ../sample_data/leads.csv, id: lead_id}\nstages:\n"
    mini.write_text(head + "  - {name: lead, at: created_at}\n")
    _report(repo, name="mini", cache=True)
    mini.write_text(head + "  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n")
    seen = _statements(monkeypatch)
    cached = _report(repo, name="mini", cache=True)
    sampled = [s for s in seen if "LIMIT" in s]
    assert not [s for s in seen if "SNIFF_CSV" in s]
    assert len(sampled) == 1 and '"paid_at"' in sampled[0] and '"created_at"' not in sampled[0]
    assert cached == _report(repo, name="mini")
    (memo,) = (repo / "cache" / "readings").glob("*.json")
    assert sorted(json.loads(memo.read_text())["found"]["formats"]) == ["created_at", "paid_at"]


def test_a_rerun_reads_the_stored_result(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _report(repo)
    assert _report(repo, cache=True) == plain  # computes and stores
    seen = _statements(monkeypatch)
    assert _report(repo, cache=True) == plain
    assert seen and not [s for s in seen if "agg_0" in s or s.startswith("COPY")]
    by_segment = _report(repo, by="segment", cache=True)  # another query
    assert by_segment == _report(repo, by="segment")
    # the two reports, the check that the copy has one row per lead, the as_of first pass
    assert len(list((repo / "cache" / "results").glob("*.parquet"))) == 4


def test_a_roi_rerun_reads_its_checks_from_stored_results(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """roi checks every amount and date of its files readable (a count, then the row only if
    one is not): on a re-run over unchanged files the counts are stored results, so no query
    runs at all (they re-read the subscriptions CSV: 1.9 s instead of 0.8 s at 10M rows)."""
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    plain = funnelcli.roi(funnel).to_dict()
    assert funnelcli.roi(funnel, cache=True).to_dict() == plain
    seen = _statements(monkeypatch)
    assert funnelcli.roi(funnel, cache=True).to_dict() == plain
    assert [s.split()[0] for s in seen] == ["CREATE"] * 3 + ["DESCRIBE"] * 3, seen


def test_a_changed_file_is_never_answered_from_a_stored_result(repo: Path) -> None:
    before = _report(repo, cache=True)
    leads = repo / "sample_data" / "leads.csv"
    lines = leads.read_text().splitlines(keepends=True)
    leads.write_text("".join(lines[:-1]))  # one lead fewer
    after = _report(repo, cache=True)
    assert after == _report(repo) != before
    assert after["overall"]["stages"][0]["count"] == before["overall"]["stages"][0]["count"] - 1


def test_stored_results_keep_their_types(repo: Path) -> None:
    """HUGEINT (what sum of a BIGINT gives) comes back as int, not as DuckDB's Parquet DOUBLE."""
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    sql = (
        "SELECT sum(x) AS total, 1.25::DECIMAL(18, 2) AS amount, [DATE '2025-01-02'] AS days, "
        "INTERVAL 3 DAY AS wait, {'a': 1} AS pair, 2.5::DOUBLE AS ratio, NULL AS nothing "
        "FROM (SELECT unnest([1, 2, 3])::BIGINT AS x)"
    )
    query = sqlglot.parse_one(sql, read="duckdb")
    with open_engine(funnel) as engine:
        direct = engine.rows(query)
    runs = []
    for _ in range(2):  # computed, then read back
        with open_engine(funnel, parquet_cache=repo / "cache") as engine:
            runs.append(engine.rows(query))
    assert runs[0] == runs[1] == direct
    assert [type(v) for v in runs[1][0].values()] == [type(v) for v in direct[0].values()]
    assert isinstance(runs[1][0]["total"], int)


def test_a_type_parquet_would_change_is_run_not_served(repo: Path) -> None:
    """DuckDB writes BIT as text and a fixed-size ARRAY as a list: such a result is recomputed
    every time rather than served with another type."""
    funnel = load_funnel(repo / "funnels" / "default.yaml")
    sql = "SELECT '101'::BIT AS flags, [1, 2]::INTEGER[2] AS pair, 3 AS n"
    with open_engine(funnel) as engine:
        direct = engine.session.run(sql).description
    for _ in range(2):
        with open_engine(funnel, parquet_cache=repo / "cache") as engine:
            cursor = engine._run(sqlglot.parse_one(sql, read="duckdb"))
            assert [str(d[1]) for d in cursor.description] == [str(d[1]) for d in direct]


def test_a_damaged_stored_result_is_recomputed(repo: Path) -> None:
    plain = _report(repo)
    _report(repo, cache=True)
    stored = list((repo / "cache" / "results").glob("*.parquet"))  # report, check, as_of
    assert len(stored) == 3
    for path in stored:
        path.write_bytes(b"not a parquet file")
    assert _report(repo, cache=True) == plain
    assert all(path.read_bytes()[:4] == b"PAR1" for path in stored)  # written again
    for path in stored:
        path.with_suffix(".json").write_text("{broken")
    assert _report(repo, cache=True) == plain


def test_only_the_most_recently_used_results_are_kept(tmp_path: Path) -> None:
    names = {"old": "0" * 40, "mid": "1" * 40, "new": "2" * 40}
    for age, name in enumerate(["old", "mid", "new"]):
        for suffix in (".parquet", ".json"):
            path = tmp_path / f"{names[name]}{suffix}"
            path.write_text(name)
            os.utime(path, ns=(age * 10**9, age * 10**9))
    outside = tmp_path.parent / f"{tmp_path.name}-outside.parquet"
    outside.write_text("someone else's")
    (tmp_path / ("3" * 40 + ".parquet")).symlink_to(outside)  # a link out of the folder
    (tmp_path / "notes.parquet").write_text("a look-alike")  # not named like an entry
    os.utime(tmp_path / "notes.parquet", ns=(0, 0))
    results.prune(tmp_path, keep=2)
    kept = [names[n] + suffix for n in ("mid", "new") for suffix in (".json", ".parquet")]
    kept += ["3" * 40 + ".parquet", "notes.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert outside.read_text() == "someone else's"


def test_a_result_that_needed_the_tolerant_reading_restores_it_when_read_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fast CSV read that fails switches to the tolerant views (which reject per value);
    a stored result computed that way switches them again when read back, so the rejects
    reported next to it are the same."""
    from funnelcli.engine import Engine
    from funnelcli.engine.session import Session

    funnel = load_funnel(repo / "funnels" / "default.yaml")
    switches: list[bool] = []
    failed: list[str] = []
    original = Session.run

    def failing_once(self: Session, sql: str, **kwargs: Any) -> Any:
        if sql.startswith("COPY") and "results" in sql and not failed:
            failed.append(sql)
            raise DataError("a value the typed read cannot parse")
        return original(self, sql, **kwargs)

    def slow(self: Engine) -> bool:
        switches.append(True)
        return True

    monkeypatch.setattr(Session, "run", failing_once)
    monkeypatch.setattr(Engine, "_tolerate", slow)
    query = sqlglot.parse_one("SELECT count(*) AS n FROM source_leads", read="duckdb")
    for _ in range(2):
        with open_engine(funnel, parquet_cache=repo / "cache") as engine:
            assert engine.rows(query) == [{"n": 3000}]
    assert len(failed) == 1 and len(switches) == 2  # computed after switching; read back
    (record,) = (repo / "cache" / "results").glob("*.json")
    assert json.loads(record.read_text())["tolerant"] is True


def test_cache_build_warms_the_copies_a_report_then_reads(repo: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["cache", "build"], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("leads: built ") and "(3,000 rows, " in result.stdout
    (parquet,) = _parquets(repo / "cache")
    built = parquet.stat().st_mtime_ns
    result = runner.invoke(app, ["cache", "build"], env=ENV)
    assert result.stdout.startswith("leads: up to date ")
    assert runner.invoke(app, ["report", "--cache", "-f", "json"], env=ENV).exit_code == 0
    assert _parquets(repo / "cache") == [parquet] and parquet.stat().st_mtime_ns == built


@pytest.mark.parametrize(
    "command",
    [
        ["summary", "--as-of", "2025-07-01"],
        ["cohorts", "--last", "6"],
        ["roi"],
    ],
)
def test_every_command_reads_the_cache_with_the_same_numbers(
    repo: Path, command: list[str]
) -> None:
    runner = CliRunner()
    plain = runner.invoke(app, [*command, "-f", "json"], env=ENV)
    assert plain.exit_code == 0, plain.output
    for _ in range(2):  # builds and stores, then reads back
        cached = runner.invoke(app, [*command, "--cache", "-f", "json"], env=ENV)
        assert cached.exit_code == 0, cached.output
        assert cached.stdout == plain.stdout
    assert _parquets(repo / "cache") and list((repo / "cache" / "results").glob("*.parquet"))


def test_a_read_only_cache_answers_its_hits_and_runs_the_rest(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root ignores permissions, so the folder is made read-only the way funnelcli sees it:
    os.access says no, and every write or touch under it fails."""
    cache_dir = repo / "cache"
    plain = _report(repo)
    assert _report(repo, cache=True) == plain  # fills the cache
    by_segment = _report(repo, by="segment")
    before = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}
    real_access, real_utime, real_replace = os.access, os.utime, os.replace

    def inside(path: Any) -> bool:
        return str(path).startswith(str(cache_dir))

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        return False if inside(path) and mode & os.W_OK else real_access(path, mode, **kwargs)

    def utime(path: Any, *args: Any, **kwargs: Any) -> None:
        if inside(path):
            raise PermissionError(13, "Permission denied", str(path))
        real_utime(path, *args, **kwargs)

    def replace(src: Any, dst: Any) -> None:
        if inside(dst):
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "utime", utime)
    monkeypatch.setattr(os, "replace", replace)
    assert _report(repo, cache=True) == plain  # hits
    assert _report(repo, cache=True, by="segment") == by_segment  # a miss: run, not stored
    after = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("name", ["default", "history"])
def test_the_window_end_computed_once_gives_the_same_rows(repo: Path, name: str) -> None:
    """share_window_end (a DuckDB plan rewrite): `entry_at + window` (and a horizon) read
    from one column of `ev`; the report query's rows are those of the query without it."""
    from dataclasses import replace

    from funnelcli.commands.query import compile_for, plan_query, run_planned
    from funnelcli.spec.duration import Duration

    funnel = load_funnel(repo / "funnels" / f"{name}.yaml")
    query = ReportQuery(breakdowns=(("channel",),), horizon=Duration.parse("60d"))
    with open_engine(funnel) as engine:
        compiled = compile_for(engine, funnel, query)
        plan = plan_query(engine, compiled, query)
        assert plan.window_end
        final, rows = run_planned(engine, compiled, plan)
        _, plain = run_planned(engine, compiled, replace(plan, window_end=False))
    text = final.query.sql(dialect="duckdb")
    assert '"window_end"' in text and '"window_end_2"' in text
    assert '"entry_at" + INTERVAL' not in text

    def key(row: dict[str, Any]) -> str:
        return repr(sorted((k, repr(v)) for k, v in row.items()))

    assert sorted(rows, key=key) == sorted(plain, key=key)


def test_cache_clear_deletes_only_what_it_recorded(repo: Path) -> None:
    """Files named like cache entries, put in the cache folder and its results/ by someone
    else, survive `cache clear`; what the cache wrote (recorded before writing) is gone, and so
    is the record; a line naming a file outside the folder is never followed."""
    runner = CliRunner()
    folder = repo / "cache"
    assert runner.invoke(app, ["report", "--cache", "-f", "json"], env=ENV).exit_code == 0
    written = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "CACHEDIR.TAG")
    record = (folder / "funnelcli-files.txt").read_text().splitlines()
    assert {folder / name for name in record} >= set(written) - {folder / "funnelcli-files.txt"}
    theirs = [folder / f"{'a' * 40}.parquet", folder / "results" / f"{'b' * 40}.json"]
    for path in theirs:
        path.write_text("user data")
    outside = repo / "precious.txt"
    outside.write_text("keep")
    with open(folder / "funnelcli-files.txt", "a") as stream:
        stream.write("../precious.txt\n/etc/hostname\n")
    result = runner.invoke(app, ["cache", "clear"], env=ENV)
    assert result.exit_code == 0, result.output
    left = sorted(p for p in folder.rglob("*") if p.is_file())
    assert left == sorted([folder / "CACHEDIR.TAG", *theirs])
    assert outside.read_text() == "keep"

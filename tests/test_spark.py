"""`--engine spark`: report, summary, cohorts and roi on a SparkSession give DuckDB's JSON.

Exactly (counts, rates, values), fractional days (medians, quantiles) to 1e-9. Every test
marked `spark` shares one local session (tests/conftest.py). Each funnel's run also checks that
the statements Spark executed are the `funnel sql --dialect spark` script's, so the scripts of
every funnel run here. `table:` sources: the sample leads as a Spark catalog view give the same
report as the CSV on DuckDB; on DuckDB a table source is an exit-2 error naming its key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.options import RunOptions
from funnelcli.commands.report import build_report, report_script
from funnelcli.engine import spark as spark_engine
from funnelcli.errors import UsageError
from funnelcli.spec import Funnel, load_funnel, parse_funnel
from realdata import data_folder, require

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "funnels" / "default.yaml"
# default.yaml runs through the CLI (the README command); the others through build_report
FUNNELS = [f for f in sorted((ROOT / "funnels").glob("*.yaml")) if f != DEFAULT]
ON_SPARK = RunOptions(spark_master="local[2]")  # the tests' session is active: it is used


def close_enough(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ: exactly, but floats (medians, rates) to 1e-9."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{path}: keys {sorted(set(expected) ^ set(actual))}"]
        return [d for k in expected for d in close_enough(expected[k], actual[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items, {len(actual)}"]
        pairs = zip(expected, actual, strict=True)
        return [d for i, (e, a) in enumerate(pairs) for d in close_enough(e, a, f"{path}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, float):
        ok = math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
        return [] if ok else [f"{path}: {expected} != {actual}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


def _options(path: Path) -> RunOptions:
    folder = data_folder(path.stem)
    if folder is not None:
        require(folder.name)
    return RunOptions(data_dir=folder)


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements SparkRunner sends to Spark, in order."""
    sent: list[str] = []
    run = spark_engine.SparkRunner._run

    def recording(self: spark_engine.SparkRunner, sql: str) -> Any:
        sent.append(sql)
        return run(self, sql)

    monkeypatch.setattr(spark_engine.SparkRunner, "_run", recording)
    yield sent


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("path", FUNNELS, ids=[f.stem for f in FUNNELS])
def test_report_on_spark_equals_duckdb(spark: Any, executed: list[str], path: Path) -> None:
    funnel = load_funnel(path)
    options = _options(path)
    expected = build_report(funnel, None, options).to_dict()
    on_spark = replace(options, spark_master="local[2]")
    assert close_enough(expected, build_report(funnel, None, on_spark).to_dict()) == []
    script = report_script(funnel, None, options, "spark").statements
    views, query = script[1:-1], script[-1]  # after the SET (a session setting here)
    assert list(views) == executed[: len(views)]
    assert query in executed


@pytest.mark.spark
@pytest.mark.slow
def test_the_readme_spark_report_prints_duckdb_json(spark: Any) -> None:
    """README: `funnel report funnels/default.yaml --engine spark --spark-master 'local[2]'
    --format json` equals the DuckDB JSON (fractional days to 1e-9)."""
    runner = CliRunner()
    duck = runner.invoke(app, ["report", str(DEFAULT), "--format", "json"])
    on_spark = runner.invoke(
        app,
        ["report", str(DEFAULT), "--engine", "spark", "--spark-master", "local[2]", "-f", "json"],
    )
    assert on_spark.exit_code == 0, on_spark.output
    assert close_enough(json.loads(duck.stdout), json.loads(on_spark.stdout)) == []


@pytest.mark.spark
@pytest.mark.slow
def test_summary_and_cohorts_on_spark_equal_duckdb(spark: Any) -> None:
    from funnelcli.commands.cohorts import CohortsRequest, build_cohorts
    from funnelcli.commands.summary import SummaryRequest, build_summary
    from funnelcli.metrics.periods import PeriodKind

    funnel = load_funnel(DEFAULT)
    summary = SummaryRequest(period=PeriodKind.month, breakdown=("channel",))
    expected = build_summary(funnel, summary, RunOptions()).to_dict()
    assert close_enough(expected, build_summary(funnel, summary, ON_SPARK).to_dict()) == []
    cohorts = CohortsRequest(period=PeriodKind.month, last=6)
    expected = build_cohorts(funnel, cohorts, RunOptions()).to_dict()
    assert close_enough(expected, build_cohorts(funnel, cohorts, ON_SPARK).to_dict()) == []


# ---- funnel roi --------------------------------------------------------------------------------


def _without_subscriptions() -> Funnel:
    """default.yaml with renewals from its stages (renewal: + contract_months:), not contracts."""
    text = DEFAULT.read_text(encoding="utf-8")
    kept = text[: text.index("  subscriptions:")]
    return parse_funnel(kept, file=str(DEFAULT), base_dir=DEFAULT.parent)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("renewals", ["subscriptions", "stages"])
def test_roi_on_spark_equals_duckdb(spark: Any, renewals: str) -> None:
    """Spend and contracts are read by Spark too: money text (`¥27,260.00`) by the same rules
    (a struct of regexp_extract groups), months and days, the renewal query's CTEs."""
    from datetime import datetime

    from funnelcli.commands.roi import RoiRequest, build_roi

    funnel = load_funnel(DEFAULT) if renewals == "subscriptions" else _without_subscriptions()
    request = RoiRequest(since=datetime(2024, 3, 1), until=datetime(2025, 3, 1))
    if renewals == "stages":
        request = RoiRequest()
    expected = build_roi(funnel, request, RunOptions()).to_dict()
    assert expected["renewals_from"] == renewals
    assert close_enough(expected, build_roi(funnel, request, ON_SPARK).to_dict()) == []


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize(
    ("scope", "attempts"), [("onward", "first"), ("funnel", "first"), ("funnel", "best")]
)
def test_exclusions_on_spark_equal_duckdb(
    spark: Any, scope: str, attempts: str, tmp_path: Path
) -> None:
    """`exclude:` (docs/semantics.md, Exclusions) on the history funnel, also per attempt
    under `attempts: best`: `--engine spark` gives DuckDB's report, excluded counts included."""
    text = (ROOT / "funnels" / "history.yaml").read_text(encoding="utf-8")
    item = f"  - {{match: Closed Lost, between: [qualified, paid], scope: {scope}}}\n"
    path = tmp_path / "history.yaml"
    text = text.replace("../sample_data", str(ROOT / "sample_data")) + "exclude:\n" + item
    path.write_text(text + f"attempts: {attempts}\n")
    funnel = load_funnel(path)
    expected = build_report(funnel, None, RunOptions()).to_dict()
    assert expected["data_quality"]["excluded"][0]["ids"] > 0
    assert close_enough(expected, build_report(funnel, None, ON_SPARK).to_dict()) == []


@pytest.mark.spark
@pytest.mark.slow
def test_attempts_each_on_spark_equals_duckdb(spark: Any, tmp_path: Path) -> None:
    """`attempts: each` (docs/semantics.md, Attempts: a WITH RECURSIVE chain of attempts) on
    tests/test_attempts_each.py's fixture, by channel: `--engine spark` gives DuckDB's
    report, ids included."""
    import textwrap

    from funnelcli.commands.report import ReportRequest
    from test_attempts_each import EACH, HISTORY

    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(EACH), encoding="utf-8")
    funnel = load_funnel(path)
    request = ReportRequest(breakdowns=(("channel",),))
    expected = build_report(funnel, request, RunOptions()).to_dict()
    assert [s["ids"] for s in expected["overall"]["stages"]] == [3, 3, 1]
    assert close_enough(expected, build_report(funnel, request, ON_SPARK).to_dict()) == []


def test_the_cache_says_it_is_not_on_spark_yet() -> None:
    with pytest.raises(UsageError, match="--cache is not on Spark yet"):
        RunOptions(cache=True, spark_master="local[2]").cache_folder(load_funnel(DEFAULT))


def test_spark_master_without_engine_spark_is_a_usage_error() -> None:
    for command in ("report", "roi"):
        result = CliRunner().invoke(app, [command, str(DEFAULT), "--spark-master", "local[2]"])
        assert result.exit_code == 2
        assert "--engine spark" in result.output


# ---- table: sources ----------------------------------------------------------------------------

TABLE = "global_temp.funnelcli_leads"


def table_funnel(table: str = TABLE) -> Funnel:
    """default.yaml with its leads read from `table` instead of sample_data/leads.csv."""
    text = DEFAULT.read_text(encoding="utf-8")
    text = text.replace("path: ../sample_data/leads.csv", f"table: {table}")
    assert f"table: {table}" in text
    return parse_funnel(text, file=str(DEFAULT), base_dir=DEFAULT.parent)


@pytest.mark.spark
@pytest.mark.slow
def test_a_catalog_table_gives_the_csv_report(spark: Any) -> None:
    """The sample leads as a Spark view with warehouse types (TIMESTAMP, TIMESTAMP_NTZ, ISO
    text, DECIMAL, DOUBLE): the report equals DuckDB's over the CSV."""
    raw = spark.read.csv(str(ROOT / "sample_data" / "leads.csv"), header=True)
    raw.createOrReplaceTempView("funnelcli_leads_text")
    spark.sql(
        "CREATE OR REPLACE GLOBAL TEMPORARY VIEW funnelcli_leads AS SELECT lead_id, account_id,"
        " company, CAST(created_at AS TIMESTAMP) AS created_at, channel, segment, owner,"
        " country, CAST(qualified_at AS TIMESTAMP_NTZ) AS qualified_at, trial_started_at,"
        " CAST(paid_at AS TIMESTAMP) AS paid_at, CAST(deal_amount AS DECIMAL(12, 2)) AS"
        " deal_amount, renewed_at, CAST(renewal_amount AS DOUBLE) AS renewal_amount"
        " FROM funnelcli_leads_text"
    )
    funnel = table_funnel()
    expected = build_report(load_funnel(DEFAULT)).to_dict()
    assert close_enough(expected, build_report(funnel, None, ON_SPARK).to_dict()) == []


@pytest.mark.spark
@pytest.mark.slow
def test_a_missing_table_names_its_key(spark: Any) -> None:
    with pytest.raises(UsageError, match=r"sources\.leads\.table: Spark cannot read table"):
        build_report(table_funnel("crm.no_such_table"), None, ON_SPARK)


def _table_yaml(tmp_path: Path, table: str = "crm.leads", extra: str = "") -> Path:
    text = DEFAULT.read_text(encoding="utf-8").replace(
        "path: ../sample_data/leads.csv", f"table: {table}{extra}"
    )
    text = text.replace("../sample_data/", str(ROOT / "sample_data") + "/")
    path = tmp_path / "table.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_table_source_on_duckdb_is_a_usage_error_naming_its_key(tmp_path: Path) -> None:
    path = _table_yaml(tmp_path)
    for command in (["report"], ["roi"], ["sql"], ["trace", "L000001"]):
        result = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
        assert result.exit_code == 2, (command, result.output)
        assert "table.yaml:8: sources.leads.table: a table source is read by" in result.output
        assert "--engine spark" in result.output and "Traceback" not in result.output


def test_a_script_reads_the_table_with_each_name_part_quoted(tmp_path: Path) -> None:
    path = _table_yaml(tmp_path, "main.crm.leads")
    spark_sql = CliRunner().invoke(app, ["sql", str(path), "--dialect", "spark"])
    assert spark_sql.exit_code == 0, spark_sql.output
    assert "FROM `main`.`crm`.`leads`" in spark_sql.stdout
    assert "CAST(`paid_at` AS TIMESTAMP) AS `paid_at`" in spark_sql.stdout
    assert "CAST(`deal_amount` AS DOUBLE) AS `deal_amount`" in spark_sql.stdout
    postgres = CliRunner().invoke(app, ["sql", str(path), "--dialect", "postgres"])
    assert postgres.exit_code == 0, postgres.output
    assert 'FROM "main"."crm"."leads"' in postgres.stdout
    assert "\\copy" not in postgres.stdout  # nothing is read from a file


def test_validate_takes_a_table_source_without_probing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(_table_yaml(tmp_path)), "-f", "json"])
    assert result.exit_code == 0, result.output
    (leads,) = [s for s in json.loads(result.stdout)["sources"] if s["name"] == "leads"]
    assert leads["table"] == "crm.leads" and leads["files"] == [] and leads["dates"] == []


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [
        ("crm.leads;drop", "", ":8: sources.leads.table: expected a table name such as"),
        ("a.b.c.d", "", ":8: sources.leads.table: expected a table name such as"),
        ("crm.leads", "\n    tz: Asia/Shanghai", ":9: sources.leads.tz: tz: is about reading"),
        ("crm.leads", "\n    path: leads.csv", ":7: sources.leads: a source takes path: or"),
    ],
)
def test_a_bad_table_source_is_a_spec_error(
    tmp_path: Path, table: str, extra: str, message: str
) -> None:
    result = CliRunner().invoke(app, ["validate", str(_table_yaml(tmp_path, table, extra))])
    assert result.exit_code == 1, result.output
    assert f"table.yaml{message}" in result.output


@pytest.mark.spark
@pytest.mark.slow
def test_attributed_report_summary_and_cohorts_on_spark_equal_duckdb(
    spark: Any, tmp_path: Path
) -> None:
    from funnelcli.commands.cohorts import CohortsRequest, build_cohorts
    from funnelcli.commands.summary import SummaryRequest, build_summary
    from funnelcli.metrics.periods import PeriodKind
    from test_dialects import _attributed_rows

    loaded, request = _attributed_rows(tmp_path, "strict", "last")
    on_spark = RunOptions(spark_master="local[2]")
    expected = build_report(loaded, request, RunOptions()).to_dict()
    assert close_enough(expected, build_report(loaded, request, on_spark).to_dict()) == []
    summary = SummaryRequest(period=PeriodKind.week, breakdown=("channel",))
    expected = build_summary(loaded, summary, RunOptions()).to_dict()
    assert close_enough(expected, build_summary(loaded, summary, on_spark).to_dict()) == []
    cohorts = CohortsRequest(period=PeriodKind.week, last=4)
    expected = build_cohorts(loaded, cohorts, RunOptions()).to_dict()
    assert close_enough(expected, build_cohorts(loaded, cohorts, on_spark).to_dict()) == []


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("attempts", ["first", "best"])
def test_order_any_on_spark_equals_duckdb(spark: Any, attempts: str, tmp_path: Path) -> None:
    """`order: any` (docs/semantics.md, Order policy) on the history funnel (its trial
    `within:` dropped: refused under any): `--engine spark` gives DuckDB's report, rows
    `1 stage`… and `--by channel` included."""
    text = (ROOT / "funnels" / "history.yaml").read_text(encoding="utf-8")
    text = text.replace("../sample_data", str(ROOT / "sample_data"))
    text = text.replace(", within: 60d", "").replace("order: strict ", "order: any    ")
    path = tmp_path / "history.yaml"
    path.write_text(text + f"attempts: {attempts}\n", encoding="utf-8")
    funnel = load_funnel(path)
    expected = build_report(funnel, None, RunOptions()).to_dict()
    assert expected["funnel"]["rows"] == "stages_done"
    assert expected["overall"]["stages"][1]["name"] == "stages_2"
    assert close_enough(expected, build_report(funnel, None, ON_SPARK).to_dict()) == []

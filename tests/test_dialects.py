"""`funnel sql --dialect spark|postgres` prints scripts that run, with DuckDB's numbers.

Every funnels/*.yaml (the real-data ones when ../shared/datasets is there): the script
`report_script` builds is executed on a real PostgreSQL server (psql against a throw-away
cluster started here), and its rows must equal the rows DuckDB gives for the same query:
counts, sums and times exactly, fractional days (medians, quantiles) to 1e-9. Where a dialect
lacks a construct the funnel needs, the script is refused with exit 2 naming it (history.yaml
on PostgreSQL). On a local Spark session (pyspark, marked `spark`) the default funnel's script
runs as text; every funnel's script is what its `--engine spark` run executes
(tests/test_spark.py). The same holds for small random exports drawn as
tests/test_properties.py draws them (FUNNEL_DIALECT_EXAMPLES, 6, on PostgreSQL; two thirds of
that on Spark).
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.options import RunOptions
from funnelcli.commands.query import compile_for
from funnelcli.commands.report import ReportRequest, _query, report_script
from funnelcli.engine import open_engine
from funnelcli.errors import UsageError
from funnelcli.spec import load_funnel, parse_funnel
from funnelcli.sql import dialects
from realdata import data_folder, require
from test_properties import (
    any_order_cases,
    best_cases,
    cases,
    csv_text,
    each_cases,
    funnel_yaml,
    query_of,
)

ROOT = Path(__file__).resolve().parent.parent
FUNNELS = sorted((ROOT / "funnels").glob("*.yaml"))
IDS = [f.stem for f in FUNNELS]
# history.yaml is `order: strict` on a long source: its evidence lists need lambdas
POSTGRES_REFUSED = {"history": "list_filter"}

Row = dict[str, Any]


def _options(path: Path) -> RunOptions:
    folder = data_folder(path.stem)
    if folder is not None:
        require(folder.name)
    return RunOptions(data_dir=folder)


def duckdb_rows(path: Path) -> list[Row]:
    """The rows DuckDB gives for the query the scripts end with (grouped-by-key form)."""
    funnel = load_funnel(path)
    options = _options(path)
    with open_engine(funnel, options.data_dir) as engine:
        compiled = compile_for(engine, funnel, _query(funnel, ReportRequest()))
        return engine.rows(compiled.query)


def _key(row: Row) -> tuple[str, ...]:
    return tuple(str(row[c]) for c in sorted(row) if c.startswith("g_") or c == "grouping_id")


def same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool):
        return bool(actual) == expected
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, Decimal | int) and not isinstance(expected, bool):
        return Decimal(str(expected)) == Decimal(str(actual))
    return bool(expected == actual)


def assert_same_rows(expected: list[Row], actual: list[Row]) -> None:
    assert len(actual) == len(expected)
    for want, got in zip(sorted(expected, key=_key), sorted(actual, key=_key), strict=True):
        assert set(got) == set(want)
        wrong = {c: (want[c], got[c]) for c in want if not same(want[c], got[c])}
        assert not wrong, f"group {_key(want)}: {wrong}"


# ---- Spark -----------------------------------------------------------------------------------


def spark_rows(session: Any, statements: tuple[str, ...]) -> list[Row]:
    for statement in statements[:-1]:
        session.sql(statement)
    frame = session.sql(statements[-1])
    # timestamps come back as UTC wall-clock times whatever this process's time zone is
    typed = [
        f"CAST(`{f.name}` AS TIMESTAMP_NTZ) AS `{f.name}`"
        if f.dataType.typeName() == "timestamp"
        else f"`{f.name}`"
        for f in frame.schema.fields
    ]
    return [r.asDict() for r in frame.selectExpr(*typed).collect()]


@pytest.mark.spark
@pytest.mark.slow
def test_the_default_spark_script_gives_duckdb_numbers(spark: Any) -> None:
    """The spark-sql route of the Done-when: the script's text, statement by statement, on a
    Spark session. The other funnels' scripts are the statements their `--engine spark` runs
    execute (tests/test_spark.py checks they are the same text), so they run there once."""
    path = ROOT / "funnels" / "default.yaml"
    text = report_script(load_funnel(path), None, _options(path), "spark").text()
    statements = tuple(s.strip().removesuffix(";") for s in text.split(";\n\n"))
    assert_same_rows(duckdb_rows(path), spark_rows(spark, statements))


# ---- PostgreSQL --------------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[list[str]]:
    """psql's arguments for a throw-away PostgreSQL cluster (initdb in a temporary folder,
    a free port, a Unix socket there); as root the server runs as the `postgres` user."""
    initdb, pg_ctl, psql = _pg_bin("initdb"), _pg_bin("pg_ctl"), shutil.which("psql")
    if not (initdb and pg_ctl and psql):
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
        as_user = [runuser, "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="funnelcli-pg-"))
    data = folder / "data"
    if as_user:
        shutil.chown(folder, "postgres")
    port = _free_port()
    init = subprocess.run(
        [
            *as_user,
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[:300]}")
    options = f"-p {port} -k {folder} -c listen_addresses=''"
    start = subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if start.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {start.stderr.strip()[:300]}")
    try:
        yield [
            psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(folder),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


def psql_rows(psql: list[str], text: str, like: list[Row]) -> list[Row]:
    """The final query's rows (psql --csv), typed like DuckDB's rows `like`."""
    done = subprocess.run(
        [*psql, "--csv", "-f", "-"], input=text, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    kinds = {c: type(v) for row in like for c, v in row.items() if v is not None}
    return [
        {c: _typed(v, kinds.get(c)) for c, v in row.items()}
        for row in csv.DictReader(io.StringIO(done.stdout))
    ]


def _typed(text: str, kind: type | None) -> Any:
    if text == "":  # psql --csv writes NULL as an empty field
        return None
    if kind is bool:
        return text == "t"
    if kind is datetime:
        return datetime.fromisoformat(text)
    if kind is date:
        return date.fromisoformat(text)
    if kind in (int, Decimal):
        return Decimal(text)
    if kind is float:
        return float(text)
    return text


@pytest.mark.parametrize("path", FUNNELS, ids=IDS)
def test_postgres_script_gives_duckdb_numbers(postgres: list[str], path: Path) -> None:
    funnel = load_funnel(path)
    if path.stem in POSTGRES_REFUSED:
        with pytest.raises(UsageError, match=POSTGRES_REFUSED[path.stem]):
            report_script(funnel, None, _options(path), "postgres")
        return
    script = report_script(funnel, None, _options(path), "postgres")
    expected = duckdb_rows(path)
    assert_same_rows(expected, psql_rows(postgres, script.text(), expected))


def test_a_postgres_table_gives_the_csv_numbers(postgres: list[str], tmp_path: Path) -> None:
    """`table: crm.leads` in PostgreSQL with warehouse types (timestamp, timestamptz, text,
    numeric, double precision): the script's numbers equal DuckDB's over the CSV."""
    path = ROOT / "funnels" / "default.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "path: ../sample_data/leads.csv", "table: funnelcli_crm.leads"
    )
    funnel = parse_funnel(text, file=str(path), base_dir=path.parent)
    script = report_script(funnel, None, None, "postgres")
    assert "\\copy" not in script.text()
    columns = {
        "created_at": "TIMESTAMP",
        "qualified_at": "TIMESTAMPTZ",
        "paid_at": "TIMESTAMP",
        "deal_amount": "NUMERIC(12, 2)",
        "renewal_amount": "DOUBLE PRECISION",
    }
    with open(ROOT / "sample_data" / "leads.csv", encoding="utf-8") as file:
        headers = next(csv.reader(file))
    typed = ", ".join(f'"{h}" {columns.get(h, "TEXT")}' for h in headers)
    leads = (ROOT / "sample_data" / "leads.csv").as_posix()
    setup = (
        "SET TIME ZONE 'UTC';\n"
        "DROP SCHEMA IF EXISTS funnelcli_crm CASCADE;\n"
        "CREATE SCHEMA funnelcli_crm;\n"
        f"CREATE TABLE funnelcli_crm.leads ({typed});\n"
        f"\\copy funnelcli_crm.leads FROM '{leads}' WITH (FORMAT csv, HEADER true)\n"
    )
    expected = duckdb_rows(path)
    assert_same_rows(expected, psql_rows(postgres, setup + script.text(), expected))


# ---- the command -------------------------------------------------------------------------------


def test_sql_refuses_what_a_dialect_lacks_naming_the_yaml_feature() -> None:
    result = CliRunner().invoke(
        app, ["sql", str(ROOT / "funnels" / "history.yaml"), "--dialect", "postgres"]
    )
    assert result.exit_code == 2
    assert "list_filter" in result.output and "order: strict" in result.output


def test_sql_refuses_an_unchecked_dialect() -> None:
    result = CliRunner().invoke(
        app, ["sql", str(ROOT / "funnels" / "default.yaml"), "--dialect", "snowflake"]
    )
    assert result.exit_code == 2
    assert "spark" in result.output and "postgres" in result.output


def test_spark_and_postgres_scripts_name_no_duckdb_only_function() -> None:
    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    for dialect in ("spark", "postgres"):
        text = report_script(funnel, None, None, dialect).text().upper()
        for name in (
            "EPOCH(",
            "LIST_EXTRACT",
            "QUANTILE_CONT",
            "TRY_STRPTIME",
            "STRUCT_EXTRACT",
            "REGEXP_MATCHES",
            "REGEXP_FULL_MATCH",
            "LIST_FILTER",
        ):
            assert name not in text, (dialect, name)
        assert "TEMPORARY VIEW" in text and "SOURCE_LEADS" in text


def test_a_money_text_value_is_refused_on_postgres_naming_the_feature() -> None:
    """Spark spells the money rules' struct of regexp groups (one regexp_extract per group;
    tests/test_spark.py runs roi's money text on it); PostgreSQL has no lambda to bind it."""
    from sqlglot import exp

    from funnelcli.sql import amounts

    query = exp.select(amounts.amount(exp.column("amount")))
    with pytest.raises(UsageError, match="money rules"):
        dialects.portable(query, "postgres")
    spark = dialects.render(query, "spark")
    assert spark.count("REGEXP_EXTRACT(") == 8 and "TRANSFORM(" in spark


# ---- properties: small random exports ----------------------------------------------------------

EXAMPLES = int(os.environ.get("FUNNEL_DIALECT_EXAMPLES", "6"))
SMALL = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUNNEL_PROPERTY_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


SPARK_SMALL = settings(SMALL, max_examples=max(1, EXAMPLES * 2 // 3))  # a Spark query: ~5 s


def _both(case: Any, run_script: Any, dialect: str) -> None:
    """DuckDB's rows and the dialect's script rows for one drawn export and report request."""
    yaml_text, data = funnel_yaml(case.spec), csv_text(case)
    request = query_of(case.spec)
    note(f"--- funnel.yaml ---\n{yaml_text}--- data.csv ---\n{data}--- request ---\n{request}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "data.csv").write_text(data, encoding="utf-8")
        funnel = parse_funnel(yaml_text, file="funnel.yaml", base_dir=base)
        with open_engine(funnel) as engine:
            expected = engine.rows(compile_for(engine, funnel, _query(funnel, request)).query)
        try:
            script = report_script(funnel, request, None, dialect)
        except UsageError as error:  # only what the module docstring names may be refused
            assert dialect == "postgres" and "list_filter" in str(error)
            return
        assert_same_rows(expected, run_script(script, expected))


@pytest.mark.spark
@pytest.mark.slow
@SPARK_SMALL
@given(case=st.one_of(cases("wide"), cases("long"), cases("wide", grain="account")))
def test_spark_matches_duckdb_on_random_exports(spark: Any, case: Any) -> None:
    _both(case, lambda script, _: spark_rows(spark, script.statements), "spark")


@pytest.mark.spark
@pytest.mark.slow
@SPARK_SMALL
@given(case=best_cases)
def test_spark_matches_duckdb_under_attempts_best(spark: Any, case: Any) -> None:
    """attempts: best (the `attempts` join, ROW_NUMBER() per key) on Spark; PostgreSQL refuses
    these funnels already (order: strict over a long source: list lambdas)."""
    _both(case, lambda script, _: spark_rows(spark, script.statements), "spark")


@pytest.mark.spark
@pytest.mark.slow
@SPARK_SMALL
@given(case=each_cases)
def test_spark_matches_duckdb_under_attempts_each(spark: Any, case: Any) -> None:
    """attempts: each (the chain of attempts: a WITH RECURSIVE CTE, which Spark 4.x runs)."""
    _both(case, lambda script, _: spark_rows(spark, script.statements), "spark")


@pytest.mark.slow
@SMALL
@given(case=st.one_of(cases("wide"), cases("long"), cases("wide", grain="account")))
def test_postgres_matches_duckdb_on_random_exports(postgres: list[str], case: Any) -> None:
    _both(case, lambda script, like: psql_rows(postgres, script.text(), like), "postgres")


@pytest.mark.spark
@pytest.mark.slow
@SPARK_SMALL
@given(case=any_order_cases)
def test_spark_matches_duckdb_under_order_any(spark: Any, case: Any) -> None:
    """order: any (found/ranked/stages_done; under best the anchors of every stage) on Spark."""
    _both(case, lambda script, _: spark_rows(spark, script.statements), "spark")


@pytest.mark.slow
@SMALL
@given(case=any_order_cases)
def test_postgres_matches_duckdb_under_order_any(postgres: list[str], case: Any) -> None:
    """order: any on PostgreSQL: attempts: first is comparisons, CASE and LEAST; best over a
    long source keeps lists (lambdas) and is refused, naming list_filter."""
    _both(case, lambda script, like: psql_rows(postgres, script.text(), like), "postgres")


# ---- attribution: (tests/test_attribution.py's fixtures) ----------------------------------------

ATTRIBUTED = [
    (order, attribution)
    for order in ("backfill", "strict")
    for attribution in ("first_known", "last", "stage:mql")
]


def _attributed_rows(tmp: Path, order: str, attribution: str) -> tuple[Any, ReportRequest]:
    from test_attribution import HISTORY, funnel

    (tmp / "history.csv").write_text(HISTORY.lstrip(), encoding="utf-8")
    yaml_text = funnel(attribution).replace("order: strict", f"order: {order}")
    loaded = parse_funnel(yaml_text, file="funnel.yaml", base_dir=tmp)
    return loaded, ReportRequest(breakdowns=(("channel",),), min_n=0, top=2)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize(("order", "attribution"), ATTRIBUTED)
def test_attribution_on_spark_gives_duckdb_rows(
    spark: Any, tmp_path: Path, order: str, attribution: str
) -> None:
    loaded, request = _attributed_rows(tmp_path, order, attribution)
    with open_engine(loaded) as engine:
        expected = engine.rows(compile_for(engine, loaded, _query(loaded, request)).query)
    script = report_script(loaded, request, None, "spark")
    assert_same_rows(expected, spark_rows(spark, script.statements))


@pytest.mark.slow
@pytest.mark.parametrize(("order", "attribution"), ATTRIBUTED)
def test_attribution_on_postgres_gives_duckdb_rows(
    postgres: list[str], tmp_path: Path, order: str, attribution: str
) -> None:
    loaded, request = _attributed_rows(tmp_path, order, attribution)
    if order == "strict":  # evidence lists (a long source under strict) need lambdas
        with pytest.raises(UsageError, match="list_filter"):
            report_script(loaded, request, None, "postgres")
        return
    with open_engine(loaded) as engine:
        expected = engine.rows(compile_for(engine, loaded, _query(loaded, request)).query)
    script = report_script(loaded, request, None, "postgres")
    assert_same_rows(expected, psql_rows(postgres, script.text(), expected))

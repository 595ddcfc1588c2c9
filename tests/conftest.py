"""Shared pytest options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/*.sql from the current compiler instead of comparing.",
    )
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite tests/snapshots/ from the current CLI output instead of comparing.",
    )
    parser.addoption(
        "--update-docs",
        action="store_true",
        default=False,
        help="Rewrite docs/cli.md from the registered commands' --help instead of comparing.",
    )


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A --cache run without --cache-dir (the CLI tests, the YAML's `cache: true`) uses a
    temporary folder, never the user's cache. Without the cache nothing is written there:
    transcoded and converted copies go to a temporary folder the engine removes."""
    import os

    os.environ.setdefault("FUNNELCLI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every test marked `spark` (tests/test_dialects.py and
    tests/test_spark.py), tuned for many small queries over sample-sized data: one shuffle
    partition, no adaptive planning or whole-stage code generation (their compile time
    dwarfs the data), the JVM's quick compiler only. Measured in README "Scaling"."""
    import os
    import shutil

    pytest.importorskip("pyspark", reason="pyspark is the `spark` extra: pip install '.[spark]'")
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs Java 17+ (no java on PATH, no JAVA_HOME)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("funnelcli-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

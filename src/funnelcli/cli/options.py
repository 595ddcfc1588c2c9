"""The `funnel` commands' shared options (typed aliases, one help text each) and the `--format`
choices of each command."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from funnelcli.metrics.periods import PeriodKind

FunnelArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="[FUNNEL]",
        help="Funnel YAML file. Default: ./funnel.yaml, else funnels/default.yaml.",
        show_default=False,
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        metavar="DIR",
        help="Resolve relative source paths against DIR instead of the YAML's folder.",
        exists=True,
        file_okay=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Entry cohort start (inclusive), e.g. 2025-01-01; without an offset, in the "
        "YAML's timezone: (a date is local midnight).",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Entry cohort end (exclusive), e.g. 2025-04-01; without an offset, in the "
        "YAML's timezone: (a date is local midnight).",
    ),
]
HistogramOpt = Annotated[
    str | None,
    typer.Option(
        "--histogram",
        metavar="STAGE",
        help="Also the histogram of the time from the previous stage into STAGE "
        "(bins in minutes, hours, days or weeks by spread).",
    ),
]
TopOpt = Annotated[
    int | None,
    typer.Option(
        "--top",
        min=1,
        metavar="N",
        help="Per breakdown column, keep the N values with the most entries; the rest are "
        "one group, (other).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="Count as at this point in time (later evidence ignored); default: the latest "
        "time in the data.",
    ),
]
MaxRejectedOpt = Annotated[
    str | None,
    typer.Option(
        "--max-rejected",
        metavar="N|N%",
        help="Rows of a source that may be set aside (unreadable times) before the run fails "
        "(exit 1); default: the YAML's max_rejected:, 1%.",
    ),
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option(
        metavar="COLUMN[,COLUMN]",
        help="Break down by a column (repeatable; 'a,b' crosses two). "
        "Default: the YAML's breakdown:.",
    ),
]
MinNOpt = Annotated[
    int | None,
    typer.Option(
        "--min-n",
        min=0,
        metavar="N",
        help="Mark groups with fewer entries (default: YAML min_n, 30).",
    ),
]


class EngineKind(StrEnum):
    """Where the queries run: DuckDB here, or a SparkSession (`--spark-master`)."""

    duckdb = "duckdb"
    spark = "spark"


EngineOpt = Annotated[
    EngineKind,
    typer.Option(
        "--engine",
        help="Run the queries on DuckDB (here) or on Spark (pip install 'funnelcli[spark]'; "
        "the files must be readable there at the same paths).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        metavar="URL",
        envvar="FUNNELCLI_SPARK_MASTER",
        help="With --engine spark: local[*] (default), a cluster URL (spark://…, yarn) or a "
        "Spark Connect URL (sc://…).",
        show_default=False,
    ),
]


def spark_master(engine: EngineKind, master: str | None) -> str | None:
    """The master to run on, None for DuckDB; --spark-master without --engine spark is an
    error rather than silently ignored."""
    if engine is EngineKind.spark:
        return master or "local[*]"
    if master is not None:
        import os

        if os.environ.get("FUNNELCLI_SPARK_MASTER") != master:
            from funnelcli.errors import UsageError

            raise UsageError("--spark-master needs --engine spark")
    return None


# The `--format` choices of each command: exactly the formats its artifact offers
# (render.formats(); tests/test_render_registry.py holds each against it).
class ReportFormat(StrEnum):
    """`funnel report`, `cohorts` and `roi` (html: one self-contained page with charts; xlsx:
    a workbook, binary, so with -o FILE or a redirect)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    xlsx = "xlsx"


class SummaryFormat(StrEnum):
    """`funnel summary` (html is for e-mail delivery)."""

    table = "table"
    markdown = "markdown"
    html = "html"
    json = "json"
    xlsx = "xlsx"


class CacheFormat(StrEnum):
    """`funnel cache info`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class ValidateFormat(StrEnum):
    """`funnel validate`."""

    table = "table"
    json = "json"


FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout."
    ),
]
CacheOpt = Annotated[
    bool | None,
    typer.Option(
        "--cache/--no-cache",
        help="Read sources through their Parquet copies in the cache, built on first use and "
        "rebuilt when a file changes. Default: the YAML's cache: setting (off).",
        show_default=False,
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        metavar="DIR",
        help="Cache folder. Default: $FUNNELCLI_CACHE_DIR, else $XDG_CACHE_HOME/funnelcli, "
        "else ~/.cache/funnelcli.",
        file_okay=False,
    ),
]

PeriodOpt = Annotated[
    PeriodKind,
    typer.Option("--period", help="Period length: ISO weeks (week_start: in the YAML) or months."),
]

"""The `funnel` command: thin typer layer that parses options, calls the library, picks a renderer.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from funnelcli import __version__
from funnelcli.errors import FunnelError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from funnelcli.outputs.base import Artifact
    from funnelcli.outputs.validation import ValidationResult

app = typer.Typer(
    name="funnel",
    help="Funnel analysis for B2B CRM exports: lead → qualified → trial → paid → renewed.\n\n"
    "Example: funnel report funnels/default.yaml --by channel",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")
DEFAULT_FUNNELS = (Path("funnel.yaml"), Path("funnels/default.yaml"))

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
    typer.Option(metavar="DATE", help="Entry cohort start (inclusive), e.g. 2025-01-01."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Entry cohort end (exclusive), e.g. 2025-04-01."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="DATE", help="Maturity anchor; default: the latest time in the data."
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


# The `--format` choices of each command: exactly the formats its artifact offers
# (render.formats(); tests/test_render_registry.py holds each against it).
class ReportFormat(StrEnum):
    """`funnel report`, `cohorts` and `roi`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class SummaryFormat(StrEnum):
    """`funnel summary` (html is for e-mail delivery)."""

    table = "table"
    markdown = "markdown"
    html = "html"
    json = "json"


class CacheFormat(StrEnum):
    """`funnel cache info`."""

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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"funnel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB."""


def _fail(error: FunnelError) -> NoReturn:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(error.exit_code)


def _guard(debug: bool, action: Callable[[], T]) -> T:
    """Run a command body; a FunnelError becomes one line on stderr and its exit code."""
    try:
        return action()
    except FunnelError as error:
        if debug:
            raise
        _fail(error)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None
    except Exception as error:  # a bug, not bad input: still one line unless --debug
        if debug:
            raise
        typer.echo(
            f"Error: internal error ({type(error).__name__}: {error}); rerun with --debug "
            "for the traceback and please report it",
            err=True,
        )
        raise typer.Exit(1) from None


def _funnel_path(path: Path | None) -> Path:
    if path is not None:
        return path
    for candidate in DEFAULT_FUNNELS:
        if candidate.is_file():
            return candidate
    raise UsageError("no FUNNEL given and neither ./funnel.yaml nor ./funnels/default.yaml exists")


def emit(
    artifact: Artifact | ValidationResult,
    fmt: StrEnum,
    output: Path | None,
    *,
    quiet_unless_tty: bool = False,
) -> None:
    """Show `artifact` in `fmt` (render's registry): a table on stdout goes straight to the
    console, in colour at the terminal's width; anything else is text, written to stdout or
    atomically to `output`. `quiet_unless_tty` (the commands meant for cron) drops the "Wrote
    FILE" note unless stderr is a terminal, so a run that worked is silent and cron mails only
    errors."""
    from funnelcli.render import as_text, draw

    drawing = draw(artifact, fmt)
    if output is None and not isinstance(drawing, str):
        console = _console()
        for renderable in drawing:
            console.print(renderable)
        return
    text = as_text(drawing, width=_width())
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from funnelcli.engine.store import write_atomic

    write_atomic(output, text)
    if not quiet_unless_tty or sys.stderr.isatty():
        typer.echo(f"Wrote {output}", err=True)


def _console() -> Console:
    from rich.console import Console

    return Console(width=_width() if not sys.stdout.isatty() else None)


def _width() -> int:
    try:
        return max(60, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 100


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="funnel")
    except FunnelError as error:  # raised while parsing options, before a command's guard
        _fail(error)

"""The `funnel` typer app: its help, `--version`, and the console-script entry point.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated, NoReturn

import typer

from funnelcli import __version__
from funnelcli.errors import FunnelError

# `-h` as well as `--help`, on the app and (through add_typer/command) on every command.
HELP_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="funnel",
    help="Funnel analysis for B2B CRM exports: lead → qualified → trial → paid → renewed.\n\n"
    "Example: funnel report funnels/default.yaml --by channel",
    no_args_is_help=False,
    add_completion=True,  # --install-completion / --show-completion [bash|zsh|fish|powershell]
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"funnel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB."""


def fail(error: FunnelError) -> NoReturn:
    """One line on stderr, and the error's exit code."""
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(error.exit_code)


def main() -> None:
    """Console-script entry point.

    A `funnel` run is one short process, tuned as mypy tunes its own: the cyclic garbage
    collector runs rarely (importing sqlglot, pydantic and DuckDB allocates hundreds of
    thousands of objects, and each default-threshold pass walks them all), and once the command
    has finished (its engine closed, its temporary files removed), the process ends after
    flushing its output instead of tearing those modules down object by object. Together
    about 0.1 s of the bundled sample's 0.6 s report (benchmarks/RESULTS.md).
    """
    gc.set_threshold(200_000, 30, 30)
    try:
        app(prog_name="funnel")
    except FunnelError as error:  # raised while parsing options, before a command's guard
        try:
            fail(error)
        except SystemExit as done:
            _hard_exit(done)
    except SystemExit as done:  # how typer's standalone mode ends every run
        _hard_exit(done)


def _hard_exit(done: SystemExit) -> NoReturn:
    """End the process with `done`'s code once stdout and stderr are flushed."""
    code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    if isinstance(done.code, str):  # sys.exit("message") prints the message, as Python would
        sys.stderr.write(done.code + "\n")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `funnel report | head`: the reader left
            code = code or 1
    os._exit(code)

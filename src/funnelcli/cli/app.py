"""The `funnel` typer app: its help, `--version`, and the console-script entry point.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from funnelcli import __version__
from funnelcli.errors import FunnelError

app = typer.Typer(
    name="funnel",
    help="Funnel analysis for B2B CRM exports: lead → qualified → trial → paid → renewed.\n\n"
    "Example: funnel report funnels/default.yaml --by channel",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB."""


def fail(error: FunnelError) -> NoReturn:
    """One line on stderr, and the error's exit code."""
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(error.exit_code)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="funnel")
    except FunnelError as error:  # raised while parsing options, before a command's guard
        fail(error)

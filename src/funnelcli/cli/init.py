"""`funnel init`: a commented funnel YAML inferred from CRM exports."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from funnelcli.cli.options import DebugOpt
from funnelcli.cli.root import app
from funnelcli.cli.runtime import guard
from funnelcli.errors import UsageError


@app.command()
def init(
    exports: Annotated[
        list[Path],
        typer.Argument(
            metavar="EXPORT...",
            help="CRM export files (.csv, .tsv, .csv.gz, .xlsx); the first one defines the ids.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="The YAML to write.")
    ] = Path("funnel.yaml"),
    interactive: Annotated[
        bool,
        typer.Option("--interactive", help="Confirm each choice on the terminal."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a funnel YAML inferred from the exports' headers and values (stage dates, stage
    columns, ids, accounts, values, dimensions), each choice commented, validated; then run
    the report command it prints. What the data cannot tell (window, within, order, tz) is
    listed at the end of the file.

    Example: funnel init sample_data/leads.csv -o /tmp/funnel.yaml
    """

    def run() -> None:
        from funnelcli.commands.init import InitRequest, init_funnel

        confirm = None
        if interactive:
            if not sys.stdin.isatty():
                raise UsageError("--interactive needs a terminal")

            def confirm(question: str) -> bool:
                return typer.confirm(question, default=True, err=True)

            def choose(question: str, names: Sequence[str]) -> str:
                import click

                answer: str = typer.prompt(question, type=click.Choice(list(names)), err=True)
                return answer

        result = init_funnel(
            InitRequest(tuple(exports), output, force), confirm, choose if interactive else None
        )
        typer.echo(
            f"Wrote {result.output}: {len(result.stages)} stages ({', '.join(result.stages)}).",
            err=True,
        )
        if result.human:
            typer.echo(
                "Still your choice (see the end of the file): "
                + "; ".join(h.split(":")[0] for h in result.human)
                + ".",
                err=True,
            )
        typer.echo(result.command)

    guard(debug, run)

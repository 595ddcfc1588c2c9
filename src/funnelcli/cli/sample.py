"""`funnel sample`: a seeded synthetic CRM export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from funnelcli.cli.options import DebugOpt
from funnelcli.cli.root import app
from funnelcli.cli.runtime import guard, note


@app.command()
def sample(
    rows: Annotated[int, typer.Option(min=1, metavar="N", help="Number of leads.")] = 3000,
    seed: Annotated[
        int, typer.Option(metavar="S", help="Random seed (same seed, same files).")
    ] = 7,
    out: Annotated[
        Path,
        typer.Option(
            "--output", "-o", "--out", metavar="DIR", help="Folder to write the CSV files to."
        ),
    ] = Path("sample_data"),
    debug: DebugOpt = False,
) -> None:
    """Write a realistic synthetic CRM export: leads, stage history, monthly spend, contracts.

    Example: funnel sample --rows 100000 --seed 1 --output /tmp/crm
    """

    def run() -> None:
        from funnelcli.commands.sample import generate_sample

        for path in generate_sample(out, rows=rows, seed=seed):
            note(f"Wrote {path}")

    guard(debug, run)

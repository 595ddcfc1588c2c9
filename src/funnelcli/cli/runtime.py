"""Running a command body: errors as one line and an exit code, the funnel file, output to
the console or atomically to a file, and the progress display."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from funnelcli.cli.root import fail
from funnelcli.errors import FunnelError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from funnelcli.spec import Funnel

T = TypeVar("T")
DEFAULT_FUNNELS = (Path("funnel.yaml"), Path("funnels/default.yaml"))


def guard(debug: bool, action: Callable[[], T]) -> T:
    """Run a command body; a FunnelError becomes one line on stderr and its exit code."""
    try:
        return action()
    except FunnelError as error:
        if debug:
            raise
        fail(error)
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


def notice(line: str) -> None:
    """A line about the run on stderr, terminal or not (set-aside rows)."""
    typer.echo(line, err=True)


def funnel_path(path: Path | None) -> Path:
    if path is not None:
        return path
    for candidate in DEFAULT_FUNNELS:
        if candidate.is_file():
            return candidate
    raise UsageError("no FUNNEL given and neither ./funnel.yaml nor ./funnels/default.yaml exists")


def emit(
    artifact: object,
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
        screen = console()
        for renderable in drawing:
            screen.print(renderable)
        return
    text = as_text(drawing, width=width())
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from funnelcli.engine.store import write_atomic

    write_atomic(output, text)
    if not quiet_unless_tty or sys.stderr.isatty():
        typer.echo(f"Wrote {output}", err=True)


def console() -> Console:
    from rich.console import Console

    return Console(width=width() if not sys.stdout.isatty() else None)


def width() -> int:
    try:
        return max(60, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 100


@contextmanager
def query_progress(
    definition: Funnel, data: Path | None
) -> Iterator[Callable[[float], None] | None]:
    """A progress display on stderr while the sources are read, only when stderr is a
    terminal (never in pipes, cron, CI or under NO_COLOR / TERM=dumb)."""
    if not sys.stderr.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        yield None
        return
    from rich.console import Console

    from funnelcli.commands.options import source_files
    from funnelcli.render.terminal.progress import QueryProgress

    files = source_files(definition, data)
    total = sum(f.stat().st_size for f in files)
    names = ", ".join(sorted({f.name for f in files}))
    with QueryProgress(Console(stderr=True), f"Reading {names}", total) as progress:
        yield progress

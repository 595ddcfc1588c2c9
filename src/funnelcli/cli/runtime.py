"""Running a command body: errors as one line and an exit code, the funnel file, output to
the console or atomically to a file, and the progress display."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from funnelcli.cli.options import EngineKind, spark_master
from funnelcli.cli.root import fail
from funnelcli.errors import FunnelError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from funnelcli.commands.options import RunOptions
    from funnelcli.spec import Funnel

T = TypeVar("T")
DEFAULT_FUNNELS = (Path("funnel.yaml"), Path("funnels/default.yaml"))


class Verbosity(Enum):
    """What a run says on stderr besides errors: `--quiet` nothing, `-v` progress and timings."""

    quiet = 0
    normal = 1
    verbose = 2


_verbosity = Verbosity.normal


def set_verbosity(level: Verbosity) -> None:
    """The run's verbosity (cli/conventions.py sets it from --quiet/--verbose)."""
    global _verbosity
    _verbosity = level


def note(text: str, *, level: Verbosity = Verbosity.normal) -> None:
    """`text` on stderr unless the run is quieter than `level` (control characters shown
    escaped: a path or a value may carry them)."""
    if _verbosity.value >= level.value:
        typer.echo(_visible(text), err=True)


@contextmanager
def timed(what: str) -> Iterator[None]:
    """With -v, how long `what` took, on stderr once it ends (also when it fails)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        note(f"{what}: {time.perf_counter() - started:.2f} s", level=Verbosity.verbose)


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
    except BrokenPipeError:  # `funnel report | head`: the reader left; nothing to say
        _silence_stdout()
        raise typer.Exit(141) from None
    except (OSError, UnicodeEncodeError, AttributeError) as error:
        problem = output_problem(error)
        if problem is None or debug:
            raise
        _silence_stdout()
        fail(FunnelError(problem))
    except Exception as error:  # a bug, not bad input: still one line unless --debug
        if debug:
            raise
        typer.echo(
            _visible(
                f"Error: internal error ({type(error).__name__}: {error}); rerun with --debug "
                "for the traceback and please report it"
            ),
            err=True,
        )
        raise typer.Exit(1) from None


def notice(line: str) -> None:
    """A line about the run on stderr, terminal or not (set-aside rows; a file name or a
    value may carry control characters: shown escaped)."""
    typer.echo(_visible(line), err=True)


def _visible(text: str) -> str:
    from funnelcli.render.visible import visible_text

    return visible_text(text)


def run_options(
    data: Path | None,
    cache: bool | None,
    cache_dir: Path | None,
    max_rejected: str | None,
    engine: EngineKind = EngineKind.duckdb,
    spark: str | None = None,
    **more: Any,
) -> RunOptions:
    """How a command reads its sources, from the options the reading commands share: --data,
    --cache/--cache-dir, --max-rejected (checked; set-aside lines go to stderr) and
    --engine/--spark-master; `more`: any other RunOptions field (progress, explain)."""
    from funnelcli.commands.options import RunOptions
    from funnelcli.commands.set_aside import parse_limit

    return RunOptions(
        data_dir=data,
        cache=cache,
        cache_dir=cache_dir,
        max_rejected=parse_limit(max_rejected),
        notice=notice,
        spark_master=spark_master(engine, spark),
        **more,
    )


def output_problem(error: BaseException) -> str | None:
    """The one line for a failure to write the output to stdout (closed, full, or unable to
    encode it), or None when `error` is about something else."""
    stdout = sys.stdout
    if stdout is None or getattr(stdout, "closed", False):
        if isinstance(error, AttributeError | ValueError | OSError):
            return "stdout is closed; write to a file with --output FILE"
        return None
    if isinstance(error, UnicodeEncodeError):
        encoding = getattr(stdout, "encoding", None) or "?"
        return (
            f"stdout cannot show these characters (its encoding is {encoding}); use a UTF-8 "
            "locale (LANG=C.UTF-8), PYTHONIOENCODING=utf-8, or --output FILE"
        )
    if isinstance(error, OSError) and error.filename is None and error.strerror:
        return f"cannot write to stdout: {error.strerror}"
    return None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the exit's flush of a broken stream says nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if sys.stdout is not None:
            os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = None


def funnel_path(path: Path | None) -> Path:
    """The funnel file to read: `path`, else the first default that exists. A FUNNEL that does
    not exist is a usage error (exit 2, as README's table says), like any bad argument."""
    if path is not None:
        if not path.exists():
            raise UsageError(f"{path}: funnel definition not found")
        return path
    for candidate in DEFAULT_FUNNELS:
        if candidate.is_file():
            return candidate
    raise UsageError("no FUNNEL given and neither ./funnel.yaml nor ./funnels/default.yaml exists")


def emit(artifact: object, fmt: StrEnum, output: Path | None) -> None:
    """Show `artifact` in `fmt` (render's registry): a table on a terminal goes straight to the
    console, in colour at its width; anything else is text (or an .xlsx workbook's
    bytes), written to stdout or atomically to `output`, with "Wrote FILE" on stderr (not with
    --quiet: a cron job that worked stays silent)."""
    from funnelcli.render import as_text, draw

    with timed(f"render {fmt.value}"):
        drawing = draw(artifact, fmt)
        # On a terminal, in colour at its width; piped, as text without trailing spaces.
        if output is None and not isinstance(drawing, str | bytes) and sys.stdout.isatty():
            screen = console()
            for renderable in drawing:
                screen.print(renderable)
            return
        if isinstance(drawing, bytes):
            if output is None and sys.stdout.isatty():
                raise UsageError(f"--format {fmt.value} is a binary file: give -o FILE")
            text: str | bytes = drawing
        else:
            text = as_text(drawing, width=width())
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_file(output, text)


def write_file(output: Path, text: str | bytes) -> None:
    """`text` atomically into `output`, then "Wrote FILE" on stderr (unless --quiet)."""
    from funnelcli.engine.store import write_atomic

    write_atomic(output, text)
    note(f"Wrote {output}")


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
    if _verbosity is Verbosity.quiet:
        yield None
        return
    if not sys.stderr.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        with timed("read and count"):
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

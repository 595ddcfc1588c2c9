"""The options every command shares without declaring them: `--quiet/-q` and `--verbose/-v`.

`apply(app)` runs once, after every command module has registered its commands, and gives each
registered command (subcommands included) the two options by wrapping its callback: a command
added later (by any module imported before `apply`) gets them without a line of its own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from funnelcli.cli import runtime

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print errors only (no 'Wrote FILE', no progress, no timings)."
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Print progress and timings on stderr."),
]
SHARED = ("quiet", "verbose")


def apply(app: typer.Typer) -> None:
    """Give every command registered on `app` and its groups `--quiet` and `--verbose`."""
    for command in app.registered_commands:
        if command.callback is not None and not getattr(command.callback, "_conventions", False):
            command.callback = _with_shared_options(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apply(group.typer_instance)


def _with_shared_options(callback: Callable[..., Any]) -> Callable[..., Any]:
    """`callback` with two more keyword parameters, consumed before it is called: they set the
    run's verbosity (cli/runtime.py) and are never passed on."""
    signature = inspect.signature(callback, eval_str=True)  # typer wants real annotations
    if any(name in signature.parameters for name in SHARED):
        return callback

    @functools.wraps(callback)
    def command(*args: Any, quiet: bool = False, verbose: bool = False, **kwargs: Any) -> Any:
        if quiet and verbose:
            raise typer.BadParameter("--quiet and --verbose contradict each other", param_hint="-q")
        level = runtime.Verbosity.verbose if verbose else runtime.Verbosity.normal
        runtime.set_verbosity(runtime.Verbosity.quiet if quiet else level)
        with runtime.timed(callback.__name__.replace("_", " ")):
            return callback(*args, **kwargs)

    # typer reads the options from the signature: the command's own, then the shared two.
    shared = [
        inspect.Parameter(
            "quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietOpt
        ),
        inspect.Parameter(
            "verbose", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=VerboseOpt
        ),
    ]
    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        else p
        for p in signature.parameters.values()
    ]
    command.__signature__ = signature.replace(parameters=[*params, *shared])  # type: ignore[attr-defined]
    command._conventions = True  # type: ignore[attr-defined]
    return command

"""`funnel init` as a library call: exports in, a commented and validated funnel YAML out.

The exports are opened by the engine as a report reads them (profile.py), the rules of
infer.py make a Draft, writer.py words it as YAML; the text is validated as `funnel validate`
would (spec, files, columns, every date readable) before it is written, atomically, and never
over an existing file without `force`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from funnelcli.commands.init.draft import Draft

if TYPE_CHECKING:
    from funnelcli.engine import Engine

# Interactive confirmation: asked a question about one choice, answers keep (True) or drop.
Confirm = Callable[[str], bool]
# Interactive choice: asked for one of the names offered, answers one of them.
Choose = Callable[[str, Sequence[str]], str]


@dataclass(frozen=True)
class InitRequest:
    """What `funnel init` is asked."""

    exports: tuple[Path, ...]
    output: Path = Path("funnel.yaml")
    force: bool = False  # overwrite an existing output


@dataclass(frozen=True)
class InitResult:
    """The YAML written and what to do next."""

    output: Path
    text: str
    stages: tuple[str, ...]
    human: tuple[str, ...]  # choices left to a human
    command: str  # the report command to run next


def init_funnel(
    request: InitRequest, confirm: Confirm | None = None, choose: Choose | None = None
) -> InitResult:
    """Infer, (confirm: each choice kept or dropped; choose: another id column), validate and
    write the funnel for `request.exports`."""
    from funnelcli.commands.init.profile import provisional
    from funnelcli.commands.init.writer import render_yaml
    from funnelcli.commands.validate import validate_funnel
    from funnelcli.engine import open_engine
    from funnelcli.engine.files import same_file
    from funnelcli.engine.store import write_atomic
    from funnelcli.errors import DataError, DayMonthError, FunnelError, UsageError
    from funnelcli.spec import parse_funnel

    output = request.output
    if output.exists() and not request.force:
        raise UsageError(f"{output} exists; pass --force to overwrite it")
    if output.exists() and output.is_dir():
        raise UsageError(f"{output} is a folder; name the YAML file with -o")
    for export in request.exports:
        if not export.is_file():
            raise UsageError(f"no such file: {export}")
        if same_file(output, export):  # --force or not: an export is never overwritten
            raise UsageError(f"--output {output}: that is the export {export}; name a .yaml")
    names = _names(request.exports)
    folder = output.resolve().parent
    written = [_relative(e, folder) for e in request.exports]
    with open_engine(provisional(request.exports, names)) as engine:  # the sniffer's types
        times = {n: [c for c, t in engine.columns(n) if _is_time(t)] for n in names}
    # read again with the dates as stage times: parsed as a report parses them
    try:
        with open_engine(provisional(request.exports, names, times)) as engine:
            draft = _draft(engine, names, request.exports, written, confirm, choose)
        ambiguous = False
    except DayMonthError:  # a date column whose day/month order its values do not decide
        ambiguous = True
    if ambiguous:  # profiled one way round; the YAML leaves day_first: to the user
        with open_engine(provisional(request.exports, names, times, day_first=True)) as engine:
            draft = _draft(engine, names, request.exports, written, confirm, choose)
        draft.human.append(
            "day_first: some dates read either way (03/04/2024); set day_first: true or "
            "false on the source"
        )
    if confirm is not None:
        _confirm(draft, confirm)
    command = f"funnel report {_shell(output)}"
    text = render_yaml(draft, command)
    funnel = parse_funnel(text, file=str(output), base_dir=folder)
    try:
        validate_funnel(funnel)
    except FunnelError as error:  # e.g. 03/04/2024 dates: day_first: is the user's to set
        write_atomic(output, text)
        raise DataError(
            f"wrote {output}, but it does not validate yet ({error}); the comments at its end "
            "say what is left to you"
        ) from None
    write_atomic(output, text)
    return InitResult(
        output=output,
        text=text,
        stages=tuple(s.name for s in draft.stages),
        human=tuple(draft.human),
        command=command,
    )


def _draft(
    engine: Engine,
    names: list[str],
    exports: Sequence[Path],
    written: list[str],
    confirm: Confirm | None,
    choose: Choose | None,
) -> Draft:
    from funnelcli.commands.init.infer import infer
    from funnelcli.commands.init.profile import profile

    profiles = [profile(engine, n, e) for n, e in zip(names, exports, strict=True)]
    draft = infer(engine, profiles, written)
    first = draft.sources[0]
    if confirm is not None and choose is not None and not confirm(f"id column {first.id}?"):
        columns = [c.name for c in profiles[0].columns]
        draft = infer(engine, profiles, written, choose("id column", columns))
    return draft


def _is_time(sql_type: str) -> bool:
    return sql_type == "DATE" or sql_type.startswith("TIMESTAMP")


def _names(exports: Sequence[Path]) -> list[str]:
    """Provisional source names (s0, s1, …): profile queries address the views by them."""
    return [f"s{i}" for i in range(len(exports))]


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.resolve().as_posix()


def _shell(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def _confirm(draft: Draft, confirm: Confirm) -> None:
    """Each optional choice kept or dropped on a terminal (the id and stage order stay)."""
    for source in draft.sources:
        if source.account and not confirm(f"{source.name}: account column {source.account}?"):
            source.account = None
    kept = []
    for stage in draft.stages:
        where = stage.at or ", ".join(stage.match or [])
        if confirm(f"stage {stage.name} ({where}) — {stage.why}?"):
            if stage.value and not confirm(f"  {stage.name}: value {stage.value}?"):
                stage.value = None
            kept.append(stage)
    draft.stages = kept
    if draft.lost is not None and not confirm(f"lost: {draft.lost_why}?"):
        draft.lost = None
    draft.dimensions = [d for d in draft.dimensions if confirm(f"dimension {d}?")]
    draft.breakdown = [b for b in draft.breakdown if b in draft.dimensions]

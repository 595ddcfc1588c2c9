"""The CLI documents itself: docs/cli.md is generated from every registered command's --help
(as sqlite-utils' cog block does), and each registered command — walked from the app, not a
hand-kept list — has help with an example and is in the README's command table.

After changing a command's options or help: `pytest tests/test_docs.py --update-docs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from funnelcli.cli import app

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "cli.md"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
HEADER = """# CLI reference

Every `funnel` command's `--help`, generated from the app by `tests/test_docs.py`
(`pytest tests/test_docs.py --update-docs` after a change; the test fails when this file is
stale). Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 a `--fail-on`
alert was met. The README's [Commands](../README.md#commands) table says what each is for.
"""


def registered(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path under a click group (typer's), in registration order, groups
    followed by their own commands."""
    for name, command in group.commands.items():
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from registered(command, (*path, name))


COMMANDS = list(registered(typer.main.get_command(app)))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=ENV, prog_name="funnel")
    assert result.exit_code == 0, result.output
    return result.stdout


def reference() -> str:
    sections = [HEADER]
    for path in COMMANDS:
        text = help_text(path).rstrip()
        sections.append(f"## funnel {' '.join(path)}\n\n```text\n{text}\n```\n")
    return "\n".join(sections)


def test_the_cli_reference_is_current(request: pytest.FixtureRequest) -> None:
    text = reference()
    if request.config.getoption("--update-docs") or not REFERENCE.exists():
        REFERENCE.write_text(text, encoding="utf-8")
        if not request.config.getoption("--update-docs"):
            pytest.fail("wrote missing docs/cli.md; review and commit it")
    assert REFERENCE.read_text(encoding="utf-8") == text, (
        "docs/cli.md is stale: run pytest tests/test_docs.py --update-docs"
    )


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    text = help_text(path)
    assert f"Example: funnel {' '.join(path)}" in text


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`funnel {' '.join(path)}" in readme


def test_the_walk_finds_the_subcommands() -> None:
    """The walk is not a restated list, but it must reach nested commands."""
    assert ("cache",) in COMMANDS and ("cache", "build") in COMMANDS
    assert len(COMMANDS) == len(set(COMMANDS))

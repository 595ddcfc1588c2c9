"""The one render registry: what each artifact offers, what `--format` offers, what a format
an artifact does not offer does, and that rendering text formats never imports rich."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from artifacts import cache_info, cohorts, report, roi, summary
from funnelcli.cli import app
from funnelcli.errors import UsageError
from funnelcli.outputs.base import Artifact
from funnelcli.outputs.cache import CacheInfo
from funnelcli.outputs.cohorts import CohortMatrix
from funnelcli.outputs.drivers import Drivers
from funnelcli.outputs.report import FunnelReport
from funnelcli.outputs.roi import RoiReport
from funnelcli.outputs.stalled import StalledList
from funnelcli.outputs.summary import Summary
from funnelcli.outputs.trace import Trace
from funnelcli.outputs.validation import ValidationResult
from funnelcli.render import BINARY, Format, formats, render, render_bytes

ARTIFACTS = [report(), summary(), cohorts(), roi(), cache_info()]
# The artifact each command shows with --format (the command path as typed).
SHOWS = {
    "stalled": StalledList,
    "trace": Trace,
    "drivers": Drivers,
    "report": FunnelReport,
    "summary": Summary,
    "cohorts": CohortMatrix,
    "roi": RoiReport,
    "cache info": CacheInfo,
    "validate": ValidationResult,
}


def _command_paths(group: typer.Typer, prefix: str = "") -> Iterator[str]:
    """Every registered command as typed, e.g. "report", "cache info"."""
    for command in group.registered_commands:
        assert command.callback is not None
        yield prefix + (command.name or command.callback.__name__.replace("_", "-"))
    for subgroup in group.registered_groups:
        assert subgroup.typer_instance is not None
        yield from _command_paths(subgroup.typer_instance, f"{prefix}{subgroup.name} ")


def _format_choices(path: str) -> list[str] | None:
    """The choices `--help` lists for --format, None when the command has no --format."""
    result = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    found = re.search(r"--format <([a-z|]+)>", result.stdout)
    return found.group(1).split("|") if found else None


CHOICES = {path: _format_choices(path) for path in _command_paths(app)}


def test_every_command_with_a_format_shows_a_known_artifact() -> None:
    assert sorted(SHOWS) == sorted(path for path, choices in CHOICES.items() if choices)


@pytest.mark.parametrize("path", sorted(SHOWS))
def test_format_choices_are_exactly_what_the_artifact_offers(path: str) -> None:
    """`--help` lists, and the command accepts, only formats its artifact can be shown in."""
    assert CHOICES[path] == list(formats(SHOWS[path]))


def test_cache_info_refuses_html_before_running() -> None:
    result = CliRunner().invoke(app, ["cache", "info", "--format", "html"])
    assert result.exit_code == 2
    assert "'html' is not one of 'table', 'json', 'csv', 'markdown'" in result.stderr


def test_the_offered_formats() -> None:
    table, json_, csv, md, html, xlsx = Format
    assert formats(Summary) == (table, md, html, json_, xlsx)
    assert formats(CacheInfo) == (table, json_, csv, md)
    assert formats(ValidationResult) == (table, json_)
    for shown in (FunnelReport, CohortMatrix, RoiReport):
        assert formats(shown) == (table, json_, csv, md, html, xlsx)


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=lambda a: type(a).__name__)
def test_a_format_not_offered_is_a_usage_error_naming_the_offered(artifact: Artifact) -> None:
    missing = [fmt for fmt in Format if fmt not in formats(type(artifact))] + ["xml"]
    for fmt in missing:
        with pytest.raises(UsageError, match=f"--format {fmt}: .* offers table, ") as error:
            render(artifact, fmt)
        assert error.value.exit_code == 2


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=lambda a: type(a).__name__)
def test_every_offered_format_renders_and_json_follows_the_schema(artifact: Artifact) -> None:
    for fmt in formats(type(artifact)):
        if fmt in BINARY:
            assert render_bytes(artifact, fmt).startswith(b"PK")  # a zip: the xlsx container
        else:
            assert render(artifact, fmt, width=80).endswith("\n")
    document: Any = json.loads(render(artifact, Format.json))
    assert document["schema"] == artifact.schema
    jsonschema.validate(document, artifact.schema_document(), cls=jsonschema.Draft202012Validator)


def test_an_unknown_artifact_type_is_a_bug_not_a_usage_error() -> None:
    with pytest.raises(TypeError, match="no renderers for object"):
        render(object(), Format.json)  # type: ignore[arg-type]


PROBE = """
import sys
import funnelcli.cli
heavy = [m for m in ("rich", "sqlglot", "duckdb", "pydantic", "polars", "yaml") if m in sys.modules]
assert not heavy, f"import funnelcli.cli imported {heavy}"
sys.path.insert(0, "tests")
import artifacts
from funnelcli.render import BINARY, Format, formats, render, render_bytes
shown = [artifacts.report(), artifacts.summary(), artifacts.cohorts(), artifacts.roi()]
for artifact in [*shown, artifacts.cache_info()]:
    for fmt in formats(type(artifact)):
        if fmt is Format.xlsx:
            render_bytes(artifact, fmt)
        elif fmt is not Format.table:
            render(artifact, fmt)
assert "rich" not in sys.modules, "rendering a text format imported rich"
"""


def test_cli_start_and_text_formats_never_import_rich() -> None:
    subprocess.run([sys.executable, "-c", PROBE], check=True, cwd=Path(__file__).parent.parent)

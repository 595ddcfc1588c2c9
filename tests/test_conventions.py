"""The conventions a command-line user expects, held for every registered command (commands
added later are walked too): -h/--help, -V/--version, --quiet/-v, -o/--output, "Wrote FILE",
every --format that --help offers, shell completion, the README's exit codes, README excerpts
equal to the files and README examples that write only into a temporary folder."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.outputs.validation import ValidationResult

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
# Commands that report what they did to the cache rather than produce a result to keep.
NO_RESULT = {"cache clear", "cache build"}
_FIRST_ID = (ROOT / "sample_data" / "leads.csv").read_text(encoding="utf-8").split("\n")[1]
# The arguments a command needs on the bundled sample (none for the others).
ARGS = {
    "stalled": ["--stage", "qualified"],
    "drivers": ["--stage", "paid"],
    "trace": [_FIRST_ID.split(",")[0]],
}


def command_paths(group: typer.Typer = app, prefix: str = "") -> Iterator[str]:
    """Every registered command as typed, e.g. "report", "cache info"."""
    for command in group.registered_commands:
        assert command.callback is not None
        yield prefix + (command.name or command.callback.__name__.replace("_", "-"))
    for subgroup in group.registered_groups:
        assert subgroup.typer_instance is not None
        yield from command_paths(subgroup.typer_instance, f"{prefix}{subgroup.name} ")


COMMANDS = sorted(command_paths())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def help_text(path: str, flag: str = "--help") -> str:
    code, out, err = run(*path.split(), flag)
    assert code == 0, err
    return out


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "funnels", tmp_path / "funnels")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_has_short_help_quiet_verbose_and_output(path: str) -> None:
    text = help_text(path)
    assert help_text(path, "-h") == text
    for option in ("-h, --help", "-q, --quiet", "-v, --verbose"):
        assert option in text, f"funnel {path}: no {option}"
    if path not in NO_RESULT:
        assert "-o, --output" in text, f"funnel {path}: no -o/--output"


def test_version_long_and_short() -> None:
    assert run("--version")[1] == run("-V")[1]
    assert re.fullmatch(r"funnel \d+\.\d+\.\d+\n", run("-V")[1])
    assert "-h, --help" in run("-h")[1]


def test_sample_keeps_out_as_an_alias(tmp_path: Path) -> None:
    code, out, err = run("sample", "--rows", "5", "--out", str(tmp_path / "a"))
    assert code == 0 and out == ""
    assert err.splitlines()[0] == f"Wrote {tmp_path / 'a' / 'leads.csv'}"
    code, _, err = run("sample", "--rows", "5", "-o", str(tmp_path / "b"), "--quiet")
    assert code == 0 and err == "" and (tmp_path / "b" / "leads.csv").is_file()


def _format_choices(path: str) -> list[str]:
    found = re.search(r"--format <([a-z|]+)>", help_text(path).replace("\n", " "))
    return found.group(1).split("|") if found else []


FORMATS = [(path, fmt) for path in COMMANDS for fmt in _format_choices(path)]


CACHED = {"report", "summary", "cohorts", "roi"}  # with --cache a re-run skips the query


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for every format, so that their --cache runs share the stored results."""
    folder = tmp_path_factory.mktemp("formats")
    shutil.copytree(ROOT / "funnels", folder / "funnels")
    shutil.copytree(ROOT / "sample_data", folder / "sample_data")
    return folder


@pytest.mark.parametrize(("path", "fmt"), FORMATS, ids=[f"{p}-{f}" for p, f in FORMATS])
def test_every_offered_format_works_and_says_what_it_wrote(
    shared_repo: Path, monkeypatch: pytest.MonkeyPatch, path: str, fmt: str
) -> None:
    monkeypatch.chdir(shared_repo)
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(shared_repo / "cache"))
    cached = ("--cache",) if path in CACHED else ()
    target = shared_repo / f"{path.replace(' ', '-')}.{fmt}"
    args = [*path.split(), *ARGS.get(path, []), *cached]
    code, out, err = run(*args, "--format", fmt, "--output", str(target))
    assert code in (0, 3), err  # 3: summary's alert, none asked here
    assert out == ""
    assert err == f"Wrote {target}\n"
    assert target.stat().st_size > 0
    if fmt == _format_choices(path)[-1]:  # --quiet and -o once per command
        target.unlink()
        code, out, err = run(*args, "--format", fmt, "-o", str(target), "-q")
        assert (code, out, err) == (0, "", "") and target.is_file()


def test_verbose_prints_timings_and_contradicts_quiet(repo: Path) -> None:
    code, _, err = run("report", "-v", "--format", "json")
    assert code == 0
    assert re.search(r"^render json: \d+\.\d\d s$", err, re.M)
    assert re.search(r"^report: \d+\.\d\d s$", err, re.M)
    code, _, err = run("report", "-q", "-v")
    assert code == 2 and "--quiet and --verbose" in err


def test_report_rejects_file_is_announced(repo: Path) -> None:
    code, _, err = run("report", "--rejects", "rejects.csv", "-f", "json")
    assert code == 0 and "Wrote rejects.csv" in err


def test_validate_json_follows_its_schema(repo: Path) -> None:
    code, out, err = run("validate", "funnels/default.yaml", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["schema"] == "funnelcli.validation/1"
    assert document["stages"] == ["lead", "qualified", "trial", "paid", "renewed"]
    jsonschema.validate(document, ValidationResult.schema_document())


def test_sql_output_file(repo: Path) -> None:
    code, out, err = run("sql", "-o", "q.sql")
    assert (code, out, err) == (0, "", "Wrote q.sql\n")
    assert (repo / "q.sql").read_text(encoding="utf-8").rstrip().endswith(";")


# exit codes ------------------------------------------------------------------------------------


def _readme_exit_codes() -> dict[int, str]:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code): text for code, text in re.findall(r"^\| (\d) \| (.+) \|$", section, re.M)}


def test_readme_lists_exactly_the_codes_tested() -> None:
    assert sorted(_readme_exit_codes()) == [0, 1, 2, 3]


def test_exit_0_success(repo: Path) -> None:
    assert run("report")[0] == 0


def test_exit_1_data_or_spec_error(repo: Path) -> None:
    funnel = repo / "funnels" / "broken.yaml"
    funnel.write_text("name: broken\nstages: []\n", encoding="utf-8")
    code, out, err = run("report", str(funnel))
    assert code == 1 and out == "" and err.startswith("Error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [("report", "nowhere.yaml"), ("report", "--format", "xml"), ("report", "--since", "soon")],
    ids=["missing-yaml", "bad-format", "bad-date"],
)
def test_exit_2_usage_error(repo: Path, args: tuple[str, ...]) -> None:
    code, out, _ = run(*args)
    assert code == 2 and out == ""


def test_exit_2_names_the_missing_funnel(repo: Path) -> None:
    assert (
        run("validate", "nowhere.yaml")[2] == "Error: nowhere.yaml: funnel definition not found\n"
    )


def test_exit_3_alert_met(repo: Path) -> None:
    code, out, _ = run("summary", "--fail-on", "lead.count >= 0")
    assert code == 3 and "ALERT" in out


# shell completion ------------------------------------------------------------------------------


def test_completion_script_and_install(tmp_path: Path) -> None:
    """`funnel --install-completion bash` (README: Conventions) installs a working script."""
    # typer's own switch: take the shell as the option's value instead of detecting the parent
    # process's (a test runner's ancestors need not include a shell).
    env = {**os.environ, "HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    funnel = [sys.executable, "-m", "funnelcli"]
    shown = subprocess.run(
        [*funnel, "--show-completion", "bash"], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "_FUNNEL_COMPLETE" in shown.stdout or "complete_bash" in shown.stdout
    installed = subprocess.run(
        [*funnel, "--install-completion", "bash"], env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.startswith("bash completion installed")
    script = tmp_path / ".bash_completions" / "funnel.sh"
    assert "_FUNNEL_COMPLETE" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()
    assert "--install-completion" in README


# README ----------------------------------------------------------------------------------------


def _yaml_excerpts() -> list[tuple[str, str]]:
    """README yaml blocks introduced by a sentence naming a funnels/*.yaml file."""
    found = re.findall(r"\(`(funnels/[\w.]+\.yaml)`\):\s*\n\s*```yaml\n(.*?)```", README, re.S)
    assert found, "the README shows a funnel file's excerpt"
    return found


@pytest.mark.parametrize(("name", "excerpt"), _yaml_excerpts(), ids=lambda v: str(v)[:30])
def test_readme_yaml_excerpts_are_in_the_file(name: str, excerpt: str) -> None:
    """Each excerpt line is a line of the file (comments aside), in the file's order."""

    def code(line: str) -> str:
        return line.split(" #")[0].rstrip()

    lines = [code(line) for line in (ROOT / name).read_text(encoding="utf-8").splitlines()]
    position = 0
    for line in filter(None, map(code, excerpt.splitlines())):
        assert line in lines[position:], f"{name}: README shows {line!r}, the file does not"
        position = lines.index(line, position) + 1


def test_readme_examples_write_only_into_a_temporary_folder() -> None:
    """A reader who pastes the README's examples in the repository leaves nothing behind."""
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            args = shlex.split(line.split("  #")[0]) if line.startswith("funnel ") else []
            for flag in ("-o", "--output", "--out", "--rejects"):
                if flag in args:
                    target = args[args.index(flag) + 1]
                    assert target.startswith("/tmp/"), f"README writes {target}: {line}"

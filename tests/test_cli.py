"""The `funnel` command end to end, at a fixed terminal width, on the bundled sample data."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.outputs.report import FunnelReport
from realdata import DATASETS, data_args, require

ROOT = Path(__file__).resolve().parent.parent
FUNNELS = sorted((ROOT / "funnels").glob("*.yaml"))
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of funnels/ and sample_data/ as the working directory (the repo root layout)."""
    shutil.copytree(ROOT / "funnels", tmp_path / "funnels")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "cache"))  # never the user's
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_report_table_default_funnel(repo: Path) -> None:
    code, out, err = run("report")
    assert code == 0, err
    assert "Lead to renewal" in out
    for label in ("Lead", "MQL", "Trial", "Paid", "Renewed"):
        assert re.search(rf"^\s*{label}\s+[\d,]+", out, re.M), label
    assert "3,000" in out
    assert "By channel" in out
    assert "Data quality" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "\x1b[" not in out  # NO_COLOR / not a TTY: no escape codes


def test_report_json_validates_against_shipped_schema(repo: Path) -> None:
    code, out, err = run("report", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, FunnelReport.schema_document())
    assert document["schema"] == "funnelcli.report/1"
    stages = document["overall"]["stages"]
    assert [s["name"] for s in stages] == ["lead", "qualified", "trial", "paid", "renewed"]
    counts = [s["count"] for s in stages]
    assert counts[0] == 3000
    assert counts == sorted(counts, reverse=True)
    assert document["breakdowns"][0]["by"] == ["channel"]
    groups = document["breakdowns"][0]["groups"]
    assert sum(g["entered"] for g in groups) == 3000
    assert "(none)" in {g["key"]["channel"] for g in groups}


def test_json_is_deterministic(repo: Path) -> None:
    assert run("report", "-f", "json")[1] == run("report", "-f", "json")[1]


def test_report_csv_and_markdown(repo: Path) -> None:
    code, out, _ = run("report", "--format", "csv", "--by", "segment")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    overall = [r for r in rows if r["breakdown"] == "overall"]
    assert [r["stage"] for r in overall] == ["lead", "qualified", "trial", "paid", "renewed"]
    assert {r["group"] for r in rows if r["breakdown"] == "segment"} == {
        "SMB",
        "Mid-Market",
        "Enterprise",
    }
    code, out, _ = run("report", "--format", "markdown")
    assert code == 0
    assert out.startswith("# Lead to renewal")
    assert "| Stage |" in out


def test_output_file_is_written_and_matches_stdout(repo: Path) -> None:
    target = repo / "out" / "report.json"
    target.parent.mkdir()
    code, _, err = run("report", "-f", "json", "--output", str(target))
    assert code == 0
    assert f"Wrote {target}" in err
    assert target.read_text() == run("report", "-f", "json")[1]
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temp file left


def test_output_into_missing_folder_is_an_error(repo: Path) -> None:
    code, out, err = run("report", "-o", str(repo / "nope" / "r.json"))
    assert code == 1
    assert err.startswith("Error: ") and "does not exist" in err
    assert out == ""


@pytest.mark.parametrize("funnel", FUNNELS, ids=[f.stem for f in FUNNELS])
def test_every_example_funnel_runs_in_every_format(repo: Path, funnel: Path) -> None:
    """On sample_data/, or for the real-data funnels with --data ../shared/datasets/… ."""
    data = data_args(funnel.stem)
    for fmt in ("table", "json", "csv", "markdown"):
        code, out, err = run("report", f"funnels/{funnel.name}", *data, "--format", fmt)
        assert code == 0, err
        assert out.strip()
    code, out, _ = run("validate", f"funnels/{funnel.name}", *data)
    assert code == 0
    assert out.startswith(f"OK funnels/{funnel.name}")


def test_since_until_restricts_the_entry_cohort(repo: Path) -> None:
    _, out, _ = run("report", "-f", "json", "--since", "2025-01-01", "--until", "2025-04-01")
    document = json.loads(out)
    assert document["period"]["since"] == "2025-01-01"
    assert "2025-01-01" <= document["period"]["first_entry"] < "2025-04-01"
    assert document["period"]["last_entry"] < "2025-04-01"
    entered = document["overall"]["entered"]
    assert 0 < entered < 3000
    assert document["data_quality"]["ids_outside_period"] == 3000 - entered


def test_explain_prints_sql_to_stderr_only(repo: Path) -> None:
    code, out, err = run("report", "-f", "json", "--explain")
    assert code == 0
    assert "SELECT" in err and "GROUPING SETS" in err
    json.loads(out)


def test_sql_command_prints_one_statement(repo: Path) -> None:
    code, out, _ = run("sql", "funnels/default.yaml")
    assert code == 0
    assert out.startswith("WITH ") and out.rstrip().endswith(";")
    code, out, _ = run("sql", "funnels/default.yaml", "--dialect", "postgres")
    assert code == 0 and "SELECT" in out


def test_validate_broken_yaml_prints_one_line_with_file_line_key(repo: Path) -> None:
    broken = repo / "funnels" / "broken.yaml"
    text = (
        (repo / "funnels" / "default.yaml")
        .read_text()
        .replace("at: trial_started_at", "at: trial_at")
    )
    broken.write_text(text)
    code, out, err = run("validate", "funnels/broken.yaml")
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert re.match(
        r"Error: funnels/broken\.yaml:\d+: stages\[2\]\.at: column 'trial_at' not found in "
        r"leads\.csv \(did you mean 'trial_started_at'\?\)$",
        lines[0],
    )
    line_no = int(lines[0].split(":")[2])
    assert "trial_at" in text.splitlines()[line_no - 1]


def test_usage_errors_exit_2(repo: Path) -> None:
    code, _, err = run("report", "--since", "last tuesday")
    assert code == 2
    assert "--since" in err
    code, _, err = run("report", "--since", "2025-02-01", "--until", "2025-01-01")
    assert code == 2


def test_no_default_funnel_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("report")
    assert code == 2
    assert "funnel.yaml" in err


def test_missing_data_file_is_one_line_error(repo: Path) -> None:
    (repo / "sample_data" / "leads.csv").unlink()
    code, out, err = run("report")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "funnels/default.yaml" in err and "sources.leads.path" in err and "not found" in err


def test_debug_reraises_for_a_traceback(repo: Path) -> None:
    (repo / "sample_data" / "leads.csv").unlink()
    result = CliRunner().invoke(app, ["report", "--debug"], env=ENV)
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "SpecError"


def test_unknown_by_column_names_the_option(repo: Path) -> None:
    code, _, err = run("report", "--by", "chanel")
    assert code == 1
    assert "--by chanel" in err and "did you mean 'channel'" in err


def test_sample_is_seeded_and_reports_its_files(tmp_path: Path) -> None:
    code, out, err = run("sample", "--rows", "200", "--seed", "3", "--out", str(tmp_path / "a"))
    assert code == 0 and out == ""
    names = ["leads.csv", "stage_history.csv", "spend.csv", "subscriptions.csv"]
    assert err.splitlines() == [f"Wrote {tmp_path / 'a' / name}" for name in names]
    run("sample", "--rows", "200", "--seed", "3", "--out", str(tmp_path / "b"))
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_inputs_are_never_modified(repo: Path) -> None:
    files = sorted((repo / "sample_data").iterdir()) + sorted((repo / "funnels").iterdir())
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    for funnel in FUNNELS:
        if data_args(funnel.stem):  # real-data funnels: checked in test_real_data.py
            continue
        run("report", f"funnels/{funnel.name}", "-f", "json")
        run("validate", f"funnels/{funnel.name}")
        run("sql", f"funnels/{funnel.name}")
    assert before == {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and re.fullmatch(r"funnel \d+\.\d+\.\d+\n", out)


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("funnel "):
                commands.append(line)
    return commands


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_examples_run_as_shown(repo: Path, command: str) -> None:
    """Every `funnel …` line of the README's bash blocks runs (pipes into python included)."""
    command = command.replace("/tmp/", f"{repo}/tmp-")
    if "../shared/datasets/" in command:  # the "Real data" section: skipped without the data
        folder = command.split("../shared/datasets/")[1].split()[0]
        require(folder)
        command = command.replace("../shared/datasets", str(DATASETS))
    funnel_parts, _, pipe = command.partition(" | ")
    args = shlex.split(funnel_parts)[1:]
    code, out, err = run(*args)
    assert code in ({0, 3} if "--fail-on" in args else {0}), f"{command}\n{err}"  # 3: alert met
    if pipe:
        piped = subprocess.run(
            [sys.executable, *shlex.split(pipe)[1:]],
            input=out,
            text=True,
            capture_output=True,
            check=False,
        )
        assert piped.returncode == 0, piped.stderr


def test_console_script_runs_fast_path_without_heavy_imports() -> None:
    probe = (
        "import sys; import funnelcli.cli; "
        "print(sorted(m for m in ('duckdb', 'polars', 'sqlglot', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_validate_names_the_row_of_a_garbage_date(repo: Path) -> None:
    leads = repo / "sample_data" / "leads.csv"
    lines = leads.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = lines[5].rstrip("\n").split(",")
    row[header.index("paid_at")] = "31/02/2025"
    lines[5] = ",".join(row) + "\n"
    leads.write_text("".join(lines))
    code, out, err = run("validate", "funnels/default.yaml")
    assert code == 1
    assert out == ""
    assert err.strip().startswith("Error: ")
    assert "leads.csv:line 6: column 'paid_at': unparseable date: '31/02/2025'" in err
    code, out, err = run("report")  # a report sets the row aside and counts it
    assert code == 0 and "1 row rejected (unparseable date 1)" in out
    code, _, err = run("report", "--strict")
    assert code == 1 and "line 6" in err and "paid_at" in err


def test_readme_output_excerpt_is_current(repo: Path) -> None:
    """The README's terminal excerpt is what `funnel report` prints today (bars aside)."""
    readme = (ROOT / "README.md").read_text()
    excerpt = re.search(r"```text\n(.*?)```", readme, re.S)
    assert excerpt is not None
    _, out, _ = run("report")

    def words(line: str) -> list[str]:
        return [w for w in line.split() if not set(w) <= set("█▏▎▍▌▋▊▉─")]

    printed = [words(line) for line in out.splitlines()]
    for line in excerpt.group(1).splitlines():
        if words(line):
            assert words(line) in printed, line


def test_unknown_dimension_in_the_yaml_names_its_key(repo: Path) -> None:
    funnel = repo / "funnels" / "default.yaml"
    funnel.write_text(
        funnel.read_text().replace(
            "[channel, segment, owner, country]", "[channel, segmnt, owner, country]"
        )
    )
    code, _, err = run("validate", "funnels/default.yaml")
    assert code == 1
    assert re.search(
        r"default\.yaml:\d+: dimensions\[1\]: column 'segmnt' not found in leads\.csv "
        r"\(did you mean 'segment'\?\)",
        err,
    ), err


def test_since_with_an_offset_is_taken_in_utc(repo: Path) -> None:
    _, utc, _ = run("report", "-f", "json", "--since", "2025-01-01T00:00:00")
    _, shifted, _ = run("report", "-f", "json", "--since", "2025-01-01T02:00:00+02:00")
    assert json.loads(utc)["overall"] == json.loads(shifted)["overall"]


def test_output_file_gets_normal_permissions(tmp_path: Path) -> None:
    """--output files are readable like any file the user creates (mkstemp alone gives 0600)."""
    import os

    from funnelcli.engine.store import write_atomic

    target = tmp_path / "weekly.html"
    umask = os.umask(0o022)
    try:
        write_atomic(target, "x")
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o640)
        write_atomic(target, "y")  # replacing keeps the file's own permissions
        assert target.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)
    assert target.read_text() == "y"

"""No silent loss: rows set aside are said on stderr (one line per source, terminal or not), and
past `max_rejected:` (default 1% of a source's rows) or `--max-rejected` the run fails (exit 1)
before printing anything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.set_aside import allowed_rows

ENV = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^leads\.csv: (?P<n>[\d,]+) of 200 rows \((?P<share>[\d.]+%)\) set aside: created_at "
    r"'(?P<value>[^']*)' at line (?P<line>\d+) is not a date in the detected format"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _funnel(folder: Path, bad: int, extra: str = "") -> Path:
    """200 leads over 2025, the first `bad` of them with a created_at that is no date."""
    lines = ["id,created_at,qualified_at,channel"]
    for i in range(200):
        created = "TBD" if i < bad else f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d} 10:00"
        lines.append(f"L{i},{created},,web")
    (folder / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "f.yaml"
    path.write_text(
        "sources:\n  leads: {path: leads.csv, id: id}\n"
        "stages:\n  - {name: lead, at: created_at}\n  - {name: qualified, at: qualified_at}\n"
        "breakdown: [channel]\n" + extra,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", ["report", "summary", "cohorts"])
@pytest.mark.parametrize(("bad", "share"), [(200, "100%"), (60, "30%")])
def test_a_mostly_rejected_source_fails_with_one_line(
    tmp_path: Path, command: str, bad: int, share: str
) -> None:
    code, out, err = run(command, str(_funnel(tmp_path, bad)))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    found = LINE.match(lines[0].removeprefix("Error: "))
    assert found, lines[0]
    assert found["n"] == str(bad) and found["share"] == share
    assert (found["value"], found["line"]) == ("TBD", "2")
    assert "max_rejected" in lines[0]


def test_a_few_rejects_are_said_and_the_report_printed(tmp_path: Path) -> None:
    code, out, err = run("report", str(_funnel(tmp_path, 1)), "-f", "json")
    assert code == 0 and out.startswith("{")
    (line,) = err.strip().splitlines()  # said although stderr is no terminal here
    found = LINE.match(line)
    assert found and found["n"] == "1" and found["share"] == "0.50%"


def test_the_threshold_is_the_yaml_s_or_the_option_s(tmp_path: Path) -> None:
    path = _funnel(tmp_path, 60, "max_rejected: 40%\n")
    code, out, err = run("report", str(path))
    assert code == 0 and "140 leads entered" in out and LINE.match(err)
    code, out, err = run("report", str(path), "--max-rejected", "59")
    assert code == 1 and out == "" and "more than max_rejected (59 rows)" in err
    code, _, err = run("summary", str(path), "--max-rejected", "60")
    assert code == 0 and LINE.match(err)
    code, _, err = run("report", str(path), "--max-rejected", "lots")
    assert code == 2 and "--max-rejected" in err


def test_a_bad_yaml_threshold_names_its_key(tmp_path: Path) -> None:
    code, _, err = run("validate", str(_funnel(tmp_path, 0, "max_rejected: many\n")))
    assert code == 1 and "max_rejected" in err and "1%" in err


def test_strict_still_fails_on_any_reject(tmp_path: Path) -> None:
    code, out, err = run("report", str(_funnel(tmp_path, 1)), "--strict")
    assert code == 1 and out == "" and "--strict" in err


def test_the_footer_of_a_file_with_rows_never_says_no_data_rows(tmp_path: Path) -> None:
    code, out, _ = run("report", str(_funnel(tmp_path, 200)), "--max-rejected", "100%")
    assert code == 0
    flat = " ".join(out.split())
    assert "no data rows" not in flat
    assert "every row of source leads (200) was set aside" in flat


def test_the_sample_sets_nothing_aside_and_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for command in ("report", "summary", "cohorts", "roi"):
        code, _, err = run(command)
        assert code == 0 and err == "", (command, err)


@pytest.mark.parametrize(
    ("limit", "total", "allowed"), [("1%", 200, 2), ("1%", 50, 0), ("0.5%", 1000, 5), (7, 10, 7)]
)
def test_allowed_rows(limit: int | str, total: int, allowed: int) -> None:
    assert allowed_rows(limit, total) == allowed


@pytest.mark.parametrize(
    "args",
    [
        ["stalled", "--stage", "lead"],
        ["drivers", "--stage", "qualified", "--by", "channel"],
    ],
)
def test_the_id_lists_say_and_enforce_the_same_line(tmp_path: Path, args: list[str]) -> None:
    """stalled and drivers: the report's line and threshold (YAML default 1%, --max-rejected)."""
    path = str(_funnel(tmp_path, 60))
    code, out, err = run(args[0], path, *args[1:])
    assert code == 1 and out == ""
    (line,) = err.strip().splitlines()
    assert LINE.match(line.removeprefix("Error: ")) and "max_rejected (1% of its rows)" in line
    code, out, err = run(args[0], path, *args[1:], "--max-rejected", "30%")
    assert code == 0 and out
    (line,) = err.strip().splitlines()
    assert LINE.match(line) and LINE.match(line)["share"] == "30%"  # type: ignore[index]


def test_trace_says_the_line_and_stops_only_on_the_option(tmp_path: Path) -> None:
    """trace lists the key's rejected rows itself: the YAML's default does not stop it, an
    explicit --max-rejected does."""
    path = str(_funnel(tmp_path, 60))
    code, out, err = run("trace", path, "L0")
    assert code == 0 and "TBD" in out
    (line,) = err.strip().splitlines()
    assert LINE.match(line)
    code, out, err = run("trace", path, "L0", "--max-rejected", "59")
    assert code == 1 and out == "" and "more than max_rejected (59 rows)" in err


def test_risk_says_and_enforces_its_usage_file(tmp_path: Path) -> None:
    """funnel risk: its own files (usage, touches) too, not only the funnel's sources."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from risk_fixtures import list_case

    funnel = list_case(tmp_path)
    usage = tmp_path / "usage.csv"
    rows = usage.read_text().splitlines()
    usage.write_text("\n".join([*rows, "A,soon,10,,", "A,later,10,,"]) + "\n")  # > 1%
    code, out, err = run("risk", str(funnel.file))
    assert code == 1 and out == ""
    said = rf"usage\.csv: 2 of {len(rows) + 1} rows \(1%\) set aside: date 'soon' at line"
    assert re.search(rf"{said} {len(rows) + 1} ", err), err
    code, out, err = run("risk", str(funnel.file), "--max-rejected", "2")
    assert code == 0 and out
    assert re.match(said, err), err
    assert "--rejects" not in err  # report does not read risk's usage file

"""What a hostile value cannot do to an output: no raw control character in any format or error
line (render/visible.py), no formula cell in a CSV (render/csv_out.neutralise). The corpus
(tests/bad_inputs/hostile_values_*) runs the report formats end to end; these pin the rules."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer import Exit as click_exit
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.render.csv_out import neutralise
from funnelcli.render.visible import visible, visible_text

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+33 6 12", "'+33 6 12"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("-150", "-150"),  # a number stays a number
        ("-1.5e3", "-1.5e3"),
        ("+7", "+7"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


@given(st.text())
def test_visible_text_leaves_no_control_character_and_is_idempotent(text: str) -> None:
    shown = visible_text(text)
    assert not RAW_CONTROL.search(shown) and "\n" not in shown and "\t" not in shown
    assert visible_text(shown) == shown
    if not RAW_CONTROL.search(text) and not {"\n", "\t", "\r"} & set(text):
        assert shown == text


def test_visible_reaches_every_string_of_a_nested_artifact() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Inner:
        name: str
        counts: dict[str, int]

    @dataclass(frozen=True)
    class Outer:
        title: str
        items: tuple[Inner, ...]
        number: float

    value = Outer("a\x1b[2Jb", (Inner("x\ny", {"k\r": 1}),), 1.5)
    shown = visible(value)
    assert shown == Outer("a\\x1b[2Jb", (Inner("x\\ny", {"k\\r": 1}),), 1.5)
    plain = Outer("t", (Inner("n", {"k": 1}),), 2.0)
    assert visible(plain) is plain  # nothing to change: nothing copied


def test_rejects_csv_neutralises_formulas_and_control_characters(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,paid_at\n"
        "L1,2024-01-01,=cmd|' /C calc'!A0\n"
        "L2,2024-01-02,\x1b[31msoon\n"
        "L3,2024-01-03,-5\n",
        encoding="utf-8",
    )
    (tmp_path / "funnel.yaml").write_text(
        "sources:\n  leads: {path: leads.csv, id: lead_id}\n"
        "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n"
    )
    out = tmp_path.parent / f"{tmp_path.name}-rejects.csv"
    result = CliRunner().invoke(
        app,
        ["report", str(tmp_path / "funnel.yaml"), "--rejects", str(out), "--max-rejected", "100%"],
        env=ENV,
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert not RAW_CONTROL.search(text)
    values = [row["value"] for row in csv.DictReader(text.splitlines())]
    assert values == ["'=cmd|' /C calc'!A0", "\\x1b[31msoon", "-5"]


def test_summary_html_and_error_lines_show_control_characters_escaped(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    (tmp_path / "funnels").mkdir()
    yaml_text = (ROOT / "funnels" / "default.yaml").read_text(encoding="utf-8")
    yaml_text = yaml_text.replace("title: Lead to renewal", 'title: "Evil\\e[2J<b>title"')
    yaml_text = yaml_text.replace("label: MQL", 'label: "MQL\\u202e"')
    funnel = tmp_path / "funnels" / "default.yaml"
    funnel.write_text(yaml_text, encoding="utf-8")
    runner = CliRunner()
    page = runner.invoke(app, ["summary", str(funnel), "-f", "html"], env=ENV)
    assert page.exit_code in (0, 3), page.stderr
    assert not RAW_CONTROL.search(page.stdout)
    assert "Evil\\x1b[2J&lt;b&gt;title" in page.stdout and "MQL\\u202e" in page.stdout
    for fmt in ("table", "markdown"):
        shown = runner.invoke(app, ["summary", str(funnel), "-f", fmt], env=ENV)
        assert shown.exit_code in (0, 3) and not RAW_CONTROL.search(shown.stdout)
        assert "Evil\\" in shown.stdout
    bad = runner.invoke(app, ["report", str(funnel), "--by", "chan\x1b[2Jnel"], env=ENV)
    assert bad.exit_code == 1 and "chan\\x1b[2Jnel" in bad.stderr
    assert not RAW_CONTROL.search(bad.stderr)


def _funnel_process(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, **kwargs.pop("env", {})}  # type: ignore[dict-item]
    return subprocess.run(
        [sys.executable, "-m", "funnelcli", *args],
        cwd=ROOT,
        env=env,
        capture_output="stdout" not in kwargs,
        text=True,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def test_a_closed_stdout_is_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "funnelcli", "report", "-f", "csv"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        pass_fds=(),
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 1
    assert result.stderr == "Error: stdout is closed; write to a file with --output FILE\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_on_stdout_is_one_clear_line() -> None:
    with open("/dev/full", "w") as full:
        result = _funnel_process("report", "-f", "csv", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write to stdout: No space left on device\n"


def test_a_stdout_that_cannot_encode_the_output_is_one_clear_line() -> None:
    result = _funnel_process(
        "report", "funnels/chinese.yaml", "-f", "csv", env={"PYTHONIOENCODING": "ascii"}
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: stdout cannot show these characters (its encoding")
    assert len(result.stderr.splitlines()) == 1


def test_a_reader_that_leaves_ends_the_run_quietly() -> None:
    from funnelcli.cli.runtime import guard

    def action() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(click_exit) as done:
        guard(False, action)
    assert done.value.exit_code == 141

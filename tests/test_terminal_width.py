"""Every command's terminal output at 80, 100 and 160 columns: no line wider than the
terminal, no trailing spaces when piped, nothing cut with "…", and no number lost at 80 that
160 columns show (money stays whole: tables split rather than shorten a cell).

The commands are the registered ones (a new command is covered without a line here) run with
no argument on the bundled sample; one that writes files or needs arguments is listed below.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from funnelcli.cli import app
from test_conventions import ARGS as NEEDED
from test_conventions import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (80, 100, 160)
# Run with these arguments instead of none (each a table on the bundled sample).
ARGS = {
    "report": [["report"], ["report", "--by", "channel"], ["report", "--by", "channel,segment"]],
    "summary": [["summary"], ["summary", "--period", "month", "--by", "segment"]],
    **{path: [[path, *args]] for path, args in NEEDED.items()},
}
# Not run: they write files or change the cache rather than show a table, or (sql) print code
# meant to be copied as it is.
WRITES = {"sample", "cache clear", "cache build", "init", "sql"}
CASES = [args for path in COMMANDS if path not in WRITES for args in ARGS.get(path, [path.split()])]
CACHED = {"report", "summary", "cohorts", "roi"}  # take --cache: a re-run skips the query
_DRAWING = set("█▏▎▍▌▋▊▉─│╭╮╰╯ ")


_FOLDER: list[Path] = []


@functools.cache
def output(args: tuple[str, ...], width: int) -> str:
    """The stdout of `funnel ARGS` at `width` columns, in a copy of the repository's layout
    (each once per test process; query results come from the cache after the first width)."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="width-")))
        shutil.copytree(ROOT / "funnels", _FOLDER[0] / "funnels")
        shutil.copytree(ROOT / "sample_data", _FOLDER[0] / "sample_data")
    folder = _FOLDER[0]
    # `cache info` reads a cache of its own, filled once: the one the other commands keep
    # filling would list more entries at one width than at the other
    cache = folder / ("cache-read" if args[0] == "cache" else "cache")
    env = {"COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb",
           "FUNNELCLI_CACHE_DIR": str(cache)}  # fmt: skip
    cached = ["--cache"] if args[0] in CACHED else []
    before = Path.cwd()
    os.chdir(folder)
    try:
        if args[0] == "cache" and not cache.exists():
            CliRunner().invoke(app, ["report", "--cache"], env=env)
        result = CliRunner().invoke(app, [*args, *cached], env=env)
    finally:
        os.chdir(before)
    return result.stdout if result.exit_code in (0, 3) else f"EXIT {result.exit_code}"


def _tokens(text: str) -> Counter[str]:
    """The words and numbers of `text`, bars and rules left out."""
    return Counter(w for w in re.split(r"\s+", text) if w and not set(w) <= _DRAWING)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) for a in CASES])
def test_fits_the_terminal(args: list[str], width: int) -> None:
    out = output(tuple(args), width)
    if out.startswith("EXIT "):
        pytest.skip(f"funnel {' '.join(args)} needs arguments this test does not know ({out})")
    lines = out.splitlines()
    assert lines, "no output"
    for line in lines:
        assert cell_len(line) <= width, f"{cell_len(line)} columns: {line!r}"
        assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert "…" not in line, f"cut: {line!r}"


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) for a in CASES])
def test_nothing_is_lost_at_80_columns(args: list[str]) -> None:
    """Every word and number 160 columns show is still there at 80 (wrapped or split)."""
    wide, narrow = (output(tuple(args), w) for w in (160, 80))
    if wide.startswith("EXIT "):
        pytest.skip(f"funnel {' '.join(args)} needs arguments this test does not know ({wide})")
    missing = _tokens(wide) - _tokens(narrow)
    numbers = {t: n for t, n in missing.items() if re.search(r"\d", t)}
    assert not numbers, f"lost at 80 columns: {numbers}"
    assert "Hidden at this width" not in narrow


def test_money_stays_whole_at_80_columns() -> None:
    roi = output(("roi",), 80)
    for amount in ("1,000,513", "1,287%", "106,238", "6,625,030"):
        assert amount in roi


def test_a_loss_bar_differs_without_colour() -> None:
    """In the terminal too a negative ROI is not just a red bar: shaded and labelled."""
    import dataclasses

    from artifacts import roi
    from funnelcli.render import Format, render

    report = roi("ads")
    loss = dataclasses.replace(report.channels[0], roi=-0.5)
    text = render(dataclasses.replace(report, channels=(loss, report.channels[1])), Format.table)
    ads = [line for line in text.splitlines() if line.startswith("ads ")][1]  # table, then chart
    assert "░" in ads and ads.endswith("loss") and "█" not in ads

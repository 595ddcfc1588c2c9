"""Characterisation: every funnels/*.yaml × every command × every format, against stored output.

Each case runs the CLI in-process on the bundled sample data (and the real datasets for
olist/maven, skipped without them) and compares stdout, stderr and the exit code with
tests/snapshots/<case>.* exactly (terminal output at 100 columns). Paths are written as
<repo>, <datasets> and <tmp>. A change here is a change users see: after an intended one, run
`pytest tests/test_snapshots.py --update-snapshots`, review the diff and list it in the CHANGELOG.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelcli.cli import app
from realdata import DATASETS, REAL_DATA, require

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
FORMATS = {
    "report": ("table", "json", "csv", "markdown"),
    "summary": ("table", "markdown", "html", "json"),
    "cohorts": ("table", "json", "csv", "markdown"),
    "roi": ("table", "json", "csv", "markdown"),
}
EXTENSIONS = {"table": "txt", "json": "json", "csv": "csv", "markdown": "md", "html": "html"}


@dataclass(frozen=True)
class Case:
    name: str  # file stem under tests/snapshots/
    funnel: str  # funnels/<funnel>.yaml
    args: tuple[str, ...]  # after the command's funnel argument
    extension: str = "txt"

    @property
    def id(self) -> str:
        return self.name


def _cases() -> list[Case]:
    cases = []
    for path in sorted((ROOT / "funnels").glob("*.yaml")):
        stem = path.stem
        for command in ("report", "summary", "cohorts"):
            for fmt in FORMATS[command]:
                cases.append(
                    Case(
                        f"{stem}/{command}-{fmt}", stem, (command, "--format", fmt), EXTENSIONS[fmt]
                    )
                )
        cases.append(Case(f"{stem}/validate", stem, ("validate",)))
        cases.append(Case(f"{stem}/sql", stem, ("sql",), "sql"))
        cases.append(Case(f"{stem}/sql-postgres", stem, ("sql", "--dialect", "postgres"), "sql"))
    for fmt in FORMATS["roi"]:
        cases.append(
            Case(f"default/roi-{fmt}", "default", ("roi", "--format", fmt), EXTENSIONS[fmt])
        )
    by = ("--by", "segment", "--by", "channel,segment")
    window = ("--since", "2025-01-01", "--until", "2025-07-01", "--as-of", "2025-09-01")
    alerts = ("--fail-on", "lead.count rises 1%", "--fail-on", "paid.count > 1000")
    extras = {
        "default/report-by-table": ("report", *by),
        "default/report-by-json": ("report", *by, "-f", "json"),
        "default/report-by-csv": ("report", *by, "-f", "csv"),
        "default/report-by-markdown": ("report", *by, "-f", "markdown"),
        "default/report-window-table": ("report", *window),
        "default/report-window-json": ("report", *window, "-f", "json"),
        "default/report-min-n-markdown": ("report", "--min-n", "400", "-f", "markdown"),
        "default/report-by-owner-narrow": ("report", "--by", "owner"),
        "default/summary-month-alert": (
            "summary",
            "--period",
            "month",
            "--as-of",
            "2025-07-01",
            *alerts,
        ),
        "default/summary-by-json": ("summary", "--by", "segment", "--top", "3", "-f", "json"),
        "default/cohorts-week-csv": ("cohorts", "--period", "week", "--last", "8", "-f", "csv"),
        "default/cohorts-since-table": ("cohorts", "--since", "2025-06-01"),
        "default/roi-window-json": (
            "roi",
            "--since",
            "2024-07-01",
            "--until",
            "2025-07-01",
            "-f",
            "json",
        ),
        "history/report-window-table": ("report", "--since", "2025-01-01", "--until", "2025-07-01"),
        "accounts/report-by-json": ("report", "--by", "segment", "-f", "json"),
        "default/sql-by-spark": ("sql", "--by", "channel", "--dialect", "spark"),
        "default/error-bad-by": ("report", "--by", "chanel"),
        "default/error-bad-dialect": ("sql", "--dialect", "nonsense"),
        "default/error-bad-since": ("report", "--since", "yesterday"),
        "default/error-bad-alert": ("summary", "--fail-on", "paid.conversion < 1"),
    }
    for name, args in extras.items():
        fmt = args[args.index("-f") + 1] if "-f" in args else "table"
        extension = "sql" if args[0] == "sql" and "error" not in name else EXTENSIONS[fmt]
        cases.append(Case(name, name.split("/")[0], args, extension))
    return cases


CASES = _cases()


def _normalise(text: str, tmp: Path) -> str:
    for path, name in ((tmp, "<tmp>"), (DATASETS, "<datasets>"), (ROOT, "<repo>")):
        text = text.replace(str(path.resolve()), name).replace(str(path), name)
    return text


def _invoke(case: Case, tmp: Path) -> str:
    """stdout, then (when there is any) the exit code and stderr."""
    command, *rest = case.args
    args = [command, f"funnels/{case.funnel}.yaml", *rest]
    folder = REAL_DATA.get(case.funnel)
    if folder is not None:
        args += ["--data", str(require(folder))]
    result = CliRunner().invoke(app, args, env=ENV, catch_exceptions=False)
    out = result.stdout
    if result.exit_code or result.stderr:
        out += f"\n--- exit {result.exit_code}; stderr:\n{result.stderr}"
    return _normalise(out, tmp)


@pytest.fixture()
def at_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("FUNNELCLI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_output_matches_snapshot(case: Case, at_root: Path, request: pytest.FixtureRequest) -> None:
    _check(f"{case.name}.{case.extension}", _invoke(case, at_root), request)


def test_cached_runs_match_the_uncached_snapshots(at_root: Path) -> None:
    """--cache (a cold build, then a re-run from stored results) prints the same report."""
    cache = at_root / "copies"
    for _ in range(2):
        for fmt in ("json", "table"):
            args = ("report", "--cache", "--cache-dir", str(cache), "-f", fmt)
            case = Case("cached", "default", args)
            expected = (SNAPSHOTS / f"default/report-{fmt}.{EXTENSIONS[fmt]}").read_text("utf-8")
            assert _invoke(case, at_root) == expected


def test_sample_files_match_snapshot(at_root: Path, request: pytest.FixtureRequest) -> None:
    """`funnel sample` writes the same bytes for the same seed (hashes of each file)."""
    out = at_root / "sample"
    result = CliRunner().invoke(
        app, ["sample", "--rows", "60", "--seed", "3", "--out", str(out)], env=ENV
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # the files written are notes on stderr, as for every command
    lines = [_normalise(result.stderr, at_root)]
    for path in sorted(out.iterdir()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{path.name} {digest}")
    _check("sample.txt", "\n".join(lines) + "\n", request)


def _check(name: str, actual: str, request: pytest.FixtureRequest) -> None:
    path = SNAPSHOTS / name
    if request.config.getoption("--update-snapshots") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not request.config.getoption("--update-snapshots"):
            pytest.fail(f"wrote missing snapshot {name}; review and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its snapshot"

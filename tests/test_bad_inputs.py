"""The bad-input corpus (tests/bad_inputs/): every case ends in one clear error line or a clean
report with the problem counted; no traceback; the inputs are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from funnelcli.cli import app

CORPUS = Path(__file__).parent / "bad_inputs"
MANIFEST: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "manifest.yaml").read_text())
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _generate(kind: str, folder: Path) -> None:
    """What a repository cannot hold: a folder named like the file, an unreadable file,
    binary bytes (seeded), a real workbook."""
    if kind == "directory":
        (folder / "leads.csv").mkdir()
    elif kind == "unreadable":
        (folder / "leads.csv").chmod(0)
    elif kind == "binary":
        rng = random.Random(6)
        (folder / "leads.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\0")
    elif kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["lead_id", "created_at", "paid_at", "amount"])
        sheet.append(["L1", "2024-01-01", None, None])
        book.save(folder / "leads.xlsx")
    elif kind == "xlsx_formula":  # written by a program: the formula's result never saved
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["lead_id", "created_at", "paid_at", "amount"])
        sheet.append(["L1", "2024-01-01", "2024-02-01", 100])
        sheet.append(["L2", "2024-01-02", "2024-02-02", "=D2*2"])
        book.save(folder / "leads.xlsx")
    elif kind in ("long_in_list", "long_or_filter"):  # took minutes to parse and plan
        terms = [f"'v{i}'" for i in range(400_000)]
        text = f"channel IN ({', '.join(terms)})"
        if kind == "long_or_filter":
            text = " OR ".join(f"channel = {t}" for t in terms[:20_000])
        (folder / "funnel.yaml").write_text(
            "sources:\n  leads: {path: leads.csv, id: lead_id}\n"
            "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n"
            f'filter: "{text}"\n'
        )
    elif kind == "hard_link":  # out.csv: another name of the same file as leads.csv
        os.link(folder / "leads.csv", folder / "out.csv")
    elif kind == "symlink_output":
        (folder / "out.csv").symlink_to("leads.csv")
    elif kind == "symlink_source":  # a source that is a link to a system file
        (folder / "leads.csv").symlink_to("/etc/passwd")
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("only root makes a device node")
        os.mknod(folder / "node", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null
    elif kind == "cache_lookalikes":  # a user's folder with files named like cache entries
        (folder / "cache").mkdir()
        (folder / "cache" / f"{'a' * 40}.parquet").write_bytes(b"user data")
        (folder / "cache" / f"{'b' * 40}.json").write_text("{}")
    elif kind == "over_long_field":  # a 3 MB field after a quoted multi-line one: line 8
        text = (folder / "leads.csv").read_text()
        long = text.replace(",ads,2024-01-20", f",{'x' * 3_000_000},2024-01-20")
        (folder / "leads.csv").write_text(long)
    elif kind == "cache_with_lookalikes":  # a used cache, then files that look like its own
        args = [
            "report",
            str(folder / "funnel.yaml"),
            "--cache",
            "--cache-dir",
            str(folder / "cache"),
        ]
        assert CliRunner().invoke(app, args, env=ENV).exit_code == 0
        written = [p for p in (folder / "cache").rglob("*") if p.name != "CACHEDIR.TAG"]
        names = sorted(str(p.relative_to(folder)) + "/" * p.is_dir() for p in written)
        (folder / "written.txt").write_text("".join(f"{n}\n" for n in names))
        (folder / "cache" / f"{'a' * 40}.parquet").write_bytes(b"user data")
        (folder / "cache" / "results" / f"{'b' * 40}.json").write_text("{}")
    elif kind == "escape_in_file_name":  # a name a repository should not hold
        (folder / "leads.csv").rename(folder / "le\x1b[31mads.csv")
    else:
        raise AssertionError(f"unknown generator {kind}")


def _hashes(folder: Path) -> dict[str, str]:
    """Every file's content hash, and the kind of everything that is not a regular file (a
    link, a device node): an output must replace neither."""
    out = {}
    for path in sorted(folder.rglob("*")):
        kind = stat.S_IFMT(path.lstat().st_mode)
        if kind != stat.S_IFREG:
            out[str(path.relative_to(folder))] = f"kind {kind:o}"
        elif path.is_file():
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IRUSR)
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
            path.chmod(mode)
    return out


def test_the_corpus_is_big_enough() -> None:
    assert len(MANIFEST) >= 40
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_input(name: str, tmp_path: Path) -> None:
    case = MANIFEST[name]
    if case.get("generate") == "unreadable" and os.geteuid() == 0:
        pytest.skip("root can read a file without read permission")
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder)
    if "generate" in case:
        _generate(case["generate"], folder)
    before = _hashes(folder)
    deleted = []  # what the command is expected to delete (the cache's own files)
    if "deletes" in case:
        deleted = (folder / case["deletes"]).read_text().split()
        before = {k: v for k, v in before.items() if k not in deleted and f"{k}/" not in deleted}
    args = [
        a.replace("{dir}", str(folder)) for a in case.get("args", ["report", "{dir}/funnel.yaml"])
    ]
    result = CliRunner().invoke(app, args, env={**ENV, **case.get("env", {})})
    assert result.exit_code == case["exit"], (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if case["exit"] == 0:
        assert "Error" not in result.stderr
        shown = result.stderr if case.get("stream") == "stderr" else result.stdout
        assert re.search(case["expect"], shown), shown
    else:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert re.search(case["expect"], lines[0]), lines[0]
        assert result.stdout == ""
    after = {k: v for k, v in _hashes(folder).items() if f"{k}/" not in deleted}
    assert after == before  # inputs untouched (the cache's own folders may stay or go)
    assert not any((folder / name).exists() for name in deleted if not name.endswith("/"))
    if (folder / "leads.csv").is_file() and not (folder / "leads.csv").is_symlink():
        (folder / "leads.csv").chmod(0o644)

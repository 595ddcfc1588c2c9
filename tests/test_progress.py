"""Progress on stderr: engine polling hook, the Rich display, and when it is shown."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pytest
from rich.console import Console

import funnelcli
from funnelcli.engine import session as session_module
from funnelcli.render.terminal.progress import QueryProgress
from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent


def test_progress_hook_reports_fractions_and_changes_no_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "funnels", tmp_path / "funnels")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    funnel = load_funnel(tmp_path / "funnels" / "history.yaml")
    monkeypatch.setattr(session_module, "POLL_SECONDS", 0.001)
    seen: list[float] = []
    with_progress = funnelcli.report(funnel, progress=seen.append).to_dict()
    assert with_progress == funnelcli.report(funnel).to_dict()
    assert all(0.0 <= f <= 1.0 for f in seen)


def _display(delay: float) -> tuple[QueryProgress, io.StringIO]:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system=None)
    return QueryProgress(console, "Reading leads.csv", 2_000_000, delay=delay), stream


def test_display_shows_bytes_and_is_removed_when_done() -> None:
    progress, stream = _display(delay=0.0)
    with progress:
        progress(0.5)
    text = stream.getvalue()
    assert "Reading leads.csv" in text
    assert "1.0/2.0 MB" in text
    assert "ETA" in text


def test_display_waits_before_showing_so_fast_runs_print_nothing() -> None:
    progress, stream = _display(delay=60.0)
    with progress:
        progress(0.5)
        progress(1.0)
    assert stream.getvalue() == ""
    progress(0.7)  # a late call from the polling thread after the end: ignored
    assert stream.getvalue() == ""


def test_display_after_delay() -> None:
    progress, stream = _display(delay=0.01)
    with progress:
        progress(0.1)
        time.sleep(0.02)
        progress(0.25)
    assert "0.5/2.0 MB" in stream.getvalue()


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    from funnelcli.cli.runtime import query_progress

    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    with query_progress(funnel, None) as progress:  # pytest captures stderr: not a TTY
        assert progress is None

"""DuckDB settings for big exports: memory ceiling, threads, no insertion order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent


def test_memory_limit_setting_is_applied_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from funnelcli.engine import open_engine
    from funnelcli.errors import FunnelError

    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("FUNNELCLI_THREADS", "1")
    with open_engine(funnel) as engine:
        names = ("memory_limit", "threads", "preserve_insertion_order")
        limit, threads, order = (engine.session.setting(name) for name in names)
    # Off while Parquet copies are built, back on for queries: row numbers of rejects and
    # unreadable values must follow the file's order.
    assert limit == "286.1 MiB" and threads == 1 and order is True
    for bad in ("lots", "-5GB", "0GB"):  # DuckDB read -5GB as no limit at all
        monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", bad)
        with pytest.raises(FunnelError, match=f"FUNNELCLI_MEMORY_LIMIT='{bad}': expected a pos"):
            open_engine(funnel).__enter__()
    monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("FUNNELCLI_THREADS", "100000")
    with open_engine(funnel) as engine:
        assert engine.session.setting("threads") == 4 * (os.cpu_count() or 1)


def test_running_out_of_memory_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", "4MB")
    result = CliRunner().invoke(app, ["report", str(ROOT / "funnels" / "history.yaml")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: DuckDB ran out of memory (memory_limit 4MB); set FUNNELCLI_MEMORY_LIMIT higher "
        "(e.g. 8GB) or free memory"
    )


def test_default_memory_limit_is_half_the_machine_and_at_least_1gb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from funnelcli.engine import memory_limit

    monkeypatch.delenv("FUNNELCLI_MEMORY_LIMIT", raising=False)
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 4 * 1024**3 // 4096}  # a 4 GiB machine
    monkeypatch.setattr("os.sysconf", lambda name: pages[name])
    assert memory_limit() == f"{2 * 1024**3 // 1_000_000}MB"
    pages["SC_PHYS_PAGES"] = 1024**3 // 4096  # 1 GiB: still the 1GB floor
    assert memory_limit() == "1000MB"

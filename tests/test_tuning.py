"""DuckDB settings for big exports: memory ceiling, threads, no insertion order."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent


def test_memory_limit_setting_is_applied_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from funnelcli.engine import open_engine
    from funnelcli.errors import DataError

    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("FUNNELCLI_THREADS", "1")
    with open_engine(funnel) as engine:
        limit, threads, order = engine.connection.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('preserve_insertion_order')"
        ).fetchone()
    # Off while Parquet copies are built, back on for queries: row numbers of rejects and
    # unreadable values must follow the file's order.
    assert limit == "286.1 MiB" and threads == 1 and order is True
    monkeypatch.setenv("FUNNELCLI_MEMORY_LIMIT", "lots")
    with pytest.raises(DataError, match="cannot set DuckDB memory_limit to 'lots'"):
        open_engine(funnel).__enter__()

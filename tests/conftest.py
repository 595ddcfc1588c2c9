"""Shared pytest options."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/*.sql from the current compiler instead of comparing.",
    )
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite tests/snapshots/ from the current CLI output instead of comparing.",
    )
    parser.addoption(
        "--update-docs",
        action="store_true",
        default=False,
        help="Rewrite docs/cli.md from the registered commands' --help instead of comparing.",
    )


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A --cache run without --cache-dir (the CLI tests, the YAML's `cache: true`) uses a
    temporary folder, never the user's cache. Without the cache nothing is written there:
    transcoded and converted copies go to a temporary folder the engine removes."""
    import os

    os.environ.setdefault("FUNNELCLI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))

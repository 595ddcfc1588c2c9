"""Where funnelcli keeps files it derives from the user's sources (never the sources themselves)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """`$FUNNELCLI_CACHE_DIR`, else `$XDG_CACHE_HOME/funnelcli`, else `~/.cache/funnelcli`."""
    explicit = os.environ.get("FUNNELCLI_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "funnelcli"
    return Path.home() / ".cache" / "funnelcli"

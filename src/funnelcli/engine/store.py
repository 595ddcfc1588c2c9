"""Where funnelcli keeps files of its own (never next to the user's data)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The user cache folder: $FUNNELCLI_CACHE_DIR, else $XDG_CACHE_HOME/funnelcli, else
    ~/.cache/funnelcli. Not created here."""
    explicit = os.environ.get("FUNNELCLI_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore a relative value
        return Path(xdg) / "funnelcli"
    return Path.home() / ".cache" / "funnelcli"

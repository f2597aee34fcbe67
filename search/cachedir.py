"""The user's cache directory, where newsearch keeps what any process may rebuild (answers, word tables)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/newsearch``, else ``~/.cache/newsearch``; None when there is no home to find."""
    cache_home = os.environ.get("XDG_CACHE_HOME", "").strip()
    try:
        return Path(cache_home or Path.home() / ".cache") / "newsearch"
    except RuntimeError:  # no home directory to be found
        return None

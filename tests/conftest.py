"""Shared fixtures: the repository's seed pages, copied into a temporary directory per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_SEEDS = REPO_ROOT / "seeds"


@pytest.fixture()
def seeds_dir(tmp_path: Path) -> Path:
    """A writable copy of the five seed pages (and catalog, if any)."""
    target = tmp_path / "seeds"
    shutil.copytree(REPO_SEEDS, target)
    return target

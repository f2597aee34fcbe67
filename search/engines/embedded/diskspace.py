"""The room an index run needs, and cleaning up after one that failed (a full disk, a kill).

A run checks the free space against the size it expects to write before it writes anything
(:func:`check_space`, :func:`expected_bytes`); a run that fails anyway deletes what appeared in the
generation directory since it started (:func:`remove_new_entries`), and the next run deletes the
temporary storage a killed Whoosh writer left (:func:`remove_writer_leftovers`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from search.atomic import read_json
from search.engines.base import BuildError
from search.engines.embedded import integrity

#: Bytes of index per byte of seed text, with room to spare (measured: 5.7 on 1,000 news articles,
#: 10.5 on the five small seed pages, whose fixed overhead dominates), for a first build.
INDEX_BYTES_PER_SEED_BYTE = 8
INDEX_BYTES_FIXED = 1 << 20


def remove_writer_leftovers(gen_dir: Path) -> None:
    """Delete the temporary storage directories (``MAIN.tmp``) a killed Whoosh writer left behind
    (no writer is running: the caller holds the build lock)."""
    try:
        entries = list(os.scandir(gen_dir))
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(".tmp") and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def entries(directory: Path) -> set[str]:
    """The names in ``directory`` (empty if it cannot be listed)."""
    try:
        return set(os.listdir(directory))
    except OSError:
        return set()


def remove_new_entries(directory: Path, before: set[str]) -> None:
    """Delete what appeared in ``directory`` since ``before`` was listed: what a failed run wrote."""
    for name in entries(directory) - before:
        path = directory / name
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def index_bytes(directory: Path) -> int:
    """Bytes of the index files in a generation directory."""
    return sum(info.st_size for info in integrity.index_files(directory).values())


def check_space(index: Path, needed: int, what: str) -> None:
    """Fail with a clear message, before anything is written, when the index's file system lacks
    the room ``needed`` (an estimate) for ``what``."""
    try:
        free = shutil.disk_usage(index).free
    except OSError:
        return
    if free < needed:
        raise BuildError(
            f"not enough free space for {what} in {index}: {free / 1048576:.1f} MB free, about "
            f"{needed / 1048576:.1f} MB needed; nothing was written (free some space, or use another --index)"
        )


def expected_bytes(seed_bytes: int, like: Path | None = None, manifest: dict[str, Any] | None = None) -> int:
    """About how many bytes an index of ``seed_bytes`` of seed files takes.

    With ``like`` (a generation built before), its own ratio of index bytes to the seed bytes its
    manifest records (``manifest``, if the caller has read it already), with a quarter to spare;
    otherwise :data:`INDEX_BYTES_PER_SEED_BYTE`.
    """
    if like is not None and manifest is None:
        manifest = read_json(like / "manifest.json")
    if like is not None and isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        indexed = sum(int(entry.get("size") or 0) for entry in manifest["files"].values() if isinstance(entry, dict))
        built = index_bytes(like)
        if indexed > 0 and built > 0:
            return int(1.25 * max(built * seed_bytes / indexed, INDEX_BYTES_FIXED))
    return INDEX_BYTES_FIXED + INDEX_BYTES_PER_SEED_BYTE * seed_bytes

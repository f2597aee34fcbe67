"""Answers of recent searches, kept per index version and shared by every process that searches it.

A page of results costs tens to hundreds of milliseconds the first time at a million articles, and
people repeat searches: the next page, the back button, a facet clicked and unclicked, a saved query
run from cron. ``newsearch serve`` answers in several worker processes, each with its own memory,
so an answer kept only in memory is found again by one worker in N. Here an answer is kept twice:

* in this process, the last :data:`KEPT_IN_MEMORY` answers (no copy, no decoding);
* on disk (a ``diskcache`` SQLite store that several processes may read and write at once), in
  the user's cache directory: ``$NEWSEARCH_ANSWERS_DIR``, else ``$XDG_CACHE_HOME/newsearch/answers``,
  else ``~/.cache/newsearch/answers`` (``NEWSEARCH_ANSWERS_DIR=off`` keeps answers in memory only).
  Bounded to :data:`DISK_BYTES` for all indexes together, least recently used first out. A server's
  workers, the CLI and scripts share it. It is not kept in the index directory, which a server
  must be able to serve read-only without writing to it.

Keys name the index (its real path) and its version (pointer stamp, generation directory, Whoosh
commit), so an answer is never served for another index or an older state of it. The disk part is
a convenience only: a damaged store is made again; where none can be had, or it is busy, answers
are kept in memory alone and searches go on.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from search.cachedir import user_cache_dir

#: Answers kept in this process's memory.
KEPT_IN_MEMORY = 512
#: Bytes of answers kept on disk, all indexes together (an answer with facets is 10-60 KB).
DISK_BYTES = 128 * 1024 * 1024
#: How long a process waits for the on-disk store before it does without (seconds).
DISK_TIMEOUT = 0.5
#: Settings of the on-disk store's location (see the module docstring).
DIRECTORY_VARIABLE = "NEWSEARCH_ANSWERS_DIR"
_OFF = {"off", "0", "none", "no"}


def store_directory() -> Path | None:
    """Where answers are kept on disk, or None when that is turned off."""
    chosen = os.environ.get(DIRECTORY_VARIABLE, "").strip()
    if chosen:
        return None if chosen.lower() in _OFF else Path(chosen).expanduser()
    cache_dir = user_cache_dir()
    return cache_dir / "answers" if cache_dir is not None else None


def forget(index_dir: Path) -> None:
    """Remove every answer kept on disk for the index in ``index_dir`` (a benchmark of first-time
    searches starts so); memory of running processes is not touched."""
    directory = store_directory()
    store = _open_store(directory) if directory is not None else None
    if store is not None:
        try:
            store.evict(_index_tag(index_dir), retry=True)
        finally:
            store.close()


def _index_tag(index_dir: Path) -> str:
    return os.path.realpath(index_dir)


class Answers:
    """The answer cache of one index directory (see the module docstring); thread-safe."""

    def __init__(self, index_dir: Path) -> None:
        self._tag = _index_tag(index_dir)
        self._directory = store_directory()
        self._memory: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._disk: Any = None
        self._disk_failed = False

    def get(self, key: Hashable) -> Any | None:
        """The answer kept under ``key``, or None."""
        with self._lock:
            answer = self._memory.get(key)
            if answer is not None:
                self._memory.move_to_end(key)
                return answer
        disk = self._open_disk()
        if disk is None:
            return None
        try:
            answer = disk.get((self._tag, key), default=None, retry=False)
        except Exception:  # noqa: BLE001 - a busy or damaged store costs the cache, never the search
            return None
        if answer is not None:
            self._remember(key, answer)
        return answer

    def put(self, key: Hashable, answer: Any) -> None:
        """Keep ``answer`` under ``key`` in memory and, where it can be written, on disk."""
        self._remember(key, answer)
        disk = self._open_disk()
        if disk is not None:
            try:
                disk.set((self._tag, key), answer, tag=self._tag, retry=False)
            except Exception:  # noqa: BLE001 - a full disk or a read-only index: memory only
                pass

    def close(self) -> None:
        """Close the on-disk store (it is opened again on next use)."""
        with self._lock:
            disk, self._disk = self._disk, None
        if disk is not None:
            try:
                disk.close()
            except Exception:  # noqa: BLE001
                pass

    def _remember(self, key: Hashable, answer: Any) -> None:
        with self._lock:
            self._memory[key] = answer
            self._memory.move_to_end(key)
            while len(self._memory) > KEPT_IN_MEMORY:
                self._memory.popitem(last=False)

    def _open_disk(self) -> Any:
        if self._disk is not None or self._disk_failed:
            return self._disk
        with self._lock:
            if self._disk is None and not self._disk_failed:
                self._disk = _open_store(self._directory) if self._directory is not None else None
                self._disk_failed = self._disk is None
        return self._disk


def _open_store(directory: Path) -> Any:
    """The on-disk store, or None where none can be had (no room, no rights, a file in its place).
    A damaged database holds nothing worth keeping: its files are removed and it is made again, once
    (only the database's files: the directory may be one a user chose)."""
    from diskcache import Cache, JSONDisk

    for attempt in range(2):
        try:
            # JSON (zlib-compressed), not pickle: whoever can write the store must not be able to make
            # a search run code. Answers are JSON-shaped already (they are served as JSON).
            return Cache(str(directory), size_limit=DISK_BYTES, timeout=DISK_TIMEOUT, tag_index=True, disk=JSONDisk)
        except Exception:  # noqa: BLE001 - sqlite3.DatabaseError, OSError...
            if attempt or not directory.is_dir():
                return None
            try:
                for path in directory.glob("cache.db*"):
                    path.unlink(missing_ok=True)
            except OSError:
                return None
    return None

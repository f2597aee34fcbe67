"""Index integrity: a checksum of every file of a generation, checked before runs and while serving.

Every regular file in a generation directory is an index file (Whoosh's TOC and segments today, any
file another part of the engine adds beside them tomorrow), except the manifest, its journal,
Whoosh's lock file and hidden temporary files. After each commit the manifest records each index
file's size, mtime and sha256 (:func:`record_files`); a file that did not change since the last
record keeps its entry without being read again, so an incremental commit hashes only what it wrote.

:func:`verify` compares a directory with that record. A missing file or a different size is damage;
a file whose mtime moved is read and its sha256 compared (``cp -a`` of identical bytes is fine, a
flipped byte is not); ``full=True`` hashes every file whatever its mtime (``newsearch check``), which
also finds damage that kept size and mtime.

Readers memory-map index files (Whoosh's ``FileStorage`` does by default), so a file truncated or
rewritten under a running server would kill it with SIGBUS at the next access. Index files are
written once and never modified in place, so :class:`FileStamp` (inode, size, mtime, ctime) taken when
a generation is opened must stay the same while it is in use: the engine compares them before each
call (:func:`changed_stamps`) and stops using a generation whose files moved.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

#: Files of a generation directory that are not index files (they change by design).
NOT_INDEX_FILES = frozenset({"manifest.json", "manifest.pending.json", "MAIN_WRITELOCK"})
_BLOCK = 1 << 20


class FileStamp(NamedTuple):
    """What ``stat`` says of a file; any change means the file was replaced or written to."""

    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> "FileStamp":
        """The stamp of a ``stat`` result."""
        return cls(info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def is_index_file(name: str) -> bool:
    """Is ``name`` (in a generation directory) an index file whose bytes the manifest vouches for?"""
    return not name.startswith(".") and name not in NOT_INDEX_FILES


def index_files(gen_dir: Path) -> dict[str, os.stat_result]:
    """The index files now in ``gen_dir`` with their ``stat`` (directories, such as a writer's
    temporary storage, are not index files)."""
    found = {}
    with os.scandir(gen_dir) as entries:
        for entry in entries:
            if not is_index_file(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # deleted by a concurrent commit
            if stat.S_ISREG(info.st_mode):
                found[entry.name] = info
    return found


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def record_files(gen_dir: Path, known: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``{name: {"size", "mtime_ns", "sha256"}}`` for every index file in ``gen_dir``.

    Entries of ``known`` (the previous record) whose size and mtime still match are kept without
    reading the file again.
    """
    known = known or {}
    recorded: dict[str, dict[str, Any]] = {}
    for name, info in sorted(index_files(gen_dir).items()):
        old = known.get(name)
        if isinstance(old, dict) and old.get("size") == info.st_size and old.get("mtime_ns") == info.st_mtime_ns and old.get("sha256"):
            recorded[name] = dict(old)
            continue
        recorded[name] = {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": sha256_of(gen_dir / name)}
    return recorded


def verify(gen_dir: Path, recorded: Mapping[str, Any], full: bool = False, names: Iterable[str] | None = None) -> list[str]:
    """Problems found comparing ``gen_dir`` with ``recorded`` (empty if it matches), one line each.

    Only the files of ``names`` (default: every recorded file) are checked. A file is read only if
    its mtime moved, or always with ``full``.
    """
    problems = []
    for name in sorted(recorded if names is None else names):
        entry = recorded.get(name)
        if not isinstance(entry, dict):
            continue
        path = Path(gen_dir) / name
        try:
            info = os.stat(path)
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        except OSError as error:
            problems.append(f"{name} cannot be read ({error.strerror or error})")
            continue
        if info.st_size != entry.get("size"):
            problems.append(f"{name} is {info.st_size:,} bytes, the manifest recorded {entry.get('size'):,}")
            continue
        if full or info.st_mtime_ns != entry.get("mtime_ns"):
            try:
                digest = sha256_of(path)
            except OSError as error:
                problems.append(f"{name} cannot be read ({error.strerror or error})")
                continue
            if digest != entry.get("sha256"):
                problems.append(f"{name} changed (its sha256 differs from the manifest's)")
    return problems


def stamps(gen_dir: Path, names: Iterable[str]) -> dict[str, FileStamp | None]:
    """The current :class:`FileStamp` of each named file in ``gen_dir`` (None if it is gone)."""
    found: dict[str, FileStamp | None] = {}
    base = os.fspath(gen_dir)
    for name in names:
        try:
            # A joined string, not a Path: a server stats every file of its generation on each request.
            found[name] = FileStamp.of(os.stat(os.path.join(base, name)))
        except OSError:
            found[name] = None
    return found


def changed_stamps(gen_dir: Path, opened: Mapping[str, FileStamp]) -> list[str]:
    """Files opened with the stamps ``opened`` that changed in place since (gone is not a change: a
    commit may delete a merged segment, which a reader that has it open keeps reading safely)."""
    now = stamps(gen_dir, opened)
    return [name for name, stamp in now.items() if stamp is not None and stamp != opened[name]]


class Verifier:
    """:func:`verify` with memory: a file whose stamp has not moved since it was checked is not
    hashed again (a server re-checking a damaged generation on every request stays cheap)."""

    def __init__(self) -> None:
        self._verdicts: dict[tuple[str, FileStamp, bool], str | None] = {}

    def problems(self, gen_dir: Path, recorded: Mapping[str, Any], names: Iterable[str] | None = None, full: bool = False) -> list[str]:
        """Like :func:`verify`, remembering each file's verdict by its path and stamp."""
        found = []
        for name in sorted(recorded if names is None else names):
            if not isinstance(recorded.get(name), dict):
                continue
            stamp = stamps(gen_dir, [name])[name]
            key = (str(Path(gen_dir) / name), stamp, full) if stamp is not None else None
            if key is not None and key in self._verdicts:
                verdict = self._verdicts[key]
            else:
                problems = verify(gen_dir, recorded, full=full, names=[name])
                verdict = problems[0] if problems else None
                if key is not None:
                    if len(self._verdicts) > 4096:
                        self._verdicts.clear()
                    self._verdicts[key] = verdict
            if verdict is not None:
                found.append(verdict)
        return found

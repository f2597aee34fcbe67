"""Seed files on disk: which entries of ``seeds/`` are seed files, and reading each exactly once.

* **What is a seed.** A regular file directly inside ``seeds/`` with a seed suffix. A symbolic link
  counts when it resolves to a regular file inside ``seeds/``; one that points outside (``ln -s
  /etc/passwd seeds/x.txt``) is skipped and reported, unless the run allows it (``--follow-symlinks``),
  so nothing outside the seeds directory becomes searchable by accident.
* **Reading once.** :class:`SeedFile` opens a file, reads it to the end and hashes exactly the bytes
  it hands out, so the sha256 recorded for a file is the hash of the text that was indexed. It notices
  a file that changed while it was being read (size or mtime moved between the open and the end) and
  a file swapped for a link or a FIFO after the directory was listed (``O_NOFOLLOW``, ``O_NONBLOCK``
  and an ``fstat`` check), so a read never blocks on a pipe or follows a link it was not allowed to.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SUFFIXES = (".txt", ".md", ".markdown", ".text")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CATALOG_NAME = "catalog.toml"
#: Files of the seeds directory that configure the archive and are never read as pages.
SEED_CONFIG_FILES = (CATALOG_NAME, "dictionary.toml", "synonyms.toml")
_BLOCK = 1 << 20


def name_is_utf8(name: str) -> bool:
    """Can this file name be stored and shown (is it valid UTF-8, not bytes smuggled in as surrogates)?"""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_seed_name(name: str) -> bool:
    """A name that a seed file may have: a seed suffix, not hidden, valid UTF-8."""
    return not name.startswith(".") and Path(name).suffix.lower() in PAGE_SUFFIXES + JSONL_SUFFIXES and name_is_utf8(name)


def printable_name(name: str) -> str:
    """A file name safe to print in a report or on a terminal: bytes that are not UTF-8 and unprintable
    characters (newlines, terminal escapes, bidi overrides) written as escapes.

    >>> printable_name("a\\nb\\x1b[2J.txt")
    'a\\\\nb\\\\x1b[2J.txt'
    """
    name = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)


@dataclass
class SeedScan:
    """The entries of a seeds directory: seed files to read, and the entries skipped (with why)."""

    files: dict[str, Path] = field(default_factory=dict)  # name -> path, sorted by name
    links: set[str] = field(default_factory=set)  # names of files that are (allowed) symbolic links
    skipped: dict[str, str] = field(default_factory=dict)  # printable name -> reason


def link_target_problem(path: Path, seeds_dir: Path, follow_symlinks: bool) -> str | None:
    """Why the symbolic link ``path`` is not a seed file (None if it is one)."""
    try:
        target = Path(os.path.realpath(path))
        info = target.stat()
    except OSError:
        return "broken symbolic link; skipped"
    if not stat.S_ISREG(info.st_mode):
        return "symbolic link to something that is not a regular file; skipped"
    if Path(os.path.realpath(seeds_dir)) not in target.parents and not follow_symlinks:
        return f"symbolic link to a file outside the seeds directory ({target}); not followed (--follow-symlinks indexes it)"
    return None


def scan_seeds(seeds_dir: Path, follow_symlinks: bool = False) -> SeedScan:
    """List ``seeds_dir``: seed files by name, and every other file reported (hidden files and the
    configuration files of :data:`SEED_CONFIG_FILES` aside; directories are not seed entries)."""
    seeds_dir = Path(seeds_dir)
    scan = SeedScan()
    found: dict[str, Path] = {}
    for entry in os.scandir(seeds_dir):
        name = entry.name
        if name.startswith(".") or name in SEED_CONFIG_FILES:
            continue
        try:
            is_link = entry.is_symlink()
            is_file = entry.is_file(follow_symlinks=False)
        except OSError:
            continue
        if not is_link and not is_file:
            continue  # directories, FIFOs, sockets, devices are not seed files
        if not name_is_utf8(name):
            scan.skipped[printable_name(name)] = "file name is not valid UTF-8; rename the file to index it"
            continue
        if not is_seed_name(name):
            scan.skipped[name] = f"not a seed file type ({Path(name).suffix or 'no suffix'}); ignored"
            continue
        if is_link:
            problem = link_target_problem(seeds_dir / name, seeds_dir, follow_symlinks)
            if problem is not None:
                scan.skipped[name] = problem
                continue
            scan.links.add(name)
        found[name] = seeds_dir / name
    scan.files = dict(sorted(found.items()))
    return scan


@dataclass
class ReadFacts:
    """What reading a file found: the sha256 and size of the bytes read, and whether it moved."""

    sha256: str
    size: int
    mtime_ns: int
    changed: str | None = None  # how the file changed while it was read, if it did


class SeedFile:
    """One seed file, opened once and read to its end; every byte handed out is hashed.

    ``follow_symlinks=False`` refuses a path that is (now) a symbolic link; a path that is not a
    regular file (a FIFO put in its place) is refused without blocking.
    """

    def __init__(self, path: Path, follow_symlinks: bool = False) -> None:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        if not follow_symlinks:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
        try:
            self.before = os.fstat(fd)
            if not stat.S_ISREG(self.before.st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(path))
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        except BaseException:
            os.close(fd)
            raise
        self._file = os.fdopen(fd, "rb", buffering=_BLOCK)
        self._digest = hashlib.sha256()
        self.size_read = 0

    def read_all(self) -> bytes:
        """The whole file (from where reading stands)."""
        data = self._file.read()
        self._digest.update(data)
        self.size_read += len(data)
        return data

    def lines(self) -> Iterator[bytes]:
        """The file's lines, each with its ``\\n`` (the last one may lack it)."""
        for line in self._file:
            self._digest.update(line)
            self.size_read += len(line)
            yield line

    def facts(self) -> ReadFacts:
        """The hash and size of what was read, and whether the file changed meanwhile."""
        after = os.fstat(self._file.fileno())
        changed = None
        if after.st_size != self.size_read or after.st_mtime_ns != self.before.st_mtime_ns:
            changed = (
                f"changed while it was being read ({self.before.st_size:,} bytes when opened, {self.size_read:,} read, "
                f"{after.st_size:,} now); indexed as read, and read again by the next run"
            )
        return ReadFacts(sha256=self._digest.hexdigest(), size=self.size_read, mtime_ns=after.st_mtime_ns, changed=changed)

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> "SeedFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""jieba's word tables, the dictionary (frequency and tag of 349,046 words) and the keyword IDF
(270,132 weights), as lookups that cost a small run nothing to start.

Reading both files into dicts takes about half a second: most of a one-page ``newsearch index``,
which looks up a few thousand words. So the first process that reads the files also copies them
into an SQLite file in the user's cache directory (named after the files' size and time), and
later processes look words up there, a few microseconds each, until their lookups have cost
about what the dicts cost to read; then they read the dicts (a full build reads them in its first
few dozen articles). Without a cache directory, or with a damaged cache file, the dicts are read
at once (and the file made again), so lookups never fail.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import threading
from importlib import resources
from pathlib import Path

from search.cachedir import user_cache_dir

#: Words looked up in the cache file before reading the dicts instead (about 0.1 s of lookups,
#: against 0.5 s for the dicts: a run that needs more is a big run, and the dicts pay off).
LOOKUPS_BEFORE_LOADING = 20_000
#: Bump when the cache file's tables change.
_CACHE_FORMAT = 1
_FILES = ("dict.txt", "analyse/idf.txt")


def _jieba_path(name: str) -> Path | None:
    """A data file of the jieba package, found without importing jieba (its ``__init__`` imports
    ``pkg_resources``: 0.2 s of every one-page index run)."""
    spec = importlib.util.find_spec("jieba")
    for folder in list(spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


def _jieba_text(name: str) -> str:
    path = _jieba_path(name)
    if path is not None:
        return path.read_text(encoding="utf-8")
    return resources.files("jieba").joinpath(name).read_text(encoding="utf-8")  # another layout


def read_dictionary() -> tuple[dict[str, int], dict[str, str]]:
    """Word frequencies and part-of-speech tags of jieba's main dictionary (``dict.txt``)."""
    text = _jieba_text("dict.txt")
    parts = text.split()
    if len(parts) == 3 * (text.strip().count("\n") + 1) and all(map(str.isdigit, parts[1::3])):
        # "word frequency tag" on every line: 349,046 lines paired in C rather than split one by one.
        words = parts[0::3]
        return dict(zip(words, map(int, parts[1::3]))), dict(zip(words, parts[2::3]))
    frequencies: dict[str, int] = {}
    tags: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].isdigit():
            frequencies[fields[0]] = int(fields[1])
            if len(fields) >= 3:
                tags[fields[0]] = fields[2]
    return frequencies, tags


def read_idf() -> tuple[dict[str, float], float]:
    """The IDF table of jieba.analyse (its ``idf.txt``) and its median, for TF-IDF keywords.

    Read directly rather than through ``jieba.analyse``, whose import builds a default extractor that
    leaves the file open; the weights and the formula are the same as ``extract_tags``.
    """
    text = _jieba_text("analyse/idf.txt")
    parts = text.split()
    if len(parts) == 2 * (text.strip().count("\n") + 1):  # "word weight" on every line: pair them in C
        idf = dict(zip(parts[0::2], map(float, parts[1::2])))
    else:
        idf = {}
        for line in text.splitlines():
            word, _, weight = line.strip().partition(" ")
            if weight:
                idf[word] = float(weight)
    weights = sorted(idf.values())
    return idf, weights[len(weights) // 2]


def cache_path() -> Path | None:
    """The cache file for the jieba files installed now, or None without a cache directory or files."""
    cache_dir = user_cache_dir()
    stamp = hashlib.sha1(str(_CACHE_FORMAT).encode())
    for name in _FILES:
        path = _jieba_path(name)
        if path is None or cache_dir is None:
            return None
        status = path.stat()
        stamp.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return cache_dir / f"jieba-words-{stamp.hexdigest()[:16]}.sqlite"


def _write_cache(path: Path, frequencies: dict[str, int], tags: dict[str, str], idf: dict[str, float], median: float) -> None:
    """Write the tables to ``path`` whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        db = sqlite3.connect(temporary)
        try:
            db.executescript(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                "CREATE TABLE dictionary (word TEXT PRIMARY KEY, frequency INTEGER NOT NULL, tag TEXT) WITHOUT ROWID;"
                "CREATE TABLE idf (word TEXT PRIMARY KEY, weight REAL NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE facts (name TEXT PRIMARY KEY, value REAL NOT NULL);"
            )
            db.executemany("INSERT INTO dictionary VALUES (?, ?, ?)", ((w, f, tags.get(w)) for w, f in frequencies.items()))
            db.executemany("INSERT INTO idf VALUES (?, ?)", idf.items())
            db.execute("INSERT INTO facts VALUES ('median_idf', ?)", (median,))
            db.commit()
        finally:
            db.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


#: What :meth:`WordTables._cached` answers once the dicts are read: look the word up there.
_IN_DICTS = object()
_QUERIES = {
    "dictionary": "SELECT frequency, tag FROM dictionary WHERE word = ?",
    "idf": "SELECT weight FROM idf WHERE word = ?",
}


class WordTables:
    """Frequency, tag and IDF of a word, from the cache file or, past a number of lookups, from dicts."""

    def __init__(self, cache: Path | None) -> None:
        self._cache = cache
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0  # the process that opened the connection: a forked child opens its own
        self._lookups = 0
        self._rows: dict[tuple[str, str], tuple | None] = {}  # rows already read from the cache file
        self._frequencies: dict[str, int] | None = None
        self._tags: dict[str, str] = {}
        self._idf: dict[str, float] = {}
        self._median_idf: float | None = None

    @property
    def loaded(self) -> bool:
        """True once the dicts are read (lookups no longer touch the cache file)."""
        return self._frequencies is not None

    def frequency(self, word: str) -> int | None:
        """The word's frequency in jieba's dictionary, None if it is not there."""
        if self._frequencies is not None:  # a big run: one dict lookup a word, nothing else
            return self._frequencies.get(word)
        row = self._cached("dictionary", word)
        if row is _IN_DICTS:
            return self._frequencies.get(word)  # type: ignore[union-attr]
        return row[0] if row else None  # type: ignore[index]

    def tag(self, word: str) -> str | None:
        """The word's part-of-speech tag in jieba's dictionary, None if it has none."""
        if self._frequencies is not None:
            return self._tags.get(word)
        row = self._cached("dictionary", word)
        if row is _IN_DICTS:
            return self._tags.get(word)
        return row[1] if row else None  # type: ignore[index]

    def idf(self, word: str) -> float | None:
        """The word's IDF weight for keywords, None if the table has none."""
        if self._frequencies is not None:
            return self._idf.get(word)
        row = self._cached("idf", word)
        if row is _IN_DICTS:
            return self._idf.get(word)
        return row[0] if row else None  # type: ignore[index]

    def median_idf(self) -> float:
        """The median IDF weight: the weight of a word the table does not have."""
        with self._lock:
            if self._median_idf is None:
                row = self._query("SELECT value FROM facts WHERE name = 'median_idf'", ())
                if row:
                    self._median_idf = float(row[0])
                else:
                    self.load()
            assert self._median_idf is not None
            return self._median_idf

    def load(self) -> None:
        """Read the dicts from jieba's files (and write the cache file if there is none)."""
        with self._lock:
            if self._frequencies is not None:
                return
            frequencies, tags = read_dictionary()
            idf, median = read_idf()
            self._close()
            if self._cache is not None and not self._cache.is_file():
                try:
                    _write_cache(self._cache, frequencies, tags, idf, median)
                except (OSError, sqlite3.Error):
                    pass  # a read-only or full cache directory costs later runs time, nothing else
            self._tags, self._idf, self._median_idf = tags, idf, median
            self._frequencies = frequencies
            self._rows.clear()  # the dicts answer from now on

    def _cached(self, table: str, word: str) -> object:
        """The word's row of ``table`` in the cache file (None if it has none), or :data:`_IN_DICTS`
        once the dicts are read, which this call does when the lookups have cost enough."""
        key = (table, word)
        with self._lock:
            if key in self._rows:
                return self._rows[key]
            self._lookups += 1
            row = self._query(_QUERIES[table], (word,)) if self._lookups <= LOOKUPS_BEFORE_LOADING else None
            if row is None:  # enough lookups, or no usable cache file
                self.load()
                return _IN_DICTS
            self._rows[key] = row or None
            return row or None

    def _query(self, sql: str, parameters: tuple) -> tuple | None:
        """One row of the cache file (``()`` when it has none), or None without a usable cache
        file. Call with the lock held."""
        if self._frequencies is not None or self._cache is None:
            return None
        try:
            if self._connection is None or self._pid != os.getpid():
                if not self._cache.is_file():
                    return None
                # immutable: the file is never changed in place (a new one replaces it), so no locks.
                self._connection = sqlite3.connect(f"{self._cache.as_uri()}?immutable=1", uri=True, check_same_thread=False)
                self._pid = os.getpid()
            row = self._connection.execute(sql, parameters).fetchone()
        except sqlite3.Error:
            self._close()
            self._cache.unlink(missing_ok=True)  # damaged: load() writes it again
            return None
        return () if row is None else row

    def _close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None


_tables: WordTables | None = None
_tables_lock = threading.Lock()


def word_tables() -> WordTables:
    """This process's word tables (made on first use)."""
    global _tables
    with _tables_lock:
        if _tables is None:
            _tables = WordTables(cache_path())
        return _tables

"""The words of an index by their pinyin, as arrays that can be written once and memory-mapped.

Did-you-mean and pinyin completions look words up by full toneless pinyin (``zhengzhou``), initials
(``zz``) and a fuzzy form (zh/ch/sh → z/c/s, -ng → -n); see :mod:`search.query.pinyin`. Spelling
every word of a million-article archive takes seconds (87,720 names and headline words: 4.6 s with
reading them), which a cold ``newsearch search`` with few results used to pay in full. So the
spelling is done once, when the words are written:

- a :class:`PinyinTable` holds one set of words (a segment's, or a whole vocabulary): each word's
  text, its article counts per kind (:data:`KINDS`) and its three kinds of keys, in sorted numpy
  arrays. The embedded engine writes one per segment, in the segment's store, as the segment is
  written; it is memory-mapped like the rest of the store, so opening it costs nothing;
- a :class:`PinyinIndex` answers over several tables, adding up each word's counts across them
  (per kind; a word's count is its largest, its type its first kind that holds it: a name before a
  headline word, as the vocabulary reports them).

A key table is sorted by the key's first eight bytes (big-endian, so prefixes of up to eight letters
are one range) with a 64-bit hash of the whole key beside it for exact lookups. A hash collision
cannot bring a wrong word in: every word found is checked against its own spellings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from search.analysis import CJK_RUN
from search.query.pinyin import fuzzy, spellings, syllables

#: Count columns of a table, in the order a word's type is chosen: names before headline words.
KINDS = ("place", "person", "org", "reporter", "word")
#: The three kinds of keys a word is found by.
KEY_KINDS = ("full", "initials", "fuzzy")
#: Words of this many characters are kept (shorter are no typo worth correcting, longer are no word).
MIN_CHARS, MAX_CHARS = 2, 12
#: Entries a long prefix's range yields at most per table, to be checked against their words.
PREFIX_SCAN = 2000
#: Completions a table offers per completion asked for (the most frequent words of the prefix).
PREFIX_BEST = 8
_TYPE_RANK = {"place": 0, "person": 1, "org": 1, "reporter": 2, "word": 3}
_EMPTY = np.zeros(0, dtype=np.int64)


def _hash(text: str) -> int:
    """A string's 64-bit key, stable across processes."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _order(key: str, pad: int = 0) -> int:
    """The sort position of a Latin key: its first eight bytes, big-endian, padded with ``pad``."""
    head = key.encode("ascii", "replace")[:8]
    return int.from_bytes(head + bytes([pad]) * (8 - len(head)), "big")


@lru_cache(maxsize=262144)
def word_keys(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The full, initials and fuzzy keys of a word (each distinct, from its first few readings)."""
    fulls: dict[str, None] = {}
    initials: dict[str, None] = {}
    fuzzies: dict[str, None] = {}
    for parts in spellings(text):
        fulls["".join(parts)] = None
        initials["".join(part[0] for part in parts)] = None
        fuzzies[fuzzy(parts)] = None
    return tuple(fulls), tuple(initials), tuple(fuzzies)


def keeps(text: str) -> bool:
    """Whether a word belongs in a table: Chinese characters only, 2–12 of them, each with a reading."""
    return MIN_CHARS <= len(text) <= MAX_CHARS and bool(CJK_RUN.fullmatch(text)) and bool(word_keys(text)[0])


@dataclass(frozen=True)
class Entry:
    """One indexed word or name: its text, the articles holding it and its type."""

    text: str
    count: int
    type: str


class PinyinTable:
    """One set of words with their counts and pinyin keys, as arrays (see the module docstring)."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = dict(arrays)
        self.text_keys = self.arrays["text_keys"]
        self.text_starts = self.arrays["text_starts"]
        self.texts = self.arrays["texts"]
        self.counts = self.arrays["counts"].reshape(-1, len(KINDS)) if len(self.text_keys) else np.zeros((0, len(KINDS)), np.uint32)
        self.keys = {kind: (self.arrays[f"{kind}.order"], self.arrays[f"{kind}.hash"], self.arrays[f"{kind}.entry"]) for kind in KEY_KINDS}

    @classmethod
    def build(cls, counts: Mapping[str, Mapping[str, int]]) -> "PinyinTable":
        """A table of ``{kind: {text: articles}}`` (kinds of :data:`KINDS`); words that are not
        :func:`keeps` are left out."""
        by_text: dict[str, list[int]] = {}
        for column, kind in enumerate(KINDS):
            for text, count in (counts.get(kind) or {}).items():
                if count > 0 and keeps(text):
                    by_text.setdefault(text, [0] * len(KINDS))[column] += int(count)
        texts = list(by_text)
        hashes = np.fromiter((_hash(text) for text in texts), dtype=np.uint64, count=len(texts))
        order = np.argsort(hashes, kind="stable")
        texts = [texts[i] for i in order.tolist()]
        encoded = [text.encode("utf-8") for text in texts]
        arrays: dict[str, np.ndarray] = {
            "text_keys": hashes[order],
            "text_starts": np.concatenate(([0], np.cumsum([len(e) for e in encoded], dtype=np.int64))).astype(np.uint64),
            "texts": np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
            "counts": np.asarray([by_text[text] for text in texts], dtype=np.uint32).reshape(-1),
        }
        for position, kind in enumerate(KEY_KINDS):
            rows = [(key, entry) for entry, text in enumerate(texts) for key in word_keys(text)[position]]
            key_order = np.fromiter((_order(key) for key, _e in rows), dtype=np.uint64, count=len(rows))
            key_hash = np.fromiter((_hash(key) for key, _e in rows), dtype=np.uint64, count=len(rows))
            entries = np.fromiter((entry for _k, entry in rows), dtype=np.uint32, count=len(rows))
            sort = np.lexsort((entries, key_hash, key_order))
            arrays[f"{kind}.order"], arrays[f"{kind}.hash"], arrays[f"{kind}.entry"] = key_order[sort], key_hash[sort], entries[sort]
        return cls(arrays)

    @classmethod
    def from_vocabulary(cls, vocabulary: Iterable[Mapping[str, Any]]) -> "PinyinTable":
        """A table of an engine's vocabulary, ``[{"text", "count", "type"}]``."""
        counts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
        for item in vocabulary:
            kind = str(item.get("type", "word"))
            counts.get(kind, counts["word"])[str(item.get("text", ""))] = int(item.get("count", 0) or 0)
        return cls.build(counts)

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The table's arrays, named with ``prefix`` (to be written into a file and read back with
        :meth:`from_arrays`)."""
        return {prefix + name: array for name, array in self.arrays.items()}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "") -> "PinyinTable | None":
        """The table whose arrays are named with ``prefix`` in ``arrays``, or None if they are not there."""
        names = ["text_keys", "text_starts", "texts", "counts"] + [f"{kind}.{part}" for kind in KEY_KINDS for part in ("order", "hash", "entry")]
        if any(prefix + name not in arrays for name in names):
            return None
        return cls({name: arrays[prefix + name] for name in names})

    def __len__(self) -> int:
        return len(self.text_keys)

    def text(self, entry: int) -> str:
        """The word of entry ``entry``."""
        return self.texts[int(self.text_starts[entry]) : int(self.text_starts[entry + 1])].tobytes().decode("utf-8")

    def find(self, text: str) -> int:
        """The entry of ``text``, or -1."""
        key = np.uint64(_hash(text))
        at = int(np.searchsorted(self.text_keys, key))
        while at < len(self.text_keys) and self.text_keys[at] == key:
            if self.text(at) == text:
                return at
            at += 1
        return -1

    def matching(self, kind: str, key: str) -> np.ndarray:
        """Entries with ``key`` among their keys of ``kind`` (a hash may collide: check the words)."""
        order, hashes, entries = self.keys[kind]
        at = _order(key)
        lo, hi = np.searchsorted(order, np.uint64(at)), np.searchsorted(order, np.uint64(at), side="right")
        if lo == hi:
            return _EMPTY
        return entries[lo:hi][hashes[lo:hi] == np.uint64(_hash(key))]

    def prefixed(self, kind: str, prefix: str, best: int) -> np.ndarray:
        """Entries with a key of ``kind`` that may start with ``prefix`` (all of them do when it has
        at most eight letters): the ``best`` most frequent of them, or for a longer prefix the first
        :data:`PREFIX_SCAN` in key order (to be checked against their words)."""
        order, _hashes, entries = self.keys[kind]
        lo = int(np.searchsorted(order, np.uint64(_order(prefix, 0))))
        hi = int(np.searchsorted(order, np.uint64(_order(prefix, 0xFF)), side="right"))
        found = entries[lo:hi]
        if len(prefix) > 8 or len(found) <= best:
            return found[:PREFIX_SCAN]
        frequency = self.counts[found].max(axis=1)
        return found[np.argpartition(-frequency.astype(np.int64), best)[:best]]


class PinyinIndex:
    """Words by full pinyin, initials and fuzzy pinyin over one or more :class:`PinyinTable`\\ s."""

    def __init__(self, tables: Sequence[PinyinTable] = ()) -> None:
        self.tables = [table for table in tables if len(table)]

    @classmethod
    def build(cls, vocabulary: Iterable[Mapping[str, Any]]) -> "PinyinIndex":
        """Index ``[{"text", "count", "type"}]`` (an engine's vocabulary) in memory."""
        return cls([PinyinTable.from_vocabulary(vocabulary)])

    @property
    def empty(self) -> bool:
        """True if the index holds no word at all."""
        return not self.tables

    def _entries(self, found: Iterable[tuple[PinyinTable, np.ndarray]]) -> list[Entry]:
        """The words of table entries, with their counts added up across the tables that hold them."""
        totals: dict[str, np.ndarray] = {}
        for table, entries in found:
            for entry in entries.tolist():
                text = table.text(entry)
                row = table.counts[entry].astype(np.int64)
                totals[text] = totals[text] + row if text in totals else row
        return [_entry(text, row) for text, row in totals.items()]

    def entry(self, text: str) -> Entry | None:
        """The word ``text`` with its counts, or None if no table holds it."""
        found = self._entries((table, np.asarray([at])) for table in self.tables if (at := table.find(text)) >= 0)
        return found[0] if found else None

    def count_of(self, text: str) -> int:
        """How many articles hold ``text`` (in the field that holds it most), 0 if none."""
        found = self.entry(text)
        return found.count if found else 0

    def _keyed(self, kind: str, key: str) -> list[Entry]:
        position = KEY_KINDS.index(kind)
        found = self._entries((table, table.matching(kind, key)) for table in self.tables)
        return [entry for entry in found if key in word_keys(entry.text)[position]]

    def homophones(self, text: str) -> list[Entry]:
        """Indexed words read like ``text`` (exactly, then fuzzily), most frequent first; ``text`` itself left out."""
        parts = syllables(text)
        if not parts:
            return []
        exact = [e for e in self._keyed("full", "".join(parts)) if e.text != text]
        seen = {e.text for e in exact}
        near = [e for e in self._keyed("fuzzy", fuzzy(parts)) if e.text != text and e.text not in seen]
        return best_first(exact) + best_first(near)

    def spelled(self, latin: str) -> list[Entry]:
        """Indexed words whose full pinyin (then initials) is ``latin``, best first."""
        full = self._keyed("full", latin)
        seen = {e.text for e in full}
        initials = [e for e in self._keyed("initials", latin) if e.text not in seen] if 2 <= len(latin) <= 6 else []
        return best_first(full) + best_first(initials)

    def complete(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Words whose pinyin or initials start with the Latin ``prefix``: ``[{"text", "type"}]``."""
        prefix = prefix.lower()
        if not (prefix.isascii() and prefix.isalpha() and 2 <= len(prefix) <= 40):
            return []
        offered: dict[str, None] = {}
        for position, kind in enumerate(KEY_KINDS[:2]):
            # Each table offers its most frequent words of the prefix; a word among the archive's
            # most frequent is among the most frequent of some segment.
            for table in self.tables:
                for entry in table.prefixed(kind, prefix, PREFIX_BEST * limit).tolist():
                    text = table.text(entry)
                    if text not in offered and any(key.startswith(prefix) for key in word_keys(text)[position]):
                        offered[text] = None
        ranked = best_first([_entry(text, row) for text, row in self._totals(list(offered)).items()])
        return [{"text": entry.text, "type": entry.type} for entry in ranked[:limit]]

    def _totals(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each word's counts added up over every table, looked up by hash a table at a time (a
        64-bit collision between two of an archive's words is not worth checking for here)."""
        if not texts:
            return {}
        hashes = np.fromiter((_hash(text) for text in texts), dtype=np.uint64, count=len(texts))
        totals = np.zeros((len(texts), len(KINDS)), dtype=np.int64)
        for table in self.tables:
            at = np.minimum(np.searchsorted(table.text_keys, hashes), len(table) - 1)
            held = table.text_keys[at] == hashes
            totals[held] += table.counts[at[held]]
        return dict(zip(texts, totals))


def _entry(text: str, row: np.ndarray) -> Entry:
    holding = np.flatnonzero(row)
    return Entry(text, int(row.max()), KINDS[int(holding[0])] if len(holding) else "word")


def best_first(entries: list[Entry]) -> list[Entry]:
    """Most articles first, then names before headline words, then by text."""
    return sorted(entries, key=lambda e: (-e.count, _TYPE_RANK.get(e.type, 9), e.text))

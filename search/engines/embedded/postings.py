"""Compact posting lists (documents, counts and bigram positions), read from a memory-mapped file with numpy.

One *postings field* of a segment maps integer keys (n-gram keys, or 64-bit hashes of words) to the
segment's documents holding them, with a count each. On disk (all little-endian arrays):

* ``keys`` (uint64, sorted), ``first`` (uint32), ``n`` (uint32), ``kind`` (uint8) per term;
* the documents, *delta-coded* (the first one absolute, then gaps), and the counts, in blobs of
  fixed-width integers: a term's gaps are 1, 2 or 4 bytes wide, whatever its largest gap needs,
  and so are its counts. ``kind = 3 * gap width code + count width code`` (nine kinds, a gap blob
  and a count blob each); the term's values are the ``n`` items from item ``first`` of its kind's
  blobs.

A field may also keep *positions* (the n-gram fields do, for their bigrams): every occurrence's offset
in its document's field, the occurrences of a term's postings one after another (the posting's
count says how many are its own), ascending inside each posting. ``pos_kind`` per term is the width
code of its largest offset (1, 2 or 4 bytes; :data:`NO_POSITIONS` for a term without), ``pos_first``
where its offsets start in that width's blob ``pos{code}``.

Frequent terms (the long lists) have small gaps and small counts, so they take about two bytes a
posting. Reading a term is a binary search (``np.searchsorted``) and a ``cumsum``: no Python work
per posting, and nothing but the pages read is loaded (the file is memory-mapped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_WIDTHS = (np.uint8, np.uint16, np.uint32)
_LIMITS = (1 << 8, 1 << 16)
KINDS = 9
#: ``pos_kind`` of a term whose positions are not kept.
NO_POSITIONS = 3


def _width_code(largest: np.ndarray) -> np.ndarray:
    return (largest >= _LIMITS[0]).astype(np.uint8) + (largest >= _LIMITS[1]).astype(np.uint8)


def encode(
    keys: np.ndarray, docs: np.ndarray, counts: np.ndarray, positions: np.ndarray | None = None, positioned_from: int = 0
) -> dict[str, np.ndarray]:
    """The arrays of a postings field from postings sorted by key then document.

    ``keys``, ``docs`` (segment-local document numbers) and ``counts`` have one item per posting.
    Returns ``{"keys", "first", "n", "kind"}`` and, per kind ``k``, ``"gaps{k}"`` and ``"counts{k}"``.
    With ``positions`` (the offsets of every occurrence of the postings whose key is at least
    ``positioned_from``, posting after posting), also ``pos_kind``, ``pos_first`` and ``pos0``-``pos2``.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    docs = np.asarray(docs, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    arrays: dict[str, np.ndarray] = {}
    for value in range(KINDS):
        arrays[f"gaps{value}"] = np.zeros(0, _WIDTHS[value // 3])
        arrays[f"counts{value}"] = np.zeros(0, _WIDTHS[value % 3])
    if not len(keys):
        arrays.update(keys=np.zeros(0, np.uint64), first=np.zeros(0, np.uint32), n=np.zeros(0, np.uint32),
                      kind=np.zeros(0, np.uint8))  # fmt: skip
        return arrays
    starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
    n = np.diff(np.append(starts, len(keys)))
    gaps = np.diff(docs, prepend=0)
    gaps[starts] = docs[starts]  # each term's first document is absolute
    kind = 3 * _width_code(np.maximum.reduceat(gaps, starts)) + _width_code(np.maximum.reduceat(counts, starts))
    per_posting = np.repeat(kind, n)
    first = np.zeros(len(starts), dtype=np.uint32)
    for value in np.unique(kind).tolist():
        terms = kind == value
        selected = per_posting == value
        # A kind's terms lie one after another (in key order) in its two blobs.
        first[terms] = np.concatenate(([0], np.cumsum(n[terms])[:-1])).astype(np.int64)
        arrays[f"gaps{value}"] = gaps[selected].astype(_WIDTHS[value // 3])
        arrays[f"counts{value}"] = counts[selected].astype(_WIDTHS[value % 3])
    arrays.update(keys=keys[starts], first=first, n=n.astype(np.uint32), kind=kind.astype(np.uint8))
    if positions is not None:
        arrays.update(_position_arrays(keys[starts] >= np.uint64(positioned_from), np.add.reduceat(counts, starts), np.asarray(positions, dtype=np.int64)))
    return arrays


def _position_arrays(positioned: np.ndarray, occurrences: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    """``pos_kind``, ``pos_first`` and the offset blobs, for the terms flagged ``positioned`` (each
    with ``occurrences`` offsets in ``positions``, term after term)."""
    if int(occurrences[positioned].sum()) != len(positions):
        raise ValueError("positions do not match the postings' counts")
    pos_kind = np.full(len(positioned), NO_POSITIONS, dtype=np.uint8)
    pos_first = np.zeros(len(positioned), dtype=np.uint64)
    arrays = {f"pos{code}": np.zeros(0, _WIDTHS[code]) for code in range(3)}
    sizes = occurrences[positioned]
    if len(sizes):
        term_starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        widths = _width_code(np.maximum.reduceat(positions, term_starts))
        pos_kind[positioned] = widths
        per_offset = np.repeat(widths, sizes)
        terms = np.flatnonzero(positioned)
        for code in np.unique(widths).tolist():
            chosen = widths == code  # these terms' offsets lie one after another in blob ``pos{code}``
            pos_first[terms[chosen]] = np.concatenate(([0], np.cumsum(sizes[chosen])[:-1]))
            arrays[f"pos{code}"] = positions[per_offset == code].astype(_WIDTHS[code])
    arrays.update(pos_kind=pos_kind, pos_first=pos_first)
    return arrays


_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class PostingsField:
    """A postings field read from a segment file (arrays are views of the memory map)."""

    keys: np.ndarray
    first: np.ndarray
    n: np.ndarray
    kind: np.ndarray
    gaps: tuple[np.ndarray, ...]  # per kind
    counts: tuple[np.ndarray, ...]
    pos_kind: np.ndarray | None = None  # None: a field (or an older store) without positions
    pos_first: np.ndarray | None = None
    positions: tuple[np.ndarray, ...] = ()  # per width code

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> "PostingsField":
        """The field stored under ``prefix`` in a segment file's arrays."""
        positioned = f"{prefix}.pos_kind" in arrays
        return cls(
            arrays[f"{prefix}.keys"],
            arrays[f"{prefix}.first"],
            arrays[f"{prefix}.n"],
            arrays[f"{prefix}.kind"],
            tuple(arrays[f"{prefix}.gaps{kind}"] for kind in range(KINDS)),
            tuple(arrays[f"{prefix}.counts{kind}"] for kind in range(KINDS)),
            arrays[f"{prefix}.pos_kind"] if positioned else None,
            arrays[f"{prefix}.pos_first"] if positioned else None,
            tuple(arrays[f"{prefix}.pos{code}"] for code in range(3)) if positioned else (),
        )

    def has_positions(self, i: int) -> bool:
        """True if term number ``i``'s positions are kept."""
        return self.pos_kind is not None and int(self.pos_kind[i]) != NO_POSITIONS

    def term(self, key: int) -> int:
        """The term number of ``key``, or -1."""
        i = int(np.searchsorted(self.keys, np.uint64(key)))
        return i if i < len(self.keys) and int(self.keys[i]) == key else -1

    def frequency(self, key: int) -> int:
        """How many documents of the segment hold ``key``."""
        i = self.term(key)
        return int(self.n[i]) if i >= 0 else 0

    def get(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """Segment-local document numbers (ascending) and counts of ``key`` (empty if absent)."""
        i = self.term(key)
        if i < 0:
            return _EMPTY, _EMPTY
        return self.read(i)

    def read(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Documents and counts of term number ``i``."""
        kind, start = int(self.kind[i]), int(self.first[i])
        end = start + int(self.n[i])
        return np.cumsum(self.gaps[kind][start:end], dtype=np.int64), self.counts[kind][start:end].astype(np.int64)

    def occurrences(self, i: int, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(document, offset)`` of every occurrence of term number ``i`` (which has positions), in
        document then offset order; only in the documents ``within`` (ascending) when given. Only
        the offsets of those documents are read from the file."""
        assert self.pos_kind is not None and self.pos_first is not None
        docs, counts = self.read(i)
        blob = self.positions[int(self.pos_kind[i])]
        first = int(self.pos_first[i])
        if within is None:
            return np.repeat(docs, counts), blob[first : first + int(counts.sum())].astype(np.int64)
        where = np.searchsorted(docs, within)
        where = where[(where < len(docs)) & (docs[np.minimum(where, len(docs) - 1)] == within)] if len(docs) else where[:0]
        chosen = counts[where]
        starts = np.cumsum(counts) - counts  # each posting's first offset, inside the term's run
        index = np.repeat(starts[where] - (np.cumsum(chosen) - chosen), chosen) + np.arange(int(chosen.sum()))
        return np.repeat(docs[where], chosen), blob[first + index].astype(np.int64)

"""Our own file beside each Whoosh segment: normalised text, facet values, fragment and word postings.

Whoosh keeps stored fields and the postings its own queries use; what our queries read in bulk lives
in one file per segment, ``<segment id>.nsx`` in the generation directory (``MAIN_3k9….nsx`` beside
``MAIN_3k9….seg``), written by :class:`search.engines.embedded.writer.ArticleWriter` when it finishes
the segment and before the commit that lists the segment. Its name follows Whoosh's segment file
pattern, so Whoosh deletes it with its segment when a merge or a rebuild retires the segment: merges,
deletions (kept by Whoosh per segment), the journal and crash safety work as they do for Whoosh's
own files. It is memory-mapped, never read whole: a server's memory does not hold the archive.

Layout: ``NSX1``, the header length (uint64), a JSON header (document count, facet values, where
each array is), then little-endian arrays aligned to 8 bytes:

* ``text`` (the UTF-8 ``headline SEP body`` of every document, as the query side normalises them),
  ``text.starts`` (uint64, count + 1) and ``text.heads`` (uint64: where each separator starts);
* per facet of :data:`~search.engines.embedded.schema.FACET_COLUMN`: ``facet.NAME.ptr`` (uint32,
  count + 1) and ``facet.NAME.ids`` (uint32 indexes into the header's value list) — each document's
  values, compressed-sparse-row;
* four postings fields (:mod:`search.engines.embedded.postings`): ``grams.head`` and ``grams.body``
  (unigrams and bigrams of the normalised text, :mod:`search.engines.embedded.ngrams`; format 2
  keeps every bigram occurrence's position, so longer fragments are found without reading text), and
  ``words.title`` and ``words.body`` (the word fields' terms by a 64-bit hash, with the terms
  themselves in ``words.F.terms`` / ``words.F.term_starts`` to rule out a collision);
* ``pinyin.*``: the segment's names and headline words with their document counts and pinyin keys
  (:class:`search.query.pinyin_index.PinyinTable`), which did-you-mean and pinyin completions read.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.engines.embedded.ngrams import BIGRAM_BASE, document_grams
from search.engines.embedded.postings import PostingsField, encode
from search.engines.embedded.schema import FACET_COLUMN, FULLTEXT_SEPARATOR
from search.query.pinyin_index import PinyinTable

EXTENSION = ".nsx"
MAGIC = b"NSX1"
FORMAT = 3
#: Formats this code reads: a format-1 store (no bigram positions) answers the same, confirming
#: longer fragments on the text; a store before format 3 has no pinyin table, which is then spelled
#: from the segment's terms when did-you-mean first needs it. Segments written from now on are format 3.
READABLE_FORMATS = (1, 2, 3)
#: Name prefix of the pinyin table's arrays.
PINYIN_PREFIX = "pinyin."
WORD_FIELDS = ("title", "body")
_ALIGN = 8


def word_key(word: str) -> int:
    """A word's 64-bit key (stable across processes, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def store_path(folder: str | Path, segment_id: str) -> Path:
    """Where the store of segment ``segment_id`` (``MAIN_…``) lives."""
    return Path(folder) / f"{segment_id}{EXTENSION}"


# -- writing -------------------------------------------------------------------------------------


@dataclass
class WordPostings:
    """One word field's postings of a segment: terms in any order, documents ascending per term."""

    terms: list[str]
    sizes: list[int]  # postings per term, in ``terms`` order
    docs: list[int]  # all postings' local document numbers, term after term
    counts: list[int]


def _facet_arrays(rows: Sequence[Sequence[Any]]) -> tuple[dict[str, np.ndarray], dict[str, list[Any]], list[str]]:
    arrays: dict[str, np.ndarray] = {}
    values: dict[str, list[Any]] = {}
    multi: list[str] = []
    for i, name in enumerate(FACET_COLUMN):
        if any(row is not None and i < len(row) and isinstance(row[i], (tuple, list)) for row in rows):
            multi.append(name)
        id_of: dict[Any, int] = {}
        sizes = np.zeros(len(rows) + 1, dtype=np.uint32)
        ids: list[int] = []
        for doc, row in enumerate(rows):
            value = row[i] if row is not None and i < len(row) else None
            items = value if isinstance(value, (tuple, list)) else (value,)
            kept = [item for item in dict.fromkeys(items) if item is not None and item != ""]
            sizes[doc + 1] = len(kept)
            ids += [id_of.setdefault(item, len(id_of)) for item in kept]
        arrays[f"facet.{name}.ptr"] = np.cumsum(sizes, dtype=np.uint32)
        arrays[f"facet.{name}.ids"] = np.asarray(ids, dtype=np.uint32)
        values[name] = list(id_of)
    return arrays, values, multi


def _word_arrays(field: str, postings: WordPostings) -> dict[str, np.ndarray]:
    keys = np.fromiter((word_key(term) for term in postings.terms), dtype=np.uint64, count=len(postings.terms))
    sizes = np.asarray(postings.sizes, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    term_starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64) if len(sizes) else sizes
    # Postings in key order: each term's run moved to its key's place.
    moved = sizes[order]
    index = np.repeat(term_starts[order] - np.concatenate(([0], np.cumsum(moved)[:-1])).astype(np.int64), moved) + np.arange(int(moved.sum()))
    docs = np.asarray(postings.docs, dtype=np.int64)[index]
    counts = np.asarray(postings.counts, dtype=np.int64)[index]
    arrays = {f"words.{field}.{name}": array for name, array in encode(np.repeat(keys[order], sizes[order]), docs, counts).items()}
    encoded = [postings.terms[t].encode("utf-8") for t in order.tolist()]
    arrays[f"words.{field}.terms"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    arrays[f"words.{field}.term_starts"] = np.concatenate(([0], np.cumsum([len(e) for e in encoded]))).astype(np.uint64)
    return arrays


def store_arrays(
    fulltexts: Sequence[bytes],
    facet_rows: Sequence[Sequence[Any]],
    words: dict[str, WordPostings] | None = None,
    vocabulary: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every array of a segment store, and its header's facet values, from each document's
    ``headline SEP body`` bytes and facet row (in document order), the word fields' postings and the
    segment's vocabulary (``{kind: {term: documents}}``, spelled into its pinyin table)."""
    sizes = np.fromiter(map(len, fulltexts), dtype=np.uint64, count=len(fulltexts))
    starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.uint64)
    blob = b"".join(fulltexts)
    heads = np.empty(len(fulltexts), dtype=np.uint64)
    head_texts, body_texts = [], []
    for doc, text in enumerate(fulltexts):
        cut = text.find(FULLTEXT_SEPARATOR)
        if cut < 0:
            cut = len(text)
        heads[doc] = int(starts[doc]) + cut
        head_texts.append(text[:cut].decode("utf-8", "replace"))
        body_texts.append(text[cut + len(FULLTEXT_SEPARATOR) :].decode("utf-8", "replace"))
    arrays: dict[str, np.ndarray] = {"text": np.frombuffer(blob, dtype=np.uint8), "text.starts": starts, "text.heads": heads}
    facet_arrays, values, multi = _facet_arrays(facet_rows)
    arrays.update(facet_arrays)
    for field, texts in (("head", head_texts), ("body", body_texts)):
        keys, docs, counts, positions = document_grams(texts, positions=True)
        grams = encode(keys, docs, counts, positions, positioned_from=BIGRAM_BASE)
        arrays.update({f"grams.{field}.{name}": array for name, array in grams.items()})
        del keys, docs, counts, positions, grams
    for field in WORD_FIELDS:
        arrays.update(_word_arrays(field, (words or {}).get(field) or WordPostings([], [], [], [])))
    arrays.update(PinyinTable.build(vocabulary or {}).to_arrays(PINYIN_PREFIX))
    return arrays, {"facets": values, "multi": multi}


def write_store(path: Path, count: int, arrays: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
    """Write a store file (via a temporary name in the same directory, then renamed into place)."""
    layout: dict[str, list[Any]] = {}
    offset = 0
    for name, array in arrays.items():
        layout[name] = [array.dtype.str, offset, int(array.size)]
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = json.dumps({"format": FORMAT, "count": count, "arrays": layout, **extra}, ensure_ascii=False).encode("utf-8")
    header += b" " * (-(len(MAGIC) + 8 + len(header)) % _ALIGN)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for array in arrays.values():
            data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
            out.write(memoryview(data).cast("B") if data.nbytes else b"")
            out.write(b"\0" * (-data.nbytes % _ALIGN))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


# -- reading -------------------------------------------------------------------------------------


class StoreError(ValueError):
    """A store file that is not one (wrong magic, truncated, unknown format)."""


class SegmentStore:
    """A segment's store: memory-mapped arrays (or arrays in memory, for a segment without a file)."""

    def __init__(self, count: int, arrays: dict[str, np.ndarray], header: dict[str, Any], buffer: Any = None, fd: int | None = None) -> None:
        self.count = count
        self.arrays = arrays
        self.facet_values: dict[str, list[Any]] = header.get("facets", {})
        self.multi_valued = set(header.get("multi", []))
        self.buffer = buffer  # the mmap (bytes.find/slices on the text); None when in memory
        # The store file's descriptor, for reads of scattered texts (read_text); closed with the store,
        # or when the store is dropped (a merged-away segment's store is forgotten, never closed).
        self._fd = fd
        self._close_fd = weakref.finalize(self, os.close, fd) if fd is not None else None
        text = arrays["text"]
        self._text_base = int(header.get("_text_offset", 0))
        self.text: Any = buffer if buffer is not None else text.tobytes()
        self.starts = arrays["text.starts"]
        self.heads = arrays["text.heads"]
        self.grams = {name: PostingsField.from_arrays(arrays, f"grams.{name}") for name in ("head", "body")}
        self.words = {name: PostingsField.from_arrays(arrays, f"words.{name}") for name in WORD_FIELDS}
        self.pinyin = PinyinTable.from_arrays(arrays, PINYIN_PREFIX)  # None before format 3

    @classmethod
    def open(cls, path: Path) -> "SegmentStore":
        """Memory-map a store file; :class:`StoreError` if it is not a complete one."""
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            count, arrays, header, buffer = cls._mapped(path, fd)
        except BaseException:
            os.close(fd)  # not a store: nothing keeps the file open
            raise
        return cls(count, arrays, header, buffer, fd)

    @staticmethod
    def _mapped(path: Path, fd: int) -> tuple[int, dict[str, np.ndarray], dict[str, Any], Any]:
        """The document count, arrays, header and map of the store file open at ``fd``."""
        size = os.fstat(fd).st_size
        if size < len(MAGIC) + 8:
            raise StoreError(f"{path.name}: truncated")
        buffer = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        if buffer[: len(MAGIC)] != MAGIC:
            raise StoreError(f"{path.name}: not a segment store")
        length = int.from_bytes(buffer[len(MAGIC) : len(MAGIC) + 8], "little")
        start = len(MAGIC) + 8 + length
        try:
            header = json.loads(buffer[len(MAGIC) + 8 : start])
        except ValueError as error:
            raise StoreError(f"{path.name}: bad header") from error
        if header.get("format") not in READABLE_FORMATS:
            raise StoreError(f"{path.name}: format {header.get('format')!r}")
        arrays = {}
        for name, (dtype, offset, items) in header["arrays"].items():
            begin = start + offset
            if begin + np.dtype(dtype).itemsize * items > size:
                raise StoreError(f"{path.name}: truncated")
            arrays[name] = np.frombuffer(buffer, dtype=dtype, count=items, offset=begin)
        header["_text_offset"] = start + header["arrays"]["text"][1]
        return int(header["count"]), arrays, header, buffer

    @classmethod
    def in_memory(
        cls,
        fulltexts: Sequence[bytes],
        facet_rows: Sequence[Sequence[Any]],
        words: dict[str, WordPostings],
        vocabulary: Mapping[str, Mapping[str, int]] | None = None,
    ) -> "SegmentStore":
        """A store built in memory (for a segment written without one)."""
        arrays, extra = store_arrays(fulltexts, facet_rows, words, vocabulary)
        return cls(len(fulltexts), arrays, extra)

    # -- text ---------------------------------------------------------------------------------

    def bounds(self, local: int) -> tuple[int, int, int]:
        """Where document ``local``'s text starts, its separator starts, and its text ends, as
        offsets into :attr:`text`."""
        base = self._text_base
        return base + int(self.starts[local]), base + int(self.heads[local]), base + int(self.starts[local + 1])

    def fulltext(self, local: int) -> bytes:
        """Document ``local``'s ``headline SEP body`` bytes."""
        start, _head, end = self.bounds(local)
        return self.read_text(start, end)

    def read_text(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of :attr:`text` (offsets as :meth:`bounds` gives them).

        Read from the file, not through the map, where there is one: the kernel maps the pages
        around every page a map is first read at (64 KB), so screening 35,000 scattered candidate
        texts through the map left 1.7 GB of the index resident in a server process, against the
        140 MB it read. A read copies only what it asks for, from the same page cache.
        """
        fd = self._fd
        if fd is not None:
            return os.pread(fd, end - start, start)
        return bytes(self.text[start:end])

    def facet_row(self, local: int) -> tuple[Any, ...]:
        """Document ``local``'s facet row (:func:`~search.engines.embedded.schema.facet_row` order)."""
        row = []
        for name in FACET_COLUMN:
            ptr = self.arrays.get(f"facet.{name}.ptr")
            values = self.facet_values.get(name, [])
            found = [values[i] for i in self.arrays[f"facet.{name}.ids"][int(ptr[local]) : int(ptr[local + 1])].tolist()] if ptr is not None else []
            row.append(tuple(found) if name in self.multi_valued else (found[0] if found else None))
        return tuple(row)

    def word_postings(self, field: str, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Local documents and frequencies of ``word`` in word field ``field``."""
        postings = self.words[field]
        i = postings.term(word_key(word))
        if i < 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = self.arrays[f"words.{field}.term_starts"]
        stored = self.arrays[f"words.{field}.terms"][int(starts[i]) : int(starts[i + 1])].tobytes()
        if stored != word.encode("utf-8"):  # a 64-bit hash collision: not this word
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return postings.read(i)

    def close(self) -> None:
        """Release the memory map (views of it must be gone; otherwise it closes when they are)."""
        self.arrays = {}
        self.grams = {}
        self.words = {}
        self.pinyin = None
        if self.buffer is not None:
            try:
                self.buffer.close()
            except BufferError:
                pass  # numpy views still alive: the map goes with them
            self.buffer = None
        if self._close_fd is not None:
            self._fd = None
            self._close_fd()

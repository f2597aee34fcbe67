"""Column-oriented views of an open index, built once per searcher: what queries read in bulk.

Whoosh answers term lookups well but reads one document at a time; a faceted search over tens of
thousands of articles needs every document's facet values, dates and text at once. This module
turns the index's columns into numpy arrays and one text buffer, so that filtering, facet counting,
scoring and sorting are array operations and a fragment scan is a C-speed ``bytes.find``:

* :class:`DocTable`: one *row* per live document (``docnums[row]`` is its Whoosh number,
  ``row_of[docnum]`` the way back, -1 for deleted documents); per facet a :class:`FacetColumn`;
  each row's date span; the byte lengths of its normalised headline and body.
* :class:`TextBuffer`: every document's normalised ``headline SEP body`` (the ``fulltext``
  column), the column regions of all segments read in one piece each, with each document's
  bounds. :meth:`TextBuffer.occurrences` finds the documents holding a string.
* :func:`term_postings`: a term's documents and frequencies, a posting block at a time.

Tables are cached per searcher (a searcher sees a fixed set of segments). Segments are immutable,
so what was read from a segment is also cached by segment id: after an incremental commit only the
new segment is read. Numpy arrays keep the garbage collector out: a 50,000-article table is a few
dozen objects, not a million dicts and sets.

Whoosh coupling (Whoosh is pinned to 2.7.x, its last line): the text buffer reads a ``VarBytesColumn``
region through its reader's ``_dbfile``/``_basepos``/``_offsets``/``_lengths``, and postings are read
through ``W3LeafMatcher``'s block methods; both fall back to Whoosh's public per-document calls if
those attributes are missing.
"""

from __future__ import annotations

import pickle
import threading
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from search.analysis import normalize
from search.engines.embedded.schema import FACET_COLUMN, FULLTEXT_SEPARATOR, document_to_article, facet_row, headline_text, indexed_body
from search.query.filters import FACETS, MULTI_VALUED

# -- facets ----------------------------------------------------------------------------------------


@dataclass
class FacetColumn:
    """One facet's values for every row, as a sparse row → value-id table.

    ``ids[k]`` is a value id of row ``rows[k]`` (each row's values once, rows ascending);
    ``values[id]`` is the value as written; ``by_norm`` finds ids by normalised value (filters
    match normalised values, several written forms may share one).
    """

    values: list[str]
    ids: np.ndarray
    rows: np.ndarray
    by_norm: dict[str, list[int]]

    def rows_with(self, wanted: Iterable[str], row_count: int) -> np.ndarray:
        """Boolean mask of the rows holding any of the ``wanted`` normalised values."""
        value_mask = np.zeros(len(self.values) + 1, dtype=bool)
        for norm in wanted:
            value_mask[self.by_norm.get(norm, [])] = True
        mask = np.zeros(row_count, dtype=bool)
        mask[self.rows[value_mask[self.ids]]] = True
        return mask

    def counts(self, row_mask: np.ndarray) -> np.ndarray:
        """How many of the rows in ``row_mask`` hold each value (indexed by value id)."""
        return np.bincount(self.ids[row_mask[self.rows]], minlength=len(self.values))


def _facet_column(values_by_row: Sequence[Any], multi: bool) -> FacetColumn:
    """A :class:`FacetColumn` from each row's value (or, ``multi``, tuple of values); empty values are
    dropped and a value repeated in a row counts once."""
    if multi:
        rows_list = [row for row, values in enumerate(values_by_row) if values for _ in values]
        flat = [value for values in values_by_row if values for value in values]
    else:
        rows_list = list(range(len(values_by_row)))
        flat = list(values_by_row)
    id_of: dict[Any, int] = {}
    ids = np.array([id_of.setdefault(value, len(id_of)) for value in flat], dtype=np.int64)
    rows = np.array(rows_list, dtype=np.int64)
    raw_values = list(id_of)
    keep = np.ones(len(raw_values) + 1, dtype=bool)
    keep[[i for i, value in enumerate(raw_values) if value is None or value == ""]] = False
    chosen = keep[ids] if len(ids) else np.zeros(0, dtype=bool)
    ids, rows = ids[chosen], rows[chosen]
    if multi and len(ids):  # a value listed twice in one row counts once
        pairs = np.unique(rows * (len(raw_values) + 1) + ids)
        rows, ids = pairs // (len(raw_values) + 1), pairs % (len(raw_values) + 1)
    values = ["" if value is None else str(value) for value in raw_values]
    by_norm: dict[str, list[int]] = {}
    for value_id, text in enumerate(values):
        if keep[value_id]:
            by_norm.setdefault(normalize(text), []).append(value_id)
    return FacetColumn(values, ids.astype(np.int32), rows.astype(np.int32), by_norm)


def _date_span(date: Any) -> tuple[int, int]:
    """``"2024-11"`` -> ``(20241101, 20241131)``: the days a partial ISO date may stand for; (0, 0) if none."""
    text = str(date or "").strip()
    parts = text.split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4 or len(parts) > 3 or not all(p.isdigit() for p in parts[1:]):
        return 0, 0
    year = int(parts[0]) * 10000
    if len(parts) == 1:
        return year + 101, year + 1231
    base = year + int(parts[1]) * 100
    if len(parts) == 2:
        return base + 1, base + 31
    return base + int(parts[2]), base + int(parts[2])


# -- text ------------------------------------------------------------------------------------------


@dataclass
class SegmentText:
    """One segment's normalised ``headline SEP body`` texts, as stored in its ``fulltext`` column.

    ``starts[local]``/``starts[local + 1]`` bound a document's text in ``blob`` (deleted documents
    included); ``heads[local]`` is where its separator starts.
    """

    base: int  # document number of the segment's first document
    blob: bytes
    starts: list[int]
    heads: np.ndarray

    def count(self, local: int, needle: bytes, title_only: bool, confirm: Callable[[bytes], int] | None) -> tuple[int, int]:
        """Occurrences of ``needle`` (or ``confirm``'s count) in a document's headline and body."""
        start, head, end = self.starts[local], int(self.heads[local]), self.starts[local + 1]
        body = head + len(FULLTEXT_SEPARATOR)
        blob = self.blob
        if confirm is not None:
            if blob.find(needle, start, end) == -1:
                return 0, 0
            return confirm(blob[start:head]), 0 if title_only else confirm(blob[body:end])
        return blob.count(needle, start, head), 0 if title_only else blob.count(needle, body, end)

    def scan(self, needle: bytes, title_only: bool, confirm: Callable[[bytes], int] | None) -> Iterator[tuple[int, tuple[int, int]]]:
        """``(docnum, (headline hits, body hits))`` of every document of the segment holding ``needle``.

        ``bytes.find`` jumps from one matching document to the next: Python runs once per matching
        document, C does the scanning. UTF-8 matches only fall on character boundaries. A match that
        runs from one document into the next is not a match.
        """
        blob, starts, size = self.blob, self.starts, len(needle)
        pos = blob.find(needle)
        while pos != -1:
            local = bisect_right(starts, pos) - 1
            end = starts[local + 1]
            if pos + size > end:  # runs into the next document
                pos = blob.find(needle, pos + 1)
                continue
            hits = self.count(local, needle, title_only, confirm)
            if hits[0] or hits[1]:
                yield self.base + local, hits
            pos = blob.find(needle, end)

    def headline_line_starts_with(self, local: int, needle: bytes) -> bool:
        """True if a line of the document's normalised headline starts with ``needle``."""
        start, head = self.starts[local], int(self.heads[local])
        pos = self.blob.find(needle, start, head)
        while pos != -1 and pos != start and self.blob[pos - 1] != 0x0A:
            pos = self.blob.find(needle, pos + 1, head)
        return pos != -1


@dataclass
class TextBuffer:
    """The normalised texts of every segment, addressed by document number."""

    segments: list[SegmentText]

    def __post_init__(self) -> None:
        self._bases = [segment.base for segment in self.segments]

    def segment_of(self, docnum: int) -> tuple[SegmentText, int]:
        """The segment holding ``docnum`` and the document's number inside it."""
        segment = self.segments[bisect_right(self._bases, docnum) - 1]
        return segment, docnum - segment.base

    def occurrences(
        self, needle: bytes, docnums: Sequence[int] | None, title_only: bool, confirm: Callable[[bytes], int] | None
    ) -> dict[int, tuple[int, int]]:
        """``{docnum: (headline hits, body hits)}`` for the documents whose text holds ``needle``:
        every document (a scan of all text), or only ``docnums`` (counted one by one).

        ``confirm(text)`` — a regex count, for units that ``needle`` alone does not decide —
        replaces the plain count where given.
        """
        if not needle:
            return {}
        if docnums is None:
            return {docnum: hits for segment in self.segments for docnum, hits in segment.scan(needle, title_only, confirm)}
        found = {}
        for docnum in docnums:
            segment, local = self.segment_of(docnum)
            hits = segment.count(local, needle, title_only, confirm)
            if hits[0] or hits[1]:
                found[docnum] = hits
        return found

    def text_of(self, docnum: int) -> tuple[bytes, bytes]:
        """A document's normalised headline and body (UTF-8)."""
        segment, local = self.segment_of(docnum)
        start, head, end = segment.starts[local], int(segment.heads[local]), segment.starts[local + 1]
        return segment.blob[start:head], segment.blob[head + len(FULLTEXT_SEPARATOR) : end]

    def headline_line_starts_with(self, docnum: int, needle: bytes) -> bool:
        """True if a line of the document's normalised headline starts with ``needle``."""
        segment, local = self.segment_of(docnum)
        return segment.headline_line_starts_with(local, needle)


# -- the table -------------------------------------------------------------------------------------


@dataclass
class DocTable:
    """Per-searcher arrays over the live documents (see the module docstring)."""

    docnums: np.ndarray  # row -> Whoosh document number
    row_of: np.ndarray  # document number -> row, -1 if deleted
    facets: dict[str, FacetColumn]
    date_lo: np.ndarray  # first day (YYYYMMDD) the row's date may mean; 0 if undated
    date_hi: np.ndarray  # last day
    text: TextBuffer
    head_len: np.ndarray  # bytes of normalised headline, per row
    body_len: np.ndarray  # bytes of normalised body, per row

    @property
    def size(self) -> int:
        """Number of live documents (rows)."""
        return len(self.docnums)

    def rows(self, docnums: Iterable[int]) -> np.ndarray:
        """Rows of the given document numbers (deleted ones dropped)."""
        found = self.row_of[np.fromiter(docnums, dtype=np.int64)]
        return found[found >= 0]

    def mask(self, docnums: Iterable[int]) -> np.ndarray:
        """Boolean row mask of the given document numbers."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.rows(docnums)] = True
        return mask


@dataclass
class _SegmentData:
    """What was read from one segment (immutable on disk, so cached by segment id)."""

    facet_rows: list[tuple[Any, ...]]
    text: SegmentText


T = TypeVar("T")


class PerSearcher(Generic[T]):
    """One value per open searcher, made on first use and forgotten with the searcher (thread-safe)."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make = make
        self._values: "weakref.WeakKeyDictionary[Any, T]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, searcher: Any) -> T:
        with self._lock:
            value = self._values.get(searcher)
            if value is None:
                value = self._values[searcher] = self._make(searcher)
            return value


_segment_cache: dict[str, _SegmentData] = {}
_segment_cache_lock = threading.Lock()


def doc_table(searcher: Any) -> DocTable:
    """The :class:`DocTable` of this searcher, built on first use and cached while it lives."""
    return _tables(searcher)


def _build(searcher: Any) -> DocTable:
    reader = searcher.reader()
    live = _live_docnums(reader)
    row_of = np.full(reader.doc_count_all(), -1, dtype=np.int64)
    row_of[live] = np.arange(len(live))
    facet_rows: list[Any] = []
    segments: list[SegmentText] = []
    used: set[str] = set()
    for leaf, base in reader.leaf_readers():
        key = _segment_key(leaf)
        used.add(key)
        data = _segment_data(leaf, key, base)
        facet_rows += data.facet_rows
        segments.append(data.text)
    with _segment_cache_lock:  # forget segments no open index uses any more (merged, replaced)
        for key in [key for key in _segment_cache if key not in used]:
            _segment_cache.pop(key, None)
    rows = [facet_rows[docnum] for docnum in live.tolist()]
    position = {name: index for index, name in enumerate(FACET_COLUMN)}
    facets = {}
    for name in FACETS:
        i = position[name]
        # Rows written before a facet existed hold fewer values: theirs is unknown (None).
        facets[name] = _facet_column([row[i] if i < len(row) else None for row in rows], multi=name in MULTI_VALUED)
    spans = {date: _date_span(date) for date in {row[position["date"]] for row in rows}}
    dates = np.array([spans[row[position["date"]]] for row in rows], dtype=np.int32).reshape(-1, 2)
    heads = np.concatenate([segment.heads for segment in segments]) if segments else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([np.asarray(segment.starts[:-1], dtype=np.int64) for segment in segments]) if segments else heads
    ends = np.concatenate([np.asarray(segment.starts[1:], dtype=np.int64) for segment in segments]) if segments else heads
    return DocTable(
        docnums=live,
        row_of=row_of,
        facets=facets,
        date_lo=dates[:, 0].copy(),
        date_hi=dates[:, 1].copy(),
        text=TextBuffer(segments),
        head_len=np.maximum(heads - starts, 0)[live],
        body_len=np.maximum(ends - heads - len(FULLTEXT_SEPARATOR), 0)[live],
    )


_tables = PerSearcher(_build)


def _live_docnums(reader: Any) -> np.ndarray:
    """Document numbers of the live documents, ascending (a segment's deletions are one set)."""
    parts = []
    for leaf, base in reader.leaf_readers():
        count = leaf.doc_count_all()
        numbers = np.arange(base, base + count, dtype=np.int64)
        if leaf.has_deletions():
            segment = leaf.segment() if callable(getattr(leaf, "segment", None)) else None
            deleted = getattr(segment, "deleted_docs", None)
            if deleted is not None:
                dead = np.fromiter(deleted(), dtype=np.int64)
            else:
                dead = np.array([d for d in range(count) if leaf.is_deleted(d)], dtype=np.int64)
            numbers = np.delete(numbers, dead[(dead >= 0) & (dead < count)])
        parts.append(numbers)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _segment_key(leaf: Any) -> str:
    """A segment's random id (Whoosh gives each new segment one), or a per-reader key if it has none."""
    segment = getattr(leaf, "segment", None)
    segment_id = segment().segment_id() if callable(segment) else None
    return str(segment_id) if segment_id else f"live:{id(leaf)}"


def _segment_data(leaf: Any, key: str, base: int) -> _SegmentData:
    with _segment_cache_lock:
        cached = _segment_cache.get(key)
    if cached is not None:  # the same segment, perhaps at another place in the index now
        text = cached.text
        return _SegmentData(cached.facet_rows, SegmentText(base, text.blob, text.starts, text.heads))
    data = _read_segment(leaf, base)
    if not key.startswith("live:"):
        with _segment_cache_lock:
            _segment_cache[key] = data
    return data


def _read_segment(leaf: Any, base: int) -> _SegmentData:
    count = leaf.doc_count_all()
    packed, offsets = _column_region(leaf, "facets", count)  # pickled tuples (a PickleColumn)
    loads = pickle.loads
    rows = [loads(packed[a:b]) if b > a else None for a, b in zip(offsets, offsets[1:])]
    text, starts = _column_region(leaf, "fulltext", count)
    missing = [
        local for local in range(count) if (starts[local + 1] == starts[local] or not rows[local]) and not leaf.is_deleted(local)
    ]
    if missing:  # documents written without the columns: rebuild their values from stored fields
        text, starts, rows = _patch(leaf, text, starts, rows, missing)
    find = text.find
    heads = np.fromiter(
        ((sep if (sep := find(FULLTEXT_SEPARATOR, s, e)) != -1 else max(s, e - len(FULLTEXT_SEPARATOR))) for s, e in zip(starts, starts[1:])),
        dtype=np.int64,
        count=count,
    )
    empty = (None,) * len(FACET_COLUMN)
    return _SegmentData([row or empty for row in rows], SegmentText(base, text, starts, heads))


def _column_region(leaf: Any, name: str, count: int) -> tuple[bytes, list[int]]:
    """A VarBytes column's values for a segment: one bytes object and each document's start offset."""
    if not leaf.has_column(name):
        return b"", [0] * (count + 1)
    column = leaf.column_reader(name, translate=False)
    column = getattr(column, "_child", column)  # a PickleColumn's stored bytes
    raw = getattr(column, "_dbfile", None)
    if raw is not None and hasattr(column, "_basepos") and hasattr(column, "_lengths") and len(column._lengths) == count:
        offsets = [0]
        for length in column._lengths:
            offsets.append(offsets[-1] + length)
        total = offsets[-1]
        text = raw.get(column._basepos, total) if total else b""
        if len(text) == total and list(getattr(column, "_offsets", offsets[:-1])) == offsets[:-1]:
            return text if isinstance(text, bytes) else bytes(text), offsets
    values = [column[local] or b"" for local in range(count)]
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    return b"".join(values), offsets


def _patch(leaf: Any, text: bytes, offsets: list[int], rows: list[Any], missing: list[int]) -> tuple[bytes, list[int], list[Any]]:
    values = [text[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
    for local in missing:
        article = document_to_article(leaf.stored_fields(local))
        if offsets[local + 1] == offsets[local]:
            values[local] = normalize(headline_text(article)).encode() + FULLTEXT_SEPARATOR + normalize(indexed_body(article)).encode()
        if not rows[local]:
            rows[local] = facet_row(article)
    new_offsets = [0]
    for value in values:
        new_offsets.append(new_offsets[-1] + len(value))
    return b"".join(values), new_offsets, rows


# -- postings --------------------------------------------------------------------------------------


def term_postings(reader: Any, fieldname: str, word: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and frequencies (weights) of ``word`` in ``fieldname``, deleted documents included."""
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for leaf, base in reader.leaf_readers():
        if (fieldname, word) not in leaf:
            continue
        matcher = leaf.postings(fieldname, word)
        if all(hasattr(matcher, name) for name in ("_read_ids", "_read_weights", "_next_block", "_ids")):
            while matcher.is_active():  # a block (up to 128 postings) at a time
                if matcher._ids is None:
                    matcher._read_ids()
                if matcher._weights is None:
                    matcher._read_weights()
                docs.append(np.asarray(matcher._ids, dtype=np.int64) + base)
                weights.append(np.asarray(matcher._weights, dtype=np.float64))
                matcher._next_block()
        else:
            ids, ws = [], []
            while matcher.is_active():
                ids.append(matcher.id())
                ws.append(matcher.weight())
                matcher.next()
            docs.append(np.asarray(ids, dtype=np.int64) + base)
            weights.append(np.asarray(ws, dtype=np.float64))
    if not docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(docs), np.concatenate(weights)

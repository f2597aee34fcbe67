"""Column-oriented views of an open index, built once per searcher: what queries read in bulk.

Whoosh answers term lookups well but reads one document at a time; a faceted search over a large
archive needs every document's facet values and dates at once, and the documents holding a word or a
fragment as arrays. Each segment's store (:mod:`search.engines.embedded.segstore`, memory-mapped)
has them; this module puts the segments side by side:

* :class:`DocTable`: one *row* per live document (``docnums[row]`` is its Whoosh number,
  ``row_of[docnum]`` the way back, -1 for deleted documents); per facet a :class:`FacetColumn`;
  each row's date span; the byte lengths of its normalised headline and body;
  :meth:`DocTable.postings` gives a word's documents and frequencies.
* :class:`TextBuffer`: every document's normalised ``headline SEP body``, addressed by document
  number. :meth:`TextBuffer.occurrence_counts` finds the documents holding a string: candidates
  from the fragment postings, confirmed on their text only when the postings do not decide.

Tables are cached per searcher (a searcher sees a fixed set of segments). Segments are immutable,
so a segment's store is opened once and shared by every table that includes the segment: after an
incremental commit only the new segment's store is opened. Numpy arrays keep the garbage collector
out: a table is a few dozen objects, whatever the number of documents.

A segment without a store file (written by another writer) gets one built in memory from its
stored fields and Whoosh postings: slower to open, the same answers.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from search.analysis import normalize
from search.engines.embedded.ngrams import exact_from_postings, needle_keys, positional_grams, self_overlapping
from search.engines.embedded.schema import FULLTEXT_SEPARATOR, article_extras, document_to_article
from search.engines.embedded.segstore import WORD_FIELDS, SegmentStore, StoreError, WordPostings, store_path, word_key
from search.query.filters import FACETS

_EMPTY = np.zeros(0, dtype=np.int64)
_SEP = len(FULLTEXT_SEPARATOR)

# -- facets ----------------------------------------------------------------------------------------


#: A facet column with more value rows than this counts a few matched rows by reading only theirs.
_SPARSE_FROM = 4096
#: Rows are "few" for a count when this many times their number is below the facet's value rows.
_FEW = 16


class FacetColumn:
    """One facet's values for every row, as a sparse row → value-id table, built on first use.

    ``ids[k]`` is a value id of row ``rows[k]`` (each row's values once, rows ascending);
    ``values[id]`` is the value as written; ``by_norm`` finds ids by normalised value (filters
    match normalised values, several written forms may share one).

    Building the table reads every segment's values of the facet (all facets together took a
    quarter of a second of a cold search at a million articles), so it is built only when a filter
    or a count over many rows needs it, or by :meth:`warm_up`. A count over few rows before then
    (:meth:`value_counts`) reads just those rows' values from the segments' stores.
    """

    def __init__(self, name: str, segments: Sequence[SegmentText], docnums: np.ndarray, row_of: np.ndarray) -> None:
        self.name = name
        self.row_count = len(docnums)
        self._segments = segments
        self._docnums = docnums
        self._row_of = row_of
        self._lock = threading.Lock()
        self._table: tuple[list[str], np.ndarray, np.ndarray] | None = None
        self._counted = False  # whether a count was made from the segments' stores already

    def _built(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(values, ids, rows)``, built once (thread-safe)."""
        table = self._table
        if table is None:
            with self._lock:
                if self._table is None:
                    self._table = _facet_table(self._segments, self.name, self._row_of)
                table = self._table
        return table

    @property
    def values(self) -> list[str]:
        """Every value as written, by value id."""
        return self._built()[0]

    @property
    def ids(self) -> np.ndarray:
        """Value ids, row after row (int32)."""
        return self._built()[1]

    @property
    def rows(self) -> np.ndarray:
        """The row of each entry of :attr:`ids`, ascending (int32)."""
        return self._built()[2]

    @functools.cached_property
    def entries(self) -> int:
        """How many (row, value) pairs the facet has over the segments (deleted documents
        included): what a count over every row reads."""
        return sum(len(segment.store.arrays.get(f"facet.{self.name}.ids", _EMPTY)) for segment in self._segments)

    @functools.cached_property
    def by_norm(self) -> dict[str, list[int]]:
        """Value ids by normalised value (made on first use: normalising every person and
        organisation of a large archive would slow down opening it)."""
        found: dict[str, list[int]] = {}
        for value_id, text in enumerate(self.values):
            found.setdefault(normalize(text), []).append(value_id)
        return found

    @functools.cached_property
    def row_starts(self) -> np.ndarray:
        """Where each row's values start in ``ids`` (rows ascending): counting a few matched rows
        reads only their values instead of every row's."""
        counts = np.bincount(self.rows, minlength=self.row_count) if len(self.rows) else np.zeros(self.row_count, np.int64)
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    @property
    def _sparse(self) -> bool:
        """Whether counts over few matched rows read only theirs (:meth:`_spans`)."""
        return len(self.rows) > _SPARSE_FROM

    def warm_up(self) -> None:
        """Build the table and the lookups that a first count or filter would (tens to hundreds of
        milliseconds each at a million articles: a server does it before its first user does)."""
        if self._sparse:
            self.row_starts  # noqa: B018 - a cached property, computed here
        self.by_norm  # noqa: B018

    def rows_with(self, wanted: Iterable[str], row_count: int) -> np.ndarray:
        """Boolean mask of the rows holding any of the ``wanted`` normalised values."""
        value_mask = np.zeros(len(self.values) + 1, dtype=bool)
        for norm in wanted:
            value_mask[self.by_norm.get(norm, [])] = True
        mask = np.zeros(row_count, dtype=bool)
        mask[self.rows[value_mask[self.ids]]] = True
        return mask

    def _spans(self, matched: np.ndarray, first: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(start, length)`` in ``ids`` of each matched row's values: by binary search in ``rows``
        for a ``first`` count (no pass over every row), from :attr:`row_starts` (made once, as a
        server's warm-up does) for the counts after it."""
        if first and "row_starts" not in self.__dict__:
            begin = np.searchsorted(self.rows, matched, side="left")
            return begin, np.searchsorted(self.rows, matched, side="right") - begin
        begin = self.row_starts[matched]
        return begin, self.row_starts[matched + 1] - begin

    def _first_count(self) -> bool:
        """True the first time this column is counted: a process that counts once (a command line
        search) reads what that count needs; one that counts again makes the lookups that repeated
        counts are quicker with."""
        first, self._counted = not self._counted, True
        return first

    def counts(self, row_mask: np.ndarray, matched: np.ndarray | None = None) -> np.ndarray:
        """How many of the rows in ``row_mask`` hold each value (indexed by value id).

        ``matched`` (the mask's row numbers, if the caller has them) selects the sparse path: with
        few rows matched, only their values are read.
        """
        first = self._first_count()
        if not self._sparse or len(row_mask) != self.row_count:
            matched = None  # a small column: reading all its rows is as cheap as finding a few
        elif matched is None:
            selected = int(np.count_nonzero(row_mask))
            if selected * _FEW < len(self.rows):
                matched = np.flatnonzero(row_mask)
        if matched is not None:
            return np.bincount(self.ids[_gather(*self._spans(matched, first))], minlength=len(self.values))
        return np.bincount(self.ids[row_mask[self.rows]], minlength=len(self.values))

    def value_counts(self, row_mask: np.ndarray) -> tuple[Sequence[str], np.ndarray]:
        """``(values, counts)``: how many rows of ``row_mask`` hold each value, for the values in
        ``values``: every value once the table is built. Before that, a first count over few rows
        reads only the values those rows hold, from the segments' stores (what a one-query process
        needs); a second count builds the table (a server after a commit, saved queries), whose
        counts are quicker from then on."""
        if self._table is None and len(row_mask) == self.row_count:
            if not self.entries:
                return [], _EMPTY  # no article has this facet: nothing to read
            if not self._counted and np.count_nonzero(row_mask) * _FEW < self.entries:
                self._counted = True
                return self._counted_in_segments(self._docnums[np.flatnonzero(row_mask)])
        return self.values, self.counts(row_mask)

    def _counted_in_segments(self, docnums: np.ndarray) -> tuple[list[str], np.ndarray]:
        """:meth:`value_counts` of the documents ``docnums`` (ascending), read segment by segment
        from the stores' own value lists; values are merged by their written form, as
        :func:`_facet_table` merges them."""
        totals: dict[Any, int] = {}
        for segment in self._segments:
            store = segment.store
            values = store.facet_values.get(self.name, [])
            ptr = store.arrays.get(f"facet.{self.name}.ptr")
            if ptr is None or not values:
                continue
            low, high = np.searchsorted(docnums, (segment.base, segment.base + store.count)).tolist()
            if low == high:
                continue
            local = docnums[low:high] - segment.base
            begin = ptr[local].astype(np.int64)
            found = np.bincount(store.arrays[f"facet.{self.name}.ids"][_gather(begin, ptr[local + 1] - begin)], minlength=len(values))
            present = np.flatnonzero(found)
            for value, count in zip(map(values.__getitem__, present.tolist()), found[present].tolist()):
                totals[value] = totals.get(value, 0) + count
        return ["" if value is None else str(value) for value in totals], np.fromiter(totals.values(), dtype=np.int64, count=len(totals))


def _gather(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes ``starts[i] .. starts[i] + lengths[i] - 1`` of every ``i``, in order."""
    lengths = lengths.astype(np.int64)
    offsets = np.cumsum(lengths) - lengths  # where each run lands in the result
    return np.repeat(starts.astype(np.int64) - offsets, lengths) + np.arange(int(lengths.sum()))


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
    """One segment's normalised texts and fragment postings (its store), placed at ``base``."""

    base: int  # document number of the segment's first document
    store: SegmentStore

    def count(self, local: int, needle: bytes, title_only: bool, confirm: Callable[[bytes], int] | None) -> tuple[int, int]:
        """Occurrences of ``needle`` (or ``confirm``'s count) in a document's headline and body."""
        start, head, end = self.store.bounds(local)
        return _count(self.store.text, start, head, end, needle, title_only, confirm)

    def candidates(self, needle: str, title_only: bool) -> np.ndarray | None:
        """Local documents holding every gram of ``needle`` in one field (a superset of those
        holding the needle), ascending; None if the needle has no indexed gram."""
        keys = needle_keys(needle)
        if not keys:
            return None
        found = []
        for field in ("head",) if title_only else ("head", "body"):
            postings = self.store.grams[field]
            terms = [postings.term(key) for key in dict.fromkeys(keys)]
            if any(term < 0 for term in terms):
                continue
            terms.sort(key=lambda term: int(postings.n[term]))  # rarest first: the smallest intersections
            docs = postings.read(terms[0])[0]
            for term in terms[1:]:
                if not len(docs):
                    break
                docs = np.intersect1d(docs, postings.read(term)[0], assume_unique=True)
            found.append(docs)
        if not found:
            return _EMPTY
        return found[0] if len(found) == 1 else _union(found[0], found[1])

    def located(self, needle: str, title_only: bool, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(local docs, headline starts, body starts)`` of a needle of two or more word characters,
        from the bigram positions alone: the documents holding it and how many places it starts at
        in each field (its counts, unless it can overlap itself). Only inside ``within`` (ascending
        local documents) when given. None when the store keeps no positions or the needle's bigrams
        do not spell it out."""
        grams = positional_grams(needle)
        if grams is None:
            return None
        found = []
        for field in ("head",) if title_only else ("head", "body"):
            postings = self.store.grams[field]
            terms = [(offset, postings.term(key)) for offset, key in grams]
            if any(term < 0 for _offset, term in terms):
                found.append((_EMPTY, _EMPTY))
                continue
            if not all(postings.has_positions(term) for _offset, term in terms):
                return None
            terms.sort(key=lambda item: int(postings.n[item[1]]))  # rarest first
            docs = within
            starts: np.ndarray | None = None
            for offset, term in terms:
                holders, places = postings.occurrences(term, docs)
                keys = (holders << 32) | (places - offset)  # where the needle would start
                keys = keys[places >= offset]  # ascending: documents ascending, offsets ascending in each
                if starts is None:
                    starts = keys
                else:
                    at = np.searchsorted(keys, starts)
                    starts = starts[(at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == starts)] if len(keys) else keys
                if not len(starts):
                    break
                docs = _runs(starts >> 32)[0]
            assert starts is not None
            holders, counts = _runs(starts >> 32)
            found.append((holders, counts))
        if title_only:
            return found[0][0], found[0][1], np.zeros(len(found[0][0]), dtype=np.int64)
        (head_docs, head_counts), (body_docs, body_counts) = found
        docs = _union(head_docs, body_docs)
        head = np.zeros(len(docs), dtype=np.int64)
        body = np.zeros(len(docs), dtype=np.int64)
        head[np.searchsorted(docs, head_docs)] = head_counts
        body[np.searchsorted(docs, body_docs)] = body_counts
        return docs, head, body

    def exact_counts(self, needle: str, title_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(local docs, headline counts, body counts)`` of a needle whose gram counts are its
        occurrence counts (:func:`~search.engines.embedded.ngrams.exact_from_postings`)."""
        key = needle_keys(needle)[0]
        head_docs, head_counts = self.store.grams["head"].get(key)
        if title_only:
            return head_docs, head_counts, np.zeros(len(head_docs), dtype=np.int64)
        body_docs, body_counts = self.store.grams["body"].get(key)
        docs = _union(head_docs, body_docs)
        head = np.zeros(len(docs), dtype=np.int64)
        body = np.zeros(len(docs), dtype=np.int64)
        head[np.searchsorted(docs, head_docs)] = head_counts
        body[np.searchsorted(docs, body_docs)] = body_counts
        return docs, head, body

    def verify(
        self,
        locals_: np.ndarray,
        needle: bytes,
        title_only: bool,
        confirm: Callable[[bytes], int] | None,
        edges: tuple[bool, bool] = (False, False),
        screen: re.Pattern[bytes] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count ``needle`` in the text of each candidate document: ``(local docs, head, body)`` of
        those holding it. ``edges``: whether an occurrence must not be preceded / followed by a Latin
        letter or digit in its field (``2009`` is not in ``12009``), checked on the bytes in place.
        ``screen``: a bytes regex every document that ``confirm`` counts in matches, searched in the
        text's bytes first so that the others are never decoded."""
        store = self.store
        base = store._text_base
        starts = store.starts[locals_].astype(np.int64) + base
        heads = store.heads[locals_].astype(np.int64) + base
        ends = store.starts[locals_ + 1].astype(np.int64) + base
        size = len(needle)
        bounded = edges[0] or edges[1]
        # A needle with a separator byte (NUL, line break) could span the separator: count field by field.
        slices = confirm is not None or b"\0" in needle or b"\n" in needle
        read = store.read_text
        docs, head, body = [], [], []
        for local, start, sep, end in zip(locals_.tolist(), starts.tolist(), heads.tolist(), ends.tolist()):
            # Each candidate's text is read on its own (see SegmentStore.read_text: through the map,
            # thousands of scattered candidates would keep the pages around each resident).
            text = read(start, end)
            sep, end, start = sep - start, end - start, 0
            if slices:
                hits = _count(text, start, sep, end, needle, title_only, confirm, screen)
            else:
                # Count by hopping from one occurrence to the next.
                find = text.find
                stop = sep if title_only else end
                pos = find(needle, start, stop)
                if pos == -1:
                    continue
                in_head = in_body = 0
                while pos != -1:
                    if bounded and not _stands_alone(text, pos, size, start, sep, end, edges):
                        pos = find(needle, pos + 1, stop)  # an overlapping occurrence may still stand alone
                        continue
                    if pos < sep:
                        in_head += 1
                    else:
                        in_body += 1
                    pos = find(needle, pos + size, stop)
                hits = (in_head, in_body)
            if hits[0] or hits[1]:
                docs.append(local)
                head.append(hits[0])
                body.append(hits[1])
        return np.asarray(docs, dtype=np.int64), np.asarray(head, dtype=np.int64), np.asarray(body, dtype=np.int64)

    def scan(self, needle: bytes) -> np.ndarray:
        """Local documents whose text holds ``needle``, by scanning all of it (for needles without
        an indexed gram: punctuation only)."""
        store = self.store
        text, base = store.text, store._text_base
        end_of_text = base + int(store.starts[-1]) if store.count else base
        found = []
        pos = text.find(needle, base, end_of_text)
        while pos != -1:
            local = int(np.searchsorted(store.starts, pos - base, side="right")) - 1
            found.append(local)
            pos = text.find(needle, base + int(store.starts[local + 1]), end_of_text)
        return np.asarray(found, dtype=np.int64)

    def headline_line_starts_with(self, local: int, needle: bytes) -> bool:
        """True if a line of the document's normalised headline starts with ``needle``."""
        start, head, _end = self.store.bounds(local)
        text = self.store.text
        pos = text.find(needle, start, head)
        while pos != -1 and pos != start and text[pos - 1] != 0x0A:
            pos = text.find(needle, pos + 1, head)
        return pos != -1


def _union(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The sorted union of two ascending arrays of distinct values (``np.union1d`` hashes or sorts
    from scratch; a stable sort of two sorted runs is a merge)."""
    if not len(first) or not len(second):
        return first if len(second) == 0 else second
    both = np.concatenate((first, second))
    both.sort(kind="stable")
    return both[np.concatenate(([True], both[1:] != both[:-1]))]


def _runs(ascending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of an ascending array and how many times each occurs (``np.unique``
    without its sort or hash table: the offsets of a needle's starts come in document order)."""
    if not len(ascending):
        return _EMPTY, _EMPTY
    first = np.flatnonzero(np.concatenate(([True], ascending[1:] != ascending[:-1])))
    return ascending[first], np.diff(np.append(first, len(ascending)))


#: Bytes an occurrence with a Latin or digit edge must not touch (normalised text is lower case;
#: an ASCII byte is never part of another character in UTF-8, so one byte decides).
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")


def _stands_alone(text: Any, pos: int, size: int, start: int, head: int, end: int, edges: tuple[bool, bool]) -> bool:
    """True if the occurrence at ``pos`` is not glued to a letter or digit inside its field (headline
    ``[start, head)`` or body ``[head + separator, end)``), on the edges that ``edges`` asks for."""
    field_start, field_end = (start, head) if pos < head else (head + _SEP, end)
    if edges[0] and pos > field_start and text[pos - 1] in _ALNUM:
        return False
    return not (edges[1] and pos + size < field_end and text[pos + size] in _ALNUM)


def _count(
    text: Any, start: int, head: int, end: int, needle: bytes, title_only: bool,
    confirm: Callable[[bytes], int] | None, screen: re.Pattern[bytes] | None = None,
) -> tuple[int, int]:
    body = head + _SEP
    if confirm is not None:
        held = screen.search(text, start, end) is not None if screen is not None else text.find(needle, start, end) != -1
        if not held:
            return 0, 0
        return confirm(bytes(text[start:head])), 0 if title_only else confirm(bytes(text[body:end]))
    head_hits = bytes(text[start:head]).count(needle) if head > start else 0
    return head_hits, 0 if title_only or end <= body else bytes(text[body:end]).count(needle)


@dataclass
class TextBuffer:
    """The normalised texts of every segment, addressed by document number."""

    segments: list[SegmentText]

    def __post_init__(self) -> None:
        self._bases = np.asarray([segment.base for segment in self.segments], dtype=np.int64)

    def segment_of(self, docnum: int) -> tuple[SegmentText, int]:
        """The segment holding ``docnum`` and the document's number inside it."""
        segment = self.segments[int(np.searchsorted(self._bases, docnum, side="right")) - 1]
        return segment, docnum - segment.base

    def occurrence_counts(
        self,
        needle: bytes,
        docnums: Sequence[int] | np.ndarray | None,
        title_only: bool,
        confirm: Callable[[bytes], int] | None,
        edges: tuple[bool, bool] = (False, False),
        screen: re.Pattern[bytes] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(docnums, headline hits, body hits)`` (int64 arrays, docnums ascending) of the documents
        whose text holds ``needle``: in the whole archive, or only among ``docnums``.

        The fragment postings decide where they can: one character, two different characters, and
        longer runs of word characters from the bigram positions (unless the needle can overlap
        itself). Otherwise the documents holding the needle (or, without positions, those holding
        all its grams) are the candidates, and each candidate's text is counted (``confirm(text)`` — a regex count, for units that ``needle``
        alone does not decide — replaces the plain count where given; ``edges`` asks for Latin and
        digit boundaries, checked on the bytes without decoding; ``screen``, a bytes regex that
        any document ``confirm`` counts in matches, spares the others' decoding). The whole text is never
        scanned unless the needle has no indexed gram (only punctuation).
        """
        if not needle or not self.segments:
            return _EMPTY, _EMPTY, _EMPTY
        text = needle.decode("utf-8", "replace")
        wanted = None if docnums is None else np.asarray(docnums, dtype=np.int64)
        if wanted is not None and not (len(wanted) < 2 or bool((wanted[1:] > wanted[:-1]).all())):
            wanted = np.unique(wanted)  # the matcher's candidates come ascending: no sort needed
        exact = confirm is None and not any(edges) and exact_from_postings(text)
        overlapping = self_overlapping(text)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        bounds = np.append(self._bases, np.iinfo(np.int64).max)
        for index, segment in enumerate(self.segments):
            restrict = None
            if wanted is not None:
                lo, hi = np.searchsorted(wanted, bounds[index : index + 2])
                if lo == hi:
                    continue
                restrict = wanted[lo:hi] - segment.base
            if exact:
                docs, head, body = segment.exact_counts(text, title_only)
                if restrict is not None:
                    keep = np.isin(docs, restrict, assume_unique=True)
                    docs, head, body = docs[keep], head[keep], body[keep]
            else:
                located = segment.located(text, title_only, restrict)
                if located is not None and confirm is None and not any(edges) and not overlapping:
                    docs, head, body = located  # the bigram positions decide: no text is read
                else:
                    if located is not None:
                        candidates = located[0]  # the documents that hold it: confirm only those
                    else:
                        candidates = segment.candidates(text, title_only)
                        if candidates is None:
                            candidates = segment.scan(needle)
                        if restrict is not None:
                            candidates = np.intersect1d(candidates, restrict, assume_unique=True)
                    if not len(candidates):
                        continue
                    docs, head, body = segment.verify(candidates, needle, title_only, confirm, edges, screen)
            if len(docs):
                parts.append((docs + segment.base, head, body))
        if not parts:
            return _EMPTY, _EMPTY, _EMPTY
        return tuple(np.concatenate(column) for column in zip(*parts))  # type: ignore[return-value]

    def occurrences(
        self, needle: bytes, docnums: Sequence[int] | None, title_only: bool, confirm: Callable[[bytes], int] | None
    ) -> dict[int, tuple[int, int]]:
        """``{docnum: (headline hits, body hits)}``: :meth:`occurrence_counts` as a dict."""
        docs, head, body = self.occurrence_counts(needle, docnums, title_only, confirm)
        return dict(zip(docs.tolist(), zip(head.tolist(), body.tolist())))

    def text_of(self, docnum: int) -> tuple[bytes, bytes]:
        """A document's normalised headline and body (UTF-8)."""
        segment, local = self.segment_of(docnum)
        start, head, end = segment.store.bounds(local)
        text = segment.store.read_text(start, end)  # read, not through the map (SegmentStore.read_text)
        return text[: head - start], text[head - start + _SEP :]

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

    def warm_up(self) -> None:
        """Build every facet column's lookups now (see :meth:`FacetColumn.warm_up`)."""
        for column in self.facets.values():
            column.warm_up()

    def rows(self, docnums: Iterable[int]) -> np.ndarray:
        """Rows of the given document numbers (deleted ones dropped)."""
        found = self.row_of[np.fromiter(docnums, dtype=np.int64)]
        return found[found >= 0]

    def mask(self, docnums: Iterable[int]) -> np.ndarray:
        """Boolean row mask of the given document numbers."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.rows(docnums)] = True
        return mask

    def word_frequencies(self, fieldname: str, words: Sequence[str]) -> np.ndarray:
        """How many documents (deleted ones included, as Whoosh's ``doc_frequency`` counts) hold
        each of ``words`` in the word field ``fieldname`` (``title`` or ``body``).

        One binary search per segment for all the words: a Whoosh ``MultiReader`` looks each word
        up in each segment's terms in Python (some 50 lookups a word at a million articles, for
        every word a query's estimates, relaxation and did-you-mean ask about). Words are found by
        their 64-bit key; a collision of two words' keys is not ruled out here (a count, never a match).
        """
        keys = np.fromiter((word_key(word) for word in words), dtype=np.uint64, count=len(words))
        total = np.zeros(len(words), dtype=np.int64)
        for segment in self.text.segments:
            postings = segment.store.words[fieldname]
            if not len(postings.keys) or not len(keys):
                continue
            at = np.minimum(np.searchsorted(postings.keys, keys), len(postings.keys) - 1)
            found = postings.keys[at] == keys
            total[found] += postings.n[at[found]]
        return total

    def postings(self, fieldname: str, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (ascending, deleted documents included) and frequencies of ``word`` in
        the word field ``fieldname`` (``title`` or ``body``)."""
        docs, weights = [], []
        for segment in self.text.segments:
            local, counts = segment.store.word_postings(fieldname, word)
            if len(local):
                docs.append(local + segment.base)
                weights.append(counts)
        if not docs:
            return _EMPTY, np.zeros(0, dtype=np.float64)
        return np.concatenate(docs), np.concatenate(weights).astype(np.float64)


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

    def made(self, searcher: Any) -> T | None:
        """The value of ``searcher`` if it was made already, else None (nothing is made)."""
        with self._lock:
            return self._values.get(searcher)


_store_cache: dict[str, tuple[tuple[int, int, int, int] | None, SegmentStore]] = {}  # path -> (file stamp, store)
_store_cache_lock = threading.Lock()


def doc_table(searcher: Any) -> DocTable:
    """The :class:`DocTable` of this searcher, built on first use and cached while it lives."""
    return _tables(searcher)


def _build(searcher: Any) -> DocTable:
    reader = searcher.reader()
    live = _live_docnums(reader)
    # Without deletions a row is its document number: no scatter and no gathers over every row.
    whole = len(live) == reader.doc_count_all()
    if whole:
        row_of = live
    else:
        row_of = np.full(reader.doc_count_all(), -1, dtype=np.int64)
        row_of[live] = np.arange(len(live))
    segments: list[SegmentText] = []
    used: set[str] = set()
    for leaf, base in reader.leaf_readers():
        key = _segment_key(leaf)
        used.add(key)
        segments.append(SegmentText(base, _store(leaf, key)))
    with _store_cache_lock:  # forget segments no open index uses any more (merged, replaced)
        for key in [key for key in _store_cache if key not in used]:
            _store_cache.pop(key, None)
    # Every search ranks and histograms by date: that column is read now; the facets when used.
    date_values, date_ids, date_rows = _facet_table(segments, "date", row_of)
    spans = np.array([_date_span(value) for value in date_values] or [(0, 0)], dtype=np.int32).reshape(-1, 2)
    date_lo = np.zeros(len(live), dtype=np.int32)
    date_hi = np.zeros(len(live), dtype=np.int32)
    date_lo[date_rows] = spans[date_ids, 0]
    date_hi[date_rows] = spans[date_ids, 1]
    def lengths(segment: SegmentText) -> tuple[np.ndarray, np.ndarray]:
        store = segment.store
        starts, heads = store.starts.astype(np.int64), store.heads.astype(np.int64)
        return heads - starts[:-1], starts[1:] - heads - _SEP

    parts = [lengths(segment) for segment in segments]
    head_len = np.concatenate([p[0] for p in parts]) if parts else _EMPTY
    body_len = np.concatenate([p[1] for p in parts]) if parts else _EMPTY
    return DocTable(
        docnums=live,
        row_of=row_of,
        facets={name: FacetColumn(name, segments, live, row_of) for name in FACETS},
        date_lo=date_lo,
        date_hi=date_hi,
        text=TextBuffer(segments),
        head_len=np.maximum(head_len, 0) if whole else np.maximum(head_len, 0)[live],
        body_len=np.maximum(body_len, 0) if whole else np.maximum(body_len, 0)[live],
    )


_tables = PerSearcher(_build)


def _facet_table(segments: Sequence[SegmentText], name: str, row_of: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One facet over every segment, ``(values, ids, rows)``: each segment's value ids mapped to
    ids over the index."""
    id_of: dict[Any, int] = {}
    all_ids, all_rows = [], []
    for segment in segments:
        store = segment.store
        ptr = store.arrays.get(f"facet.{name}.ptr")
        if ptr is None:
            continue
        values = store.facet_values.get(name, [])
        # New values get the next ids; then every value's id, by C-level loops (a generator calling
        # setdefault per value cost 0.1 s over a million articles' people and organisations).
        fresh = [value for value in dict.fromkeys(values) if value not in id_of]
        id_of.update(zip(fresh, range(len(id_of), len(id_of) + len(fresh))))
        remap = np.fromiter(map(id_of.__getitem__, values), dtype=np.int64, count=len(values))
        ids = store.arrays[f"facet.{name}.ids"]
        docs = np.repeat(np.arange(store.count, dtype=np.int64), np.diff(ptr.astype(np.int64))) + segment.base
        rows = row_of[docs]
        live = rows >= 0
        all_ids.append(remap[ids[live]] if len(values) else ids[live].astype(np.int64))
        all_rows.append(rows[live])
    ids = np.concatenate(all_ids) if all_ids else _EMPTY
    rows = np.concatenate(all_rows) if all_rows else _EMPTY
    values = ["" if value is None else str(value) for value in id_of]
    # A row lists each value once (the store keeps a document's distinct values), rows ascending.
    return values, ids.astype(np.int32), rows.astype(np.int32)


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


def _folder(leaf: Any) -> str | None:
    """The directory of a segment reader's index (None for storage without one)."""
    storage = leaf.storage() if callable(getattr(leaf, "storage", None)) else None
    for candidate in (storage, getattr(storage, "b", None)):
        folder = getattr(candidate, "folder", None)
        if folder:
            return str(folder)
    return None


def _segment_key(leaf: Any) -> str:
    """Where a segment's store lives (its file), or a per-reader key if it has none."""
    segment = getattr(leaf, "segment", None)
    segment_id = segment().segment_id() if callable(segment) else None
    folder = _folder(leaf)
    if segment_id and folder:
        return str(store_path(folder, segment_id))
    return f"live:{id(leaf)}"


def segment_store(leaf: Any) -> SegmentStore:
    """The store of the segment a Whoosh segment reader reads (opened once, shared)."""
    return _store(leaf, _segment_key(leaf))


def _file_stamp(key: str) -> tuple[int, int, int, int] | None:
    """(inode, size, mtime, ctime) of a store file, None if it is not there."""
    try:
        info = os.stat(key)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _recorded(path: Path) -> bool:
    """True if the generation's manifest lists ``path`` among its checksummed index files."""
    from search.atomic import read_json

    manifest = read_json(path.parent / "manifest.json")
    files = manifest.get("index_files") if isinstance(manifest, dict) else None
    return isinstance(files, dict) and path.name in files


def _store(leaf: Any, key: str) -> SegmentStore:
    """The segment's store, memory-mapped once and shared while its file stays the same.

    A cached map is reused only while the file's stamp is the one it was opened with: a file
    replaced or written to since (the engine refuses such a generation until its checksums match
    again, see :mod:`search.engines.embedded.integrity`) is mapped afresh, never read through a map
    of bytes that may have been cut short (SIGBUS).
    """
    live = key.startswith("live:")
    stamp = None if live else _file_stamp(key)
    with _store_cache_lock:
        cached = _store_cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    store = None
    if stamp is None and not live and _recorded(Path(key)):
        # The manifest vouches for this store and it is gone: damage, never papered over (the engine
        # turns this into IndexDamaged after a full check, and the next index run rebuilds in full).
        raise FileNotFoundError(f"{Path(key).name}: the segment store the manifest records is missing")
    if stamp is not None:
        try:
            store = SegmentStore.open(Path(key))
        except (OSError, StoreError):
            store = None  # unreadable though its checksums passed (an older format): rebuilt below
        if store is not None and store.count != leaf.doc_count_all():
            store = None
    if store is None:
        store = _rebuilt_store(leaf)  # a segment written without a store: same answers, from Whoosh
    if not live:
        with _store_cache_lock:
            _store_cache[key] = (stamp, store)
    return store


def _rebuilt_store(leaf: Any) -> SegmentStore:
    """A store for a segment without a usable file: texts and facets from its stored fields, word
    postings and the pinyin table's words from Whoosh's terms."""
    fulltexts, rows = [], []
    for local in range(leaf.doc_count_all()):
        stored = leaf.stored_fields(local) or {}
        fulltext, facets = article_extras(document_to_article(stored))
        fulltexts.append(fulltext)
        rows.append(facets)
    words = {}
    for field in WORD_FIELDS:
        postings = WordPostings([], [], [], [])
        if field in leaf.indexed_field_names():
            for term in leaf.lexicon(field):
                word = term.decode("utf-8") if isinstance(term, bytes) else term
                matcher = leaf.postings(field, word)
                docs, counts = [], []
                while matcher.is_active():
                    docs.append(matcher.id())
                    counts.append(int(matcher.weight()))
                    matcher.next()
                postings.terms.append(word)
                postings.sizes.append(len(docs))
                postings.docs += docs
                postings.counts += counts
        words[field] = postings
    from search.engines.embedded.vocabulary import segment_vocabulary  # it reads stores through this module

    return SegmentStore.in_memory(fulltexts, rows, words, segment_vocabulary(leaf))


# -- postings --------------------------------------------------------------------------------------


def term_postings(reader: Any, fieldname: str, word: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and frequencies (weights) of ``word`` in ``fieldname``, deleted documents
    included: from the segment stores for the word fields (``title``, ``body``), from Whoosh's
    postings (a block at a time) for the others."""
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for leaf, base in reader.leaf_readers():
        if fieldname in WORD_FIELDS:
            local, counts = segment_store(leaf).word_postings(fieldname, word)
            if len(local):
                docs.append(local + base)
                weights.append(counts.astype(np.float64))
            continue
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

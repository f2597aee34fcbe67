"""Which documents a parsed query matches, and how well: words, fragments, BM25F.

A text unit (a word, a fragment, a phrase; see :mod:`search.query.language`) matches a document

* **as words** in a field when every word the segmenter cuts from the unit is in the field — and,
  for several words, when they stand together: in the positional ``title`` field a phrase query
  says so, in the ``body`` (frequencies only) the unit's characters found together in the text do;
* **as characters** when the unit's characters occur in the normalised headline or body, whatever
  the segmenter made of them (``微企`` inside 小微/企业). This is what gives full recall.

Scores (DESIGN §8: words above fragments, titles above bodies):

* word BM25F: for each word, BM25 of its frequency in ``title`` and ``body`` (Whoosh's ``idf``, k1
  1.2, b 0.75, lengths in bytes of normalised text), times the field weight, where the unit matches
  as words in that field;
* fragment BM25: the same formula over the unit's character occurrences in headline and body, times
  ``WEIGHTS["fragment"]`` — so the same characters rank higher as a word than inside one.

The :data:`RESCORE_WINDOW` best documents then get a proximity bonus when the query's units stand
close together (:meth:`Matcher.proximity`). Ties are broken by date, newest first. Everything is computed with numpy over the rows of the
searcher's :class:`~search.engines.embedded.doctable.DocTable`.

Fragments are found through the fragment postings of each segment (candidates confirmed on their
text where the postings do not decide, :meth:`~search.engines.embedded.doctable.TextBuffer.occurrence_counts`);
the query is evaluated in order of estimated rarity: the rarest OR-group over the whole archive,
later groups and exclusions only inside the documents still in the running.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq

from search.analysis import CJK_RUN, word_list
from search.engines.embedded.doctable import DocTable, PerSearcher, doc_table
from search.query.language import Unit, chunks, unit_pattern

#: Query-time weights: a headline hit outweighs body hits (chosen on the judged set with
#: ``python -m search.evaluation --grid``); characters of a unit found anywhere score like a word
#: times ``fragment``, and a word match scores on top of that.
WEIGHTS = {"title": 3.0, "body": 1.0, "fragment": 0.5, "proximity": 1.5}
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F defaults
#: The best-scored documents get a proximity bonus (Elasticsearch calls this a rescore window).
RESCORE_WINDOW = 100
#: Whole-archive unit matches kept per searcher (~9 bytes a document each: 64 take 29 MB at 50,000).
SHARED_MATCHES = 64
#: ... and at most this many bytes of them (a match is ~9 bytes a document: at a million articles
#: the budget keeps 28, not 64 × 9 MB per server process).
SHARED_MATCH_BYTES = 256 * 1024 * 1024
_MAX_SPANS = 1000  # occurrences of a unit considered for proximity (a huge page has thousands)
#: Above this share of the archive in the running, a unit is matched over the whole archive (and the
#: match kept for later queries on the searcher) rather than inside the candidates only.
_RESTRICTED_SCAN_SHARE = 0.3


@dataclass
class UnitMatch:
    """A unit's matches over the table's rows (boolean masks and per-row scores)."""

    docs: np.ndarray  # matches as words or as characters
    score: np.ndarray  # word BM25F + fragment BM25 (zeros for name filters)


def _bm25(tf: np.ndarray, norm: np.ndarray, idf: float) -> np.ndarray:
    """BM25 of term frequencies ``tf``, given each row's length norm (:func:`_length_norms`)."""
    return idf * tf * (BM25_K1 + 1) / (tf + norm)


def _length_norms(table: DocTable) -> dict[str, np.ndarray]:
    """BM25's ``k1 * (1 - b + b * length / average length)`` per row, for headline and body: they
    depend on the table only, so they are computed once per searcher, not per query or word."""
    norms = {}
    for name, lengths in (("title", table.head_len), ("body", table.body_len)):
        average = max(1.0, float(lengths.mean())) if len(lengths) else 1.0
        norms[name] = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths.astype(np.float64) / average)
    return norms


def _idf(doc_count: int, doc_frequency: int) -> float:
    return math.log(doc_count / (doc_frequency + 1)) + 1.0  # Whoosh's BM25 idf


class Matcher:
    """Matches and scores the units of one query against one searcher's table (caching per unit)."""

    def __init__(self, searcher: Any, table: DocTable) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.table = table
        self.size = table.size
        self.count = max(1, table.size)
        self.norms = _norms(searcher)
        self.matches: dict[Unit, UnitMatch] = {}  # this query's
        self.shared = _shared_matches(searcher)  # whole-archive matches, kept per searcher

    # -- the boolean structure ----------------------------------------------------------------

    def match(self, groups: Sequence[Sequence[Unit]], excluded: Sequence[Unit]) -> np.ndarray:
        """Rows matching every OR-group and no excluded unit (all rows when there are no groups)."""
        candidates: np.ndarray | None = None
        for group in sorted(groups, key=lambda g: sum(self._estimate(u) for u in g)):
            docs = np.zeros(self.size, dtype=bool)
            for unit in group:
                docs |= self.unit(unit, candidates).docs
            candidates = docs if candidates is None else candidates & docs
            if not candidates.any():
                return candidates
        matched = candidates if candidates is not None else np.ones(self.size, dtype=bool)
        for unit in excluded:
            matched = matched & ~self.unit(unit, matched).docs
        return matched

    def scores(self, units: Sequence[Unit]) -> np.ndarray:
        """Summed scores of the given (already matched) units, per row."""
        total = np.zeros(self.size, dtype=np.float64)
        for unit in units:
            if unit in self.matches:
                total += self.matches[unit].score
        return total

    def proximity(self, units: Sequence[Unit], rows: np.ndarray) -> np.ndarray:
        """Bonus per row for the query's text units standing close together in its text.

        ``WEIGHTS["proximity"]`` for each unit beyond the first when they stand side by side, fading
        as the shortest stretch of text holding all of them grows (halved at 8 characters between).
        """
        text_units = [unit for unit in dict.fromkeys(units) if unit.scope in ("all", "title")]
        bonus = np.zeros(len(rows), dtype=np.float64)
        if len(text_units) < 2:
            return bonus
        patterns = [unit_pattern(unit) for unit in text_units]
        ideal = sum(len(unit.text.replace(" ", "")) for unit in text_units)
        for i, docnum in enumerate(self.table.docnums[rows].tolist()):
            head, body = self.table.text.text_of(docnum)
            text = (head + b"\n" + body).decode("utf-8", "replace")
            spans = [[match.span() for match in pattern.finditer(text)] for pattern in patterns]
            if all(spans):
                slack = max(0, _shortest_cover(spans) - ideal)
                bonus[i] = WEIGHTS["proximity"] * (len(text_units) - 1) / (1 + slack / 8)
        return bonus

    def _estimate(self, unit: Unit) -> int:
        """Rough document frequency of a unit (its rarest word), to scan the rarest group first."""
        if unit.scope in ("reporter", "place"):
            return 0
        words = word_list(unit.text)
        if not words:
            return 0
        return min(self.reader.doc_frequency("body", w) + self.reader.doc_frequency("title", w) for w in words)

    # -- one unit ------------------------------------------------------------------------------

    def unit(self, unit: Unit, candidates: np.ndarray | None) -> UnitMatch:
        """Match one unit. With few ``candidates`` rows, the fragment scan counts inside those only
        (the match is then only valid there); otherwise it covers the whole archive, and the match is
        kept for later queries on this searcher (pagination, facet clicks, alternatives)."""
        if unit in self.matches:
            return self.matches[unit]
        restricted = candidates is not None and candidates.sum() <= _RESTRICTED_SCAN_SHARE * self.size
        match = None if restricted else self.shared.get(unit)
        if match is None:
            if unit.scope in ("reporter", "place"):
                fieldname = "byline" if unit.scope == "reporter" else "place"
                docs = self.table.mask(self.searcher.docs_for_query(wq.Prefix(fieldname, unit.text.replace(" ", ""))))
                match = UnitMatch(docs, np.zeros(self.size))
            else:
                match = self._text_unit(unit, candidates if restricted else None)
            if not restricted:
                self.shared.put(unit, match)
        self.matches[unit] = match
        return match

    def _text_unit(self, unit: Unit, candidates: np.ndarray | None) -> UnitMatch:
        words = word_list(unit.text)
        fields = ("title",) if unit.scope == "title" else ("title", "body")
        several = len(words) > 1
        scanned = bool(CJK_RUN.search(unit.text)) or len(chunks(unit)) > 1 or several
        head_hits = body_hits = None
        if scanned:
            head_hits, body_hits = self._occurrences(unit, candidates)
        docs = np.zeros(self.size, dtype=bool)
        score = np.zeros(self.size, dtype=np.float64)
        for name in fields:
            present, word_score = self._words(name, words)
            if several and name == "title":
                present &= self.table.mask(self.searcher.docs_for_query(wq.Phrase("title", words)))
            elif several:
                assert body_hits is not None
                present &= body_hits > 0  # the words stand together in the text
            docs |= present
            score += WEIGHTS[name] * np.where(present, word_score, 0.0)
        if head_hits is not None and body_hits is not None:
            found = (head_hits > 0) | (body_hits > 0)
            docs |= found
            idf = _idf(self.count, int(found.sum()))
            fragment = WEIGHTS["title"] * _bm25(head_hits, self.norms["title"], idf)
            if unit.scope != "title":
                fragment += WEIGHTS["body"] * _bm25(body_hits, self.norms["body"], idf)
            score += WEIGHTS["fragment"] * fragment
        return UnitMatch(docs, score)

    def _words(self, fieldname: str, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding every word in the field, and the summed BM25 of the words there (computed
        on the rows holding each word only: a frequent word's postings, not the whole archive)."""
        present = np.ones(self.size, dtype=bool) if words else np.zeros(self.size, dtype=bool)
        score = np.zeros(self.size, dtype=np.float64)
        for word in words:
            docnums, weights = self.table.postings(fieldname, word)
            rows = self.table.row_of[docnums] if len(docnums) else docnums
            live = rows >= 0
            rows, weights = rows[live], weights[live]
            has = np.zeros(self.size, dtype=bool)
            has[rows] = True
            present &= has
            score[rows] += _bm25(weights, self.norms[fieldname][rows], _idf(self.count, len(rows)))
        return present, score

    def _occurrences(self, unit: Unit, candidates: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-row counts of the unit's characters in headline and body."""
        parts = chunks(unit)
        head = np.zeros(self.size, dtype=np.float64)
        body = np.zeros(self.size, dtype=np.float64)
        if not parts:
            return head, body
        needle = max(parts, key=len).encode("utf-8")
        simple = len(parts) == 1 and not re.search(r"^[a-z0-9]|[a-z0-9]$", parts[0])
        confirm = None
        if not simple:
            pattern = unit_pattern(unit)

            def confirm(text: bytes) -> int:
                return len(pattern.findall(text.decode("utf-8", "replace")))

        docnums = self.table.docnums[candidates] if candidates is not None else None
        found, head_hits, body_hits = self.table.text.occurrence_counts(needle, docnums, unit.scope == "title", confirm)
        if len(found):
            rows = self.table.row_of[found]
            live = rows >= 0
            head[rows[live]] = head_hits[live]
            body[rows[live]] = body_hits[live]
        return head, body


class _MatchCache:
    """The last :data:`SHARED_MATCHES` whole-archive unit matches of one searcher, within
    :data:`SHARED_MATCH_BYTES` (LRU, thread-safe)."""

    def __init__(self) -> None:
        self._items: OrderedDict[Unit, UnitMatch] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, unit: Unit) -> UnitMatch | None:
        with self._lock:
            match = self._items.get(unit)
            if match is not None:
                self._items.move_to_end(unit)
            return match

    def put(self, unit: Unit, match: UnitMatch) -> None:
        with self._lock:
            self._items[unit] = match
            self._items.move_to_end(unit)
            limit = max(4, min(SHARED_MATCHES, SHARED_MATCH_BYTES // max(1, match.docs.nbytes + match.score.nbytes)))
            while len(self._items) > limit:
                self._items.popitem(last=False)


_shared_matches = PerSearcher(lambda _searcher: _MatchCache())
_norms = PerSearcher(lambda searcher: _length_norms(doc_table(searcher)))


@dataclass
class Ranking:
    """Rows in result order with their scores."""

    rows: np.ndarray
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _shortest_cover(spans: Sequence[Sequence[tuple[int, int]]]) -> int:
    """Length of the shortest stretch of text holding one span of every list (each list in text order).

    A sliding window over all spans by start; a unit's latest span in the window is the one that
    ends last, so the window's end is the largest of those.
    """
    events = sorted((start, end, k) for k, unit_spans in enumerate(spans) for start, end in unit_spans[:_MAX_SPANS])
    need, held, latest_end, best, left = len(spans), {}, {}, math.inf, 0
    for start, end, k in events:
        held[k] = held.get(k, 0) + 1
        latest_end[k] = end
        while len(held) == need:
            first_start, _first_end, first_k = events[left]
            best = min(best, max(latest_end[unit] for unit in held) - first_start)
            held[first_k] -= 1
            if not held[first_k]:
                del held[first_k]
            left += 1
    return int(best)


def rank(
    table: DocTable,
    rows: np.ndarray,
    scores: np.ndarray | None,
    sort: str,
    need: int,
    rescore: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Ranking:
    """Order ``rows``: by score (``relevance``; ties newest first) or by date (``newest``/``oldest``,
    undated last). Returns the first ``need``.

    ``rescore(rows)`` gives a bonus to add to the :data:`RESCORE_WINDOW` best-scored rows before
    they are ordered again (a fixed window, so every page of results agrees).
    """
    if len(rows) == 0:
        return Ranking(rows, np.zeros(0))
    keep = max(need, RESCORE_WINDOW if sort == "relevance" else 0)
    if len(rows) > 4 * keep + 1024:
        rows = _likely_top(table, rows, scores, sort, keep)  # only these can be in the first `keep`
    dates = table.date_lo[rows].astype(np.int64)
    docnums = table.docnums[rows]
    if sort == "relevance":
        assert scores is not None
        row_scores = np.round(scores[rows], 6)
        order = np.lexsort((docnums, -dates, -row_scores))
        if rescore is not None:
            window = order[:RESCORE_WINDOW]
            row_scores[window] = np.round(row_scores[window] + rescore(rows[window]), 6)
            window = window[np.lexsort((docnums[window], -dates[window], -row_scores[window]))]
            order = np.concatenate([window, order[RESCORE_WINDOW:]])
    else:
        undated = dates == 0
        key = -dates if sort == "newest" else dates
        order = np.lexsort((docnums, key, undated))
        row_scores = np.zeros(len(rows))
    top = order[:need]
    return Ranking(rows[top], row_scores[top])


def _likely_top(table: DocTable, rows: np.ndarray, scores: np.ndarray | None, sort: str, keep: int) -> np.ndarray:
    """The rows that can rank among the first ``keep`` (everything tied with the ``keep``-th
    included), found in linear time so that a match of half the archive is not sorted whole."""
    if sort == "relevance":
        assert scores is not None
        key = -np.round(scores[rows], 6)
    else:
        dates = table.date_lo[rows].astype(np.float64)
        key = np.where(dates == 0, np.inf, -dates if sort == "newest" else dates)
    threshold = np.partition(key, keep - 1)[keep - 1]
    return rows[key <= threshold]

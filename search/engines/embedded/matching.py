"""Which documents a query plan matches, and how well: words, names, fragments, dates, BM25F.

The plan (:mod:`search.query.plan`) is AND of clauses, each an OR of terms. A text term matches a
document

* **as words** in a field when every word the segmenter cuts from the term is in the field — and,
  for several words (a quoted phrase), when they stand together: in the positional ``title`` field
  a phrase query says so, in the ``body`` (frequencies only) the term's characters found together
  in the text do;
* **as characters** when the term's characters occur in the normalised headline or body, whatever
  the segmenter made of them (``微企`` inside 小微/企业). This is what gives full recall;
* **as a name** when it is exactly a reporter, correspondent, photographer, person, place or
  organisation of the document (``孙庆辉`` finds his articles although bylines are not body text).

A date term matches the documents of that date (:meth:`DocTable` date spans); ``reporter:`` and
``place:`` terms match names starting with the text.

Scores (words above fragments, titles above bodies):

* word BM25F: for each word, BM25 of its frequency in ``title`` and ``body`` (Whoosh's ``idf``, k1
  1.2, b 0.75, lengths in bytes of normalised text), times the field weight, where the term matches
  as words in that field;
* a name of the document scores as one body occurrence of the word would (where it is not one);
* fragment BM25: the same formula over the term's character occurrences in headline and body, times
  ``WEIGHTS["fragment"]`` — so the same characters rank higher as a word than inside one;
* a *run* (a stretch typed without spaces, cut into several words) found contiguously scores like a
  fragment times ``WEIGHTS["run"]``: the whole typed run first, then its words side by side in the
  typed order (pairs) and close together (proximity), then the words scattered.

The :data:`RESCORE_WINDOW` best documents get the pair and proximity bonuses
(:meth:`Matcher.rescore`). Ties are broken by date, newest first. Everything is computed with numpy
over the rows of the searcher's :class:`~search.engines.embedded.doctable.DocTable`.

Terms are found through the fragment postings of each segment (candidates confirmed on their
text where the postings do not decide,
:meth:`~search.engines.embedded.doctable.TextBuffer.occurrence_counts`), never by scanning all text.
Clauses are evaluated in order of estimated rarity: the rarest clause over the whole archive, later
clauses and exclusions only inside the documents still in the running.
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
from search.engines.embedded.doctable import DocTable, PerSearcher, doc_table, term_postings
from search.query.language import term_chunks, term_pattern, term_screen
from search.query.plan import Clause, DateSpec, Term
from search.query.relax import EXACT_COUNTS

#: Query-time weights: a headline hit outweighs body hits (chosen on the judged sets with
#: ``python -m search.evaluation --grid``); characters of a term found anywhere score like a word
#: times ``fragment``, and a word match scores on top of that; ``run`` weighs a typed run found as
#: typed, ``pair`` each pair of its words found side by side, ``proximity`` the clauses standing
#: close together.
WEIGHTS = {"title": 3.0, "body": 1.0, "fragment": 0.5, "run": 1.0, "proximity": 1.5, "pair": 1.0}
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F defaults
#: The best-scored documents get a proximity bonus (Elasticsearch calls this a rescore window).
RESCORE_WINDOW = 100
#: Whole-archive term matches kept per searcher (~9 bytes a document each: 64 take 29 MB at 50,000).
SHARED_MATCHES = 64
#: ... and at most this many bytes of them (a match is ~9 bytes a document: at a million articles
#: the budget keeps 28, not 64 × 9 MB per server process).
SHARED_MATCH_BYTES = 256 * 1024 * 1024
_EMPTY_ROWS = np.zeros(0, dtype=np.int64)
_MAX_SPANS = 1000  # occurrences of a clause considered for proximity (a huge page has thousands)
_MAX_PAIRS = 16  # word pairs of one run looked for side by side (a pasted paragraph has hundreds)
#: Above this share of the archive in the running, a term is matched over the whole archive (and the
#: match kept for later queries on the searcher) rather than inside the candidates only.
_RESTRICTED_SCAN_SHARE = 0.3
#: Exact-name fields a bare word also matches (``byline``: reporters, correspondents, photographers).
NAME_FIELDS = ("byline", "person", "place", "org")


@dataclass
class TermMatch:
    """A term's (or clause's) matches over the table's rows: a boolean mask and per-row scores.

    ``valid`` is None when the match covers the whole archive, else the rows it was computed for
    (outside them it says nothing).
    """

    docs: np.ndarray
    score: np.ndarray
    valid: np.ndarray | None = None

    def covers(self, candidates: np.ndarray | None) -> bool:
        """True if this match holds for every row of ``candidates`` (None: the whole archive)."""
        if self.valid is None:
            return True
        return candidates is not None and not (candidates & ~self.valid).any()


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


def date_mask(table: DocTable, date: DateSpec) -> np.ndarray:
    """Rows whose date lies within ``date`` (a day, a month, a year; or a month and day of any year).

    A partial article date must fit inside: an article dated only ``2024-11`` is not of 22 November.
    """
    dated = table.date_lo > 0
    days = date.days()
    if days is not None:
        return dated & (table.date_lo >= days[0]) & (table.date_hi <= days[1])
    assert date.month is not None and date.day is not None
    return dated & (table.date_lo == table.date_hi) & (table.date_lo % 10000 == date.month * 100 + date.day)


class Matcher:
    """Matches and scores the terms of one query against one searcher's table (caching per term)."""

    def __init__(self, searcher: Any, table: DocTable) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.table = table
        self.size = table.size
        self.count = max(1, table.size)
        self.norms = _norms(searcher)
        self.terms: dict[Term, TermMatch] = {}  # this query's (whole archive or restricted)
        self.shared = _shared_matches(searcher)  # whole-archive matches, kept per searcher
        self.name_terms = _name_terms.made(searcher)  # every name of the index, once a server has read them
        self.estimates: dict[Term, int] = {}

    # -- the boolean structure ----------------------------------------------------------------

    def match(self, clauses: Sequence[Clause], excluded: Sequence[Term]) -> np.ndarray:
        """Rows matching every clause and no excluded term (all rows when there are no clauses)."""
        candidates: np.ndarray | None = None
        for clause in sorted(clauses, key=self.estimate):
            docs = self.clause(clause, candidates).docs
            candidates = docs if candidates is None else candidates & docs
            if not candidates.any():
                return candidates
        matched = candidates if candidates is not None else np.ones(self.size, dtype=bool)
        for term in excluded:
            if not matched.any():
                break
            matched = matched & ~self.term(term, matched).docs
        return matched

    def clause(self, clause: Clause, candidates: np.ndarray | None) -> TermMatch:
        """A clause's matches (any option), valid at least over ``candidates``."""
        if len(clause.options) == 1:  # the usual clause: its term's match itself (never modified)
            return self.term(clause.options[0], candidates)
        docs = np.zeros(self.size, dtype=bool)
        score = np.zeros(self.size, dtype=np.float64)
        valid: np.ndarray | None = None
        for term in clause.options:
            found = self.term(term, candidates)
            docs |= found.docs
            score += found.score
            if found.valid is not None:
                valid = found.valid if valid is None else valid & found.valid
        return TermMatch(docs, score, valid)

    def estimate(self, clause: Clause) -> int:
        """Rough document frequency of a clause (cheap: from term postings), to evaluate the rarest first."""
        return sum(self._estimate(term) for term in clause.options)

    def _estimate(self, term: Term) -> int:
        known = self.estimates.get(term)
        if known is None:
            known = self.estimates[term] = self._postings_estimate(term)
        return known

    def _postings_estimate(self, term: Term) -> int:
        if term.words:
            return min(self._estimate(part) for part in term.parts())
        if term.scope in ("reporter", "place"):
            return 0
        if term.date is not None:
            return int(np.count_nonzero(date_mask(self.table, term.date)))
        words = word_list(term.text)
        if not words:
            return 0
        in_words = self.table.word_frequencies("body", words) + self.table.word_frequencies("title", words)
        found = int(in_words.min())
        if len(term_chunks(term)) == 1 and self._may_be_name(term.text):
            frequency = self.reader.doc_frequency
            found += sum(frequency(name, term.text) for name in NAME_FIELDS if name in self.reader.schema)
        return found

    # -- relaxation (search.query.relax.ClauseCounter) -------------------------------------------

    def counter(self, excluded: Sequence[Term]) -> "ClauseCounts":
        """The :class:`~search.query.relax.ClauseCounter` of this matcher for a plan's exclusions."""
        return ClauseCounts(self, list(excluded))

    # -- scores ----------------------------------------------------------------------------------

    def scores(self, clauses: Sequence[Clause], runs: Sequence[Term], rows: np.ndarray) -> np.ndarray:
        """Summed scores of the (matched) clauses per row, plus the bonus of runs found as typed;
        valid on the rows of the boolean mask ``rows``."""
        total = np.zeros(self.size, dtype=np.float64)
        # Summed on the rows only when they are few: an archive-sized float sum costs ~6 ms a clause
        # at a million articles.
        where = np.flatnonzero(rows) if np.count_nonzero(rows) <= self.size // 8 else None
        for clause in clauses:
            score = self.clause(clause, rows).score
            if where is None:
                total += score
            else:
                total[where] += score[where]
        # Counting inside many rows one by one costs more than one scan of all text.
        inside = rows if np.count_nonzero(rows) <= _RESTRICTED_SCAN_SHARE * self.size else None
        for run in runs:
            found = self._occurrences(run, inside).within(rows)
            if len(found.rows):
                idf = _idf(self.count, len(found.rows))
                bonus = WEIGHTS["title"] * _bm25(found.head, self.norms["title"][found.rows], idf)
                if run.scope != "title":
                    bonus += WEIGHTS["body"] * _bm25(found.body, self.norms["body"][found.rows], idf)
                total[found.rows] += WEIGHTS["run"] * bonus
        return total

    def rescore(self, clauses: Sequence[Clause], runs: Sequence[Term], rows: np.ndarray) -> np.ndarray:
        """Bonus per row (of the rescore window) for the words standing as typed: close together
        (:meth:`proximity`) and in the typed order, pair by pair (Metzler and Croft's sequential
        dependence model counts ordered pairs the same way): ``WEIGHTS["pair"]`` for each pair of
        consecutive words of a run found side by side."""
        pairs = list(
            dict.fromkeys(
                pattern
                for run in runs
                if run.is_text
                for first, second in list(zip(run.words, run.words[1:]))[:_MAX_PAIRS]
                if (pattern := term_pattern(Term(f"{first} {second}", run.scope, phrase=True))) is not None
            )
        )
        patterns, ideal = self._clause_patterns(clauses)
        bonus = np.zeros(len(rows), dtype=np.float64)
        if len(patterns) < 2 and not pairs:
            return bonus
        for i, docnum in enumerate(self.table.docnums[rows].tolist()):
            head, body = self.table.text.text_of(docnum)
            text = (head + b"\n" + body).decode("utf-8", "replace")
            if len(patterns) >= 2:
                bonus[i] += self.proximity(patterns, ideal, text)
            if pairs:
                bonus[i] += WEIGHTS["pair"] * sum(1 for pattern in pairs if pattern.search(text))
        return bonus

    @staticmethod
    def _clause_patterns(clauses: Sequence[Clause]) -> tuple[list[re.Pattern[str]], int]:
        """One regex per clause (any of its text options' words), and the characters they hold at least."""
        patterns = []
        ideal = 0
        for clause in dict.fromkeys(clauses):
            texts = [part for term in clause.options if term.is_text for part in term.parts()]
            compiled = [p.pattern for term in texts if (p := term_pattern(term)) is not None]
            if compiled:
                patterns.append(re.compile("|".join(f"(?:{p})" for p in sorted(compiled, key=len, reverse=True))))
                ideal += min(len(term.text.replace(" ", "")) for term in texts)
        return patterns, ideal

    @staticmethod
    def proximity(patterns: Sequence[re.Pattern[str]], ideal: int, text: str) -> float:
        """Bonus for the clauses (their ``patterns``) standing close together in ``text``.

        ``WEIGHTS["proximity"]`` for each clause beyond the first when they stand side by side,
        fading as the shortest stretch of text holding all of them grows (halved at 8 characters
        between).
        """
        spans = [[match.span() for match in pattern.finditer(text)] for pattern in patterns]
        if not all(spans):
            return 0.0
        slack = max(0, _shortest_cover(spans) - ideal)
        return WEIGHTS["proximity"] * (len(patterns) - 1) / (1 + slack / 8)

    # -- one term ------------------------------------------------------------------------------

    def term(self, term: Term, candidates: np.ndarray | None) -> TermMatch:
        """Match one term, valid at least over ``candidates``. With few candidate rows, the fragment
        scan counts inside those only; otherwise it covers the whole archive, and the match is kept
        for later queries on this searcher (pagination, facet clicks, relaxation, alternatives)."""
        known = self.terms.get(term)
        if known is not None and known.covers(candidates):
            return known
        restricted = candidates is not None and np.count_nonzero(candidates) <= _RESTRICTED_SCAN_SHARE * self.size
        match = None if restricted else self.shared.get(term)
        if match is None:
            inside = candidates if restricted else None
            if term.words:
                match = self._all_words(term, inside)
            elif term.scope in ("reporter", "place"):
                fieldname = "byline" if term.scope == "reporter" else "place"
                docs = self.table.mask(self.searcher.docs_for_query(wq.Prefix(fieldname, term.text.replace(" ", ""))))
                match = TermMatch(docs, np.zeros(self.size))
            elif term.date is not None:
                docs = date_mask(self.table, term.date)
                score = np.where(docs, WEIGHTS["body"] * _idf(self.count, int(np.count_nonzero(docs))), 0.0)
                match = TermMatch(docs, score)
            else:
                match = self._text_term(term, inside)
            if not restricted:
                self.shared.put(term, match)
        if known is None or known.valid is not None:
            self.terms[term] = match
        return match

    def _all_words(self, term: Term, candidates: np.ndarray | None) -> TermMatch:
        """A term of several words: every one matches (the rarest first, then inside its documents)."""
        docs: np.ndarray | None = None
        score = np.zeros(self.size, dtype=np.float64)
        restricted = False
        for part in sorted(term.parts(), key=self._estimate):
            inside = docs if candidates is None else (candidates if docs is None else candidates & docs)
            found = self.term(part, inside)
            docs = found.docs if docs is None else docs & found.docs
            score += found.score
            restricted = restricted or found.valid is not None
        assert docs is not None
        # Each later word is matched inside the documents of the earlier ones: where those are
        # false the term is known not to match, so the whole is valid wherever the first word was.
        score[~docs] = 0.0
        return TermMatch(docs, score, candidates if restricted and candidates is not None else None)

    def _text_term(self, term: Term, candidates: np.ndarray | None) -> TermMatch:
        words = word_list(term.text)
        fields = ("title",) if term.scope == "title" else ("title", "body")
        several = len(words) > 1
        chunks = term_chunks(term)
        scanned = bool(CJK_RUN.search(term.text)) or len(chunks) > 1 or several
        hits = self._occurrences(term, candidates) if scanned else None
        docs = np.zeros(self.size, dtype=bool)
        score = np.zeros(self.size, dtype=np.float64)
        body_rows = _EMPTY_ROWS
        for name in fields:
            # Several words count in the body only where they stand together in its text (rows
            # ascending), so only those rows are looked at: common words (年, 月) are in most articles.
            together = hits.rows[hits.body > 0] if several and name == "body" and hits is not None else None
            rows, word_score = self._words(name, words, together)
            if several and len(rows) and name == "title":
                keep = self.table.mask(self.searcher.docs_for_query(wq.Phrase("title", words)))[rows]
                rows, word_score = rows[keep], word_score[keep]
            if name == "body":
                body_rows = rows
            docs[rows] = True
            score[rows] += WEIGHTS[name] * word_score  # added on the rows holding the words only
        if hits is not None and len(hits.rows):
            # Scored on the rows holding the characters only (BM25 of no occurrence is 0 anyway).
            docs[hits.rows] = True
            idf = _idf(self.count, len(hits.rows))
            fragment = WEIGHTS["title"] * _bm25(hits.head, self.norms["title"][hits.rows], idf)
            if term.scope != "title":
                fragment += WEIGHTS["body"] * _bm25(hits.body, self.norms["body"][hits.rows], idf)
            score[hits.rows] += WEIGHTS["fragment"] * fragment
        if term.scope == "all" and len(chunks) == 1:
            named = self._names(chunks[0])
            if named.any():
                docs |= named
                body_word = np.zeros(self.size, dtype=bool)
                body_word[body_rows] = True
                # A name of the article counts as one body occurrence of the word would (BM25 at tf 1
                # and average length is the idf itself), where the body does not have it as a word.
                score[named & ~body_word] += WEIGHTS["body"] * _idf(self.count, int(np.count_nonzero(named)))
        valid = candidates if scanned and candidates is not None else None
        return TermMatch(docs, score, valid)

    def _may_be_name(self, text: str) -> bool:
        """False if ``text`` is certainly no name of the index (known without a lookup in every
        segment's name fields once the searcher's names are read)."""
        return self.name_terms is None or text in self.name_terms

    def _names(self, text: str) -> np.ndarray:
        """Rows that have ``text`` as an exact byline, person, place or organisation name."""
        named = np.zeros(self.size, dtype=bool)
        if not self._may_be_name(text):
            return named
        for fieldname in NAME_FIELDS:
            if fieldname not in self.reader.schema:
                continue
            docnums, _weights = term_postings(self.reader, fieldname, text)
            if len(docnums):
                rows = self.table.row_of[docnums]
                named[rows[rows >= 0]] = True
        return named

    def _words(self, fieldname: str, words: list[str], within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding every word in the field (ascending) and the summed BM25 of the words there,
        computed on the postings only: no array the size of the archive per word (at a million
        articles, two of them cost 7 ms a word). Only among the rows ``within`` (ascending) if given."""
        found_rows: np.ndarray | None = None
        found_score = np.zeros(0, dtype=np.float64)
        for word in words:
            docnums, weights = self.table.postings(fieldname, word)
            rows = self.table.row_of[docnums] if len(docnums) else _EMPTY_ROWS
            live = rows >= 0
            rows, weights = rows[live], weights[live]  # ascending: rows follow document numbers
            idf = _idf(self.count, len(rows))  # over the archive, whatever ``within`` keeps
            if within is not None:
                held = np.isin(rows, within, assume_unique=True)
                rows, weights = rows[held], weights[held]
            word_score = _bm25(weights, self.norms[fieldname][rows], idf)
            if found_rows is None:
                found_rows, found_score = rows, word_score
            else:
                # Both ascending, so the rows kept on either side are the same rows in the same order.
                keep = np.isin(found_rows, rows, assume_unique=True)
                found_score = found_score[keep] + word_score[np.isin(rows, found_rows, assume_unique=True)]
                found_rows = found_rows[keep]
            if not len(found_rows):
                break
        if found_rows is None:
            return _EMPTY_ROWS, found_score
        return found_rows, found_score

    def _occurrences(self, term: Term, candidates: np.ndarray | None) -> "Occurrences":
        """The rows holding the term's characters, with their counts in headline and body (inside
        ``candidates`` only, when given)."""
        parts = term_chunks(term)
        if not parts:
            return Occurrences.none()
        needle = max(parts, key=len).encode("utf-8")
        confirm = None
        screen = None
        edges = (False, False)
        pattern = term_pattern(term)  # None for a date
        if pattern is not None and len(parts) > 1:

            def confirm(text: bytes) -> int:  # several runs: the regex lets separators stand between them
                return len(pattern.findall(text.decode("utf-8", "replace")))

            screen = term_screen(term)

        elif pattern is not None:
            # One run: a Latin or digit edge must not continue a longer word or number (tod, 2009年8月),
            # checked on the bytes in place instead of decoding each candidate for a regex.
            edges = (bool(re.match(r"[a-z0-9]", parts[0])), bool(re.search(r"[a-z0-9]$", parts[0])))

        docnums = self.table.docnums[candidates] if candidates is not None else None
        found, head_hits, body_hits = self.table.text.occurrence_counts(needle, docnums, term.scope == "title", confirm, edges, screen)
        rows = self.table.row_of[found] if len(found) else found
        held = (rows >= 0) & ((head_hits > 0) | (body_hits > 0))  # live documents that have it
        return Occurrences(rows[held], head_hits[held].astype(np.float64), body_hits[held].astype(np.float64))


@dataclass
class Occurrences:
    """Where a term's characters occur: rows (distinct) and their headline and body counts. Sparse:
    a term is in a few rows of a large archive, and per-row arrays of the archive's size made every
    term cost the same whatever it matched."""

    rows: np.ndarray
    head: np.ndarray
    body: np.ndarray

    @classmethod
    def none(cls) -> "Occurrences":
        """No occurrence."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))

    def within(self, mask: np.ndarray) -> "Occurrences":
        """Only the occurrences in the rows of the boolean ``mask``."""
        keep = mask[self.rows]
        return Occurrences(self.rows[keep], self.head[keep], self.body[keep])


@dataclass
class ClauseCounts:
    """Document frequencies and conjunction tests over the whole archive, for relaxation."""

    matcher: Matcher
    excluded: list[Term]
    exact_left: int = EXACT_COUNTS

    def doc_frequency(self, clause: Clause) -> int:
        """The postings estimate; where that is 0, the exact count (a scan), so 0 means none — past
        :data:`~search.query.relax.EXACT_COUNTS` scans a word the postings do not know counts as
        found nowhere (the contract of :class:`search.query.relax.ClauseCounter`)."""
        estimate = self.matcher.estimate(clause)
        if estimate > 0 or self.exact_left <= 0:
            return estimate
        self.exact_left -= 1
        return int(np.count_nonzero(self.matcher.clause(clause, None).docs))

    def matches(self, clauses: Sequence[Clause]) -> bool:
        """True if some document holds every clause and no excluded term."""
        return bool(self.matcher.match(clauses, self.excluded).any())


class _MatchCache:
    """The last :data:`SHARED_MATCHES` whole-archive term matches of one searcher, within
    :data:`SHARED_MATCH_BYTES` (LRU, thread-safe)."""

    def __init__(self) -> None:
        self._items: OrderedDict[Term, TermMatch] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, term: Term) -> TermMatch | None:
        with self._lock:
            match = self._items.get(term)
            if match is not None:
                self._items.move_to_end(term)
            return match

    def put(self, term: Term, match: TermMatch) -> None:
        with self._lock:
            self._items[term] = match
            self._items.move_to_end(term)
            limit = max(4, min(SHARED_MATCHES, SHARED_MATCH_BYTES // max(1, match.docs.nbytes + match.score.nbytes)))
            while len(self._items) > limit:
                self._items.popitem(last=False)


def _read_name_terms(searcher: Any) -> frozenset[str]:
    names: set[str] = set()
    for reader, _offset in searcher.reader().leaf_readers():
        for fieldname in NAME_FIELDS:
            if fieldname in reader.schema:
                names.update(term.decode("utf-8") if isinstance(term, bytes) else str(term) for term in reader.lexicon(fieldname))
    return frozenset(names)


#: Every term of the name fields, per searcher: read by :func:`read_name_terms` (a server, as it
#: starts), after which a word that is no name costs no lookup in each segment's four name fields
#: (some 200 Whoosh term lookups a word at a million articles).
_name_terms = PerSearcher(_read_name_terms)


def read_name_terms(searcher: Any) -> frozenset[str]:
    """Every byline, person, place and organisation term of the searcher's index, read now and kept
    for the searcher's later queries."""
    return _name_terms(searcher)


_shared_matches = PerSearcher(lambda _searcher: _MatchCache())
_norms = PerSearcher(lambda searcher: _length_norms(doc_table(searcher)))


@dataclass
class Ranking:
    """Rows in result order with their scores."""

    rows: np.ndarray
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _shortest_cover(spans: Sequence[Sequence[tuple[int, int]]]) -> int:
    """Length of the shortest stretch of text holding one span of every list (each list in text order).

    A sliding window over all spans by start; a clause's latest span in the window is the one that
    ends last, so the window's end is the largest of those.
    """
    events = sorted((start, end, k) for k, clause_spans in enumerate(spans) for start, end in clause_spans[:_MAX_SPANS])
    need, held, latest_end, best, left = len(spans), {}, {}, math.inf, 0
    for start, end, k in events:
        held[k] = held.get(k, 0) + 1
        latest_end[k] = end
        while len(held) == need:
            first_start, _first_end, first_k = events[left]
            best = min(best, max(latest_end[clause] for clause in held) - first_start)
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

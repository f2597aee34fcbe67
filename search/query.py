"""Queries: the query language (DESIGN §8) and the search behind every front end.

How a query runs (:func:`run_search`):

1. :func:`parse` turns the string into clauses (words, ``"phrases"``, ``-exclusions``, ``OR`` groups,
   ``title:``/``reporter:``/``place:``). It never raises: anything malformed degrades to plain words.
2. :mod:`search.matching` finds the documents each unit matches — as words in the word fields, or
   as characters anywhere in the normalised text (full recall) — evaluates the boolean structure
   and scores the matches (BM25F over words, BM25 over character occurrences at half weight).
3. :mod:`search.facets` applies the filters and counts each facet over the documents passing the
   other facets' filters.
4. The page of results is ranked (relevance, ties newest first; or by date) and each hit gets a
   snippet (:mod:`search.snippets`): the best passage of the body, HTML-escaped, matches in ``<mark>``.

Everything per document is read in bulk from the searcher's :class:`~search.doctable.DocTable`.
"""

from __future__ import annotations

import functools
import math
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq

from search.analysis import normalize
from search.doctable import FACETS, doc_table
from search.facets import RANGE_FILTERS, QueryError, check_filters, filter_and_count
from search.matching import Matcher, Unit, rank
from search.model import Article
from search.schema import document_to_article
from search.snippets import highlight_pattern, make_snippet

__all__ = [
    "FACETS",
    "SORTS",
    "RANGE_FILTERS",
    "QueryError",
    "Unit",
    "ParsedQuery",
    "parse",
    "run_search",
    "get_article",
    "iter_articles",
    "highlight_terms",
    "related_articles",
    "suggest",
    "make_snippet",
]

SORTS = ("relevance", "newest", "oldest")
MAX_QUERY_CHARS = 512  # longer input is cut: no real query is longer, and it bounds the work
MAX_UNITS = 32
MAX_LIMIT = 1000


# -- parsing -------------------------------------------------------------------------------------

_FIELD_ALIASES = {"title": "title", "标题": "title", "reporter": "reporter", "记者": "reporter",
                  "place": "place", "地点": "place"}  # fmt: skip
_OR = "\ue000"
_QUOTES = {'"': '"', "“": "”", "「": "」"}
_FIELD_PREFIX = re.compile(r"(title|reporter|place|标题|记者|地点):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass
class ParsedQuery:
    """A parsed query: AND of OR-groups of units, minus excluded units."""

    groups: list[list[Unit]] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)

    @property
    def positive(self) -> list[Unit]:
        """Every unit that can match (not excluded)."""
        return [unit for group in self.groups for unit in group]


def _clean(q: str) -> str:
    """Drop control and format characters (and lone surrogates), cap the length, normalise."""
    q = "".join(ch for ch in q[: MAX_QUERY_CHARS * 2] if unicodedata.category(ch) not in ("Cs", "Co", "Cn"))
    q = _CONTROL.sub(" ", q)
    # Mark the OR operator before lowercasing turns it into the word "or" (PUA chars were dropped above).
    q = re.sub(r"(?<!\S)OR(?!\S)", _OR, q)
    return normalize(q)[:MAX_QUERY_CHARS]


def _plain_units(text: str, scope: str) -> list[Unit]:
    """Units from unquoted text.

    Punctuation separates units (``高新区，融资`` is two words), except inside a Latin/digit token
    such as ``r&d``, ``covid-19`` or ``2024-11``, which stays one unit matched as written.
    """
    chunks = [c for c in re.findall(r"\w+", text) if c.strip("_")]
    if len(chunks) > 1 and all(c.isascii() for c in chunks):
        return [Unit(" ".join(chunks), scope, phrase=True)]
    return [Unit(chunk, scope) for chunk in chunks]


def _tokens(q: str) -> Iterator[tuple[str, bool, str, bool]]:
    """Yield ``(text, negated, scope, quoted)`` tokens and ``("OR", ...)`` operators."""
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        negated = False
        if q[i] == "-":
            negated = True
            i += 1
            if i >= n or q[i].isspace():
                continue  # a lone "-" is nothing
        scope = "all"
        m = _FIELD_PREFIX.match(q, i)
        if m:
            scope = _FIELD_ALIASES[m.group(1).lower()]
            i = m.end()
            if i >= n or q[i].isspace():
                continue  # "title:" with nothing after it
        if q[i] in _QUOTES:
            close = q.find(_QUOTES[q[i]], i + 1)
            if close != -1:
                yield q[i + 1 : close], negated, scope, True
                i = close + 1
                continue
            i += 1  # unbalanced quote: ignore it, read plain words
            if i >= n:
                continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _QUOTES:
            j += 1
        if j == i:
            continue
        yield q[i:j], negated, scope, False
        i = j


def parse(q: str) -> ParsedQuery:
    """Parse a query string (DESIGN §8) into a :class:`ParsedQuery`; never raises.

    >>> p = parse('小微企业 OR 融资 -新密 title:"开门红"')
    >>> [[u.text for u in g] for g in p.groups], [u.text for u in p.excluded]
    ([['小微企业', '融资'], ['开门红']], ['新密'])
    """
    parsed = ParsedQuery()
    pending_or = False
    count = 0
    for text, negated, scope, quoted in _tokens(_clean(q or "")):
        if not quoted and not negated and scope == "all" and text == _OR:
            pending_or = bool(parsed.groups)
            continue
        if quoted:
            chunks = re.findall(r"\w+", text)
            units = [Unit(" ".join(chunks), scope, phrase=True)] if chunks else []
        else:
            units = _plain_units(text, scope)
        if scope in ("reporter", "place"):
            units = [Unit(u.text.replace(" ", ""), scope, u.phrase) for u in units]
        if not units or count >= MAX_UNITS:
            continue
        count += len(units)
        if negated:
            parsed.excluded.extend(units)
            continue
        if pending_or:
            parsed.groups[-1].append(units[0])
            parsed.groups.extend([u] for u in units[1:])
        else:
            parsed.groups.extend([u] for u in units)
        pending_or = False
    return parsed


# -- results -------------------------------------------------------------------------------------


def _row(searcher: Any, docnum: int, score: float, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    stored = searcher.stored_fields(docnum)
    return {
        "id": stored.get("id"),
        "title": stored.get("title") or "",
        "kicker": stored.get("kicker") or "",
        "subtitle": stored.get("subtitle") or "",
        "source": stored.get("source") or "",
        "date": stored.get("date"),
        "reporters": list(stored.get("reporters") or []),
        "places": list(stored.get("places") or []),
        "kind": stored.get("kind") or "",
        "score": round(float(score), 4),
        "snippet": make_snippet(stored.get("body") or stored.get("lead") or "", pattern),
    }


def _as_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise QueryError(f"bad {name} {value!r}: expected a whole number") from None
    if number < low or (high is not None and number > high):
        limit = f"{low}-{high}" if high is not None else f">= {low}"
        raise QueryError(f"bad {name} {value!r}: expected {limit}")
    return number


def run_search(
    searcher: Any,
    q: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    limit: int = 10,
    facet_size: int = 10,
) -> dict[str, Any]:
    """Search (DESIGN §6/§8): results page, exact total, facets; raises QueryError on bad parameters."""
    started = time.perf_counter()
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    page = _as_int(page, "page", 1)
    limit = _as_int(limit, "limit", 1, MAX_LIMIT)
    facet_size = _as_int(facet_size, "facet_size", 0)
    selected, span = check_filters(filters)
    parsed = parse(q if isinstance(q, str) else "")
    table = doc_table(searcher)
    matcher = Matcher(searcher, table)
    matched = matcher.match(parsed.groups, parsed.excluded)
    passing, facets = filter_and_count(table, matched, selected, span, facet_size)
    rows = np.flatnonzero(passing)
    offset = (page - 1) * limit
    results: list[dict[str, Any]] = []
    if offset < len(rows):
        scores = matcher.scores(parsed.positive) if sort == "relevance" else None
        ranking = rank(table, rows, scores, sort, offset + limit, functools.partial(matcher.proximity, parsed.positive))
        pattern = highlight_pattern(parsed.positive)
        hits = zip(ranking.rows[offset:].tolist(), ranking.scores[offset:].tolist())
        results = [_row(searcher, int(table.docnums[row]), score, pattern) for row, score in hits]
    return {
        "query": q,
        "total": len(rows),
        "page": page,
        "limit": limit,
        "sort": sort,
        "filters": {k: [str(v) for v in ([vs] if isinstance(vs, (str, int)) else vs)] for k, vs in (filters or {}).items()},
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "results": results,
        "facets": facets,
    }


def get_article(searcher: Any, article_id: str) -> Article | None:
    """The stored article with this id, or None."""
    if not isinstance(article_id, str) or not article_id:
        return None
    stored = searcher.document(id=article_id)
    return document_to_article(stored) if stored else None


def iter_articles(searcher: Any) -> Iterator[Article]:
    """Every live article in the index, in page order (source, then position)."""
    rows = [(stored.get("source") or "", stored.get("position") or 0, stored) for stored in searcher.all_stored_fields()]
    rows.sort(key=lambda r: (r[0], r[1]))
    for _source, _position, stored in rows:
        yield document_to_article(stored)


def highlight_terms(searcher: Any, q: str) -> list[str]:
    """The normalised words and fragments of ``q`` to mark on an article page (longest first)."""
    terms: dict[str, None] = {}
    for unit in parse(q or "").positive:
        if unit.scope in ("all", "title"):
            for chunk in unit.text.split():
                terms[chunk] = None
    return sorted(terms, key=len, reverse=True)


def related_articles(searcher: Any, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Articles sharing this one's distinctive words (TF-IDF key terms, more-like-this); result rows."""
    from search.schema import text_counts

    article = get_article(searcher, article_id)
    if article is None:
        return []
    counts = text_counts(article)
    for keyword in article.keywords:
        counts[normalize(keyword)] += 2
    n = max(1, searcher.doc_count())
    weighted = []
    for word, tf in counts.items():
        if len(word) < 2 or word.isdigit():
            continue
        df = searcher.doc_frequency("body", word) + searcher.doc_frequency("title", word)
        if df <= 0:
            continue
        weighted.append(((1 + math.log(tf)) * math.log(1 + n / df), word))
    weighted.sort(reverse=True)
    top = weighted[:15]
    if not top:
        return []
    clauses = [wq.Term(name, w, boost=wt * (2.0 if name == "title" else 1.0)) for wt, w in top for name in ("title", "body")]
    results = searcher.search(wq.Or(clauses), limit=limit + 1)
    pattern = highlight_pattern([Unit(w) for _wt, w in top[:5]])
    rows = []
    for hit in results:
        if hit.get("id") == article_id:
            continue
        rows.append(_row(searcher, hit.docnum, hit.score, pattern))
    return rows[:limit]


def suggest(searcher: Any, prefix: str, limit: int = 8) -> list[dict[str, str]]:
    """Completions for a typed prefix: places, reporters, people, orgs, titles, then frequent words."""
    text = _clean(prefix or "").strip()
    if not text or limit <= 0:
        return []
    reader = searcher.reader()
    out: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(value: str, kind: str) -> None:
        if value and value not in seen and len(out) < limit:
            seen.add(value)
            out.append({"text": value, "type": kind})

    for fieldname, kind in (("place", "place"), ("reporter", "reporter"), ("person", "person"), ("org", "org")):
        names = sorted(reader.expand_prefix(fieldname, text), key=lambda t: -reader.doc_frequency(fieldname, t))
        for name in names[:limit]:
            add(name if isinstance(name, str) else name.decode("utf-8"), kind)
    # Titles starting with the prefix: a headline line (kicker, title, subtitle) starting with it in
    # the normalised text buffer, confirmed on the stored title.
    table = doc_table(searcher)
    needle = text.encode("utf-8")
    for docnum in table.docnums.tolist():
        if len(out) >= limit:
            break
        if table.text.headline_line_starts_with(docnum, needle):
            title = searcher.stored_fields(docnum).get("title") or ""
            if normalize(title).startswith(text):
                add(title, "title")
    words = [w if isinstance(w, str) else w.decode("utf-8") for w in reader.expand_prefix("body", text)]
    words = [w for w in words if len(w) > 1 or w == text]
    words.sort(key=lambda w: -reader.doc_frequency("body", w))
    for word in words:
        add(word, "word")
    return out

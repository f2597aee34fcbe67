"""The embedded engine's searches: results, facets, snippets, articles, related, suggestions.

How a query runs (:func:`run_search`):

1. :func:`search.query.language.parse` turns the string into units and groups (engine-agnostic).
2. :mod:`~search.engines.embedded.matching` finds the documents each unit matches — as words in the
   word fields, or as characters anywhere in the normalised text (full recall) — evaluates the
   boolean structure and scores the matches (BM25F over words, BM25 over character occurrences at
   half weight).
3. :mod:`~search.engines.embedded.facets` applies the filters and counts each facet over the
   documents passing the other facets' filters.
4. The page of results is ranked (relevance, ties newest first; or by date) and each hit gets a
   snippet (:mod:`search.query.snippets`): the best passage of the body, HTML-escaped, matches in
   ``<mark>``.

Everything per document is read in bulk from the searcher's
:class:`~search.engines.embedded.doctable.DocTable`.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from whoosh import query as wq

from search.analysis import normalize
from search.engines.embedded.doctable import doc_table
from search.engines.embedded.facets import filter_and_count
from search.engines.embedded.matching import Matcher, rank
from search.engines.embedded.schema import document_to_article
from search.model import Article
from search.query.filters import MAX_LIMIT, SORTS, QueryError, check_filters, whole_number
from search.query.language import Unit, clean_query, parse
from search.query.snippets import highlight_pattern, make_snippet

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
    page = whole_number(page, "page", 1)
    limit = whole_number(limit, "limit", 1, MAX_LIMIT)
    facet_size = whole_number(facet_size, "facet_size", 0)
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


def related_articles(searcher: Any, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Articles sharing this one's distinctive words (TF-IDF key terms, more-like-this); result rows."""
    from search.engines.embedded.schema import text_counts

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
    text = clean_query(prefix or "").strip()
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
    # Candidates: the documents whose headline holds the prefix (from the fragment postings).
    holding = table.text.occurrence_counts(needle, None, True, None)[0]
    for docnum in holding[table.row_of[holding] >= 0].tolist():
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

"""The embedded engine's searches: results, facets, snippets, articles, related, suggestions.

How a query runs (:func:`run_search`):

1. :func:`search.query.analyze.analyze` turns the string into a plan of required clauses
   (engine-agnostic), cutting unspaced Chinese into words with the index's names kept whole
   (:class:`~search.engines.embedded.lexicon.IndexLexicon`).
2. :mod:`~search.engines.embedded.matching` finds the documents each clause matches — as words in
   the word fields, as names, or as characters anywhere in the normalised text (full recall) —
   rarest clause first; when nothing holds every clause, :func:`search.query.relax.relax` drops the
   least informative ones and the result says so (``"relaxed"``).
3. :mod:`~search.engines.embedded.facets` applies the filters and counts each facet over the
   documents passing the other facets' filters.
4. The page of results is ranked (relevance: BM25F over words, BM25 over character occurrences at
   half weight, the typed run found as typed, proximity; ties newest first; or by date) and each
   hit gets a snippet (:mod:`search.query.snippets`): the best passage of the body, HTML-escaped,
   matches in ``<mark>``.

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
from search.engines.embedded.facets import filter_and_count, histogram, passing_filters
from search.engines.embedded.lexicon import IndexLexicon
from search.engines.embedded.matching import Matcher, rank
from search.engines.embedded.schema import document_to_article
from search.model import Article
from search.query.analyze import analyze
from search.query.filters import check_search
from search.query.language import clean_query
from search.query.plan import QueryPlan, Term
from search.query.reading import reading
from search.query.relax import Relaxation, relax
from search.query.snippets import highlight_pattern, make_snippet
from search.query.suggest import completion_targets

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
        "lead": stored.get("lead") or "",
        "paper": stored.get("paper"),
        "page": stored.get("page"),
        "section": stored.get("section"),
        "credit": stored.get("credit"),
    }


def plan_query(searcher: Any, q: str) -> QueryPlan:
    """The query plan of ``q`` for this index (names it knows kept whole)."""
    return analyze(q if isinstance(q, str) else "", IndexLexicon(searcher))


def match_plan(matcher: Matcher, plan: QueryPlan) -> tuple[np.ndarray, QueryPlan, Relaxation | None]:
    """Rows matching the plan, relaxed if nothing holds all of it: ``(rows, plan used, relaxation)``."""
    if plan.match_none:
        return np.zeros(matcher.size, dtype=bool), plan, None
    relaxation = relax(plan, matcher.counter(plan.excluded))
    if relaxation is not None:
        plan = relaxation.plan
    return matcher.match(plan.clauses, plan.excluded), plan, relaxation


def run_search(
    searcher: Any,
    q: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    limit: int = 10,
    facet_size: int = 10,
) -> dict[str, Any]:
    """Search (the search shape and facet rules of docs/ARCHITECTURE.md): results page, exact total, facets; raises QueryError on bad parameters."""
    started = time.perf_counter()
    page, limit, facet_size, selected, span = check_search(sort, page, limit, facet_size, filters)
    table = doc_table(searcher)
    matcher = Matcher(searcher, table)
    full_plan = plan_query(searcher, q)
    matched, plan, relaxation = match_plan(matcher, full_plan)
    passing, facets = filter_and_count(table, matched, selected, span, facet_size)
    rows = np.flatnonzero(passing)
    offset = (page - 1) * limit
    results: list[dict[str, Any]] = []
    if offset < len(rows):
        scores = matcher.scores(plan.clauses, plan.runs, passing) if sort == "relevance" else None
        ranking = rank(table, rows, scores, sort, offset + limit, functools.partial(matcher.rescore, plan.clauses, plan.runs))
        pattern = highlight_pattern([*plan.terms, *plan.runs])
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
        "histogram": histogram(table, passing, selected, span),
        **reading(plan, relaxation),
    }


def count_search(searcher: Any, q: str, filters: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """How many articles ``q`` finds with ``filters`` (``total``, and ``relaxed`` when not all its
    words are held, as in :func:`run_search`), without ranking, results, facets or histogram: what
    did-you-mean and the alternatives to an empty answer ask of each query they try (ranking reads
    the text of its best 100 rows: most of such a search's time at a million articles)."""
    _page, _limit, _facet_size, selected, span = check_search("relevance", 1, 1, 0, filters)
    table = doc_table(searcher)
    matched, plan, relaxation = match_plan(Matcher(searcher, table), plan_query(searcher, q))
    return {"total": int(np.count_nonzero(passing_filters(table, matched, selected, span))), **reading(plan, relaxation)}


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
    table = doc_table(searcher)
    asked = [word for word in counts if len(word) >= 2 and not word.isdigit()]
    frequencies = (table.word_frequencies("body", asked) + table.word_frequencies("title", asked)).tolist()
    for word, df in zip(asked, frequencies):
        tf = counts[word]
        if df <= 0:
            continue
        weighted.append(((1 + math.log(tf)) * math.log(1 + n / df), word))
    weighted.sort(reverse=True)
    top = weighted[:15]
    if not top:
        return []
    clauses = [wq.Term(name, w, boost=wt * (2.0 if name == "title" else 1.0)) for wt, w in top for name in ("title", "body")]
    results = searcher.search(wq.Or(clauses), limit=limit + 1)
    pattern = highlight_pattern([Term(w) for _wt, w in top[:5]])
    rows = []
    for hit in results:
        if hit.get("id") == article_id:
            continue
        rows.append(_row(searcher, hit.docnum, hit.score, pattern))
    return rows[:limit]


def _completions(searcher: Any, fragment: str, limit: int, titles: bool) -> list[tuple[str, str]]:
    """``(completion, type)`` for a normalised fragment: places, reporters, people, orgs, headline
    starts (``titles``), then frequent words."""
    reader = searcher.reader()
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(value: str, kind: str) -> None:
        if value and value not in seen and len(out) < limit:
            seen.add(value)
            out.append((value, kind))

    for fieldname, kind in (("place", "place"), ("reporter", "reporter"), ("person", "person"), ("org", "org")):
        names = sorted(reader.expand_prefix(fieldname, fragment), key=lambda t: -reader.doc_frequency(fieldname, t))
        for name in names[:limit]:
            add(name if isinstance(name, str) else name.decode("utf-8"), kind)
    if titles:
        # Titles starting with the fragment: a headline line (kicker, title, subtitle) starting with
        # it in the normalised text buffer, confirmed on the stored title. Candidates: the documents
        # whose headline holds the fragment (from the fragment postings), not every document.
        table = doc_table(searcher)
        needle = fragment.encode("utf-8")
        holding = table.text.occurrence_counts(needle, None, True, None)[0]
        for docnum in holding[table.row_of[holding] >= 0].tolist():
            if len(out) >= limit:
                break
            if table.text.headline_line_starts_with(docnum, needle):
                title = searcher.stored_fields(docnum).get("title") or ""
                if normalize(title).startswith(fragment):
                    add(title, "title")
    words = [w if isinstance(w, str) else w.decode("utf-8") for w in reader.expand_prefix("body", fragment)]
    words = [w for w in words if len(w) > 1 or w == fragment]
    frequencies = dict(zip(words, doc_table(searcher).word_frequencies("body", words).tolist()))
    words.sort(key=lambda w: -frequencies[w])
    for word in words:
        add(word, "word")
    return out


def suggest(searcher: Any, prefix: str, limit: int = 8) -> list[dict[str, str]]:
    """Completions of what has been typed, keeping the whole query: the last word (or the longest
    end of an unspaced run that something completes) is completed, the text before it kept as typed
    (``高新区 孙`` -> ``高新区 孙庆辉``). Headlines are offered only for a query of one piece."""
    if limit <= 0:
        return []
    for target in completion_targets(clean_query(prefix or "")):
        found = _completions(searcher, target.fragment, limit, titles=target.whole)
        if found:
            return [{"text": target.kept + value, "type": kind} for value, kind in found]
    return []

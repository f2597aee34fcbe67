"""The Solr engine's reads: results, facets, snippets, articles, related articles, suggestions, export.

A search is one ``/select`` request: the compiled query (:mod:`.compile`), the page of rows with the
stored Article, and the JSON Facet API for every facet. The answer is turned into the same plain-data
shape as the embedded engine's; snippets are made from the stored body by
:func:`search.query.snippets.make_snippet`, so they are identical whichever engine answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from search.analysis import normalize
from search.engines.solr.client import SolrClient
from search.engines.solr.compile import compile_search, phrase, term
from search.engines.solr.counts import plan_query
from search.engines.solr.documents import ARTICLE, VALUE_SEPARATOR, document_to_article
from search.engines.solr.listing import HISTOGRAM_FACET, cursor_articles, histogram
from search.model import Article
from search.query.filters import FACETS, check_search
from search.query.language import clean_query
from search.query.plan import Term
from search.query.reading import reading
from search.query.snippets import highlight_pattern, make_snippet
from search.query.suggest import completion_targets

_SORT = {
    "relevance": "score desc,date_lo desc,ord asc",
    "newest": "date_lo desc,ord asc",
    "oldest": "date_lo asc,ord asc",
}
_MAX_INT = 2**31 - 1


def result_row(article: Article, score: float, pattern: Any) -> dict[str, Any]:
    """One result row (the search shape's ``results`` item) with its snippet."""
    return {
        "id": article.id,
        "title": article.title or "",
        "kicker": article.kicker or "",
        "subtitle": article.subtitle or "",
        "source": article.source or "",
        "date": article.date,
        "reporters": list(article.reporters or []),
        "places": list(article.places or []),
        "kind": article.kind or "",
        "score": round(float(score), 4),
        "snippet": make_snippet(article.body or article.lead or "", pattern),
        "lead": article.lead or "",
        "paper": article.paper,
        "page": article.page,
        "section": article.section,
        "credit": article.credit,
    }


def _facet_lists(answer: Mapping[str, Any], selected: Mapping[str, set[str]], size: int) -> dict[str, list[dict[str, Any]]]:
    """Each facet's values from the JSON Facet API answer, then the selected values not among them."""
    buckets = answer.get("facets") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS:
        shown = [(str(b["val"]), int(b["count"])) for b in (buckets.get(name) or {}).get("buckets", [])][:size]
        extra = []
        for index in range(len(selected.get(name, ()))):
            for bucket in (buckets.get(f"{name}__selected{index}") or {}).get("buckets", []):
                _norm, _sep, written = str(bucket["val"]).partition(VALUE_SEPARATOR)
                extra.append((written, int(bucket["count"])))
        if extra:
            names = {normalize(value) for value, _count in shown}
            shown += [(v, c) for v, c in sorted(set(extra), key=lambda vc: (-vc[1], vc[0])) if normalize(v) not in names]
        out[name] = [{"value": value, "count": count} for value, count in shown]
    return out


def run_search(
    client: SolrClient,
    collection: str,
    q: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    limit: int = 10,
    facet_size: int = 10,
) -> dict[str, Any]:
    """Search (the same contract as the embedded engine's ``run_search``); raises QueryError."""
    started = time.perf_counter()
    page, limit, facet_size, selected, span = check_search(sort, page, limit, facet_size, filters)
    plan, relaxation = plan_query(client, collection, q)
    compiled = compile_search(plan, selected, span, facet_size, relevance=(sort == "relevance"))
    compiled.facets["__histogram"] = HISTOGRAM_FACET
    offset = (page - 1) * limit
    # Solr's start and rows are Java ints: a page past them is asked for the total and facets only
    # (and is empty, as it would be anyway).
    start, rows = (offset, limit) if offset + limit < _MAX_INT else (0, 0)
    params = compiled.params() + [
        ("start", str(start)), ("rows", str(rows)), ("sort", _SORT[sort]), ("fl", "article,score"), ("wt", "json"),
    ]  # fmt: skip
    answer = client.post_form(f"{collection}/select", params)
    found = answer.get("response") or {}
    pattern = highlight_pattern([*plan.terms, *plan.runs])
    results = []
    for doc in found.get("docs", []):
        score = float(doc.get("score") or 0.0) if sort == "relevance" else 0.0
        results.append(result_row(document_to_article(doc), score, pattern))
    total = int(found.get("numFound", 0))
    return {
        "query": q,
        "total": total,
        "page": page,
        "limit": limit,
        "sort": sort,
        "filters": {k: [str(v) for v in ([vs] if isinstance(vs, (str, int)) else vs)] for k, vs in (filters or {}).items()},
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "results": results,
        "facets": _facet_lists(answer, selected, facet_size),
        "histogram": histogram(answer, total, selected, span),
        **reading(plan, relaxation),
    }


def get_article(client: SolrClient, collection: str, article_id: str) -> Article | None:
    """The article with this id, or None."""
    if not isinstance(article_id, str) or not article_id:
        return None
    answer = client.post_form(
        f"{collection}/select",
        [("q", f"id:{phrase(article_id)}"), ("fq", f"doc_type:{ARTICLE}"), ("rows", "1"), ("fl", "article"), ("wt", "json")],
    )
    docs = (answer.get("response") or {}).get("docs") or []
    return document_to_article(docs[0]) if docs else None


def iter_articles(client: SolrClient, collection: str) -> Iterator[Article]:
    """Every article in page order (source, then position), read with a cursor."""
    params = [("q", "*:*"), ("fq", f"doc_type:{ARTICLE}")]
    return cursor_articles(client, collection, params, "ord asc,id asc")


def related_articles(client: SolrClient, collection: str, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Articles like this one by Solr's MoreLikeThis over the word fields (result rows)."""
    article = get_article(client, collection, article_id)
    if article is None:
        return []
    answer = client.post_form(
        f"{collection}/select",
        [("q", f"{{!mlt qf=title_w,body_w mintf=1 mindf=2 maxqt=15 minwl=2}}{article_id}"), ("fq", f"doc_type:{ARTICLE}"),
         ("fq", f"-id:{phrase(article_id)}"), ("rows", str(limit)), ("fl", "article,score"), ("wt", "json")],
    )  # fmt: skip
    pattern = highlight_pattern([Term(normalize(word)) for word in article.keywords[:5] if word])
    docs = (answer.get("response") or {}).get("docs", [])
    return [result_row(document_to_article(doc), float(doc.get("score") or 0.0), pattern) for doc in docs][:limit]


def suggest(client: SolrClient, collection: str, prefix: str, limit: int = 8) -> list[dict[str, str]]:
    """Completions of what has been typed, keeping the whole query: its last word (or the longest
    end of an unspaced run that something completes) completed, the text before it kept as typed.
    Headlines are offered only for a query of one piece (as the embedded engine does)."""
    if limit <= 0:
        return []
    for target in completion_targets(clean_query(prefix or "")):
        found = _completions(client, collection, target.fragment, limit, titles=target.whole)
        if found:
            return [{"text": target.kept + item["text"], "type": item["type"]} for item in found]
    return []


def _completions(client: SolrClient, collection: str, text: str, limit: int, titles: bool) -> list[dict[str, str]]:
    """Completions of a normalised fragment: places, reporters, people, orgs, titles, then frequent words."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(value: str, kind: str) -> None:
        if value and value not in seen and len(out) < limit:
            seen.add(value)
            out.append({"text": value, "type": kind})

    kinds = (("place", "place"), ("reporter", "reporter"), ("person", "person"), ("org", "org"))
    facets = {
        name: {"type": "terms", "field": f"n_{name}", "prefix": text, "limit": limit, "sort": "count desc",
               "refine": True, "domain": {"query": f"doc_type:{ARTICLE}"}}
        for name, _kind in kinds
    }  # fmt: skip
    answer = client.post_form(
        f"{collection}/select",
        [("q", f"title_n:{term(text)}*"), ("fq", f"doc_type:{ARTICLE}"), ("sort", "ord asc"), ("rows", str(limit)),
         ("fl", "article"), ("json.facet", json.dumps(facets, ensure_ascii=False)), ("wt", "json")],
    )  # fmt: skip
    buckets = answer.get("facets") or {}
    for name, kind in kinds:
        ranked = sorted(((str(b["val"]), int(b["count"])) for b in (buckets.get(name) or {}).get("buckets", [])),
                        key=lambda vc: (-vc[1], vc[0]))  # fmt: skip
        for value, _count in ranked[:limit]:
            add(value, kind)
    for doc in (answer.get("response") or {}).get("docs", []) if titles else []:
        add(document_to_article(doc).title, "title")
    if len(out) < limit:
        terms = client.post_form(
            f"{collection}/terms",
            [("terms.fl", "body_w"), ("terms.prefix", text), ("terms.sort", "count"), ("terms.limit", str(limit * 4)),
             ("terms.mincount", "1"), ("wt", "json"), ("json.nl", "arrarr")],
        )  # fmt: skip
        words = [(str(w), int(c)) for w, c in ((terms.get("terms") or {}).get("body_w") or [])]
        words = [(w, c) for w, c in words if len(w) > 1 or w == text]
        for word, _count in sorted(words, key=lambda wc: (-wc[1], wc[0])):
            add(word, "word")
    return out

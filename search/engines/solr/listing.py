"""The Solr engine's listings: pages (browse by issue), a page's articles, a whole result set, the
vocabulary and word counts that did-you-mean reads, and the timeline's histogram.

The same plain data as :mod:`search.engines.embedded.listing` and
:func:`search.engines.embedded.facets.histogram`, from Solr requests: grouping by ``source`` for the
pages, the JSON Facet API for names and the histogram, the terms component for words.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from search.analysis import CJK_RUN
from search.engines.solr.client import SolrClient
from search.engines.solr.compile import compile_search, phrase
from search.engines.solr.counts import plan_query
from search.query.histogram import month_view_year
from search.engines.solr.documents import ARTICLE, document_to_article
from search.model import Article
from search.query.filters import SORTS, QueryError, check_filters

#: What a page file's listing says about each of its articles (as the embedded engine's listing).
_PAGE_ROW_FIELDS = ("id", "position", "title", "kicker", "subtitle", "kind", "date", "reporters", "lead", "chars")
_MAX_PAGES = 100_000  # page files listed by /browse (one group each)
_MAX_PAGE_ARTICLES = 10_000
_EXPORT_PAGE = 500
_SORT = {"relevance": "score desc,date_lo desc,ord asc,id asc", "newest": "date_lo desc,ord asc,id asc",
         "oldest": "date_lo asc,ord asc,id asc"}  # fmt: skip
#: Name facets whose values make the vocabulary, with the type each entry is given; headline words
#: come from the terms component (``title_w``), as the embedded engine reads its ``title`` field.
_VOCABULARY_FACETS = (("place", "place"), ("person", "person"), ("org", "org"), ("reporter", "reporter"))

#: The histogram's facet request: years, and months inside each year (values as written: "2024", "11").
HISTOGRAM_FACET = {
    "type": "terms", "field": "f_year", "limit": -1, "mincount": 1, "refine": True,
    "facet": {"months": {"type": "terms", "field": "f_month", "limit": -1, "mincount": 1, "refine": True}},
}  # fmt: skip


def histogram(answer: Mapping[str, Any], total: int, selected: Mapping[str, set[str]], span: tuple[int, int] | None) -> dict[str, Any]:
    """The timeline from a search answer carrying :data:`HISTOGRAM_FACET` (as ``__histogram``):
    matching articles per year, or per month when the selection lies within one year; the same
    shape and rules as the embedded engine's."""
    years: dict[int, tuple[int, dict[int, int]]] = {}
    for bucket in ((answer.get("facets") or {}).get("__histogram") or {}).get("buckets", []):
        try:
            year = int(bucket["val"])
        except (TypeError, ValueError):
            continue
        months = {}
        for month_bucket in (bucket.get("months") or {}).get("buckets", []):
            try:
                months[int(month_bucket["val"])] = int(month_bucket["count"])
            except (TypeError, ValueError):
                continue
        years[year] = (int(bucket["count"]), months)
    dated = sum(count for count, _months in years.values())
    undated = max(0, total - dated)
    one_year = month_view_year(selected, span, years)
    if one_year is not None:
        count, months = years.get(one_year, (0, {}))
        undated += count - sum(months.get(m, 0) for m in range(1, 13))  # dated to the year only
        buckets = [{"value": f"{one_year:04d}-{m:02d}", "count": months.get(m, 0)} for m in range(1, 13)]
        return {"unit": "month", "year": one_year, "buckets": buckets, "undated": undated}
    if not years:
        return {"unit": "year", "year": None, "buckets": [], "undated": undated}
    first, last = min(years), max(years)
    buckets = [{"value": f"{year:04d}", "count": years.get(year, (0, {}))[0]} for year in range(first, last + 1)]
    return {"unit": "year", "year": None, "buckets": buckets, "undated": undated}


def list_pages(client: SolrClient, collection: str) -> list[dict[str, Any]]:
    """Every page file indexed, newest first (undated last), then by file name (one grouped request)."""
    answer = client.post_form(
        f"{collection}/select",
        [("q", "*:*"), ("fq", f"doc_type:{ARTICLE}"), ("group", "true"), ("group.field", "source"), ("group.limit", "1"),
         ("group.sort", "ord asc"), ("rows", str(_MAX_PAGES)), ("fl", "article"), ("wt", "json")],
    )  # fmt: skip
    groups = (((answer.get("grouped") or {}).get("source") or {}).get("groups")) or []
    pages = []
    for group in groups:
        docs = (group.get("doclist") or {}).get("docs") or []
        if not docs:
            continue
        article = document_to_article(docs[0])
        pages.append(
            {
                "source": article.source,
                "date": article.date,
                "paper": article.paper,
                "page": article.page,
                "section": article.section,
                "articles": int((group.get("doclist") or {}).get("numFound", 0)),
            }
        )
    pages.sort(key=lambda p: p["source"])
    pages.sort(key=lambda p: (p["date"] is None, "" if p["date"] is None else _negated(p["date"])))
    return pages


def _negated(date: str) -> str:
    """A sort key that orders ISO dates newest first (as the embedded engine orders them)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date)


def page_articles(client: SolrClient, collection: str, source: str) -> list[dict[str, Any]]:
    """The articles of one page file in page order, each with its headline parts."""
    if not isinstance(source, str) or not source:
        return []
    answer = client.post_form(
        f"{collection}/select",
        [("q", f"source:{phrase(source)}"), ("fq", f"doc_type:{ARTICLE}"), ("sort", "ord asc,id asc"),
         ("rows", str(_MAX_PAGE_ARTICLES)), ("fl", "article"), ("wt", "json")],
    )  # fmt: skip
    rows = []
    for doc in (answer.get("response") or {}).get("docs", []):
        data = document_to_article(doc).to_dict()
        rows.append({name: _plain(data.get(name), name) for name in _PAGE_ROW_FIELDS})
    rows.sort(key=lambda row: (row["position"] or 0, row["id"] or ""))
    return rows


def _plain(value: Any, name: str) -> Any:
    if name == "reporters":
        return list(value or [])
    if name in ("title", "kicker", "subtitle", "lead"):
        return value or ""
    return value


def matching_articles(
    client: SolrClient, collection: str, q: str, filters: Mapping[str, Sequence[str]] | None = None, sort: str = "relevance"
) -> Iterator[Article]:
    """Every article the search ``q`` + ``filters`` finds (not one page of it), in result order.

    Parameters are checked before the first request; pages of results are then read with Solr's
    cursor (the order of a whole result set does not take the proximity re-scoring of the best 100,
    which only reorders the first page of a relevance search).
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    selected, span = check_filters(filters)
    plan, _relaxation = plan_query(client, collection, q)
    compiled = compile_search(plan, selected, span, 0, relevance=False)
    return cursor_articles(client, collection, compiled.params(), _SORT[sort])


def cursor_articles(client: SolrClient, collection: str, params: list[tuple[str, str]], sort: str) -> Iterator[Article]:
    """Every article a query's ``params`` find, in ``sort`` order, read page by page with Solr's cursor."""
    cursor = "*"
    while True:
        answer = client.post_form(
            f"{collection}/select",
            params + [("sort", sort), ("rows", str(_EXPORT_PAGE)), ("fl", "article"), ("cursorMark", cursor), ("wt", "json")],
        )
        for doc in (answer.get("response") or {}).get("docs", []):
            yield document_to_article(doc)
        following = answer.get("nextCursorMark")
        if not following or following == cursor:
            return
        cursor = following


def vocabulary(client: SolrClient, collection: str) -> list[dict[str, Any]]:
    """Chinese names and headline words of 2–12 characters: ``[{"text", "count", "type"}]`` (``count``:
    articles holding it; names win over words for the type)."""
    facets = {
        name: {"type": "terms", "field": f"n_{name}", "limit": -1, "mincount": 1, "refine": True}
        for name, _kind in _VOCABULARY_FACETS
    }
    answer = client.post_form(
        f"{collection}/select",
        [("q", "*:*"), ("fq", f"doc_type:{ARTICLE}"), ("rows", "0"), ("json.facet", json.dumps(facets)), ("wt", "json")],
    )
    counts: dict[str, list[Any]] = {}

    def add(text: str, count: int, kind: str) -> None:
        if len(text) < 2 or len(text) > 12 or not CJK_RUN.fullmatch(text):
            return
        entry = counts.get(text)
        if entry is None:
            counts[text] = [count, kind]
        else:
            entry[0] = max(entry[0], count)
            if entry[1] == "word" and kind != "word":
                entry[1] = kind

    for name, kind in _VOCABULARY_FACETS:
        for bucket in ((answer.get("facets") or {}).get(name) or {}).get("buckets", []):
            add(str(bucket["val"]), int(bucket["count"]), kind)
    terms = client.post_form(
        f"{collection}/terms",
        [("terms.fl", "title_w"), ("terms.limit", "-1"), ("terms.mincount", "1"), ("terms.sort", "index"),
         ("wt", "json"), ("json.nl", "arrarr")],
    )  # fmt: skip
    for word, count in (terms.get("terms") or {}).get("title_w") or []:
        add(str(word), int(count), "word")
    return [{"text": text, "count": df, "type": kind} for text, (df, kind) in counts.items()]


def term_counts(client: SolrClient, collection: str, words: Sequence[str]) -> dict[str, int]:
    """How many articles hold each word as a word in the body: ``{word: count}``, zeros left out."""
    wanted = [w for w in dict.fromkeys(words) if w and "," not in w][:5000]
    if not wanted:
        return {}
    terms = client.post_form(
        f"{collection}/terms",
        [("terms.fl", "body_w"), ("terms.list", ",".join(wanted)), ("terms.ttf", "false"), ("wt", "json"), ("json.nl", "arrarr")],
    )
    counts = {}
    for word, count in (terms.get("terms") or {}).get("body_w") or []:
        if int(count):
            counts[str(word)] = int(count)
    return counts

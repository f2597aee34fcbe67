"""The embedded engine's listings: pages (browse by issue), a page's articles, a whole result set.

Every answer is plain data (see :mod:`search.engines.base`); nothing here ranks a page of results
with snippets: that is :mod:`search.engines.embedded.search`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from search.engines.embedded.doctable import doc_table
from search.engines.embedded.facets import filter_and_count
from search.engines.embedded.matching import Matcher, rank
from search.engines.embedded.search import match_plan, plan_query
from search.engines.embedded.schema import document_to_article
from search.model import Article
from search.query.filters import SORTS, QueryError, check_filters

#: What a page file's listing says about each of its articles.
_PAGE_ROW_FIELDS = ("id", "position", "title", "kicker", "subtitle", "kind", "date", "reporters", "lead", "chars")


def list_pages(searcher: Any) -> list[dict[str, Any]]:
    """Every page file indexed: ``[{"source", "date", "paper", "page", "section", "articles"}]``,
    newest first (undated last), then by file name."""
    table = doc_table(searcher)
    column = table.facets["source"]
    counts = column.counts(np.ones(table.size, dtype=bool))
    first_row: dict[int, int] = {}
    for row, value_id in zip(column.rows.tolist(), column.ids.tolist()):
        first_row.setdefault(value_id, row)
    pages = []
    for value_id, row in first_row.items():
        stored = searcher.stored_fields(int(table.docnums[row]))
        pages.append(
            {
                "source": column.values[value_id],
                "date": stored.get("date"),
                "paper": stored.get("paper"),
                "page": stored.get("page"),
                "section": stored.get("section"),
                "articles": int(counts[value_id]),
            }
        )
    pages.sort(key=lambda p: p["source"])
    pages.sort(key=lambda p: (p["date"] is None, "" if p["date"] is None else _negated(p["date"])))
    return pages


def _negated(date: str) -> str:
    """A sort key that orders ISO dates newest first (``"2024-11"`` after ``"2024-11-22"``)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date)


def page_articles(searcher: Any, source: str) -> list[dict[str, Any]]:
    """The articles of one page file in page order (position), each with its headline parts."""
    if not isinstance(source, str) or not source:
        return []
    rows = []
    live = doc_table(searcher).row_of
    for docnum in searcher.document_numbers(source=source):
        if docnum >= len(live) or live[docnum] < 0:
            continue  # deleted
        stored = searcher.stored_fields(docnum)
        rows.append({name: _plain(stored.get(name), name) for name in _PAGE_ROW_FIELDS})
    rows.sort(key=lambda row: (row["position"] or 0, row["id"] or ""))
    return rows


def _plain(value: Any, name: str) -> Any:
    if name in ("reporters",):
        return list(value or [])
    if name in ("title", "kicker", "subtitle", "lead"):
        return value or ""
    return value


def matching_docnums(
    searcher: Any, q: str, filters: Mapping[str, Sequence[str]] | None = None, sort: str = "relevance"
) -> list[int]:
    """Document numbers of every article the search ``q`` + ``filters`` finds (not one page of it),
    in result order."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    selected, span = check_filters(filters)
    table = doc_table(searcher)
    matcher = Matcher(searcher, table)
    matched, plan, _relaxation = match_plan(matcher, plan_query(searcher, q))  # the same reading as the search
    passing, _facets = filter_and_count(table, matched, selected, span, 0)
    rows = np.flatnonzero(passing)
    scores = matcher.scores(plan.clauses, plan.runs, passing) if sort == "relevance" else None
    ranking = rank(table, rows, scores, sort, len(rows), functools.partial(matcher.rescore, plan.clauses, plan.runs))
    return [int(table.docnums[row]) for row in ranking.rows.tolist()]


def articles_of(searcher: Any, docnums: Sequence[int]) -> Iterator[Article]:
    """The stored articles of ``docnums``, in that order."""
    for docnum in docnums:
        yield document_to_article(searcher.stored_fields(docnum))

"""The embedded engine's listings: pages (browse by issue), a page's articles, a whole result set,
and the vocabulary (words and names with their document counts) that did-you-mean reads.

Every answer is plain data (see :mod:`search.engines.base`); nothing here ranks a page of results
with snippets: that is :mod:`search.engines.embedded.search`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from search.analysis import CJK_RUN
from search.engines.embedded.doctable import PerSearcher, doc_table
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


#: Fields whose terms make the vocabulary, and the name each kind of entry is given. Headline words,
#: not body words: an archive's frequent words all appear in some headline, and the body field holds
#: ten times as many terms (reading them all cost ~2.5 s per 1,000 articles).
_VOCABULARY_FIELDS = (("place", "place"), ("person", "person"), ("org", "org"), ("reporter", "reporter"),
                      ("title", "word"))  # fmt: skip


def _vocabulary(searcher: Any) -> list[dict[str, Any]]:
    # Segment by segment: a MultiReader merges every term's infos across segments in Python, which
    # cost 150 µs a term (1.7 s at 50,000 articles) against 18 µs from each segment's own terms.
    frequencies: dict[str, dict[str, int]] = {name: {} for name, _kind in _VOCABULARY_FIELDS}  # summed over segments
    for reader, _offset in searcher.reader().leaf_readers():
        for fieldname, _kind in _VOCABULARY_FIELDS:
            if fieldname not in reader.schema:
                continue
            field_counts = frequencies[fieldname]
            for term, info in reader.iter_field(fieldname):
                text = term.decode("utf-8") if isinstance(term, bytes) else str(term)
                if len(text) < 2 or len(text) > 12 or not CJK_RUN.fullmatch(text):
                    continue
                field_counts[text] = field_counts.get(text, 0) + info.doc_frequency()
    counts: dict[str, list[Any]] = {}
    for fieldname, kind in _VOCABULARY_FIELDS:  # a name's kind wins over "word"; the count is the largest
        for text, df in frequencies[fieldname].items():
            entry = counts.get(text)
            if entry is None:
                counts[text] = [df, kind]
            else:
                entry[0] = max(entry[0], df)
                if entry[1] == "word" and kind != "word":
                    entry[1] = kind
    return [{"text": text, "count": df, "type": kind} for text, (df, kind) in counts.items()]


_vocabularies = PerSearcher(_vocabulary)


def vocabulary(searcher: Any) -> list[dict[str, Any]]:
    """Chinese names and headline words of 2–12 characters in the index: ``[{"text", "count", "type"}]``
    (``count``: articles holding it in that field; ``type``: word, place, person, org, reporter).
    Cached per searcher."""
    return _vocabularies(searcher)

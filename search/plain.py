"""The plain approach every jieba + Whoosh tutorial shows: the baseline our engine is measured against.

jieba's own ``ChineseAnalyzer`` on one Whoosh TEXT field holding title and body, an ID field,
default writer settings, one process; queries parsed by Whoosh's ``QueryParser`` on that field
(its default: all terms required) and ranked by Whoosh's BM25F. ``bench/`` times its build, and :mod:`search.evaluation` and ``bench/known_item.py`` rank the same queries
with it. Nothing else uses it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from search.model import Article


def _schema() -> Any:
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # dictionary loading is not indexing: keep it out of the timing
    return fields.Schema(id=fields.ID(stored=True, unique=True), content=fields.TEXT(stored=True, analyzer=ChineseAnalyzer()))


def build_plain_index(articles: Iterable[Article], index_dir: Path) -> float:
    """Index ``articles`` the plain way into ``index_dir``; return the seconds it took."""
    from whoosh import index

    schema = _schema()
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer()
    for article in articles:
        writer.add_document(id=article.id, content=f"{article.title}\n{article.body}")
    writer.commit()
    return time.perf_counter() - started


class PlainSearcher:
    """Queries against a plain index: ``QueryParser("content")`` and Whoosh's default BM25F."""

    def __init__(self, index_dir: Path) -> None:
        from whoosh import index
        from whoosh.qparser import QueryParser

        self._ix = index.open_dir(str(index_dir))
        self._searcher = self._ix.searcher()
        self._parser = QueryParser("content", self._ix.schema)

    def search(self, q: str, limit: int = 10) -> list[str]:
        """The ids of the top ``limit`` articles for ``q`` (empty when the parser finds nothing to search)."""
        query = self._parser.parse(q)
        return [hit["id"] for hit in self._searcher.search(query, limit=limit)]

    def close(self) -> None:
        """Close the searcher and the index."""
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> "PlainSearcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

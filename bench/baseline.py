"""The plain approach every Whoosh + jieba tutorial shows, measured as the baseline.

jieba's own ``ChineseAnalyzer`` on one Whoosh TEXT field holding title and body, an ID field,
default writer settings, one process. This is what our engine is compared with (DESIGN §10).
"""

from __future__ import annotations

import time
from pathlib import Path

from search.model import Article


def build_plain_index(articles: list[Article], index_dir: Path) -> float:
    """Index ``articles`` the plain way into ``index_dir``; return the seconds it took."""
    import logging

    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # dictionary loading is not indexing: keep it out of the timing
    schema = fields.Schema(id=fields.ID(stored=True, unique=True), content=fields.TEXT(stored=True, analyzer=ChineseAnalyzer()))
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer()
    for article in articles:
        writer.add_document(id=article.id, content=f"{article.title}\n{article.body}")
    writer.commit()
    return time.perf_counter() - started

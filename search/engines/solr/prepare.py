"""Solr documents for a full build, prepared on every core.

Solr does the indexing, but the analysis is ours: inferring each article's metadata (a tagging pass
over its text) and segmenting its headline and body cost far more Python time than sending the
documents. A full build therefore reads the seed files without metadata (the embedded engine's
reader pool, :func:`search.engines.embedded.bulk.read_files`) and hands batches of articles to a
pool of forked workers that infer the metadata and build the documents; batches come back in order.
Workers die with their parent (Linux ``PR_SET_PDEATHSIG``), so a killed build leaves no orphans.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from search.engines.solr.documents import article_to_document
from search.ingest.sources import add_metadata
from search.ingest.workers import die_with_parent
from search.model import Article

#: Articles per batch handed to a worker (and documents per update request).
BATCH = 250


def documents_of(articles: Sequence[Article], with_metadata: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Solr documents of ``articles`` (inferring their metadata first unless they have it), and the
    problems met: an article whose metadata cannot be inferred is indexed without it."""
    problems = []
    if not with_metadata:
        for article in articles:
            try:
                add_metadata(article)
            except Exception as error:  # noqa: BLE001 - one odd text must not lose the others
                problems.append(f"{article.source}: metadata of article {article.id} not inferred ({type(error).__name__}: {error})")
    return [article_to_document(article) for article in articles], problems


def _prepare(batch: Sequence[Article]) -> tuple[list[dict[str, Any]], list[str]]:
    return documents_of(batch, with_metadata=False)


def _batches(articles: Iterable[Article]) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def prepared_documents(articles: Iterable[Article], processes: int) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
    """Documents (and problems) for articles read without metadata, batch by batch in order, on
    ``processes`` workers (in this process when that is 1)."""
    if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_prepare, _batches(articles))
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=die_with_parent) as pool:
        yield from pool.imap(_prepare, _batches(articles), chunksize=1)

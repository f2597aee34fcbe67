"""The embedded engine: Whoosh segments in ``index_data/``, with our own columns beside them.

Write side: :mod:`.schema` (fields and the Article ⇄ document mapping), :mod:`.tokenizer` (the
Whoosh tokenizer over :mod:`search.analysis`), :mod:`.writer` (a segment writer that groups postings
by term), :mod:`.bulk` (full builds on every core), :mod:`.indexer` (manifest, generations, lock,
incremental runs, crash safety).

Read side: :mod:`.doctable` (per-searcher numpy columns and text buffers), :mod:`.matching` (units →
matching rows and BM25F), :mod:`.facets` (filters and facet counts), :mod:`.search` (results, articles,
related, suggestions), :mod:`.engine` (:class:`~.engine.EmbeddedEngine`, the searcher cache).

Indexes are opened through :func:`.inplace.open_dir`: Whoosh's compound segments read in place rather
than copied into each process.
"""

"""Search engines behind one seam (:mod:`search.engines.base`).

- :mod:`search.engines.embedded`: Whoosh in a local index directory, the default; needs no server.
- :mod:`search.engines.solr`: a SolrCloud collection (behind an alias), for archives beyond one machine.

:func:`open_engine` picks one by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.engines.base import Engine

BACKENDS = ("embedded", "solr")


def open_engine(
    backend: str = "embedded",
    *,
    index_dir: str | Path = "index_data",
    solr: str | None = None,
    collection: str | None = None,
    **options: Any,
) -> Engine:
    """The engine called ``backend``.

    ``embedded``: the Whoosh index in ``index_dir``. ``solr``: the collection (alias) ``collection``
    of the SolrCloud cluster at ``solr`` (node URLs, comma-separated), with local state kept in
    ``index_dir/solr-<collection>`` (or ``state_dir=``).
    """
    if backend == "embedded":
        from search.engines.embedded.engine import EmbeddedEngine

        return EmbeddedEngine(index_dir)
    if backend == "solr":
        from search.engines.solr.engine import SolrEngine, default_state_dir

        if not solr:
            raise ValueError("the solr backend needs the cluster's URL: --solr URL or NEWSEARCH_SOLR")
        name = collection or "news"
        state_dir = options.get("state_dir") or default_state_dir(index_dir, name)
        return SolrEngine(solr, name, state_dir)
    raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")

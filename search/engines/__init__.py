"""Search engines behind one seam (:mod:`search.engines.base`).

- :mod:`search.engines.embedded`: Whoosh in a local index directory, the default; needs no server.

:func:`open_engine` picks one by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.engines.base import Engine

BACKENDS = ("embedded",)


def open_engine(backend: str = "embedded", *, index_dir: str | Path = "index_data", **options: Any) -> Engine:
    """The engine called ``backend`` (``embedded``: the Whoosh index in ``index_dir``)."""
    if backend == "embedded":
        from search.engines.embedded.engine import EmbeddedEngine

        return EmbeddedEngine(index_dir)
    raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")

"""The one :class:`search.api.Archive` an app uses, and the engine's error types.

``web/`` talks to an engine only through ``search.api`` (never Whoosh, Solr or ``search.engines``).
"""

from __future__ import annotations

from flask import Flask, current_app

from search.api import Archive, QueryError

EXTENSION = "newsearch.archive"


def init_app(app: Flask) -> None:
    """Attach an :class:`Archive` over ``app.config["INDEX_DIR"]`` (or the backend the config names),
    opened lazily, so a missing index is reported per request as a 503 and picked up once it is built."""
    app.extensions[EXTENSION] = Archive(
        app.config["INDEX_DIR"],
        backend=app.config.get("BACKEND") or "embedded",
        solr=app.config.get("SOLR_URL"),
        collection=app.config.get("COLLECTION"),
    )


def get_archive() -> Archive:
    """The current app's Archive."""
    return current_app.extensions[EXTENSION]


def query_error_types() -> tuple[type[Exception], ...]:
    """Exceptions meaning "bad search parameters" (HTTP 400)."""
    return (QueryError,)


def warm_up(app: Flask) -> None:
    """Do the one-time work of ``app``'s first search now (see :meth:`search.api.Archive.warm_up`)."""
    app.extensions[EXTENSION].warm_up()

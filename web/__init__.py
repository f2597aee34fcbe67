"""新闻检索's web app: the search pages and their JSON twins (Flask, served by waitress).

``create_app`` follows Flask's tutorial factory: defaults from a mapping, then the test config; the
blueprints are registered inside the factory. The app reaches the index only through ``search.api``.

Routes (the README's "HTTP" section)::

    GET /                     landing page: search box, archive size, browse by place/reporter/year/kind
    GET /search?q=&place=…    results (pages.search)          GET /api/search   same dict as JSON
    GET /article/<id>?q=…     one article, terms marked       GET /api/article/<id>
    GET /api/suggest?q=       completions for the search box  GET /healthz
    GET /browse               page files by paper and date    GET /api/browse
    GET /browse/<source>      one page file's articles        GET /api/browse/<source>
    GET /export.csv?q=…       the whole result set as CSV     GET /export.jsonl?q=…  as JSON Lines

Modules: ``params`` (the URL state: parse, validate → 400, build links), ``views`` (one plain dict per
view, rendered by ``pages`` and served by ``api``), ``timeline`` (the results' bar chart), ``export`` (downloads), ``highlight`` (marked segments; the snippet filter
that lets only ``<mark>`` through), ``labels`` (Chinese labels), ``errors`` (400/404/405/503/500 as pages
or JSON), ``security`` (CSP and other headers on every response), ``archive`` (the app's one Archive).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(
    test_config: Mapping[str, Any] | None = None, index_dir: str | Path | None = None, backend: Any = None
) -> Flask:
    """Build the app.

    ``index_dir`` (or ``test_config["INDEX_DIR"]``) names the index; the default is
    ``$NEWSEARCH_INDEX`` or ``./index_data``. ``backend`` (a :class:`search.settings.BackendSettings`;
    by default from ``NEWSEARCH_BACKEND`` / ``NEWSEARCH_SOLR`` / ``NEWSEARCH_COLLECTION`` or
    ``newsearch.toml``) says where the archive lives — or ``test_config["BACKEND"]``, ``["SOLR_URL"]``,
    ``["COLLECTION"]``. The pages do not depend on it. A missing index is not an error here: pages
    answer 503 with instructions until ``newsearch index`` has built one.
    """
    from search.settings import from_environment

    settings = backend if backend is not None else from_environment()
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=str(index_dir) if index_dir is not None else os.environ.get("NEWSEARCH_INDEX", "index_data"),
        BACKEND=settings.backend,
        SOLR_URL=settings.solr,
        COLLECTION=settings.collection,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from web import api, archive, errors, export, pages, params, security, templating

    archive.init_app(app)
    params.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(export.bp)
    return app

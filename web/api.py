"""The JSON twins of the pages (``/api/…``) and the health check. Same dicts as the HTML pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from werkzeug.wrappers import Response

from web import views
from web.archive import get_archive
from web.params import parse_state, parse_state_leniently

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> Response:
    """The search JSON for the same parameters as ``/search``, with links to the JSON twins."""
    state = parse_state(request.args)
    return jsonify(views.search_view(state, endpoint="api.search"))


@bp.get("/api/article/<article_id>")
def article(article_id: str) -> Response:
    """Every field of one article, its marked paragraphs and related articles; 404 JSON if unknown."""
    state = parse_state_leniently(request.args)
    data = views.article_view(article_id, state) if len(article_id) <= 200 else None
    if data is None:
        abort(404, description=f"没有编号为“{article_id[:40]}”的文章。")
    return jsonify(data)


@bp.get("/api/browse")
def browse() -> Response:
    """Papers and dates with their page files (the twin of ``/browse``)."""
    return jsonify(views.browse_view())


@bp.get("/api/browse/<source>")
def browse_page(source: str) -> Response:
    """One page file's articles in page order (the twin of ``/browse/<source>``); 404 JSON if unknown."""
    data = views.page_view(source) if len(source) <= 200 else None
    if data is None:
        abort(404, description=f"档案中没有名为“{source[:60]}”的版面文件。")
    return jsonify(data)


@bp.get("/api/suggest")
def suggest() -> Response:
    """Completions for ``q``: ``{"query", "suggestions": [{"text", "type", "url"}]}``."""
    return jsonify(views.suggest_view(request.args.get("q", "") or ""))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """``{"status": "ok"}`` when an index is present, 503 otherwise (cheap: the embedded engine reads
    its pointer only, Solr answers one alias look-up)."""
    present = get_archive().exists()
    body: dict[str, Any] = {"status": "ok" if present else "index missing", "index": present}
    return jsonify(body), 200 if present else 503

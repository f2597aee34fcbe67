"""The JSON twins of the pages (``/api/…``) and the health check. Same dicts as the HTML pages."""

from __future__ import annotations

import time
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


#: Seconds a real search done by /healthz is trusted (the cheap checks run on every call).
HEALTH_TTL = 5.0


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """``{"status": "ok", "index": true, "articles": N}`` when the current index answers a real search,
    503 otherwise (no index, a damaged one, or searches failing).

    Every call checks that the index is there and its open files unchanged (a few ``stat`` calls);
    the real search (everything, one row) runs at most every :data:`HEALTH_TTL` seconds.
    """
    from flask import current_app

    from search.api import IndexDamaged, IndexMissing

    archive = get_archive()
    cache = current_app.extensions.setdefault("newsearch.health", {})
    body: dict[str, Any]
    try:
        archive.check()
        now = time.monotonic()
        if now - cache.get("at", float("-inf")) > HEALTH_TTL:
            cache["articles"] = archive.search("", limit=1).total
            cache["at"] = now
        return jsonify({"status": "ok", "index": True, "articles": cache["articles"]}), 200
    except IndexDamaged as error:
        cache.clear()
        body = {"status": "index damaged", "index": False, "message": str(error)}
    except IndexMissing:
        cache.clear()
        body = {"status": "index missing", "index": False}
    except Exception as error:  # noqa: BLE001 - a health check reports failure, it does not fail
        cache.clear()
        current_app.logger.exception("health check: a search failed")
        body = {"status": "search failing", "index": True, "message": f"{type(error).__name__}"}
    return jsonify(body), 503

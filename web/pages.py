"""The HTML pages: the landing page, results, articles. Each renders one dict from :mod:`web.views`."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web import views
from web.params import parse_state, parse_state_leniently

bp = Blueprint("pages", __name__)

MAX_ID_CHARS = 200


@bp.get("/")
def index() -> str | Response:
    """The landing page; a query string sent here (an old link, a bookmarklet) goes to /search."""
    if request.args:
        state = parse_state(request.args)
        if not state.is_empty:
            return redirect(views.search_url(state))
    return render_template("home.html", view=views.home_view(), state=parse_state(request.args))


@bp.get("/search")
def search() -> str:
    """Ranked, highlighted results with facets; the whole state is in the query string."""
    state = parse_state(request.args)
    if state.is_empty:
        return render_template("home.html", view=views.home_view(), state=state)
    return render_template("search.html", view=views.search_view(state), state=state)


@bp.get("/article/<article_id>")
def article(article_id: str) -> str:
    """One article, its search terms marked when reached from a search (``?q=…``)."""
    state = parse_state_leniently(request.args)
    data = views.article_view(article_id, state) if len(article_id) <= MAX_ID_CHARS else None
    if data is None:
        abort(404, description=f"没有编号为“{article_id[:40]}”的文章。它可能已从档案中删除，或者链接有误。")
    return render_template("article.html", view=data, state=state)


@bp.get("/browse")
def browse() -> str:
    """Papers and dates with their page files: browse the archive issue by issue."""
    return render_template("browse.html", view=views.browse_view(), state=parse_state_leniently(request.args))


@bp.get("/browse/<source>")
def browse_page(source: str) -> str:
    """One page file as printed: its articles in page order, with their headlines."""
    data = views.page_view(source) if len(source) <= MAX_ID_CHARS else None
    if data is None:
        abort(404, description=f"档案中没有名为“{source[:60]}”的版面文件。")
    return render_template("page.html", view=data, state=parse_state_leniently(request.args))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says; point them at the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)

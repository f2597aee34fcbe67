"""One plain dict per view: the HTML templates render it, the /api routes serve it as JSON.

Datasette's rule: anything the page shows is in its JSON twin. The search dict is the search shape
(``query``, ``total``, ``page``, ``limit``, ``sort``, ``filters``, ``took_ms``, ``results``, ``facets``)
with links added: each row's ``url``, each facet value's ``label``/``selected``/``toggle_url``, the
active filters with ``remove_url``, sort options, pagination, and alternatives when nothing matched.
Links point at the HTML pages (``endpoint="pages.search"``) or the JSON API (``"api.search"``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import url_for

from search.api import SearchHit, SearchResponse
from web.archive import get_archive, query_error_types
from web.highlight import mark_segments, paragraphs
from web.labels import FACETS, date_label, kind_label, value_label
from web.params import DEFAULT_FACET_SIZE, LIMIT_CHOICES, MAX_FACET_SIZE, MORE_FACET_SIZE, ParamError, SearchState
from web.timeline import timeline

MAX_ALTERNATIVES = 6
#: Articles one download from the results page holds at most (the CLI's export has no cap).
EXPORT_MAX_ROWS = 10_000
HOME_FACETS = ("place", "reporter", "year", "kind")
HOME_FACET_SIZE = 8


# ---------------------------------------------------------------------------------------------
# URLs


def search_url(state: SearchState, endpoint: str = "pages.search") -> str:
    """The URL of ``state`` on the results page (or on ``/api/search``)."""
    query = state.query_string()
    return url_for(endpoint) + (f"?{query}" if query else "")


def article_url(article_id: str, state: SearchState | None = None, endpoint: str = "pages.article") -> str:
    """An article's URL, carrying the search it was reached from (for highlighting and the way back)."""
    query = state.query_string() if state is not None else ""
    return url_for(endpoint, article_id=article_id) + (f"?{query}" if query else "")


def _row(hit: SearchHit | dict[str, Any], state: SearchState | None) -> dict[str, Any]:
    row = hit.to_dict() if isinstance(hit, SearchHit) else dict(hit)
    row["url"] = article_url(row["id"], state)
    row["json_url"] = article_url(row["id"], state, endpoint="api.article")
    return row


# ---------------------------------------------------------------------------------------------
# Search


def run_search(state: SearchState, **overrides: Any) -> SearchResponse:
    """``Archive.search`` for ``state``; engine parameter errors become :class:`ParamError` (400)."""
    options = {
        "q": state.q,
        "filters": state.engine_filters(),
        "sort": state.sort,
        "page": state.page,
        "limit": state.limit,
        # One more than shown: whether a facet has more values costs nothing (Datasette's trick).
        "facet_size": min(state.facet_size, MAX_FACET_SIZE) + 1,
    }
    options.update(overrides)
    try:
        return get_archive().search(**options)
    except query_error_types() as error:
        message, param = chinese_query_error(str(error))
        raise ParamError(message, param) from error


_ENGINE_ERRORS = (
    (re.compile(r"bad year '?(.*?)'?: "), "year", "年份应为四位数字，收到的是“{0}”。"),
    (re.compile(r"bad month '?(.*?)'?: "), "month", "月份应为 1 到 12 之间的整数，收到的是“{0}”。"),
    (re.compile(r"bad kind '?(.*?)'?: "), "kind", "体裁应为 news（消息）、photo（图片新闻）或 feature（通讯·特写），收到的是“{0}”。"),
    (re.compile(r"bad date range"), "from", "起始日期晚于截止日期。"),
    (re.compile(r"bad date '?(.*?)'?: "), None, "日期格式应为 年、年-月 或 年-月-日，收到的是“{0}”。"),
    (re.compile(r"unknown filter '?(.*?)'?: "), None, "未知的筛选项“{0}”。"),
    (re.compile(r"unknown sort '?(.*?)'?: "), "sort", "未知的排序方式“{0}”。"),
    (re.compile(r"bad (page|limit|facet_size) '?(.*?)'?: "), None, "参数 {0} 的取值“{1}”无效。"),
)


def chinese_query_error(message: str) -> tuple[str, str | None]:
    """An engine's parameter error (English, for the CLI and scripts) as the page's Chinese message,
    with the parameter it is about. The JSON twin keeps a stable English code (``bad_request``)."""
    for pattern, param, text in _ENGINE_ERRORS:
        match = pattern.match(message)
        if match:
            groups = [group[:20] for group in match.groups()]
            if param is None and pattern.pattern.startswith("bad (page"):
                param = groups[0]
            return text.format(*groups), param
    return "检索参数有误。", None


def search_view(state: SearchState, endpoint: str = "pages.search") -> dict[str, Any]:
    """The results page for ``state`` as plain data (the search shape's keys plus links)."""
    response = run_search(state)
    data = response.to_dict()
    data["results"] = [_row(hit, state) for hit in response.results]
    data["facets"], data["facet_more"] = _facets(response, state, endpoint)
    data["timeline"] = timeline(data.get("histogram"), state, endpoint, search_url)
    data["did_you_mean_url"] = search_url(state.copy(q=data["did_you_mean"], page=1), endpoint) if data.get("did_you_mean") else None
    data["per_page_options"] = [
        {"limit": n, "selected": n == state.limit, "url": search_url(state.copy(limit=n, page=1), endpoint)} for n in LIMIT_CHOICES
    ]
    export_query = state.copy(page=1, limit=10, facet_size=DEFAULT_FACET_SIZE).query_string()
    data["export"] = {
        "csv_url": url_for("export.results_csv") + (f"?{export_query}" if export_query else ""),
        "jsonl_url": url_for("export.results_jsonl") + (f"?{export_query}" if export_query else ""),
        "max_rows": EXPORT_MAX_ROWS,
        "capped": response.total > EXPORT_MAX_ROWS,
    }
    data["pages"] = response.pages
    data["highlight_terms"] = _highlight_terms(state.q)
    data["date_range"] = {"from": state.date_from or None, "to": state.date_to or None}
    data["active_filters"] = [
        {
            "param": chip["param"],
            "name": chip["name"],
            "value": chip["value"],
            "label": value_label(chip["param"], chip["value"]),
            "remove_url": search_url(chip["state"], endpoint),
        }
        for chip in state.active_filters()
    ]
    data["clear_filters_url"] = search_url(state.copy(filters={}, date_from="", date_to="", page=1), endpoint) if state.has_filters else None
    data["sort_options"] = [
        {"value": option["value"], "label": option["label"], "selected": option["selected"], "url": search_url(option["state"], endpoint)}
        for option in state.sort_options()
    ]
    data["pagination"] = _pagination(state, response.pages, endpoint)
    data["alternatives"] = _alternatives(state, endpoint) if response.total == 0 else []
    data["html_url"] = search_url(state, "pages.search")
    data["json_url"] = search_url(state, "api.search")
    return data


def _highlight_terms(q: str) -> list[str]:
    """The words of ``q`` to mark in titles and article text (empty on a bad query)."""
    if not q:
        return []
    try:
        return [str(term) for term in get_archive().highlight_terms(q)]
    except query_error_types():
        return []


def _facets(
    response: SearchResponse, state: SearchState, endpoint: str
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Datasette-style facets: each value with ``label``, ``selected`` and a server-built ``toggle_url``;
    and per facet whether it has more values than shown, with links to show more, all or fewer.

    Values selected in the URL but absent from the engine's list (beyond its top values) are kept, so
    they can be unselected from the sidebar as well as from the chips.
    """
    names = [name for name in FACETS if name in response.facets] + [name for name in response.facets if name not in FACETS]
    facets: dict[str, list[dict[str, Any]]] = {}
    more: dict[str, dict[str, Any]] = {}
    size = state.facet_size
    for name in names:
        listed = [value.to_dict() for value in response.facets[name]]
        tail = listed[size:]
        truncated = any(not state.is_selected(name, value["value"]) for value in tail)
        values = listed[:size] + [value for value in tail if state.is_selected(name, value["value"])]
        more[name] = {
            "truncated": truncated,
            "shown": size,
            "more_url": search_url(state.copy(facet_size=MORE_FACET_SIZE), endpoint) + f"#facet-{name}"
            if truncated and size < MORE_FACET_SIZE else None,
            "all_url": search_url(state.copy(facet_size=MAX_FACET_SIZE), endpoint) + f"#facet-{name}" if truncated else None,
            "fewer_url": search_url(state.copy(facet_size=DEFAULT_FACET_SIZE), endpoint) + f"#facet-{name}"
            if size > DEFAULT_FACET_SIZE and len(values) > DEFAULT_FACET_SIZE else None,
        }
        seen = {str(value["value"]) for value in values}
        for selected in state.filters.get(name, []):
            if selected not in seen:
                values.append({"value": selected, "count": 0})
        facets[name] = [
            {
                **value,
                "label": value_label(name, value["value"]),
                "selected": state.is_selected(name, value["value"]),
                "toggle_url": search_url(state.toggled(name, value["value"]), endpoint),
            }
            for value in values
        ]
    return facets, more


def _pagination(state: SearchState, pages: int, endpoint: str) -> dict[str, Any]:
    """Previous/next links and a window of page numbers (``None`` marks a gap)."""
    current = state.page
    wanted = {1, pages, *range(current - 2, current + 3)}
    numbers = sorted(n for n in wanted if 1 <= n <= pages)
    links: list[dict[str, Any] | None] = []
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append(None)
        links.append({"number": number, "url": search_url(state.copy(page=number), endpoint), "current": number == current})
        previous = number
    return {
        "prev_url": search_url(state.copy(page=current - 1), endpoint) if 1 < current <= pages + 1 else None,
        "next_url": search_url(state.copy(page=current + 1), endpoint) if current < pages else None,
        "links": links if pages > 1 else [],
        "beyond_last": current > pages,
        "last_url": search_url(state.copy(page=pages), endpoint),
    }


def _words(q: str) -> list[str]:
    return [word for word in re.split(r"\s+", q) if word and word.upper() != "OR"]


def _alternatives(state: SearchState, endpoint: str) -> list[dict[str, Any]]:
    """What to try when nothing matched: drop a filter, drop all filters, fewer words, completions.

    Each alternative is checked with a one-row search and offered only if it finds something.
    """
    candidates: list[tuple[str, str, SearchState]] = []
    chips = state.active_filters()
    for chip in chips:
        label = value_label(chip["param"], chip["value"])
        candidates.append(("drop_filter", f"去掉筛选“{chip['name']}：{label}”", chip["state"]))
    if len(chips) > 1:
        candidates.append(("drop_filters", "去掉全部筛选", state.copy(filters={}, date_from="", date_to="", page=1)))
    words = _words(state.q)
    if len(words) > 1:
        for word in words[:3]:
            candidates.append(("shorter_query", f"只搜“{word}”", state.copy(q=word, page=1)))
    elif len(state.q) > 2:
        try:
            completions = get_archive().suggest(state.q[:2], limit=3)
        except Exception:  # noqa: BLE001 - alternatives are a courtesy; the page must still render
            completions = []
        for item in completions:
            text = str(item.get("text", ""))
            if text and text != state.q:
                candidates.append(("shorter_query", f"试试“{text}”", state.copy(q=text, page=1)))
    alternatives: list[dict[str, Any]] = []
    for kind, label, candidate in candidates[: MAX_ALTERNATIVES + 2]:
        try:
            total = run_search(candidate, page=1, limit=1, facet_size=0, did_you_mean=False).total
        except ParamError:
            continue
        if total:
            alternatives.append({"kind": kind, "label": label, "total": total, "url": search_url(candidate, endpoint)})
        if len(alternatives) >= MAX_ALTERNATIVES:
            break
    return alternatives


# ---------------------------------------------------------------------------------------------
# Landing page, article, suggestions, health


def home_view() -> dict[str, Any]:
    """The landing page: archive size and the most common places, reporters and years to browse by
    (raises ``IndexMissing`` without an index)."""
    archive = get_archive()
    stats = archive.stats()
    empty = SearchState()
    browse: dict[str, list[dict[str, Any]]] = {}
    try:
        everything = archive.search("", limit=1)
    except query_error_types():
        everything = None
    if everything is not None:
        for name in HOME_FACETS:
            values = [value.to_dict() for value in everything.facets.get(name, [])][:HOME_FACET_SIZE]
            if values:
                browse[name] = [
                    {**value, "label": value_label(name, value["value"]), "url": search_url(empty.toggled(name, value["value"]))}
                    for value in values
                ]
    return {
        "stats": {key: stats.get(key) for key in ("articles", "pages", "last_build", "generation")},
        "browse": browse,
    }


def article_view(article_id: str, state: SearchState, api: bool = False) -> dict[str, Any] | None:
    """An article with every Article field, its body as marked paragraphs, related articles and the
    way back to the search it came from; ``None`` if there is no such article."""
    archive = get_archive()
    article = archive.article(article_id)
    if article is None:
        return None
    terms = _highlight_terms(state.q)
    data = article.to_dict()
    data["kind_label"] = kind_label(article.kind)
    data["headline_segments"] = {part: mark_segments(getattr(article, part) or "", terms) for part in ("kicker", "title", "subtitle")}
    data["paragraphs"] = paragraphs(article.body, terms)
    data["highlight_terms"] = terms
    data["query"] = state.q
    data["related"] = [_row(hit, state if state.q else None) for hit in archive.related(article_id)]
    data["back_url"] = search_url(state, "pages.search") if not state.is_empty else None
    data["html_url"] = article_url(article_id, state)
    data["json_url"] = article_url(article_id, state, endpoint="api.article")
    data["facet_urls"] = _article_facet_links(article.to_dict())
    data["page_url"] = page_url(article.source) + f"#a-{article.position}" if article.source else None
    return data


def _article_facet_links(article: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Links from an article's metadata to searches filtered by it (``reporter=孙庆辉`` …)."""
    empty = SearchState()
    fields = {"place": "places", "reporter": "reporters", "person": "people", "org": "orgs"}
    links: dict[str, list[dict[str, str]]] = {}
    for facet, key in fields.items():
        links[key] = [
            {"value": value, "url": search_url(empty.toggled(facet, value))} for value in article.get(key) or [] if value
        ]
    return links


def suggest_view(prefix: str) -> dict[str, Any]:
    """Completions for a typed prefix, each with a link to its search."""
    prefix = prefix.strip()[:50]
    items = get_archive().suggest(prefix) if prefix else []
    suggestions = []
    for item in items:
        text = str(item.get("text", ""))
        if not text:
            continue
        suggestions.append({"text": text, "type": str(item.get("type", "")), "url": search_url(SearchState(q=text))})
    return {"query": prefix, "suggestions": suggestions}


# ---------------------------------------------------------------------------------------------
# Browse by issue


def page_url(source: str, endpoint: str = "pages.browse_page") -> str:
    """The URL of one page file's listing (``/browse/<source>``)."""
    return url_for(endpoint, source=source)


def browse_view() -> dict[str, Any]:
    """Papers and dates, each with its page files (newest first): what ``/browse`` lists."""
    pages = get_archive().pages()
    papers: dict[str, dict[str, Any]] = {}
    for page in pages:
        paper = page.get("paper") or ""
        group = papers.setdefault(paper, {"paper": paper or None, "label": paper or "未注明报纸", "dates": {}})
        date = page.get("date") or ""
        day = group["dates"].setdefault(date, {"date": date or None, "label": date_label(date) if date else "日期不详", "pages": []})
        day["pages"].append(
            {
                **page,
                "url": page_url(page["source"]),
                "json_url": page_url(page["source"], "api.browse_page"),
                "search_url": search_url(SearchState(filters={"source": [page["source"]]})),
            }
        )
    groups = [{**group, "dates": list(group["dates"].values())} for group in papers.values()]
    return {"papers": groups, "pages": len(pages), "articles": sum(int(p.get("articles") or 0) for p in pages)}


def page_view(source: str) -> dict[str, Any] | None:
    """One page file's articles in page order with their headlines; ``None`` if it is not indexed."""
    archive = get_archive()
    articles = archive.page_articles(source)
    if not articles:
        return None
    info = next((page for page in archive.pages() if page["source"] == source), {"source": source})
    rows = []
    for article in articles:
        rows.append({**article, "kind_label": kind_label(article.get("kind")), "url": article_url(article["id"]),
                     "anchor": f"a-{article.get('position') or 0}"})  # fmt: skip
    return {
        **info,
        "date_label": date_label(info.get("date")) if info.get("date") else "",
        "articles": rows,
        "search_url": search_url(SearchState(filters={"source": [source]})),
        "browse_url": url_for("pages.browse"),
        "json_url": page_url(source, "api.browse_page"),
    }

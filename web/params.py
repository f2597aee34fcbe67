"""The search state held in the URL: parsing request arguments and building links from it.

The whole state of a search page lives in its query string (shareable links, a working back button):
``q``, repeated facet parameters (``place=高新区&place=金水区``), ``from``/``to``, ``sort``, ``page``
(and ``limit`` for API callers). :func:`parse_state` validates it and raises :class:`ParamError`
(a friendly 400) for anything malformed; :meth:`SearchState.items` writes it back in a canonical order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from web.labels import FACETS, SORTS, facet_label, facet_param, sort_label

MAX_QUERY_CHARS = 200
MAX_VALUE_CHARS = 100
MAX_VALUES_PER_FACET = 20
MAX_FILTER_VALUES = 30  # selected values over all facets together
MAX_FILTER_CHARS = 400  # characters of all selected values together
MAX_PAGE = 1000
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: Results-per-page choices offered on the page (any 1..MAX_LIMIT works in the URL).
LIMIT_CHOICES = (10, 20, 50, 100)
#: Facet values listed by default, after 更多, and at most (``_facet_size=max``, Datasette's name).
DEFAULT_FACET_SIZE = 10
MORE_FACET_SIZE = 30
MAX_FACET_SIZE = 500
#: A longer query string is refused (400) before it is parsed; no valid search state comes near it.
MAX_QUERY_STRING_BYTES = 16 * 1024
#: Every results page carries its search state in each of its links (each facet value's toggle, each
#: result, each chip, sort and page link): the bytes of those links (and of the facet values they
#: come with) are capped, so that no request can make a response hundreds of times its own size (a
#: 109 KB request once answered 26.8 MB). Within the cap, fewer facet values are listed for a long
#: state; a state too long for even one value a facet is refused.
MAX_LINK_BYTES = 256 * 1024
#: Links on a results page besides two per result, two per selected value and one per facet value:
#: sort options, pagination, alternatives, the page's own links, and 更多/全部/收起 for each facet.
EXTRA_LINKS = 3 + 12 + 6 + 4 + 3 * len(FACETS)
#: What a listed facet value costs besides its link: value, label, count and markup.
FACET_VALUE_BYTES = 160

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$")
_NUMBER = re.compile(r"[0-9]{1,6}")  # ASCII digits only: "²" and "①" are digits to str.isdigit, not to int()


class ParamError(BadRequest):
    """A malformed request parameter; shown as a friendly 400 page (or JSON under /api)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(description=message)
        self.param = param


@dataclass
class SearchState:
    """Everything that defines one results page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: str = ""
    date_to: str = ""
    sort: str = "relevance"
    page: int = 1
    limit: int = DEFAULT_LIMIT
    facet_size: int = DEFAULT_FACET_SIZE

    # -- reading --------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True when there is neither a query nor any filter (the landing page)."""
        return not self.q and not self.filters and not self.date_from and not self.date_to

    @property
    def has_filters(self) -> bool:
        """True when a facet value or a date bound narrows the search."""
        return bool(self.filters or self.date_from or self.date_to)

    def engine_filters(self) -> dict[str, list[str]]:
        """Filters in the shape ``Archive.search`` takes (facets plus ``from``/``to``)."""
        result = {name: list(values) for name, values in self.filters.items() if values}
        if self.date_from:
            result["from"] = [self.date_from]
        if self.date_to:
            result["to"] = [self.date_to]
        return result

    def is_selected(self, facet: str, value: object) -> bool:
        """True if ``value`` is selected in ``facet``."""
        return str(value) in self.filters.get(facet, [])

    def items(self, *, include_page: bool = True) -> list[tuple[str, str]]:
        """The state as ordered query-string pairs (defaults left out)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        for name in FACETS:
            pairs.extend((facet_param(name), value) for value in self.filters.get(name, []))
        if self.date_from:
            pairs.append(("from", self.date_from))
        if self.date_to:
            pairs.append(("to", self.date_to))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if include_page and self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.limit != DEFAULT_LIMIT:
            pairs.append(("limit", str(self.limit)))
        if self.facet_size != DEFAULT_FACET_SIZE:
            pairs.append(("_facet_size", "max" if self.facet_size >= MAX_FACET_SIZE else str(self.facet_size)))
        return pairs

    def query_string(self, *, include_page: bool = True) -> str:
        """``q=…&place=…`` (no leading ``?``; empty for the empty state)."""
        return urlencode(self.items(include_page=include_page))

    # -- deriving -------------------------------------------------------------------------

    def copy(self, **changes: object) -> "SearchState":
        """A copy with ``changes`` applied (filters deep-copied)."""
        source = changes.pop("filters", self.filters)
        filters = {name: list(values) for name, values in source.items()}  # type: ignore[union-attr]
        return replace(self, filters=filters, **changes)  # type: ignore[arg-type]

    def toggled(self, facet: str, value: object) -> "SearchState":
        """The state with ``value`` added to or removed from ``facet``, back on page 1."""
        state = self.copy(page=1)
        values = state.filters.setdefault(facet, [])
        text = str(value)
        if text in values:
            values.remove(text)
        else:
            values.append(text)
        if not values:
            del state.filters[facet]
        return state

    def without_dates(self, which: str | None = None) -> "SearchState":
        """The state without ``from`` (``which="from"``), ``to``, or both, back on page 1."""
        changes: dict[str, object] = {"page": 1}
        if which in (None, "from"):
            changes["date_from"] = ""
        if which in (None, "to"):
            changes["date_to"] = ""
        return self.copy(**changes)

    def active_filters(self) -> list[dict[str, str]]:
        """Each selected value as ``{"param", "value", "label", "remove"}`` (remove: a SearchState)."""
        chips: list[dict[str, object]] = []
        for name in FACETS:
            for value in self.filters.get(name, []):
                chips.append({"param": facet_param(name), "facet": name, "name": facet_label(name), "value": value, "state": self.toggled(name, value)})
        if self.date_from:
            chips.append({"param": "from", "name": facet_label("from"), "value": self.date_from, "state": self.without_dates("from")})
        if self.date_to:
            chips.append({"param": "to", "name": facet_label("to"), "value": self.date_to, "state": self.without_dates("to")})
        return chips  # type: ignore[return-value]

    def sort_options(self) -> list[dict[str, object]]:
        """Each sort order as ``{"value", "label", "selected", "state"}``."""
        return [
            {"value": sort, "label": sort_label(sort), "selected": sort == self.sort, "state": self.copy(sort=sort, page=1)}
            for sort in SORTS
        ]


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _int_param(args: Mapping[str, str], name: str, default: int, low: int, high: int, message: str) -> int:
    raw = args.get(name, "")
    raw = raw.strip() if isinstance(raw, str) else ""
    if raw == "":
        return default
    if not _NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise ParamError(message.format(low=low, high=high, value=raw[:20]), name)
    return int(raw)


def parse_date(raw: str, name: str) -> str:
    """Validate ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a real date) and return it zero-padded.

    >>> parse_date("2024-1-5", "from"), parse_date("2023", "to")
    ('2024-01-05', '2023')
    """
    text = _clean(raw)
    match = _DATE.match(text)
    label = facet_label(name)
    problem = f"{label}格式应为 年、年-月 或 年-月-日（如 2024、2024-11、2024-11-22），收到的是“{text[:20]}”。"
    if not match:
        raise ParamError(problem, name)
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ParamError(f"{label}不是有效的日期：“{text[:20]}”。", name) from None
    parts = [year] + [f"{int(part):02d}" for part in (month, day) if part]
    return "-".join(parts)


def parse_state(args: MultiDict[str, str]) -> SearchState:
    """Read and validate a search state from request arguments; raises :class:`ParamError`.

    Empty values are ignored (an HTML form submits ``from=&to=``); unknown parameters are ignored.
    """
    q = _clean(args.get("q", "") or "")
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError(f"检索词太长（{len(q)} 字），请控制在 {MAX_QUERY_CHARS} 字以内。", "q")
    filters: dict[str, list[str]] = {}
    total_values = total_chars = 0
    for name in FACETS:
        param = facet_param(name)
        raws = args.getlist(param)
        if len(raws) > 2 * MAX_VALUES_PER_FACET:  # refused before any work per value (linear time)
            raise ParamError(f"{facet_label(name)}最多同时选择 {MAX_VALUES_PER_FACET} 项。", param)
        values: dict[str, None] = {}  # ordered and deduplicated in one pass
        for raw in raws:
            if len(raw) > 4 * MAX_VALUE_CHARS:
                raise ParamError(f"{facet_label(name)}的取值太长。", param)
            value = _clean(raw)
            if not value or value in values:
                continue
            if len(value) > MAX_VALUE_CHARS:
                raise ParamError(f"{facet_label(name)}的取值太长。", param)
            values[value] = None
        if len(values) > MAX_VALUES_PER_FACET:
            raise ParamError(f"{facet_label(name)}最多同时选择 {MAX_VALUES_PER_FACET} 项。", param)
        total_values += len(values)
        total_chars += sum(map(len, values))
        if total_values > MAX_FILTER_VALUES or total_chars > MAX_FILTER_CHARS:
            raise ParamError(
                f"筛选条件太多：最多同时选择 {MAX_FILTER_VALUES} 项、共 {MAX_FILTER_CHARS} 字，请去掉一些再检索。", param
            )
        if values:
            filters[name] = list(values)
    date_from = parse_date(args["from"], "from") if _clean(args.get("from", "") or "") else ""
    date_to = parse_date(args["to"], "to") if _clean(args.get("to", "") or "") else ""
    if date_from and date_to and _bound(date_from, low=True) > _bound(date_to, low=False):
        raise ParamError(f"起始日期 {date_from} 晚于截止日期 {date_to}。", "from")
    sort = _clean(args.get("sort", "") or "") or "relevance"
    if sort not in SORTS:
        raise ParamError(f"未知的排序方式“{sort[:20]}”：可选 relevance（相关度）、newest（最新）、oldest（最早）。", "sort")
    page = _int_param(args, "page", 1, 1, MAX_PAGE, "页码应为 {low} 到 {high} 之间的整数，收到的是“{value}”。")
    limit = _int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "每页条数应为 {low} 到 {high} 之间的整数，收到的是“{value}”。")
    if _clean(args.get("_facet_size", "") or "").lower() == "max":
        facet_size = MAX_FACET_SIZE
    else:
        facet_size = _int_param(args, "_facet_size", DEFAULT_FACET_SIZE, 1, MAX_FACET_SIZE,
                                "筛选项显示数量应为 {low} 到 {high} 之间的整数或 max，收到的是“{value}”。")  # fmt: skip
    state = SearchState(q=q, filters=filters, date_from=date_from, date_to=date_to, sort=sort, page=page, limit=limit,
                        facet_size=facet_size)  # fmt: skip
    affordable = affordable_facet_size(state)
    if affordable < 1:
        raise ParamError(
            "检索条件太长：结果页的每个链接都要带上全部条件，请缩短检索词、减少筛选条件或每页条数。",
            "limit" if limit > DEFAULT_LIMIT else None,
        )
    if state.facet_size > affordable:
        state.facet_size = affordable
    return state


def _link_bytes(state: SearchState) -> int:
    query = state.query_string()
    return len("/api/search?") + len(query) + 4 * query.count("&")  # "&" is "&amp;" in a page


def affordable_facet_size(state: SearchState) -> int:
    """How many values a facet may list for ``state`` within :data:`MAX_LINK_BYTES` (below 1: the
    state is too long for a results page)."""
    per_link = _link_bytes(state)
    selected = sum(len(values) for values in state.filters.values()) + bool(state.date_from) + bool(state.date_to)
    left = MAX_LINK_BYTES - per_link * (2 * state.limit + EXTRA_LINKS + 2 * selected)
    return left // ((per_link + FACET_VALUE_BYTES) * len(FACETS))


def state_link_bytes(state: SearchState) -> int:
    """About how many bytes the links of ``state``'s results page take, with the facet values they
    come with: what :data:`MAX_LINK_BYTES` bounds."""
    per_link = _link_bytes(state)
    selected = sum(len(values) for values in state.filters.values()) + bool(state.date_from) + bool(state.date_to)
    facet_values = state.facet_size * len(FACETS)
    return per_link * (2 * state.limit + EXTRA_LINKS + 2 * selected) + (per_link + FACET_VALUE_BYTES) * facet_values


#: Routes whose query string is a search state (the others read one parameter, or drop a bad state).
STATE_ENDPOINTS = ("pages.index", "pages.search", "api.search")


def check_request_size() -> None:
    """Refuse (400) a search whose query string is too long to be one, before anything parses it."""
    from flask import request

    if request.endpoint in STATE_ENDPOINTS and len(request.query_string) > MAX_QUERY_STRING_BYTES:
        raise ParamError(f"请求地址太长（{len(request.query_string):,} 字节），最多 {MAX_QUERY_STRING_BYTES:,} 字节。")


def init_app(app: Flask) -> None:
    """Register :func:`check_request_size` before every request."""
    app.before_request(check_request_size)


def parse_state_leniently(args: MultiDict[str, str]) -> SearchState:
    """:func:`parse_state`, but a malformed carried-over parameter never blocks an article page:
    fall back to the query alone (or nothing)."""
    try:
        return parse_state(args)
    except ParamError:
        q = _clean(args.get("q", "") or "")
        return SearchState(q=q if len(q) <= MAX_QUERY_CHARS else "")


def _bound(value: str, *, low: bool) -> str:
    """A partial date widened to the first (low) or last (high) day it covers, for comparing."""
    parts = value.split("-")
    if len(parts) == 1:
        parts += ["01", "01"] if low else ["12", "31"]
    elif len(parts) == 2:
        parts += ["01"] if low else ["31"]
    return "-".join(parts)

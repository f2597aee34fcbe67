"""Filters and their validation (the contract of every engine).

Filter names are the facets (:data:`FACETS`) plus the date range :data:`RANGE_FILTERS`
(``from``/``to``, ``YYYY[-MM[-DD]]``, inclusive). Values of one facet combine with OR, different
facets with AND; each facet is counted with the other facets' filters applied but not its own.
:func:`check_filters` validates them once, before any engine runs; a bad value is a
:class:`QueryError` (a one-line CLI error, an HTTP 400).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from typing import Any

from search.analysis import normalize
from search.model import KINDS

#: Facet names, in the order results list them.
FACETS = ("place", "reporter", "year", "month", "kind", "source", "section", "person", "org", "paper", "page", "credit")
#: Facets whose articles may hold several values (a filter on them matches any).
MULTI_VALUED = ("place", "reporter", "person", "org")
RANGE_FILTERS = ("from", "to")
SORTS = ("relevance", "newest", "oldest")
MAX_LIMIT = 1000  # results a page may ask for

class QueryError(ValueError):
    """A bad search parameter (unknown sort or filter, malformed date, page < 1...)."""


def parse_date(value: str, end: bool) -> int:
    """``YYYY[-MM[-DD]]`` -> the first (or, with ``end``, last) day key it covers; QueryError if bad."""
    m = re.fullmatch(r"\s*([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?\s*", value)
    if not m:
        raise QueryError(f"bad date {value!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise QueryError(f"bad date {value!r}: month must be 01-12")
    if day is not None:
        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise QueryError(f"bad date {value!r}: no such day")
    if month is None:
        return year * 10000 + (1231 if end else 101)
    if day is None:
        return year * 10000 + month * 100 + (31 if end else 1)
    return year * 10000 + month * 100 + day


def check_filters(filters: Mapping[str, Any] | None) -> tuple[dict[str, set[str]], tuple[int, int] | None]:
    """Validate filters; return ``{facet: {normalised values}}`` and the date range (or None)."""
    selected: dict[str, set[str]] = {}
    lo, hi = None, None
    for name, raw in (filters or {}).items():
        values = [raw] if isinstance(raw, (str, int)) else list(raw or [])
        values = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if not values:
            continue
        if name in RANGE_FILTERS:
            keys = [parse_date(v, end=(name == "to")) for v in values]
            if name == "from":
                lo = max(keys)
            else:
                hi = min(keys)
            continue
        if name not in FACETS:
            raise QueryError(f"unknown filter {name!r}: use one of {', '.join(FACETS + RANGE_FILTERS)}")
        if name == "year":
            for v in values:
                if not re.fullmatch(r"[0-9]{4}", v):
                    raise QueryError(f"bad year {v!r}: expected four digits")
            values = [str(int(v)) for v in values]
        elif name == "month":
            for v in values:
                if not re.fullmatch(r"[0-9]{1,2}", v) or not 1 <= int(v) <= 12:
                    raise QueryError(f"bad month {v!r}: expected 1-12")
            values = [str(int(v)) for v in values]
        elif name == "kind":
            for v in values:
                if v not in KINDS:
                    raise QueryError(f"bad kind {v!r}: use one of {', '.join(KINDS)}")
        selected[name] = {normalize(v) for v in values}
    if lo is None and hi is None:
        return selected, None
    lo = lo if lo is not None else 0
    hi = hi if hi is not None else 99999999
    if lo > hi:
        raise QueryError("bad date range: 'from' is after 'to'")
    return selected, (lo, hi)


def whole_number(value: Any, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; QueryError naming the parameter otherwise.

    Only ASCII digits make a number (``int()`` would also take ``"١٢"`` or ``"1_000"``, and
    ``str.isdigit()`` takes ``"²"``, which ``int()`` does not).
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise QueryError(f"bad {name} {value!r}: expected a whole number")
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", text):  # 18 digits: any page or limit anyone means
        raise QueryError(f"bad {name} {str(value)[:20]!r}: expected a whole number")
    number = int(text)
    if number < low or (high is not None and number > high):
        limit = f"{low}-{high}" if high is not None else f">= {low}"
        raise QueryError(f"bad {name} {value!r}: expected {limit}")
    return number


def check_search(
    sort: str, page: Any, limit: Any, facet_size: Any, filters: Mapping[str, Sequence[str]] | None
) -> tuple[int, int, int, dict[str, set[str]], tuple[int, int] | None]:
    """Every engine's search parameters checked alike: ``(page, limit, facet_size, selected facet
    values, date span)``; QueryError naming the bad parameter."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    page = whole_number(page, "page", 1)
    limit = whole_number(limit, "limit", 1, MAX_LIMIT)
    facet_size = whole_number(facet_size, "facet_size", 0)
    selected, span = check_filters(filters)
    return page, limit, facet_size, selected, span

"""Filters and facet counts (DESIGN §8) over a :class:`~search.doctable.DocTable`.

Values of one facet combine with OR, different facets with AND, and a date range (``from``/``to``)
applies to everything. Each facet is counted over the documents that pass every *other* filter, so
a user can widen a selection as well as narrow it (Datasette's and Elasticsearch's post-filter
behaviour). All of it is numpy over the table's rows.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from search.analysis import normalize
from search.doctable import FACETS, DocTable
from search.model import KINDS

RANGE_FILTERS = ("from", "to")


class QueryError(ValueError):
    """A bad search parameter (unknown sort or filter, malformed date, page < 1...)."""


def parse_date(value: str, end: bool) -> int:
    """``YYYY[-MM[-DD]]`` -> the first (or, with ``end``, last) day key it covers; QueryError if bad."""
    m = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", value)
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
                if not re.fullmatch(r"\d{4}", v):
                    raise QueryError(f"bad year {v!r}: expected four digits")
            values = [str(int(v)) for v in values]
        elif name == "month":
            for v in values:
                if not re.fullmatch(r"\d{1,2}", v) or not 1 <= int(v) <= 12:
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


def filter_and_count(
    table: DocTable, matched: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None, size: int
) -> tuple[np.ndarray, dict[str, list[dict[str, Any]]]]:
    """Rows passing every filter, and each facet's top ``size`` values counted over the rows passing
    the other filters (selected values are always listed, after the top ones)."""
    base = matched
    if span is not None:
        base = base & (table.date_lo > 0) & (table.date_lo >= span[0]) & (table.date_hi <= span[1])
    masks = {name: table.facets[name].rows_with(wanted, table.size) for name, wanted in selected.items()}
    passing = base.copy()
    for mask in masks.values():
        passing &= mask
    facets: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS:
        if name in masks:
            others = base.copy()
            for other, mask in masks.items():
                if other != name:
                    others &= mask
        else:
            others = passing
        facets[name] = _top_values(table, name, others, selected.get(name, set()), size)
    return passing, facets


def _top_values(table: DocTable, name: str, rows: np.ndarray, wanted: set[str], size: int) -> list[dict[str, Any]]:
    column = table.facets[name]
    counts = column.counts(rows)
    present = np.flatnonzero(counts)
    if len(present) > size:
        # Everything tied with the size-th count, so that ties are broken by value, not by id.
        threshold = np.partition(counts[present], len(present) - size)[len(present) - size] if size else counts.max() + 1
        shortlist = present[counts[present] >= threshold]
    else:
        shortlist = present
    ranked = sorted(((column.values[i], int(counts[i])) for i in shortlist), key=lambda vc: (-vc[1], vc[0]))
    shown = ranked[:size]
    if wanted:
        shown_names = {normalize(v) for v, _ in shown}
        extra = sorted(
            ((column.values[i], int(counts[i])) for norm in wanted for i in column.by_norm.get(norm, []) if counts[i]),
            key=lambda vc: (-vc[1], vc[0]),
        )
        shown += [(v, c) for v, c in extra if normalize(v) not in shown_names]
    return [{"value": v, "count": c} for v, c in shown]

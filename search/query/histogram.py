"""The timeline of a result set: matching articles per year, or per month within one year.

Plain arithmetic over day keys (``YYYYMMDD``: each article's first and last possible day, 0 when
undated), so that every engine answers the same ``histogram`` key: the embedded engine passes its
table's columns, the Solr engine the date pairs its facets count.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np


def month_view_year(selected: Mapping[str, Any], span: tuple[int, int] | None, years: Collection[int]) -> int | None:
    """The one year whose months the timeline shows: the selected year, the year a date range lies
    in, or the only year the results have; None for a timeline of years."""
    chosen = sorted(selected.get("year", ()))
    if len(chosen) == 1:
        return int(chosen[0])
    if span is not None and span[0] // 10000 == span[1] // 10000 and span[0] > 0:
        return span[0] // 10000
    distinct = set(years)
    return next(iter(distinct)) if len(distinct) == 1 else None


def histogram(lo: np.ndarray, hi: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None) -> dict[str, Any]:
    """Matching articles per year, or per month when the selection lies within one year.

    ``lo``/``hi`` are the matching articles' first and last day keys. Returns ``{"unit": "year"|"month",
    "year": int|None, "buckets": [{"value": "2024" | "2024-11", "count"}], "undated": int}``: buckets
    in date order, empty periods between the first and last included (a timeline shows gaps),
    articles without a year counted in ``undated``.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    dated = lo > 0
    years = (lo[dated] // 10000).astype(np.int64)
    one_year = month_view_year(selected, span, _distinct(years))
    undated = int((~dated).sum())
    if one_year is not None:
        # Rows dated to the year only (no month) cannot be placed on a month: they count as undated here.
        in_year = years == one_year
        hi_in_year = hi[dated][in_year]
        lo_in_year = lo[dated][in_year]
        months = (lo_in_year // 100 % 100).astype(np.int64)
        with_month = lo_in_year // 100 == hi_in_year // 100  # "2024" spans Jan-Dec: no month
        months = months[with_month]
        counts = np.bincount(months, minlength=13)
        undated += int((~with_month).sum())
        buckets = [{"value": f"{one_year:04d}-{m:02d}", "count": int(counts[m])} for m in range(1, 13)]
        return {"unit": "month", "year": one_year, "buckets": buckets, "undated": undated}
    if not len(years):
        return {"unit": "year", "year": None, "buckets": [], "undated": undated}
    first = int(years.min())
    counts = np.bincount(years - first)
    buckets = [{"value": f"{first + i:04d}", "count": int(c)} for i, c in enumerate(counts.tolist())]
    return {"unit": "year", "year": None, "buckets": buckets, "undated": undated}


def _distinct(years: np.ndarray) -> list[int]:
    """The distinct years (non-negative, four digits at most), ascending. Not ``np.unique``: on first
    use it imports ``numpy.ma`` (20-50 ms of a cold search), and years fit a small bincount."""
    if not len(years):
        return []
    first = int(years.min())
    return (np.flatnonzero(np.bincount(years - first)) + first).tolist()

"""Filters and facet counts over a :class:`~search.engines.embedded.doctable.DocTable`.

Values of one facet combine with OR, different facets with AND, and a date range (``from``/``to``)
applies to everything. Each facet is counted over the documents that pass every *other* filter, so
a user can widen a selection as well as narrow it (Datasette's and Elasticsearch's post-filter
behaviour). All of it is numpy over the table's rows. The filters arrive validated
(:func:`search.query.filters.check_filters`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from search.analysis import normalize
from search.engines.embedded.doctable import DocTable
from search.query.filters import FACETS
from search.query.histogram import histogram as timeline_histogram


def passing_filters(table: DocTable, matched: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None) -> np.ndarray:
    """The rows of ``matched`` that pass every filter (no facet counted)."""
    return _filtered(table, matched, selected, span)[2]


def _filtered(
    table: DocTable, matched: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """``(rows in the date span, each filtered facet's mask, rows passing all)``, as row masks."""
    base = matched
    if span is not None:
        base = base & (table.date_lo > 0) & (table.date_lo >= span[0]) & (table.date_hi <= span[1])
    masks = {name: table.facets[name].rows_with(wanted, table.size) for name, wanted in selected.items()}
    passing = base.copy()
    for mask in masks.values():
        passing &= mask
    return base, masks, passing


def filter_and_count(
    table: DocTable, matched: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None, size: int
) -> tuple[np.ndarray, dict[str, list[dict[str, Any]]]]:
    """Rows passing every filter, and each facet's top ``size`` values counted over the rows passing
    the other filters (selected values are always listed, after the top ones)."""
    base, masks, passing = _filtered(table, matched, selected, span)
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
    if wanted:  # a filtered facet: its column is built for the filter, and its ids find the selected values
        values: Sequence[str] = column.values
        counts = column.counts(rows)
    else:  # a cold process counts few rows from the segments, without building the column
        values, counts = column.value_counts(rows)
    present = np.flatnonzero(counts)
    if len(present) > size:
        # Everything tied with the size-th count, so that ties are broken by value, not by id.
        threshold = np.partition(counts[present], len(present) - size)[len(present) - size] if size else counts.max() + 1
        shortlist = present[counts[present] >= threshold]
    else:
        shortlist = present
    ranked = sorted(((values[i], int(counts[i])) for i in shortlist), key=lambda vc: (-vc[1], vc[0]))
    shown = ranked[:size]
    if wanted:
        shown_names = {normalize(v) for v, _ in shown}
        extra = sorted(
            ((column.values[i], int(counts[i])) for norm in wanted for i in column.by_norm.get(norm, []) if counts[i]),
            key=lambda vc: (-vc[1], vc[0]),
        )
        shown += [(v, c) for v, c in extra if normalize(v) not in shown_names]
    return [{"value": v, "count": c} for v, c in shown]


def histogram(table: DocTable, passing: np.ndarray, selected: dict[str, set[str]], span: tuple[int, int] | None) -> dict[str, Any]:
    """Matching articles per year, or per month when the selection lies within one year (the timeline:
    :func:`search.query.histogram.histogram` over the passing rows' date spans)."""
    return timeline_histogram(table.date_lo[passing], table.date_hi[passing], selected, span)

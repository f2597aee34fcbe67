"""The timeline above the results: matching articles per year (or per month within one year) as an SVG
bar chart drawn on the server, each bar a link that filters to its period.

Plain data in, plain data out: :func:`timeline` turns the engine's ``histogram`` into bars with their
geometry and links; ``templates/_timeline.html`` draws them (SVG attributes, no inline style, so the
page's Content-Security-Policy holds, and no script: the chart works without JavaScript).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from web.params import SearchState

WIDTH = 720  # the chart's coordinate system; the SVG scales to its box
HEIGHT = 120
BAR_AREA = 86  # height of the tallest bar
LABEL_Y = 112
MAX_BARS = 60  # years shown at most (the most recent ones)


def timeline(
    histogram: Mapping[str, Any] | None, state: SearchState, endpoint: str, search_url: Callable[[SearchState, str], str]
) -> dict[str, Any] | None:
    """Bars for the histogram ``{"unit", "year", "buckets", "undated"}``, or None when there is
    nothing to draw (no dated article among the matches)."""
    if not histogram or not histogram.get("buckets"):
        return None
    buckets = list(histogram["buckets"])[-MAX_BARS:]
    if not any(bucket["count"] for bucket in buckets):
        return None
    unit = histogram.get("unit", "year")
    peak = max(bucket["count"] for bucket in buckets)
    slot = WIDTH / len(buckets)
    width = max(2.0, min(48.0, slot * 0.7))
    bars = []
    for index, bucket in enumerate(buckets):
        value, count = str(bucket["value"]), int(bucket["count"])
        height = 0.0 if not count else max(3.0, BAR_AREA * count / peak)
        if unit == "month":
            year, month = value.split("-")
            label, short = f"{year}年{int(month)}月", f"{int(month)}月"
            selected = state.date_from == value and state.date_to == value
            target = state.copy(date_from="", date_to="", page=1) if selected else state.copy(date_from=value, date_to=value, page=1)
        else:
            label = short = f"{value}年"
            selected = state.is_selected("year", value)
            target = state.toggled("year", value)
        bars.append(
            {
                "value": value,
                "label": label,
                "short_label": short,
                "count": count,
                "selected": selected,
                "url": search_url(target, endpoint) if count or selected else None,
                "x": round(index * slot + (slot - width) / 2, 1),
                "y": round(BAR_AREA - height + 4, 1),
                "width": round(width, 1),
                "height": round(height, 1),
                "label_x": round(index * slot + slot / 2, 1),
                "show_label": len(buckets) <= 16 or index % max(1, len(buckets) // 12) == 0 or index == len(buckets) - 1,
            }
        )
    year = histogram.get("year")
    widen = None
    if unit == "month":
        # The way back to every year: drop the year filter or the month range.
        wider = state.copy(date_from="", date_to="", page=1)
        if state.filters.get("year"):
            wider = wider.copy(filters={k: v for k, v in wider.filters.items() if k != "year"})
        if wider.query_string() != state.copy(page=1).query_string():
            widen = search_url(wider, endpoint)
    return {
        "unit": unit,
        "year": year,
        "title": f"{year}年各月文章数" if unit == "month" else "各年文章数",
        "bars": bars,
        "undated": int(histogram.get("undated") or 0),
        "width": WIDTH,
        "height": HEIGHT,
        "label_y": LABEL_Y,
        "baseline_y": BAR_AREA + 4,
        "widen_url": widen,
    }

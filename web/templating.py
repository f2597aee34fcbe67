"""Jinja filters and globals: Chinese labels and the snippet filter (the only markup let through)."""

from __future__ import annotations

from flask import Flask

from web.highlight import first_sentence, mark_segments, safe_snippet
from web.labels import FACETS, date_label, facet_label, kind_label, sort_label, suggestion_type_label, value_label


def init_app(app: Flask) -> None:
    """Register the filters and globals the templates use."""
    app.jinja_env.filters.update(
        facet_label=facet_label,
        value_label=value_label,
        kind_label=kind_label,
        date_label=date_label,
        sort_label=sort_label,
        suggestion_type_label=suggestion_type_label,
        snippet=safe_snippet,
        first_sentence=first_sentence,
        marked=lambda text, terms: mark_segments(text or "", terms or []),
    )
    app.jinja_env.globals.update(FACETS=FACETS)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

"""Article ⇄ Solr documents (see ``configset/schema.xml`` for the fields).

What each field holds, and why:

- ``title_w`` / ``body_w``: the words of the headline (kicker, title, subtitle) and of the body, cut
  by :func:`search.analysis.tokenize` and joined by spaces (Solr's whitespace tokenizer takes them as
  they are). Punctuation in the headline becomes a placeholder token, so a phrase never matches
  across a comma — as in the embedded engine, whose positions count punctuation.
- ``head_cjk`` / ``body_cjk``: the normalised text; Solr cuts it into characters and bigrams. The body
  fields hold the credit of a reprint as a last line (:func:`search.model.indexed_body`).
- ``byline``, ``place``: normalised names for ``reporter:`` and ``place:``.
- ``f_<facet>`` / ``n_<facet>`` / ``fs_<facet>``: each facet's values as written (counted),
  normalised (filtered) and both (listing the written forms of a selected value). The facet names
  come from :data:`search.query.filters.FACETS`, so a new facet needs no change here.
- ``date_lo`` / ``date_hi``: the first and last day a partial date may stand for (day keys).
- ``article``: the whole Article as JSON — ``show``, ``export`` and snippets read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from search.analysis import normalize, tokenize, word_list
from search.model import Article, indexed_body
from search.query.filters import FACETS, QueryError, parse_date

ARTICLE, FILE, META = "article", "file", "meta"
#: Stands for a punctuation mark in ``title_w`` (never a word: it is not a letter, digit or ideograph).
PUNCT_TOKEN = "▪"
#: Separates the normalised and the written value in ``fs_<facet>``.
VALUE_SEPARATOR = "\u0001"
#: A string field's indexed value must stay under Lucene's 32,766-byte term limit.
_MAX_TERM_CHARS = 8000
_WORDLIKE = re.compile(r"\w")  # what search.analysis counts as a word
#: Article attributes of facets whose name is not the attribute's.
FACET_ATTRIBUTES = {"place": "places", "reporter": "reporters", "person": "people", "org": "orgs"}


def headline_text(article: Article) -> str:
    """Kicker, title and subtitle on separate lines (what the headline fields index)."""
    return "\n".join(part for part in (article.kicker, article.title, article.subtitle) if part)


def word_string(normalized: str, punctuation: bool) -> str:
    """The words of normalised text joined by spaces; with ``punctuation``, each punctuation mark
    becomes :data:`PUNCT_TOKEN` (keeping phrase positions as the embedded engine counts them)."""
    if not punctuation:
        return " ".join(word_list(normalized))
    out = []
    for word, _start, _end in tokenize(normalized):
        if _WORDLIKE.search(word):
            out.append(word)
        elif not word.isspace():
            out.append(PUNCT_TOKEN)
    return " ".join(out)


def facet_values(article: Article, name: str) -> list[str]:
    """The article's values for facet ``name`` as written (strings; empty values left out)."""
    value = getattr(article, FACET_ATTRIBUTES.get(name, name), None)
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in dict.fromkeys(values) if v is not None and str(v) != ""]


def date_span(date: str | None) -> tuple[int, int] | None:
    """``"2024-11"`` -> ``(20241101, 20241131)``: the day keys a partial date covers; None if undated."""
    if not date:
        return None
    try:
        return parse_date(str(date), end=False), parse_date(str(date), end=True)
    except QueryError:
        return None


def _names(values: Iterable[str]) -> list[str]:
    return [normalize(v)[:_MAX_TERM_CHARS] for v in dict.fromkeys(values) if v]


def article_to_document(article: Article) -> dict[str, Any]:
    """The Solr document of one article."""
    head_norm = normalize(headline_text(article))
    body_norm = normalize(indexed_body(article))  # a reprint's source is searchable, as in the embedded engine
    doc: dict[str, Any] = {
        "id": article.id,
        "doc_type": ARTICLE,
        "source": article.source,
        "ord": f"{article.source}{VALUE_SEPARATOR}{article.position:09d}"[:_MAX_TERM_CHARS],
        "title_w": word_string(head_norm, punctuation=True),
        "body_w": word_string(body_norm, punctuation=False),
        "head_cjk": head_norm,
        "body_cjk": body_norm,
        "byline": _names([*article.reporters, *article.correspondents, *article.photographers]),
        "place": _names(article.places),
        "title_n": normalize(article.title)[:_MAX_TERM_CHARS],
        "article": json.dumps(article.to_dict(), ensure_ascii=False),
    }
    span = date_span(article.date)
    if span is not None:
        doc["date_lo"], doc["date_hi"] = span
    for name in FACETS:
        values = [v[:_MAX_TERM_CHARS] for v in facet_values(article, name)]
        if values:
            doc[f"f_{name}"] = values
            doc[f"n_{name}"] = list(dict.fromkeys(normalize(v) for v in values))
            doc[f"fs_{name}"] = [f"{normalize(v)}{VALUE_SEPARATOR}{v}" for v in values]
    return {key: value for key, value in doc.items() if value not in ("", [])}


def document_to_article(doc: dict[str, Any]) -> Article:
    """The Article stored in a Solr document's ``article`` field."""
    return Article.from_dict(json.loads(doc["article"]))


def file_document(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """One seed file's manifest entry as a Solr document (committed with the file's articles)."""
    return {"id": f"{FILE}:{name}", "doc_type": FILE, "source": name, "entry": json.dumps(entry, ensure_ascii=False)}


def meta_document(meta: dict[str, Any]) -> dict[str, Any]:
    """The build's record (analysis version, catalog hash, build time) as a Solr document."""
    return {"id": META, "doc_type": META, "entry": json.dumps(meta, ensure_ascii=False)}

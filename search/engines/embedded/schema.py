"""The Whoosh schema and the Article ⇄ document mapping.

Fields, and why each is stored the way it is:

- ``title``: words (jieba precise mode) with positions, for phrases and BM25F. It indexes kicker +
  title + subtitle (the whole headline) but stores the title alone.
- ``body``: words with frequencies only, for BM25F. Body phrases are answered exactly from the
  normalised text (fragments are confirmed on it anyway), so body
  positions would only be written, never read: measured on 2,500 real articles, dropping them cut
  the segment-writing time by a quarter and the index size by 30%.
- The lead is stored, not indexed: a separate lead field changed no ranking on the judged set
  (``python -m search.evaluation --grid``) and cost ~15% more terms and postings.
- ``place`` / ``reporter`` / ``byline`` / ``person`` / ``org``: exact names for ``place:``/``reporter:``.
- The source of a reprint (``credit``, 据新华社 -> 新华社) is indexed as a last line of the body
  (:func:`indexed_body`), so a plain search for the source finds its reprints; the stored body is
  the article's own text.
- What our queries read in bulk is not in Whoosh: each document's normalised ``headline SEP body``
  text (:func:`article_extras`) and facet values (:func:`facet_row`) go to the segment's own store
  file with the fragment (n-gram) and word postings built from them
  (:mod:`search.engines.embedded.segstore`), memory-mapped by readers.
- Every Article field is stored under its own name so :func:`document_to_article` is a plain copy.

``add_articles`` is the fast path: each text is segmented once with rjieba and Whoosh receives
ready-made postings (:class:`WordField`) instead of a Token object per word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import fields
from whoosh.system import pack_uint
from search.analysis import normalize, word_counts, word_positions
from search.engines.embedded.tokenizer import word_analyzer
from search.model import Article, indexed_body

# Article fields stored as they are (names are the JSON names of the article fields in the README).
_STORED_ONLY = (
    "position", "lead", "kicker", "subtitle", "reporters", "correspondents", "photographers", "places",
    "people", "orgs", "keywords", "date", "year", "month", "section", "paper", "page", "credit", "chars",
)  # fmt: skip

# Order of the facet values of a document in its segment store (see :func:`facet_row`).
FACET_COLUMN = ("source", "kind", "section", "year", "month", "date", "place", "reporter", "person", "org", "paper", "page", "credit")

#: Fields whose terms make the vocabulary (did-you-mean's words), with the kind each term is counted as.
#: Headline words, not body words: an archive's frequent words all appear in some headline, and the
#: body field holds ten times as many terms.
VOCABULARY_FIELDS = {"place": "place", "person": "person", "org": "org", "reporter": "reporter", "title": "word"}

# Separates headline and body in a document's normalised text (never inside a query needle).
FULLTEXT_SEPARATOR = b"\n\x00\n"


class PostingsGiven:
    """Pre-analysed field content: ``{word: [positions]}`` (positional fields) or ``{word: count}``."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[str, Any]) -> None:
        self.terms = terms


class WordField(fields.TEXT):
    """TEXT that also accepts :class:`PostingsGiven` (``{word: [positions]}`` with ``phrase=True``,
    ``{word: count}`` without).

    Produces exactly what the format's ``word_values`` would for the same tokens (Positions or
    Frequency), without a Token object per word.
    """

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Postings for ``value``: a string (analysed) or :class:`PostingsGiven` (used as is)."""
        if not isinstance(value, PostingsGiven):
            yield from super().index(value, **kwargs)
            return
        fb = self.format.field_boost
        if self.format.supports("positions"):
            encode = self.format.encode
            for word, poslist in value.terms.items():
                yield word.encode("utf-8"), len(poslist), len(poslist) * fb, encode(poslist)
        else:
            for word, count in value.terms.items():
                yield word.encode("utf-8"), count, count * fb, pack_uint(count)


def build_schema() -> fields.Schema:
    """The index schema (see the module docstring for what each field is for)."""
    # Names are matched, not ranked: unscorable spares Whoosh a field-length lookup per posting.
    names = fields.KEYWORD(lowercase=False, commas=True, scorable=False)
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        source=fields.ID(stored=True),
        kind=fields.ID(stored=True),
        title=WordField(analyzer=word_analyzer(), phrase=True, stored=True),
        body=WordField(analyzer=word_analyzer(), phrase=False, stored=True),
        place=names,
        reporter=names,
        byline=names,
        person=names,
        org=names,
    )
    for name in _STORED_ONLY:
        schema.add(name, fields.STORED())
    return schema


def headline_text(article: Article) -> str:
    """Kicker, title and subtitle on separate lines: what the ``title`` field indexes."""
    return "\n".join(part for part in (article.kicker, article.title, article.subtitle) if part)


def facet_row(article: Article) -> tuple[Any, ...]:
    """A document's facet values in :data:`FACET_COLUMN` order (kept in its segment store)."""
    return (
        article.source,
        article.kind,
        article.section,
        article.year,
        article.month,
        article.date,
        tuple(article.places),
        tuple(article.reporters),
        tuple(article.people),
        tuple(article.orgs),
        article.paper,
        article.page,
        article.credit,
    )


def _names(values: Iterable[str]) -> list[str]:
    return [normalize(v) for v in dict.fromkeys(values) if v]


def fulltext_of(head_norm: str, body_norm: str) -> bytes:
    """A document's normalised text as its segment store keeps it: ``headline SEP body`` in UTF-8."""
    return head_norm.encode("utf-8") + FULLTEXT_SEPARATOR + body_norm.encode("utf-8")


def article_extras(article: Article) -> tuple[bytes, tuple[Any, ...]]:
    """What the segment store keeps of an article: its normalised text and its facet row."""
    return fulltext_of(normalize(headline_text(article)), normalize(indexed_body(article))), facet_row(article)


def article_to_document(article: Article) -> dict[str, Any]:
    """Keyword arguments for ``writer.add_document``: pre-analysed texts plus stored values.

    ``_extras`` carries :func:`article_extras` for :class:`~search.engines.embedded.writer.ArticleWriter`
    (other writers must drop it).
    """
    headline = headline_text(article)
    head_norm = normalize(headline)
    body_norm = normalize(indexed_body(article))
    doc: dict[str, Any] = {
        "id": article.id,
        "source": article.source,
        "kind": article.kind,
        "title": PostingsGiven(word_positions(head_norm)),
        "_stored_title": article.title,
        "body": PostingsGiven(word_counts(body_norm)),
        "_stored_body": article.body,
        "_extras": (fulltext_of(head_norm, body_norm), facet_row(article)),
        "place": _names(article.places),
        "reporter": _names(article.reporters),
        "byline": _names([*article.reporters, *article.correspondents, *article.photographers]),
        "person": _names(article.people),
        "org": _names(article.orgs),
    }
    for name in _STORED_ONLY:
        value = getattr(article, name)
        if value is not None:
            doc[name] = value
    # Whoosh rejects empty term lists for nothing, but skips None: drop empty name lists.
    for name in ("place", "reporter", "byline", "person", "org"):
        if not doc[name]:
            del doc[name]
    return doc


def add_articles(writer: Any, articles: Iterable[Article]) -> int:
    """Add articles to an open Whoosh writer (the indexer's bulk path); returns how many were added."""
    count = 0
    add = writer.add_document
    extras = getattr(writer, "takes_extras", False)  # an ArticleWriter keeps them in its segment store
    for article in articles:
        doc = article_to_document(article)
        if not extras:
            del doc["_extras"]
        add(**doc)
        count += 1
    return count


def document_to_article(stored: dict[str, Any]) -> Article:
    """Rebuild the Article from a hit's stored fields."""
    data = dict(stored)
    for name in ("reporters", "correspondents", "photographers", "places", "people", "orgs", "keywords"):
        data[name] = list(data.get(name) or [])
    for name in ("title", "kicker", "subtitle", "body", "lead"):
        data[name] = data.get(name) or ""
    data.setdefault("position", 0)
    data.setdefault("source", "")
    return Article.from_dict(data)


def text_counts(article: Article) -> Counter[str]:
    """Word counts of an article's headline and body (for keyword-based related articles)."""
    counts: Counter[str] = Counter()
    for text in (headline_text(article), indexed_body(article)):
        counts.update(word_counts(normalize(text)))
    return counts

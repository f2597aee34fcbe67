"""The names an index knows, for cutting queries (:class:`search.query.analyze.Lexicon`).

Reporters, correspondents and photographers (the ``byline`` field), people and places are kept whole
when a query is cut into words, so ``刘云华小微企业`` is 刘云华 / 小微 / 企业 and not the
segmenter's guess 刘云华小微 / 企业. A query's candidates are looked up in the name fields' terms;
for a very long query the whole set is read once per searcher.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from search.engines.embedded.doctable import PerSearcher

NAME_FIELDS = ("byline", "person", "place")


def _read_names(searcher: Any) -> frozenset[str]:
    # Segment by segment: a MultiReader's lexicon merges every segment's terms through a heap in
    # Python, which the set makes needless (0.14 -> 0.12 s at 200,000 articles).
    names: set[str] = set()
    for reader, _offset in searcher.reader().leaf_readers():
        for fieldname in NAME_FIELDS:
            if fieldname not in reader.schema:
                continue
            for term in reader.lexicon(fieldname):
                name = term.decode("utf-8") if isinstance(term, bytes) else str(term)
                if len(name) >= 2:
                    names.add(name)
    return frozenset(names)


_names = PerSearcher(_read_names)


#: Up to this many candidates are looked up term by term in the name fields; more (a pasted
#: paragraph has thousands of substrings) read every name of the index once, kept per searcher.
MAX_LOOKUPS = 128
#: A searcher's first queries look their candidates up; later ones read every name once. A cold
#: ``newsearch search`` runs a few (did-you-mean and the alternatives to an empty answer count their
#: candidate queries): reading every name of a million articles costs it 0.65 s.
EARLY_QUERIES = 16
_queries = PerSearcher(lambda _searcher: itertools.count())  # queries cut with each searcher so far


def read_names(searcher: Any) -> frozenset[str]:
    """Every name of the searcher's index, read now and kept for its later queries (a server reads
    them as it starts)."""
    return _names(searcher)


class IndexLexicon:
    """The :class:`~search.query.analyze.Lexicon` of one open searcher."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.early = next(_queries(searcher)) < EARLY_QUERIES  # one of the searcher's first queries

    def known_names(self, candidates: Iterable[str]) -> set[str]:
        """The candidates that are a byline, person or place name of some article.

        The first queries of a searcher look their few dozen candidates up in each segment's terms (a
        cold ``newsearch search`` at 200,000 articles spent 0.12 s reading every name to check
        forty); a searcher that serves more queries reads every name once and keeps the set.
        """
        wanted = [candidate for candidate in dict.fromkeys(candidates) if len(candidate) >= 2]
        names = _names.made(self.searcher)
        if names is None and (len(wanted) > MAX_LOOKUPS or not self.early):
            names = _names(self.searcher)
        if names is not None:
            return {candidate for candidate in wanted if candidate in names}
        reader = self.searcher.reader()
        fields = [fieldname for fieldname in NAME_FIELDS if fieldname in reader.schema]
        return {candidate for candidate in wanted if any((fieldname, candidate) in reader for fieldname in fields)}

"""The names an index knows, for cutting queries (:class:`search.query.analyze.Lexicon`).

Reporters, correspondents and photographers (the ``byline`` field), people and places are kept whole
when a query is cut into words, so ``刘云华小微企业`` is 刘云华 / 小微 / 企业 and not the
segmenter's guess 刘云华小微 / 企业. The set is read once per searcher from the name fields' term
lists (a few thousand names for tens of thousands of articles).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from search.engines.embedded.doctable import PerSearcher

NAME_FIELDS = ("byline", "person", "place")


def _read_names(searcher: Any) -> frozenset[str]:
    # Segment by segment: a MultiReader's lexicon merges every segment's terms through a heap in
    # Python (0.3 s of each cold search at 200,000 articles); the set removes the duplicates anyway.
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


class IndexLexicon:
    """The :class:`~search.query.analyze.Lexicon` of one open searcher."""

    def __init__(self, searcher: Any) -> None:
        self.names = _names(searcher)

    def known_names(self, candidates: Iterable[str]) -> set[str]:
        """The candidates that are a byline, person or place name of some article."""
        return {candidate for candidate in candidates if candidate in self.names}

"""What query analysis and relaxation ask the Solr engine: the names it knows, and counts.

* :class:`SolrLexicon` (a :class:`search.query.analyze.Lexicon`): which of a query's candidate
  substrings are bylines, people or places of some article — one TermsComponent request
  (``terms.list``) over ``byline``, ``n_person`` and ``place``, as the embedded engine reads its
  ``byline``, ``person`` and ``place`` terms.
* :class:`SolrCounter` (a :class:`search.query.relax.ClauseCounter`): document frequencies by the
  estimate both engines share — word document frequencies of ``title_w`` and ``body_w`` and name
  frequencies, from the TermsComponent; the exact ``numFound`` where that estimate is 0 (at most
  :data:`~search.query.relax.EXACT_COUNTS` times) — and whether a conjunction matches (``rows=0``).
  The same estimate on both engines means a query is relaxed the same way whichever answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from search.analysis import word_list
from search.engines.solr.client import SolrClient
from search.engines.solr.compile import clause_query, date_query, main_query
from search.engines.solr.documents import ARTICLE
from search.query.language import term_chunks
from search.query.analyze import analyze
from search.query.plan import Clause, QueryPlan, Term
from search.query.relax import EXACT_COUNTS, Relaxation, relax

#: The fields whose terms are the names a query keeps whole (the embedded engine's byline, person, place).
LEXICON_FIELDS = ("byline", "n_person", "place")
#: The fields a bare word is also counted in as a name (the embedded engine's byline, person, place, org).
NAME_FIELDS = ("byline", "n_person", "place", "n_org")
_WORD_FIELDS = ("title_w", "body_w")


def term_frequencies(client: SolrClient, collection: str, fields: Sequence[str], terms: Iterable[str]) -> dict[str, dict[str, int]]:
    """``{field: {term: documents}}`` for the listed terms (absent terms left out), over the collection."""
    wanted = sorted({t for t in terms if t and "," not in t})
    if not wanted:
        return {name: {} for name in fields}
    params = [("terms.fl", name) for name in fields] + [("terms.list", ",".join(wanted)), ("wt", "json"), ("json.nl", "arrarr")]
    answer = client.post_form(f"{collection}/terms", params)
    found = answer.get("terms") or {}
    return {name: {str(t): int(c) for t, c in (found.get(name) or [])} for name in fields}


class SolrLexicon:
    """The names of a collection, for cutting queries."""

    def __init__(self, client: SolrClient, collection: str) -> None:
        self.client = client
        self.collection = collection

    def known_names(self, candidates: Iterable[str]) -> set[str]:
        """The candidates that are a byline, person or place name of some article."""
        counts = term_frequencies(self.client, self.collection, LEXICON_FIELDS, candidates)
        return {name for per_field in counts.values() for name, count in per_field.items() if count > 0 and len(name) >= 2}


@dataclass
class SolrCounter:
    """Document frequencies and conjunction tests over the whole collection, for relaxation."""

    client: SolrClient
    collection: str
    plan: QueryPlan
    exact_left: int = EXACT_COUNTS
    _frequencies: dict[str, dict[str, int]] = field(default_factory=dict)

    def _known(self, terms: list[Term]) -> None:
        """Read the word and name frequencies of ``terms`` not read yet (one request)."""
        words: set[str] = set()
        names: set[str] = set()
        for term in terms:
            for part in term.parts():
                if part.date is None and part.scope in ("all", "title"):
                    words.update(word_list(part.text))
                    chunks = term_chunks(part)
                    if len(chunks) == 1:
                        names.add(chunks[0])
        missing_words = {w for w in words if w not in self._frequencies.setdefault("words", {})}
        missing_names = {n for n in names if n not in self._frequencies.setdefault("names", {})}
        if missing_words:
            got = term_frequencies(self.client, self.collection, _WORD_FIELDS, missing_words)
            for word in missing_words:
                self._frequencies["words"][word] = sum(got[name].get(word, 0) for name in _WORD_FIELDS)
        if missing_names:
            got = term_frequencies(self.client, self.collection, NAME_FIELDS, missing_names)
            for name in missing_names:
                self._frequencies["names"][name] = sum(got[f].get(name, 0) for f in NAME_FIELDS)

    def _count(self, query: str) -> int:
        answer = self.client.post_form(
            f"{self.collection}/select", [("q", query), ("fq", f"doc_type:{ARTICLE}"), ("rows", "0"), ("wt", "json")]
        )
        return int((answer.get("response") or {}).get("numFound", 0))

    def _estimate(self, term: Term) -> int:
        if term.words:
            return min(self._estimate(part) for part in term.parts())
        if term.scope in ("reporter", "place"):
            return 0
        if term.date is not None:
            return self._count(date_query(term.date))
        words = word_list(term.text)
        if not words:
            return 0
        found = min(self._frequencies["words"].get(w, 0) for w in words)
        chunks = term_chunks(term)
        if len(chunks) == 1:
            found += self._frequencies["names"].get(chunks[0], 0)
        return found

    def doc_frequency(self, clause: Clause) -> int:
        """The estimate the embedded engine makes; where it is 0, the exact count (a request)."""
        self._known(list(clause.options))
        estimate = sum(self._estimate(option) for option in clause.options)
        if estimate > 0 or self.exact_left <= 0:
            return estimate
        self.exact_left -= 1
        return self._count(clause_query(clause))

    def matches(self, clauses: Sequence[Clause]) -> bool:
        """True if some article holds every one of ``clauses`` and none of the plan's exclusions."""
        return self._count(main_query(self.plan, list(clauses), bonus=False)) > 0


def plan_query(client: SolrClient, collection: str, q: object) -> tuple[QueryPlan, Relaxation | None]:
    """The plan a typed query runs as on this collection, relaxed when nothing holds all its words
    (``(plan, relaxation or None)``): searches and whole-result exports read it the same way."""
    plan = analyze(q if isinstance(q, str) else "", SolrLexicon(client, collection))
    relaxation = None if plan.match_none else relax(plan, SolrCounter(client, collection, plan))
    return (relaxation.plan if relaxation is not None else plan), relaxation

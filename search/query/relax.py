"""Relaxation: when no article holds every word, drop the least informative words until some do.

Meilisearch's ``matchingStrategy: frequency`` and web search engines' "missing: …" lines are the
model: a query never ends in a silent zero while some of its words occur. The engine answers two
questions through a :class:`ClauseCounter`; the decisions are made here, the same for every engine:

1. Does the whole plan match anything? Then nothing is dropped (:func:`relax` returns None).
2. A word found nowhere in the archive is first cut in two where both halves occur
   (:func:`_split`: the segmenter may have cut the query across a boundary the articles do not
   have); if the plan then matches, nothing is dropped. If it still does not, the cut is undone
   (a word is never relaxed into loose characters).
3. Otherwise clauses that occur nowhere in the archive are dropped (they can never match). Then as
   few clauses as possible are dropped, and among the ways to drop that many, the most frequent
   ones first (highest document frequency: the least informative; Meilisearch's ``frequency``
   strategy), until the remaining clauses match some article. Strict clauses (quoted, ``+word``)
   are never dropped, and at least one clause always remains.
4. A long query is not tried in every combination: after :data:`MAX_TESTS` conjunctions, the most
   frequent remaining clause is dropped, one at a time, until the rest match. If nothing does, the
   result is empty.

Relaxation looks at the whole archive, not at the filters of one search: "no article holds these
words" is a property of the words; "none in 登封市" is answered by offering to drop the filter.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from search.analysis import CJK_RUN, word_list
from search.query.plan import Clause, QueryPlan, Term

#: Exact counts (scans of the whole text, or requests) an engine's counter may make per query for
#: words its postings do not know; past that such a word counts as found nowhere (a query of many
#: words found nowhere, pasted garbage, must not cost one per word). Both engines use the same
#: number, so they relax a query the same way.
EXACT_COUNTS = 8
#: Conjunctions tried before giving up on keeping several words (each is a cheap masked AND once the
#: clauses have been matched; the budget bounds a long query's 2^n subsets).
MAX_TESTS = 32


class ClauseCounter(Protocol):
    """What relaxation asks an engine (over the whole archive, exclusions applied)."""

    def doc_frequency(self, clause: Clause) -> int:
        """How many articles hold the clause, as both engines estimate it: for each option, the
        fewest articles holding one of its words as a headline word plus those holding it as a body
        word, plus, for a one-run option of scope ``all``, the articles holding it as an exact byline,
        person, place or organisation name (a date option: the articles of that date; a
        ``reporter:``/``place:`` option: 0), summed over the options. Where that is 0, the exact
        number of articles matching the clause, for the first :data:`EXACT_COUNTS` such clauses of a
        query (0 past them)."""
        ...

    def matches(self, clauses: Sequence[Clause]) -> bool:
        """True if some article holds every one of ``clauses`` and none of the plan's exclusions."""
        ...


@dataclass
class Relaxation:
    """A relaxed plan: the clauses it still requires, those it dropped (in the order dropped), and
    the words it cut again (``resegmented``: a word found nowhere, and the two words it became)."""

    plan: QueryPlan
    required: list[Clause]
    dropped: list[Clause]
    original: list[Clause]
    resegmented: list[tuple[Clause, list[Clause]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The search JSON's ``"relaxed"`` value: ``{"required": [...], "dropped": [...],
        "all_words_query": ...}`` (the words as typed, and a query that requires every one)."""
        return {
            "required": [c.text for c in self.required],
            "dropped": [c.text for c in self.dropped],
            "all_words_query": all_words_query(self.original),
        }


def all_words_query(clauses: Sequence[Clause]) -> str:
    """A query requiring every clause as typed: each word quoted (a quoted word is never dropped),
    a date or an ``OR`` group marked ``+`` instead, since quotes would make it plain text.

    >>> from search.query.analyze import analyze
    >>> all_words_query(analyze("高新区小微企业融资 2024年11月").clauses)
    '"高新区" "小微" "企业" "融资" +2024年11月'
    """
    parts = []
    for clause in clauses:
        plain = len(clause.options) == 1 and clause.options[0].date is None and clause.options[0].scope == "all"
        if plain:
            parts.append('"' + clause.text.replace('"', " ") + '"')
        elif " OR " in clause.text:
            parts.append(clause.text)
        else:
            scope = clause.options[0].scope
            parts.append("+" + ("" if scope == "all" else f"{scope}:") + clause.text)
    return " ".join(parts)


def relax(plan: QueryPlan, counter: ClauseCounter) -> Relaxation | None:
    """The relaxed plan, or None when the plan matches as it is (or nothing can be done)."""
    typed = list(plan.clauses)
    if not typed or counter.matches(typed):
        return None
    frequency = {clause: counter.doc_frequency(clause) for clause in typed if not clause.strict}
    recut: list[Clause] = []
    resegmented: list[tuple[Clause, list[Clause]]] = []
    for clause in typed:
        parts = _split(clause, counter) if frequency.get(clause) == 0 else None
        if parts:
            resegmented.append((clause, parts))
        recut += parts or [clause]
    if resegmented and counter.matches(recut):
        return Relaxation(plan.keeping(recut), recut, [], typed, resegmented)
    # Cutting again did not find every word together: words found nowhere are dropped whole.
    clauses = typed
    if len(clauses) < 2:
        return None
    relaxable = [i for i, clause in enumerate(clauses) if not clause.strict]
    absent = {i for i in relaxable if frequency[clauses[i]] == 0}
    present = [i for i in relaxable if i not in absent]
    # Fewest words dropped first; among as many, the most frequent ones (ties: the later-typed).
    by_frequency = sorted(present, key=lambda i: (-frequency[clauses[i]], -i))

    def attempt(dropped: set[int]) -> Relaxation | None:
        kept = [clause for i, clause in enumerate(clauses) if i not in dropped]
        if kept and counter.matches(kept):
            gone = [clauses[i] for i in sorted(absent)] + [clauses[i] for i in by_frequency if i in dropped and i not in absent]
            return Relaxation(plan.keeping(kept), kept, gone, typed)
        return None

    tests = 0
    for count in range(0, len(present)):
        combos = itertools.combinations(by_frequency, count)
        ranked = sorted(combos, key=lambda combo: -sum(frequency[clauses[i]] for i in combo)) if count > 1 else combos
        for combo in ranked:
            if count == 0 and not absent:
                continue
            if tests >= MAX_TESTS:
                break
            tests += 1
            found = attempt(absent | set(combo))
            if found is not None:
                return found
        if tests >= MAX_TESTS:
            break
    if tests >= MAX_TESTS:  # too many words to try every way: drop the most frequent, one at a time
        dropped = set(absent)
        for i in by_frequency[:-1]:
            dropped.add(i)
            found = attempt(dropped)
            if found is not None:
                return found
    return None


def _split(clause: Clause, counter: ClauseCounter) -> list[Clause] | None:
    """A word that occurs nowhere, cut in two where both halves occur; None if it cannot be.

    The segmenter cuts a query where the words meet in the query, which need not be where they
    meet in an article (``33天海清`` typed together is ``33天`` and ``海清`` on the page, but the
    segmenter reads ``天海``; ``北京公交`` is one dictionary word, the page says 北京……公交). Cuts
    into two dictionary words are tried first, then the most even ones.
    """
    if clause.strict or len(clause.options) != 1:
        return None
    term = clause.options[0]
    text = term.text
    if not term.is_text or term.phrase or term.words or len(text) < 2 or not CJK_RUN.fullmatch(text):
        return None

    def words_in(part: str) -> int:
        return 1 if len(word_list(part)) == 1 else 0

    cuts = sorted(range(1, len(text)), key=lambda k: (-(words_in(text[:k]) + words_in(text[k:])), abs(len(text) / 2 - k), k))
    for cut in cuts:
        parts = [Clause(piece, (Term(piece, term.scope),)) for piece in (text[:cut], text[cut:])]
        if all(counter.doc_frequency(part) > 0 for part in parts):
            return parts
    return None

"""What to offer when a query finds nothing: the same words spaced and unquoted, or fewer of them.

After relaxation (:mod:`search.query.relax`) a query finds nothing only when none of its words
occurs, when quoted words (never dropped) do not occur together, when exclusions or filters remove
everything, or when nothing searchable was typed. :func:`alternative_queries` proposes queries
for those cases, best first; the caller runs them and offers those that find something.
"""

from __future__ import annotations

from search.analysis import CJK_RUN
from search.query.analyze import cut_words
from search.query.plan import QueryPlan

MAX_ALTERNATIVES = 8


def _spaced(plan: QueryPlan) -> str:
    """The plan's words without quotes or ``+``, separated by spaces (so they can be relaxed)."""
    words: list[str] = []
    for clause in plan.clauses:
        if len(clause.options) > 1 and " OR " in clause.text:
            words.append(clause.text)
        else:
            words.extend(cut_words(clause.text) or [clause.text])
    return " ".join(words)


def alternative_queries(plan: QueryPlan) -> list[tuple[str, str]]:
    """``(kind, query)`` candidates for a query that found nothing: ``spaced_query`` (the words
    unquoted, spaced), ``without_exclusions``, ``shorter_query`` (one word, or a shorter fragment)."""
    if plan.match_all or plan.match_none:
        return []
    candidates: list[tuple[str, str]] = []
    spaced = _spaced(plan)
    if any(clause.strict for clause in plan.clauses) and spaced:
        candidates.append(("spaced_query", spaced))
    if plan.excluded and spaced:
        candidates.append(("without_exclusions", spaced))
    if len(plan.clauses) > 1:
        candidates += [("shorter_query", clause.text) for clause in plan.clauses]
    for clause in plan.clauses[:2]:
        text = clause.text
        if not clause.strict and len(text) >= 3 and CJK_RUN.fullmatch(text):
            for shorter in (text[:-1], text[1:], text[:2], text[-2:]):
                candidates.append(("shorter_query", shorter))
    unique: dict[str, tuple[str, str]] = {}
    for kind, query in candidates:
        if query and query != plan.query.strip() and query not in unique:
            unique[query] = (kind, query)
    return list(unique.values())[:MAX_ALTERNATIVES]

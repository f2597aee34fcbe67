"""The keys a search adds to its answer about how it read the query, the same for every engine.

Each is absent when it has nothing to say (the search shape only ever gains keys):

* ``relaxed`` — no article holds every word: ``{"required", "dropped", "all_words_query"}``;
* ``resegmented`` — a word found nowhere, searched as the two words it was cut into:
  ``[{"text", "words"}]``;
* ``ignored`` — syntax left out: ``[{"text", "reason"}]`` (reasons in
  :data:`search.query.plan.IGNORED_REASONS`);
* ``dates`` — dates typed as text: ``[{"text", "date"}]`` (ISO, ``--MM-DD`` without a year).
"""

from __future__ import annotations

from typing import Any

from search.query.plan import QueryPlan
from search.query.relax import Relaxation


def reading(plan: QueryPlan, relaxation: Relaxation | None) -> dict[str, Any]:
    """The reading keys for the plan a search ran (after relaxation) and its relaxation, if any."""
    extra: dict[str, Any] = {}
    if relaxation is not None and relaxation.dropped:
        extra["relaxed"] = relaxation.to_dict()
    if relaxation is not None and relaxation.resegmented:
        extra["resegmented"] = [{"text": word.text, "words": [part.text for part in parts]} for word, parts in relaxation.resegmented]
    if plan.ignored:
        extra["ignored"] = [{"text": item.text, "reason": item.reason} for item in plan.ignored]
    dates = [
        {"text": clause.text, "date": term.date.iso()} for clause in plan.clauses for term in clause.options if term.date is not None
    ]
    if dates:
        extra["dates"] = dates
    return extra

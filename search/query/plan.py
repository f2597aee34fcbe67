"""The query plan: what a typed query asks for, as plain data every engine can run.

:func:`search.query.analyze.analyze` turns a query string into a :class:`QueryPlan`; an engine
translates the plan into its own matching (the embedded engine in
:mod:`search.engines.embedded.matching`, a Solr backend into a Solr query). Nothing here knows an
engine. The shape, from the inside out:

* :class:`Term` — one thing to look for: a word, a name, a fragment, a quoted phrase (``phrase``),
  or a date typed as text (``date``), restricted to a field ``scope``. A text term matches an
  article as a word (in the headline, the body or a name field) or as characters anywhere in the
  headline or body — full recall whatever the segmenter made of the article.
* :class:`Clause` — one required part of the query: it matches when any of its ``options`` does
  (``OR``; a date and the way it is written; synonyms later). ``text`` is what the user typed for
  it, the word the results page names when it is dropped.
* :class:`QueryPlan` — every clause is required (AND); no ``excluded`` term may match. ``runs``
  are the stretches typed without spaces that were cut into several words (``Term.words``): an
  article holding a run as typed, contiguously, ranks first, then one holding its words in pairs
  as typed, then one holding them close together. ``ignored`` is syntax that was ignored (say so on the
  page), ``function_words`` the words dropped because other words remain.

``QueryPlan.to_dict()`` is the JSON form (for debugging, logs and other backends).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

#: Field scopes a term may be restricted to (``title:``, ``reporter:``, ``place:``).
SCOPES = ("all", "title", "reporter", "place")


@dataclass(frozen=True)
class DateSpec:
    """A calendar date typed as text; any part may be missing (``11月22日`` has no year).

    >>> DateSpec(2024, 11).days()
    (20241101, 20241131)
    >>> DateSpec(None, 11, 22).iso()
    '--11-22'
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None

    def days(self) -> tuple[int, int] | None:
        """First and last day key (``YYYYMMDD``) of a date with a year; None without a year.

        A month ends on day key 31 whatever its length, as the date filters and the index's date
        spans count it (keys are compared, not calendar dates).
        """
        if self.year is None:
            return None
        base = self.year * 10000
        if self.month is None:
            return base + 101, base + 1231
        base += self.month * 100
        if self.day is None:
            return base + 1, base + 31
        return base + self.day, base + self.day

    def iso(self) -> str:
        """``2024-11-22``, ``2024-11``, ``2024`` or, without a year, ``--11-22`` (ISO 8601's form)."""
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        parts = [f"{self.year:04d}"] + [f"{part:02d}" for part in (self.month, self.day) if part is not None]
        return "-".join(parts)


@dataclass(frozen=True)
class Term:
    """One thing to look for (see the module docstring).

    ``text`` is normalised (:func:`search.analysis.normalize`); a phrase keeps its runs of word
    characters separated by single spaces (punctuation and spaces between them may vary).
    ``words``, when given, are the words ``text`` was cut into: such a term matches when every one
    of them matches, each as a word, a name or characters anywhere (an ``OR`` between two unspaced
    runs: ``桥梁检测 OR 消防开学第一课``); for a run it is the order the words were typed in.
    """

    text: str
    scope: str = "all"
    phrase: bool = False
    date: DateSpec | None = None
    words: tuple[str, ...] = ()

    @property
    def is_text(self) -> bool:
        """True for terms matched against the headline and body (not names-only, not dates)."""
        return self.date is None and self.scope in ("all", "title")

    def parts(self) -> tuple["Term", ...]:
        """The terms that must all match: one term per word when ``words`` is given, else itself."""
        if not self.words:
            return (self,)
        return tuple(Term(word, self.scope) for word in self.words)


@dataclass(frozen=True)
class Clause:
    """A required part of the query: any one of ``options`` matches.

    ``strict`` clauses (quoted, ``+word``) are never dropped when the query is relaxed.
    """

    text: str
    options: tuple[Term, ...]
    strict: bool = False


@dataclass(frozen=True)
class Ignored:
    """A piece of query syntax that was ignored, and why (a code from :data:`IGNORED_REASONS`)."""

    text: str
    reason: str


#: Why syntax is ignored: the code and what it means (the web page and the CLI say it in words).
IGNORED_REASONS = {
    "parenthesis": "parentheses do not group words; they were left out",
    "dangling_operator": "an operator with nothing to apply to",
    "empty_field": "a field prefix with no word after it",
    "unbalanced_quote": "a quotation mark without its partner",
    "no_word": "holds no letter, digit or Chinese character",
}


@dataclass
class QueryPlan:
    """A typed query as plain data (see the module docstring)."""

    query: str
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    runs: list[Term] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    function_words: list[str] = field(default_factory=list)

    @property
    def match_all(self) -> bool:
        """True when nothing was typed: every article matches (a search by filters alone)."""
        return not self.query.strip()

    @property
    def match_none(self) -> bool:
        """True when something was typed but nothing searchable remains (only broken syntax):
        such a query lists nothing, never the whole archive."""
        return not self.match_all and not self.clauses and not self.excluded

    @property
    def terms(self) -> list[Term]:
        """Every term that can match, in order: each clause's options, a multi-word option's words
        one by one (exclusions left out)."""
        return [part for clause in self.clauses for term in clause.options for part in term.parts()]

    def keeping(self, clauses: list[Clause]) -> "QueryPlan":
        """The same plan with only ``clauses`` required (a relaxed query)."""
        return replace(self, clauses=list(clauses))

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready plain data."""
        return asdict(self)

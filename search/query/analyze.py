"""Query analysis: a typed query -> :class:`~search.query.plan.QueryPlan` (plain data, no engine).

The steps, in order:

1. **Syntax** (:func:`search.query.language.tokenize`): operators, quotes, field prefixes,
   exclusions; broken syntax is left out and reported.
2. **Dates typed as text** (:mod:`search.query.dates`) are taken out of each unquoted token first,
   so that ``2024年11月22日`` is a date, not six words.
3. **Words.** Each remaining unquoted stretch of text is cut into words by the index's own
   segmenter and dictionary (:func:`search.analysis.word_list`): ``高新区小微企业融资`` →
   高新区 / 小微 / 企业 / 融资, each a required clause; the stretch itself becomes a *run*, which
   ranks an article holding it contiguously first. Names the archive knows (reporters,
   correspondents, photographers, people, places: a :class:`Lexicon` answers) are kept whole
   before cutting, because the segmenter's guesses for unknown names glue them to their
   neighbours (刘云华小微 / 企业).
4. **Function words** (``search/data/function_words.txt``: 的, 怎么, 关于 …) are dropped when other
   words remain.

A quoted string stays one clause (the exact characters, contiguous); ``reporter:`` and ``place:``
take the name as typed. ``OR`` joins the tokens on either side into one clause: each side is an
option, a side of several words an option requiring all of them (``Term.words``).

Hooks for later work: a synonym expansion adds options to a clause (``Clause.options``); a "did
you mean" pass can rewrite the clause texts before matching. Both work on the plan, not on strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Protocol

from search.analysis import CJK_RUN, dictionary_boundaries, word_list
from search.query.dates import date_clause, find_dates
from search.query.language import MAX_CLAUSES, Token, term_chunks, tokenize
from search.query.plan import Clause, QueryPlan, Term

#: Longest name looked up in the archive's lexicon (places such as 郑州高新技术产业开发区 are long).
MAX_NAME_CHARS = 12


class Lexicon(Protocol):
    """What the archive knows about names, asked for while cutting a query (an engine implements it)."""

    def known_names(self, candidates: Iterable[str]) -> set[str]:
        """The candidates (normalised strings) that are names in the archive: a byline, a person
        or a place of some article."""
        ...


@lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """The function words of ``search/data/function_words.txt``."""
    text = resources.files("search").joinpath("data/function_words.txt").read_text(encoding="utf-8")
    return frozenset(word for line in text.splitlines() for word in line.split("#", 1)[0].split())


def _name_spans(text: str, lexicon: Lexicon | None) -> list[tuple[int, int]]:
    """Leftmost-longest spans of known names in a Chinese ``text`` (two characters or more).

    A name is taken only where it covers whole words of the dictionary's own cut
    (:func:`search.analysis.dictionary_boundaries`): a name made of characters the dictionary
    does not know (刘云华, 钟莹莹) is kept whole, one straddling dictionary words is a coincidence
    (an extracted name 金基 inside 基金基金指数) and ignored.
    """
    if lexicon is None or len(text) < 2:
        return []
    candidates = {text[i:j] for i in range(len(text)) for j in range(i + 2, min(len(text), i + MAX_NAME_CHARS) + 1)}
    known = lexicon.known_names(candidates)
    if not known:
        return []
    bounds = dictionary_boundaries(text)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text) - 1:
        for j in range(min(len(text), i + MAX_NAME_CHARS), i + 1, -1):
            if text[i:j] in known and i in bounds and j in bounds:
                spans.append((i, j))
                i = j
                break
        else:
            i += 1
    return spans


def cut_words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """The words of one stretch of normalised text: known names kept whole, the rest segmented.

    >>> cut_words("高新区小微企业融资")
    ['高新区', '小微', '企业', '融资']
    """
    words: list[str] = []
    for chunk in re.findall(r"\w+", text):
        if not chunk.strip("_"):
            continue
        position = 0
        for match in CJK_RUN.finditer(chunk):
            for start, end in _name_spans(match.group(), lexicon):
                start, end = start + match.start(), end + match.start()
                words += word_list(chunk[position:start]) + [chunk[start:end]]
                position = end
        words += word_list(chunk[position:])
    return [word for word in words if word.strip("_")]


def _pieces(text: str) -> list[tuple[str, Clause | None]]:
    """An unquoted token's text split around the dates written in it: ``(text, None)`` for plain
    text and ``(date text, date clause)`` for each date."""
    pieces: list[tuple[str, Clause | None]] = []
    position = 0
    for match in find_dates(text):
        if match.start > position:
            pieces.append((text[position : match.start], None))
        pieces.append((match.text, date_clause(match)))
        position = match.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


def _token_clauses(token: Token, lexicon: Lexicon | None) -> tuple[list[Clause], list[Term]]:
    """The clauses of one text token, and the runs (stretches cut into several words) it holds."""
    strict = token.quoted or token.required
    if token.quoted:
        chunks = term_chunks(Term(token.text))
        return [Clause(token.text, (Term(" ".join(chunks), token.scope, phrase=True),), strict=True)], []
    if token.scope in ("reporter", "place"):
        name = "".join(term_chunks(Term(token.text)))
        return ([Clause(name, (Term(name, token.scope),), strict)] if name else []), []
    clauses: list[Clause] = []
    runs: list[Term] = []
    for text, dated in _pieces(token.text) if token.scope == "all" else [(token.text, None)]:
        if dated is not None:
            clauses.append(Clause(dated.text, dated.options, strict))
            continue
        chunks = term_chunks(Term(text))
        if len(chunks) > 1 and all(chunk.isascii() for chunk in chunks):
            # r&d, covid-19, touch-3: Latin and digits joined by punctuation stay one term, as written
            phrase = " ".join(chunks)
            clauses.append(Clause(phrase, (Term(phrase, token.scope, phrase=True),), strict))
            continue
        for chunk in chunks:
            words = cut_words(chunk, lexicon)
            clauses += [Clause(word, (Term(word, token.scope),), strict) for word in words]
            if len(words) > 1:
                runs.append(Term(chunk, token.scope, phrase=True, words=tuple(words)))
    return clauses, runs


def _alternative(token: Token, clauses: list[Clause]) -> tuple[Term, ...]:
    """What one side of an ``OR`` offers: the options of its only clause, or all of its words."""
    if len(clauses) == 1:
        return clauses[0].options
    words = tuple(clause.text for clause in clauses)
    return (Term(token.text, token.scope, words=words),)


def _excluded_terms(token: Token) -> list[Term]:
    """What ``-word`` excludes: the characters as typed (contiguous), per stretch of text."""
    chunks = term_chunks(Term(token.text))
    if token.quoted or (len(chunks) > 1 and all(chunk.isascii() for chunk in chunks)):
        return [Term(" ".join(chunks), token.scope, phrase=True)] if chunks else []
    if token.scope in ("reporter", "place"):
        return [Term("".join(chunks), token.scope)] if chunks else []
    return [Term(chunk, token.scope) for chunk in chunks]


def analyze(q: str, lexicon: Lexicon | None = None) -> QueryPlan:
    """Analyse a query string into a :class:`QueryPlan` (see the module docstring); never raises.

    >>> plan = analyze('高新区小微企业融资 -新密 title:"开门红"')
    >>> [c.text for c in plan.clauses], [t.text for t in plan.excluded], [r.text for r in plan.runs]
    (['高新区', '小微', '企业', '融资', '开门红'], ['新密'], ['高新区小微企业融资'])
    >>> [[(t.text, t.words) for t in c.options] for c in analyze("桥梁检测 OR 开门红").clauses]
    [[('桥梁检测', ('桥梁', '检测')), ('开门红', ())]]
    >>> [c.text for c in analyze("高新区怎么解决小微企业融资难").clauses]
    ['高新区', '解决', '小微', '企业', '融资难']
    """
    syntax = tokenize(q if isinstance(q, str) else "")
    plan = QueryPlan(query=q if isinstance(q, str) else "", ignored=syntax.ignored)
    chain: list[tuple[Token, list[Clause]]] = []  # tokens joined by OR, waiting to become one clause
    join_next = False
    for token in syntax.tokens:
        if token.kind == "or":
            join_next = bool(chain)
            continue
        if token.negated:
            plan.excluded.extend(_excluded_terms(token))
            continue
        clauses, runs = _token_clauses(token, lexicon)
        if not clauses:
            continue
        plan.runs.extend(runs)
        if not join_next:
            _close_chain(plan, chain)
            chain = []
        chain.append((token, clauses))
        join_next = False
    _close_chain(plan, chain)
    _drop_function_words(plan)
    _mark_run_words(plan)
    plan.clauses = list(dict.fromkeys(plan.clauses))  # a word typed twice is one requirement
    del plan.clauses[MAX_CLAUSES:]
    del plan.excluded[MAX_CLAUSES:]
    plan.runs = list(dict.fromkeys(plan.runs))[:MAX_CLAUSES]
    return plan


def _close_chain(plan: QueryPlan, chain: list[tuple[Token, list[Clause]]]) -> None:
    """Add a token's clauses to the plan, or, for tokens joined by ``OR``, one clause offering each."""
    if len(chain) == 1:
        plan.clauses.extend(chain[0][1])
    elif chain:
        options: list[Term] = []
        for token, clauses in chain:
            options += [option for option in _alternative(token, clauses) if option not in options]
        text = " OR ".join(token.text for token, _clauses in chain)
        plan.clauses.append(Clause(text, tuple(options), all(c.strict for _t, clauses in chain for c in clauses)))


def _mark_run_words(plan: QueryPlan) -> None:
    """A run keeps the words still searched (function words dropped), in the order typed."""
    dropped = set(plan.function_words)
    runs = []
    for run in plan.runs:
        words = tuple(word for word in run.words if word not in dropped)
        runs.append(Term(run.text, run.scope, run.phrase, run.date, words))
    plan.runs = runs


def _drop_function_words(plan: QueryPlan) -> None:
    """Drop unquoted one-word clauses that are function words, if any other clause remains."""
    words = function_words()

    def is_function(clause: Clause) -> bool:
        return not clause.strict and len(clause.options) == 1 and clause.options[0].is_text and clause.text in words

    if any(not is_function(clause) for clause in plan.clauses):
        plan.function_words = [clause.text for clause in plan.clauses if is_function(clause)]
        plan.clauses = [clause for clause in plan.clauses if not is_function(clause)]


def highlight_terms(q: str) -> list[str]:
    """The normalised words, names and runs of ``q`` to mark in an article page (longest first)."""
    plan = analyze(q or "")
    terms: dict[str, None] = {}
    for term in [*plan.terms, *plan.runs]:
        if term.is_text:
            for chunk in term.text.split():
                terms[chunk] = None
    return sorted(terms, key=len, reverse=True)

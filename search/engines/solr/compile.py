"""The query plan (:mod:`search.query.plan`) compiled to Solr parameters.

This is the only module that knows both the plan's structure and Solr's query syntax; the Solr
engine calls :func:`compile_search` (and, for relaxation, :func:`clause_query` / :func:`main_query`)
and nothing else to translate. A term matches as the embedded engine matches it
(:mod:`search.engines.embedded.matching`):

* **as characters** (``head_cjk`` / ``body_cjk``, CJK bigrams): a term with Chinese text, several
  chunks or several words matches wherever its characters stand together in the normalised text —
  the phrase of its bigrams. Between the chunks of a term (``"小微企业 融资"``, ``covid-19``) any
  punctuation or space may stand, as in the embedded engine's pattern. Scored at ``fragment`` weight.
* **as words** (``title_w`` / ``body_w``, our own segmentation): every word the segmenter cuts from
  the term, as a phrase in the headline; in the body, all the words where the characters also stand
  together (the embedded engine's rule: body words are confirmed on the text). Scored at the field
  weights. A term without Chinese text and of one word (``tod``) matches as a word only.
* **as a name**: a one-run term of scope ``all`` that is exactly a byline, place, person or
  organisation name (``byline``, ``place``, ``n_person``, ``n_org``), constant score.
* a term of several ``words`` (an ``OR`` side typed as a run): every one of its words, each as above;
* a date: the article's day span inside the date's (``date_lo``/``date_hi``); a month and day of any
  year by a function range on ``date_lo``;
* ``reporter:`` / ``place:``: a prefix of a normalised name in ``byline`` / ``place``, unscored.

Clauses become ``(a OR b)``, every clause is required, exclusions are ``-(…)``; each run found as
typed is an optional clause that only adds score. Filters become tagged filter queries and facets are
counted excluding their own tag, so each facet is counted with the other facets' filters but not its
own. The rerank query scores the best documents for the clauses standing close together and each
pair of a run's words side by side. Weights are the embedded engine's
(:data:`search.engines.embedded.matching.WEIGHTS`); Lucene's BM25 (idf, term-count lengths) is not
Whoosh's, which is why rankings may differ where scores are close (see the differences test).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from search.analysis import CJK_RUN, word_list
from search.engines.solr.documents import VALUE_SEPARATOR
from search.query.filters import FACETS
from search.query.language import term_chunks
from search.query.plan import Clause, DateSpec, QueryPlan, Term

#: Query-time weights, the embedded engine's: headline words ×3, body words ×1, characters ×0.5 of
#: those; a run found as typed, a name, the pairs and proximity as there.
WEIGHTS = {"title": 3.0, "body": 1.0, "fragment": 0.5, "run": 1.0, "proximity": 1.5, "pair": 1.0}
#: Where a bare word is also looked for as an exact name (the embedded engine's byline, person,
#: place and org fields).
NAME_FIELDS = ("byline", "place", "n_person", "n_org")
_MAX_PAIRS = 16
#: Results re-scored for proximity (Solr's rerank over the best documents, like the embedded window).
RESCORE_WINDOW = 100
#: Facet values asked of each shard beyond the ones shown. Counts of the values shown are always exact
#: (Solr refines them); the choice of values is exact while no shard holds more than ``size +
#: FACET_OVERREQUEST`` values among the matches — past that, a value tied at the last place may be
#: another than the embedded engine's (each shard only ranks its own counts).
FACET_OVERREQUEST = int(os.environ.get("NEWSEARCH_SOLR_FACET_OVERREQUEST", "1000"))
_NAME_FIELDS = {"reporter": "byline", "place": "place"}
_PHRASE_SPECIAL = re.compile(r'(["\\])')
_TERM_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|\s])')


@dataclass
class CompiledQuery:
    """Solr parameters for one search: the main query, filter queries and facets."""

    q: str
    fq: list[str] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)
    rerank: str | None = None  # the proximity query, re-scoring the best RESCORE_WINDOW documents

    def params(self) -> list[tuple[str, str]]:
        """As (name, value) pairs for a form POST to ``/select``."""
        out = [("q", self.q), ("q.op", "OR")]
        out += [("fq", fq) for fq in self.fq]
        if self.facets:
            out.append(("json.facet", json.dumps(self.facets, ensure_ascii=False)))
        if self.rerank:
            out.append(("rq", f"{{!rerank reRankQuery=$rqq reRankDocs={RESCORE_WINDOW} reRankWeight=1}}"))
            out.append(("rqq", self.rerank))
        return out


def phrase(text: str) -> str:
    """A quoted phrase for the standard query parser."""
    return '"' + _PHRASE_SPECIAL.sub(r"\\\1", text) + '"'


def term(text: str) -> str:
    """A bare term for the standard query parser (special characters escaped)."""
    return _TERM_SPECIAL.sub(r"\\\1", text)


def cjk_phrase_text(term: Term) -> str:
    """The text whose bigram phrase matches the term's characters standing together.

    Solr's CJK bigram filter numbers query bigrams one after another, while the index keeps each
    character's own position: after a run of two or more Chinese characters the next token would come
    one position too early. Repeating the run's last character as a lone token (a unigram, which the
    index also holds) restores the positions: ``小微企业 融资`` → ``小微企业 业 融资``.
    """
    parts: list[str] = []
    pieces = [piece for chunk in term_chunks(term) for piece in re.findall(f"{CJK_RUN.pattern}|[^{CJK_RUN.pattern[1:-2]}]+", chunk)]
    for index, piece in enumerate(pieces):
        parts.append(piece)
        if CJK_RUN.fullmatch(piece) and len(piece) > 1 and index + 1 < len(pieces):
            parts.append(piece[-1])
    return " ".join(parts)


def _scanned(term: Term, words: Sequence[str]) -> bool:
    """Does the term match as characters (the embedded engine's rule)?"""
    return bool(CJK_RUN.search(term.text)) or len(term_chunks(term)) > 1 or len(words) > 1


def _text_query(term: Term) -> str:
    """A text term as words, characters and (one run, scope all) names."""
    words = word_list(term.text)
    title_only = term.scope == "title"
    clauses = []
    if words:
        clauses.append(f"title_w:{phrase(' '.join(words))}^{WEIGHTS['title']:g}")
    if _scanned(term, words):
        text = phrase(cjk_phrase_text(term))
        clauses.append(f"head_cjk:{text}^{WEIGHTS['fragment'] * WEIGHTS['title']:g}")
        if not title_only:
            clauses.append(f"body_cjk:{text}^{WEIGHTS['fragment'] * WEIGHTS['body']:g}")
            if words:
                body_words = " ".join(f"+body_w:{phrase(w)}" for w in words)
                clauses.append(f"({body_words} +filter(body_cjk:{text}))^{WEIGHTS['body']:g}")
    elif words and not title_only:
        clauses.append(f"body_w:{phrase(' '.join(words))}^{WEIGHTS['body']:g}")
    chunks = term_chunks(term)
    if term.scope == "all" and len(chunks) == 1:
        names = " OR ".join(f"{field}:{phrase(chunks[0])}" for field in NAME_FIELDS)
        clauses.append(f"({names})^={WEIGHTS['body']:g}")
    if not clauses:
        return "(-*:*)"
    return "(" + " OR ".join(clauses) + ")"


def date_query(date: DateSpec) -> str:
    """Articles whose date lies within ``date`` (constant score); a month and day of any year: a
    single-day date whose day key ends in ``MMDD``."""
    days = date.days()
    if days is not None:
        return f"(date_lo:[{max(days[0], 1)} TO *] AND date_hi:[* TO {days[1]}])^={WEIGHTS['body']:g}"
    assert date.month is not None and date.day is not None
    key = date.month * 100 + date.day
    return (
        f'(date_lo:[1 TO *] AND _query_:"{{!frange l=0 u=0}}sub(date_hi,date_lo)"'
        f' AND _query_:"{{!frange l={key} u={key}}}mod(date_lo,10000)")^={WEIGHTS["body"]:g}'
    )


def term_query(item: Term) -> str:
    """The Solr query of one term of the plan (see the module docstring); never empty."""
    if item.words:
        return "(" + " ".join(f"+{term_query(part)}" for part in item.parts()) + ")"
    if item.scope in _NAME_FIELDS:
        name = item.text.replace(" ", "")
        return f"({_NAME_FIELDS[item.scope]}:{term(name)}*)^=0" if name else "(-*:*)"
    if item.date is not None:
        return date_query(item.date)
    return _text_query(item)


def clause_query(clause: Clause) -> str:
    """Any of the clause's options."""
    return "(" + " OR ".join(term_query(option) for option in clause.options) + ")"


def _run_bonus(run: Term) -> str:
    """An optional clause scoring a run found as typed (headline ×3, body ×1, at ``run`` weight)."""
    text = phrase(cjk_phrase_text(run))
    weight = WEIGHTS["run"] * WEIGHTS["fragment"]
    head = f"head_cjk:{text}^{weight * WEIGHTS['title']:g}"
    return f"({head})" if run.scope == "title" else f"({head} OR body_cjk:{text}^{weight * WEIGHTS['body']:g})"


def main_query(plan: QueryPlan, clauses: Sequence[Clause] | None = None, bonus: bool = True) -> str:
    """Every clause required (``clauses`` instead of the plan's, for relaxation), exclusions removed,
    runs as typed scoring; ``*:*`` when nothing is required, nothing for a plan of broken syntax."""
    if plan.match_none:
        return "(-*:*)"
    chosen = plan.clauses if clauses is None else clauses
    required = [f"+{clause_query(clause)}" for clause in chosen]
    excluded = [f"-{term_query(term)}" for term in plan.excluded]
    if not required:
        required = ["+*:*"]
    runs = [_run_bonus(run) for run in plan.runs if run.is_text] if bonus and chosen else []
    return " ".join(required + excluded + runs)


def rerank_query(plan: QueryPlan) -> str | None:
    """A sloppy phrase of the clauses' text terms, scoring documents where they stand close together
    (the embedded engine's proximity bonus), and each pair of a run's consecutive words side by
    side; None when there is neither."""
    parts = []
    terms = [part for clause in dict.fromkeys(plan.clauses) for option in clause.options[:1] if option.is_text for part in option.parts()]
    terms = list(dict.fromkeys(terms))
    if len(terms) >= 2:
        text = phrase(" ".join(cjk_phrase_text(t) for t in terms))
        weight = WEIGHTS["proximity"] * (len(terms) - 1)
        parts += [f"(head_cjk:{text}~8)^{weight:g}", f"(body_cjk:{text}~8)^{weight:g}"]
    pairs = dict.fromkeys(
        Term(f"{first} {second}", run.scope, phrase=True)
        for run in plan.runs
        if run.is_text
        for first, second in list(zip(run.words, run.words[1:]))[:_MAX_PAIRS]
    )
    for pair in pairs:
        text = phrase(cjk_phrase_text(pair))
        parts.append(f"(head_cjk:{text} OR body_cjk:{text})^={WEIGHTS['pair']:g}")
    return " OR ".join(parts) if parts else None


def filter_queries(selected: Mapping[str, set[str]], span: tuple[int, int] | None, doc_type: str) -> list[str]:
    """Filter queries: the document type, the date range (untagged: it applies to every facet too),
    and one tagged filter per facet (values of a facet OR-ed)."""
    fqs = [f"doc_type:{doc_type}"]
    if span is not None:
        lo, hi = max(span[0], 1), span[1]
        fqs.append(f"date_lo:[{lo} TO *] AND date_hi:[* TO {hi}]")
    for name, values in sorted(selected.items()):
        ors = " OR ".join(f"n_{name}:{phrase(v)}" for v in sorted(values))
        fqs.append(f"{{!tag=f_{name}}}({ors})" if ors else f"{{!tag=f_{name}}}(-*:*)")
    return fqs


def facet_requests(selected: Mapping[str, set[str]], size: int) -> dict[str, Any]:
    """JSON Facet API requests: each facet's top ``size`` values (count desc, then value), counted
    without its own filter; and for each selected value, its written forms (listed even beyond the
    top ones)."""
    facets: dict[str, Any] = {}
    for name in FACETS:
        domain = {"excludeTags": f"f_{name}"} if name in selected else {}
        if size > 0:
            facets[name] = {
                "type": "terms", "field": f"f_{name}", "limit": size, "mincount": 1, "sort": "count desc",
                "refine": True, "overrequest": FACET_OVERREQUEST, "domain": domain,
            }  # fmt: skip
        for index, value in enumerate(sorted(selected.get(name, ()))):
            facets[f"{name}__selected{index}"] = {
                "type": "terms", "field": f"fs_{name}", "prefix": value + VALUE_SEPARATOR, "limit": -1,
                "mincount": 1, "refine": True, "domain": domain,
            }  # fmt: skip
    return facets


def compile_search(
    plan: QueryPlan, selected: Mapping[str, set[str]], span: tuple[int, int] | None, facet_size: int,
    relevance: bool, doc_type: str = "article",
) -> CompiledQuery:  # fmt: skip
    """The Solr parameters for a query plan with validated filters (see the module docstring)."""
    return CompiledQuery(
        q=main_query(plan),
        fq=filter_queries(selected, span, doc_type),
        facets=facet_requests(selected, facet_size),
        rerank=rerank_query(plan) if relevance else None,
    )

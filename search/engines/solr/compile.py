"""The plain-data query (:mod:`search.query.language`) compiled to Solr parameters.

This is the only module that knows both the query language's structure and Solr's query syntax; the
Solr engine calls :func:`compile_search` and nothing else to translate. A unit matches as the
embedded engine matches it (:mod:`search.engines.embedded.matching`):

* **as characters** (``head_cjk`` / ``body_cjk``, CJK bigrams): a unit with Chinese text, several
  chunks or several words matches wherever its characters stand together in the normalised text —
  the phrase of its bigrams. Between the chunks of a unit (``"小微企业 融资"``, ``covid-19``) any
  punctuation or space may stand, as in the embedded engine's pattern. Scored at ``fragment`` weight.
* **as words** (``title_w`` / ``body_w``, our own segmentation): every word the segmenter cuts from
  the unit, as a phrase in the headline; in the body, all the words where the characters also stand
  together (the embedded engine's rule: body words are confirmed on the text). Scored at the field
  weights. A unit without Chinese text and of one word (``tod``) matches as a word only.
* ``reporter:`` / ``place:``: a prefix of a normalised name in ``byline`` / ``place``, unscored.

OR-groups become ``(a OR b)``, every group is required, exclusions are ``-(…)``. Filters become
tagged filter queries and facets are counted excluding their own tag, so each facet is counted with
the other facets' filters but not its own. Weights are the embedded engine's
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
from search.query.language import ParsedQuery, Unit, chunks

#: Query-time weights, the embedded engine's: headline words ×3, body words ×1, characters ×0.5 of those.
WEIGHTS = {"title": 3.0, "body": 1.0, "fragment": 0.5, "proximity": 1.5}
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


def cjk_phrase_text(unit: Unit) -> str:
    """The text whose bigram phrase matches the unit's characters standing together.

    Solr's CJK bigram filter numbers query bigrams one after another, while the index keeps each
    character's own position: after a run of two or more Chinese characters the next token would come
    one position too early. Repeating the run's last character as a lone token (a unigram, which the
    index also holds) restores the positions: ``小微企业 融资`` → ``小微企业 业 融资``.
    """
    parts: list[str] = []
    pieces = [piece for chunk in chunks(unit) for piece in re.findall(f"{CJK_RUN.pattern}|[^{CJK_RUN.pattern[1:-2]}]+", chunk)]
    for index, piece in enumerate(pieces):
        parts.append(piece)
        if CJK_RUN.fullmatch(piece) and len(piece) > 1 and index + 1 < len(pieces):
            parts.append(piece[-1])
    return " ".join(parts)


def _scanned(unit: Unit, words: Sequence[str]) -> bool:
    """Does the unit match as characters (the embedded engine's rule)?"""
    return bool(CJK_RUN.search(unit.text)) or len(chunks(unit)) > 1 or len(words) > 1


def unit_query(unit: Unit) -> str:
    """The Solr query of one unit (see the module docstring); never empty for a non-empty unit."""
    if unit.scope in _NAME_FIELDS:
        name = unit.text.replace(" ", "")
        return f"({_NAME_FIELDS[unit.scope]}:{term(name)}*)^=0" if name else "(-*:*)"
    words = word_list(unit.text)
    title_only = unit.scope == "title"
    clauses = []
    if words:
        clauses.append(f"title_w:{phrase(' '.join(words))}^{WEIGHTS['title']:g}")
    if _scanned(unit, words):
        text = phrase(cjk_phrase_text(unit))
        clauses.append(f"head_cjk:{text}^{WEIGHTS['fragment'] * WEIGHTS['title']:g}")
        if not title_only:
            clauses.append(f"body_cjk:{text}^{WEIGHTS['fragment'] * WEIGHTS['body']:g}")
            if words:
                body_words = " ".join(f"+body_w:{phrase(w)}" for w in words)
                clauses.append(f"({body_words} +filter(body_cjk:{text}))^{WEIGHTS['body']:g}")
    elif words and not title_only:
        clauses.append(f"body_w:{phrase(' '.join(words))}^{WEIGHTS['body']:g}")
    if not clauses:
        return "(-*:*)"
    return "(" + " OR ".join(clauses) + ")"


def proximity_query(parsed: ParsedQuery) -> str | None:
    """A sloppy phrase of the query's text units, scoring documents where they stand close together
    (the embedded engine's proximity bonus); None for fewer than two units."""
    units = [u for u in dict.fromkeys(parsed.positive) if u.scope in ("all", "title")]
    if len(units) < 2:
        return None
    text = phrase(" ".join(cjk_phrase_text(u) for u in units))
    weight = WEIGHTS["proximity"] * (len(units) - 1)
    return f"(head_cjk:{text}~8)^{weight:g} OR (body_cjk:{text}~8)^{weight:g}"


def main_query(parsed: ParsedQuery) -> str:
    """Every OR-group required, exclusions removed; ``*:*`` when nothing is required."""
    required = ["+(" + " OR ".join(unit_query(u) for u in group) + ")" for group in parsed.groups if group]
    excluded = [f"-{unit_query(u)}" for u in parsed.excluded]
    if not required:
        required = ["+*:*"]
    return " ".join(required + excluded)


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
    parsed: ParsedQuery, selected: Mapping[str, set[str]], span: tuple[int, int] | None, facet_size: int,
    relevance: bool, doc_type: str = "article",
) -> CompiledQuery:  # fmt: skip
    """The Solr parameters for a parsed query with validated filters (see the module docstring)."""
    return CompiledQuery(
        q=main_query(parsed),
        fq=filter_queries(selected, span, doc_type),
        facets=facet_requests(selected, facet_size),
        rerank=proximity_query(parsed) if relevance else None,
    )

"""Queries: parsing (DESIGN §8), matching with full recall, filters, facets, sorting, snippets.

How a query runs (:func:`run_search`):

1. :func:`parse` turns the string into clauses (words, ``"phrases"``, ``-exclusions``, ``OR`` groups,
   ``title:``/``reporter:``/``place:``). It never raises: anything malformed degrades to plain words.
2. Each text unit matches a document if its words occur as a phrase in the word fields, or if its
   characters occur as a contiguous fragment of the text — candidates from the bigram fields,
   confirmed against the stored text when bigrams alone could give a false positive (3+ characters).
   The boolean structure is evaluated on sets of document numbers.
3. Filters and facet counts come from the per-searcher facet table (the ``facets`` column, read once):
   a document counts for facet F if it passes every filter except F's own.
4. Relevance: BM25F over the title (whole headline) and body word fields, plus the same BM25 over
   the units' character occurrences at half weight, a proximity bonus, ties broken by date.
5. Snippets: the best passage of the body for the hits on the page only, HTML-escaped, with every
   matched word or fragment in ``<mark>``.
"""

from __future__ import annotations

import html
import math
import re
import threading
import time
import unicodedata
import weakref
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq

from search.analysis import CJK_RUN, normalize, word_list
from search.model import KINDS, Article
from search.schema import FACET_COLUMN, FULLTEXT_SEPARATOR, document_to_article, facet_row, headline_text

FACETS = ("place", "reporter", "year", "month", "kind", "source", "section", "person", "org")
SORTS = ("relevance", "newest", "oldest")
RANGE_FILTERS = ("from", "to")

# Ranking weights (query-time boosts on BM25F field scores), chosen on the judged set
# (python -m search.evaluation --grid): a headline hit outweighs body hits. The characters of a unit
# found anywhere in the text score like a word (BM25 over occurrence counts) times ``fragment``, and
# a word match scores on top of that: the same characters rank higher as a word than inside one.
WEIGHTS = {"title": 3.0, "body": 1.0, "proximity": 1.5, "fragment": 0.5}
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F defaults, used for the fragment scores too
MAX_QUERY_CHARS = 512  # longer input is cut: no real query is longer, and it bounds the work
MAX_UNITS = 32
MAX_LIMIT = 1000
SNIPPET_CHARS = 120
SNIPPET_CANDIDATES = 1000  # matches tried as the start of the snippet's passage


class QueryError(ValueError):
    """A bad search parameter (unknown sort or filter, malformed date, page < 1...)."""


# -- parsing -------------------------------------------------------------------------------------

_FIELD_ALIASES = {"title": "title", "标题": "title", "reporter": "reporter", "记者": "reporter",
                  "place": "place", "地点": "place"}  # fmt: skip
_OR = "\ue000"
_QUOTES = {'"': '"', "“": "”", "「": "」"}
_FIELD_PREFIX = re.compile(r"(title|reporter|place|标题|记者|地点):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True)
class Unit:
    """One matchable piece of a query: normalised text restricted to a field scope."""

    text: str  # normalised; for phrases it may contain spaces
    scope: str = "all"  # all | title | reporter | place
    phrase: bool = False


@dataclass
class ParsedQuery:
    """A parsed query: AND of OR-groups of units, minus excluded units."""

    groups: list[list[Unit]] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)

    @property
    def positive(self) -> list[Unit]:
        """Every unit that can match (not excluded)."""
        return [unit for group in self.groups for unit in group]


def _clean(q: str) -> str:
    """Drop control and format characters (and lone surrogates), cap the length, normalise."""
    q = "".join(ch for ch in q[: MAX_QUERY_CHARS * 2] if unicodedata.category(ch) not in ("Cs", "Co", "Cn"))
    q = _CONTROL.sub(" ", q)
    # Mark the OR operator before lowercasing turns it into the word "or" (PUA chars were dropped above).
    q = re.sub(r"(?<!\S)OR(?!\S)", _OR, q)
    return normalize(q)[:MAX_QUERY_CHARS]


def _plain_units(text: str, scope: str) -> list[Unit]:
    """Units from unquoted text.

    Punctuation separates units (``高新区，融资`` is two words), except inside a Latin/digit token
    such as ``r&d``, ``covid-19`` or ``2024-11``, which stays one unit matched as written.
    """
    chunks = [c for c in re.findall(r"\w+", text) if c.strip("_")]
    if len(chunks) > 1 and all(c.isascii() for c in chunks):
        return [Unit(" ".join(chunks), scope, phrase=True)]
    return [Unit(chunk, scope) for chunk in chunks]


def _tokens(q: str) -> Iterator[tuple[str, bool, str, bool]]:
    """Yield ``(text, negated, scope, quoted)`` tokens and ``("OR", ...)`` operators."""
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        negated = False
        if q[i] == "-":
            negated = True
            i += 1
            if i >= n or q[i].isspace():
                continue  # a lone "-" is nothing
        scope = "all"
        m = _FIELD_PREFIX.match(q, i)
        if m:
            scope = _FIELD_ALIASES[m.group(1).lower()]
            i = m.end()
            if i >= n or q[i].isspace():
                continue  # "title:" with nothing after it
        if q[i] in _QUOTES:
            close = q.find(_QUOTES[q[i]], i + 1)
            if close != -1:
                yield q[i + 1 : close], negated, scope, True
                i = close + 1
                continue
            i += 1  # unbalanced quote: ignore it, read plain words
            if i >= n:
                continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _QUOTES:
            j += 1
        if j == i:
            continue
        yield q[i:j], negated, scope, False
        i = j


def parse(q: str) -> ParsedQuery:
    """Parse a query string (DESIGN §8) into a :class:`ParsedQuery`; never raises.

    >>> p = parse('小微企业 OR 融资 -新密 title:"开门红"')
    >>> [[u.text for u in g] for g in p.groups], [u.text for u in p.excluded]
    ([['小微企业', '融资'], ['开门红']], ['新密'])
    """
    parsed = ParsedQuery()
    pending_or = False
    count = 0
    for text, negated, scope, quoted in _tokens(_clean(q or "")):
        if not quoted and not negated and scope == "all" and text == _OR:
            pending_or = bool(parsed.groups)
            continue
        if quoted:
            chunks = re.findall(r"\w+", text)
            units = [Unit(" ".join(chunks), scope, phrase=True)] if chunks else []
        else:
            units = _plain_units(text, scope)
        if scope in ("reporter", "place"):
            units = [Unit(u.text.replace(" ", ""), scope, u.phrase) for u in units]
        if not units or count >= MAX_UNITS:
            continue
        count += len(units)
        if negated:
            parsed.excluded.extend(units)
            continue
        if pending_or:
            parsed.groups[-1].append(units[0])
            parsed.groups.extend([u] for u in units[1:])
        else:
            parsed.groups.extend([u] for u in units)
        pending_or = False
    return parsed


# -- per-searcher tables -------------------------------------------------------------------------


@dataclass
class _Table:
    """Facet values, date keys and normalised texts of every live document, read once per searcher."""

    docnums: list[int]
    values: dict[int, dict[str, tuple[str, ...]]]  # docnum -> facet -> values (display form)
    norm_values: dict[int, dict[str, frozenset[str]]]  # the same, normalised, for filter matching
    date_span: dict[int, tuple[int, int] | None]
    date_key: dict[int, int]
    corpus: "_Corpus | None" = None  # normalised texts, read on first need
    lock: threading.Lock = field(default_factory=threading.Lock)


_tables: "weakref.WeakKeyDictionary[Any, _Table]" = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def _date_span(date: str | None) -> tuple[int, int] | None:
    """``"2024-11"`` -> ``(20241101, 20241131)``: the days a (partial) ISO date may stand for."""
    if not date:
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", date.strip())
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    if mo is None:
        return y * 10000 + 101, y * 10000 + 1231
    base = y * 10000 + int(mo) * 100
    if d is None:
        return base + 1, base + 31
    return base + int(d), base + int(d)


def _facet_values(row: tuple[Any, ...]) -> dict[str, tuple[str, ...]]:
    data = dict(zip(FACET_COLUMN, row))

    def one(value: Any) -> tuple[str, ...]:
        return (str(value),) if value not in (None, "") else ()

    return {
        "source": one(data["source"]),
        "kind": one(data["kind"]),
        "section": one(data["section"]),
        "year": one(data["year"]),
        "month": one(data["month"]),
        "place": tuple(dict.fromkeys(data["place"] or ())),
        "reporter": tuple(dict.fromkeys(data["reporter"] or ())),
        "person": tuple(dict.fromkeys(data["person"] or ())),
        "org": tuple(dict.fromkeys(data["org"] or ())),
        "_date": one(data["date"]),
    }


def _table(searcher: Any) -> _Table:
    """The facet table of this searcher (built on first use, then cached while the searcher lives)."""
    with _tables_lock:
        table = _tables.get(searcher)
    if table is not None:
        return table
    reader = searcher.reader()
    docnums = list(reader.all_doc_ids())
    column = reader.column_reader("facets") if reader.has_column("facets") else None
    values: dict[int, dict[str, tuple[str, ...]]] = {}
    for docnum in docnums:
        row = column[docnum] if column is not None else None
        if not row:  # a document written without the column
            row = facet_row(document_to_article(searcher.stored_fields(docnum)))
        values[docnum] = _facet_values(row)
    norm_values = {d: {k: frozenset(map(normalize, vs)) for k, vs in v.items()} for d, v in values.items()}
    date_span = {d: _date_span(v["_date"][0] if v["_date"] else None) for d, v in values.items()}
    date_key = {d: (span[0] if span else 0) for d, span in date_span.items()}
    table = _Table(docnums, values, norm_values, date_span, date_key)
    with _tables_lock:
        _tables[searcher] = table
    return table


@dataclass
class _Corpus:
    """Every live document's normalised headline and body, UTF-8, in one buffer for C-speed scans.

    Segments alternate headline, body, headline, body... (segment ``2i`` and ``2i+1`` belong to
    ``docnums[i]``), each followed by a NUL so that no match spans two segments.
    """

    blob: bytes
    starts: list[int]  # start offset of each segment, plus one past the end
    docnums: list[int]
    lengths: dict[int, tuple[int, int]]  # docnum -> (headline, body) length in bytes
    avg_lengths: tuple[float, float]

    def segment(self, k: int) -> bytes:
        """The bytes of segment ``k`` (without its NUL)."""
        return self.blob[self.starts[k] : self.starts[k + 1] - 1]


def _corpus(searcher: Any, table: _Table) -> _Corpus:
    """The searcher's :class:`_Corpus`, built from the ``fulltext`` column on first need."""
    if table.corpus is not None:
        return table.corpus
    with table.lock:
        if table.corpus is None:
            reader = searcher.reader()
            column = reader.column_reader("fulltext") if reader.has_column("fulltext") else None
            parts: list[bytes] = []
            lengths: dict[int, tuple[int, int]] = {}
            for docnum in table.docnums:
                value = column[docnum] if column is not None else b""
                if not value:  # a document written without the column
                    article = document_to_article(searcher.stored_fields(docnum))
                    value = normalize(headline_text(article)).encode() + FULLTEXT_SEPARATOR + normalize(article.body).encode()
                head, _sep, body = value.partition(FULLTEXT_SEPARATOR)
                parts += [head.replace(b"\0", b" "), body.replace(b"\0", b" ")]
                lengths[docnum] = (len(head), len(body))
            starts, offset = [], 0
            for part in parts:
                starts.append(offset)
                offset += len(part) + 1
            starts.append(offset)
            count = max(1, len(lengths))
            avg = (
                max(1.0, sum(h for h, _b in lengths.values()) / count),
                max(1.0, sum(b for _h, b in lengths.values()) / count),
            )
            blob = b"\0".join(parts) + b"\0"
            table.corpus = _Corpus(blob, starts, list(table.docnums), lengths, avg)
    return table.corpus


# -- matching ------------------------------------------------------------------------------------


@dataclass
class _UnitMatch:
    """Documents a unit matches: as words (ranked by BM25F) and in all (words or fragments)."""

    words: set[int]
    docs: set[int]
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)  # (headline, body) occurrences


def _chunks(unit: Unit) -> list[str]:
    return re.findall(r"\w+", unit.text)


def _unit_pattern(unit: Unit) -> re.Pattern[str]:
    """Regex for the unit's characters in normalised text (non-word characters may separate chunks).

    Latin letters and digits at a chunk's edge must not continue a longer word (``tod`` is not in
    ``method``); Chinese characters need no boundary.
    """
    parts = []
    for chunk in _chunks(unit):
        escaped = re.escape(chunk)
        if re.match(r"[a-z0-9]", chunk):
            escaped = r"(?<![a-z0-9])" + escaped
        if re.search(r"[a-z0-9]$", chunk):
            escaped += r"(?![a-z0-9])"
        parts.append(escaped)
    return re.compile(r"\W*".join(parts))


def _word_queries(unit: Unit, boost: bool = True) -> list[wq.Query]:
    """Term or Phrase of the unit's words in each word field (with the field's ranking weight)."""
    words = word_list(unit.text)
    if not words:
        return []
    out: list[wq.Query] = []
    for name in ("title",) if unit.scope == "title" else ("title", "body"):
        weight = WEIGHTS[name] if boost else 1.0
        if len(words) == 1:
            out.append(wq.Term(name, words[0], boost=weight))
        else:
            out.append(wq.Phrase(name, words, boost=weight))
    return out


def _name_query(unit: Unit) -> wq.Query:
    """``reporter:`` / ``place:``: a name, or the start of one, in the byline / place field."""
    fieldname = "byline" if unit.scope == "reporter" else "place"
    return wq.Prefix(fieldname, unit.text.replace(" ", ""))


def _scan(searcher: Any, table: _Table, unit: Unit) -> dict[int, tuple[int, int]]:
    """Documents whose normalised text holds the unit's characters: ``{docnum: (headline, body) hits}``.

    ``bytes.find`` over the whole corpus buffer finds the next document holding the (longest chunk
    of the) unit, ``bytes.count`` counts within it, and the search resumes after it: Python runs once
    per matching document, C does the scanning. UTF-8 matches only fall on character boundaries. A
    regex confirms the match when the unit has several chunks or Latin/digit edges.
    """
    chunks = _chunks(unit)
    if not chunks:
        return {}
    corpus = _corpus(searcher, table)
    needle = max(chunks, key=len).encode("utf-8")
    simple = len(chunks) == 1 and not re.search(r"^[a-z0-9]|[a-z0-9]$", chunks[0])
    pattern = None if simple else _unit_pattern(unit)
    title_only = unit.scope == "title"
    blob, starts = corpus.blob, corpus.starts
    found: dict[int, list[int]] = {}
    pos = blob.find(needle)
    while pos != -1:
        k = bisect_right(starts, pos) - 1
        end = starts[k + 1] - 1
        if not (title_only and k % 2):
            if simple:
                hits = blob.count(needle, starts[k], end)
            else:
                assert pattern is not None
                hits = len(pattern.findall(corpus.segment(k).decode("utf-8")))
            if hits:
                found.setdefault(corpus.docnums[k // 2], [0, 0])[k % 2] = hits
        pos = blob.find(needle, end + 1)
    return {d: (h, b) for d, (h, b) in found.items()}


def _unit_match(searcher: Any, table: _Table, unit: Unit, cache: dict[Unit, _UnitMatch]) -> _UnitMatch:
    """Match one unit: word phrase in the word fields, or its characters anywhere in the text."""
    if unit in cache:
        return cache[unit]
    if unit.scope in ("reporter", "place"):
        docs = set(searcher.docs_for_query(_name_query(unit)))
        match = _UnitMatch(docs, docs)
    else:
        queries = _word_queries(unit, boost=False)
        words = set(searcher.docs_for_query(wq.Or(queries))) if queries else set()
        match = _UnitMatch(words, set(words))
        # Scan for Chinese (fragments) and for multi-chunk units ("r&d": punctuation breaks the phrase)
        if CJK_RUN.search(unit.text) or len(_chunks(unit)) > 1:
            scanned = _scan(searcher, table, unit)
            match.docs |= scanned.keys()
            match.counts = scanned
    cache[unit] = match
    return match


def _match(searcher: Any, table: _Table, parsed: ParsedQuery, cache: dict[Unit, _UnitMatch]) -> set[int]:
    """Documents matching the whole query (AND of OR-groups, minus exclusions)."""
    if parsed.groups:
        result: set[int] | None = None
        for group in sorted(parsed.groups, key=len):
            docs: set[int] = set()
            for unit in group:
                docs |= _unit_match(searcher, table, unit, cache).docs
            result = docs if result is None else result & docs
            if not result:
                return set()
        matched = result or set()
    else:
        matched = set(table.docnums)
    for unit in parsed.excluded:
        matched -= _unit_match(searcher, table, unit, cache).docs
    return matched


def _scoring_query(parsed: ParsedQuery) -> wq.Query | None:
    """BM25F ranking query: each positive unit's weighted word clauses plus a proximity bonus."""
    clauses: list[wq.Query] = []
    all_words: list[str] = []
    for unit in parsed.positive:
        if unit.scope in ("reporter", "place"):
            continue  # a name filter, not a relevance signal
        clauses += _word_queries(unit)
        if unit.scope == "all":
            all_words += word_list(unit.text)
    return wq.Or(clauses) if clauses else None


# -- filters and facets --------------------------------------------------------------------------


def _parse_date(value: str, end: bool) -> int:
    """``YYYY[-MM[-DD]]`` -> the first (or, with ``end``, last) day key it covers; QueryError if bad."""
    m = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", value)
    if not m:
        raise QueryError(f"bad date {value!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise QueryError(f"bad date {value!r}: month must be 01-12")
    if day is not None:
        import calendar

        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise QueryError(f"bad date {value!r}: no such day")
    if month is None:
        return year * 10000 + (1231 if end else 101)
    if day is None:
        return year * 10000 + month * 100 + (31 if end else 1)
    return year * 10000 + month * 100 + day


def _check_filters(filters: Mapping[str, Sequence[str]] | None) -> tuple[dict[str, set[str]], tuple[int, int] | None]:
    """Validate filters; return ``{facet: {normalised values}}`` and the date range (or None)."""
    selected: dict[str, set[str]] = {}
    lo, hi = None, None
    for name, raw in (filters or {}).items():
        values = [raw] if isinstance(raw, (str, int)) else list(raw or [])
        values = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if not values:
            continue
        if name in RANGE_FILTERS:
            keys = [_parse_date(v, end=(name == "to")) for v in values]
            if name == "from":
                lo = max(keys)
            else:
                hi = min(keys)
            continue
        if name not in FACETS:
            raise QueryError(f"unknown filter {name!r}: use one of {', '.join(FACETS + RANGE_FILTERS)}")
        if name == "year":
            for v in values:
                if not re.fullmatch(r"\d{4}", v):
                    raise QueryError(f"bad year {v!r}: expected four digits")
            values = [str(int(v)) for v in values]
        elif name == "month":
            for v in values:
                if not re.fullmatch(r"\d{1,2}", v) or not 1 <= int(v) <= 12:
                    raise QueryError(f"bad month {v!r}: expected 1-12")
            values = [str(int(v)) for v in values]
        elif name == "kind":
            for v in values:
                if v not in KINDS:
                    raise QueryError(f"bad kind {v!r}: use one of {', '.join(KINDS)}")
        selected[name] = {normalize(v) for v in values}
    if lo is None and hi is None:
        return selected, None
    lo = lo if lo is not None else 0
    hi = hi if hi is not None else 99999999
    if lo > hi:
        raise QueryError("bad date range: 'from' is after 'to'")
    return selected, (lo, hi)


def _filter_and_count(
    table: _Table, matched: set[int], selected: dict[str, set[str]], span: tuple[int, int] | None, facet_size: int
) -> tuple[list[int], dict[str, list[dict[str, Any]]]]:
    """Apply filters; count each facet over the documents passing every *other* filter."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    passing: list[int] = []
    for docnum in matched:
        if span is not None:
            own = table.date_span.get(docnum)
            if own is None or own[0] < span[0] or own[1] > span[1]:
                continue
        norm = table.norm_values[docnum]
        failed = [name for name, wanted in selected.items() if not (norm[name] & wanted)]
        values = table.values[docnum]
        if not failed:
            passing.append(docnum)
            for name in FACETS:
                counts[name].update(set(values[name]))
        elif len(failed) == 1:
            counts[failed[0]].update(set(values[failed[0]]))
    facets: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS:
        ranked = sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:facet_size]
        wanted = selected.get(name, set())
        shown_names = {normalize(v) for v, _ in shown}
        shown += [(v, c) for v, c in ranked[facet_size:] if normalize(v) in wanted and normalize(v) not in shown_names]
        facets[name] = [{"value": v, "count": c} for v, c in shown]
    return passing, facets


# -- snippets ------------------------------------------------------------------------------------


def _highlight_pattern(units: Sequence[Unit]) -> re.Pattern[str] | None:
    """One regex for every positive text unit, longest first (so overlapping marks do not nest)."""
    patterns = sorted({_unit_pattern(u).pattern for u in units if u.scope != "reporter"}, key=len, reverse=True)
    patterns = [p for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _mark(text: str, spans: Sequence[tuple[int, int]], start: int, end: int) -> str:
    """HTML for ``text[start:end]`` with the given spans (inside it) wrapped in ``<mark>``."""
    out, pos = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s], quote=False))
        out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end], quote=False))
    return "".join(out).replace("\n", " ")


def make_snippet(text: str, pattern: re.Pattern[str] | None, size: int = SNIPPET_CHARS) -> str:
    """The best passage of ``text`` (~``size`` chars) with matches marked; a second, far-away passage
    is added (joined with …) when it holds query terms the first lacks. HTML-safe.
    """
    if not text:
        return ""
    spans: list[tuple[int, int]] = []
    keys: list[str] = []
    if pattern is not None:
        norm = normalize(text)
        for m in pattern.finditer(norm):
            if m.end() > m.start():
                spans.append((m.start(), m.end()))
                keys.append(m.group())
    if not spans:
        end = min(len(text), size)
        return _mark(text, [], 0, end) + ("…" if end < len(text) else "")

    def window_at(i: int) -> tuple[int, int]:
        start = max(0, spans[i][0] - size // 4)
        # start after a sentence end close before the hit, if there is one
        cut = max(text.rfind(p, start, spans[i][0]) for p in "。！？\n")
        if cut != -1 and spans[i][0] - cut <= size // 3:
            start = cut + 1
        return start, min(len(text), start + size)

    # Matches are sorted and do not overlap, so those inside a window are a slice (found by bisection):
    # linear in the number of matches, not quadratic; and only the first matches are tried as window
    # starts, so a huge body (a 5 MB page without line breaks) costs a bounded amount per result.
    starts, ends = [a for a, _b in spans], [b for _a, b in spans]
    best, best_key = (0, 0), (-1, -1)
    for i in range(min(len(spans), SNIPPET_CANDIDATES)):
        s, e = window_at(i)
        inside = keys[bisect_left(starts, s) : bisect_right(ends, e)]
        key = (len(set(inside)), len(inside))
        if key > best_key:
            best, best_key = (s, e), key
    windows = [best]
    covered = {k for (a, b), k in zip(spans, keys) if a >= best[0] and b <= best[1]}
    for (a, b), k in zip(spans, keys):
        if k not in covered and len(windows) < 3:
            s = max(0, a - size // 6)
            e = min(len(text), s + size // 2)
            if all(e <= ws or s >= we for ws, we in windows):
                windows.append((s, e))
                covered |= {kk for (aa, bb), kk in zip(spans, keys) if aa >= s and bb <= e}
    windows.sort()
    pieces = []
    for s, e in windows:
        # never cut a match in half
        for a, b in spans:
            if a < e < b:
                e = b
            if a < s < b:
                s = a
        pieces.append((s, e))
    html_parts = [_mark(text, spans, s, e) for s, e in pieces]
    out = "…".join(html_parts)
    if pieces[0][0] > 0:
        out = "…" + out
    if pieces[-1][1] < len(text):
        out += "…"
    return out


# -- results -------------------------------------------------------------------------------------


def _row(searcher: Any, docnum: int, score: float, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    stored = searcher.stored_fields(docnum)
    return {
        "id": stored.get("id"),
        "title": stored.get("title") or "",
        "kicker": stored.get("kicker") or "",
        "subtitle": stored.get("subtitle") or "",
        "source": stored.get("source") or "",
        "date": stored.get("date"),
        "reporters": list(stored.get("reporters") or []),
        "places": list(stored.get("places") or []),
        "kind": stored.get("kind") or "",
        "score": round(float(score), 4),
        "snippet": make_snippet(stored.get("body") or stored.get("lead") or "", pattern),
    }


def _as_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise QueryError(f"bad {name} {value!r}: expected a whole number") from None
    if number < low or (high is not None and number > high):
        limit = f"{low}-{high}" if high is not None else f">= {low}"
        raise QueryError(f"bad {name} {value!r}: expected {limit}")
    return number


def _fragment_scores(searcher: Any, table: _Table, matches: list[_UnitMatch]) -> dict[int, float]:
    """BM25 of each unit's character occurrences in headline and body, times ``WEIGHTS["fragment"]``."""
    scores: dict[int, float] = {}
    if not matches or table.corpus is None:
        return scores
    lengths = table.corpus.lengths
    avg_head, avg_body = table.corpus.avg_lengths
    n = len(table.corpus.docnums)
    for match in matches:
        if not match.counts:
            continue
        idf = math.log(n / (len(match.counts) + 1)) + 1.0  # Whoosh's BM25 idf
        for docnum, (head, body) in match.counts.items():
            head_len, body_len = lengths[docnum]
            score = 0.0
            for tf, length, avg, weight in ((head, head_len, avg_head, WEIGHTS["title"]), (body, body_len, avg_body, WEIGHTS["body"])):
                if tf:
                    norm = BM25_K1 * ((1 - BM25_B) + BM25_B * length / avg)
                    score += weight * idf * tf * (BM25_K1 + 1) / (tf + norm)
            scores[docnum] = scores.get(docnum, 0.0) + WEIGHTS["fragment"] * score
    return scores


def _rank(
    searcher: Any,
    table: _Table,
    parsed: ParsedQuery,
    cache: dict[Unit, _UnitMatch],
    docs: list[int],
    sort: str,
    need: int,
) -> list[tuple[int, float]]:
    """Order the filtered documents; return the first ``need`` as ``(docnum, score)``.

    Relevance: BM25F of the word clauses plus the fragment scores, ties broken by date (newest first).
    """
    key = table.date_key
    if sort != "relevance":
        reverse = sort == "newest"
        ordered = sorted(docs, key=lambda d: (key[d], -d if reverse else d), reverse=reverse)
        return [(d, 0.0) for d in ordered[:need]]
    matches = [cache[u] for u in parsed.positive if u in cache]
    scores = _fragment_scores(searcher, table, matches)
    scoring = _scoring_query(parsed)
    worded = set(docs).intersection(set().union(*(m.words for m in matches)))
    if scoring is not None and worded:
        for docnum, score in searcher.search(scoring, filter=worded, limit=None).items():
            scores[docnum] = scores.get(docnum, 0.0) + score
    ordered = sorted(docs, key=lambda d: (-round(scores.get(d, 0.0), 6), -key[d], d))
    return [(d, scores.get(d, 0.0)) for d in ordered[:need]]


def run_search(
    searcher: Any,
    q: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    limit: int = 10,
    facet_size: int = 10,
) -> dict[str, Any]:
    """Search (DESIGN §6/§8): results page, exact total, facets; raises QueryError on bad parameters."""
    started = time.perf_counter()
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    page = _as_int(page, "page", 1)
    limit = _as_int(limit, "limit", 1, MAX_LIMIT)
    facet_size = _as_int(facet_size, "facet_size", 0)
    selected, span = _check_filters(filters)
    parsed = parse(q if isinstance(q, str) else "")
    table = _table(searcher)
    cache: dict[Unit, _UnitMatch] = {}
    matched = _match(searcher, table, parsed, cache)
    passing, facets = _filter_and_count(table, matched, selected, span, facet_size)
    offset = (page - 1) * limit
    ranked = _rank(searcher, table, parsed, cache, passing, sort, offset + limit) if offset < len(passing) else []
    pattern = _highlight_pattern(parsed.positive)
    results = [_row(searcher, d, s, pattern) for d, s in ranked[offset : offset + limit]]
    return {
        "query": q,
        "total": len(passing),
        "page": page,
        "limit": limit,
        "sort": sort,
        "filters": {k: [str(v) for v in ([vs] if isinstance(vs, (str, int)) else vs)] for k, vs in (filters or {}).items()},
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "results": results,
        "facets": facets,
    }


def get_article(searcher: Any, article_id: str) -> Article | None:
    """The stored article with this id, or None."""
    if not isinstance(article_id, str) or not article_id:
        return None
    stored = searcher.document(id=article_id)
    return document_to_article(stored) if stored else None


def iter_articles(searcher: Any) -> Iterator[Article]:
    """Every live article in the index, in page order (source, then position)."""
    rows = [(stored.get("source") or "", stored.get("position") or 0, stored) for stored in searcher.all_stored_fields()]
    rows.sort(key=lambda r: (r[0], r[1]))
    for _source, _position, stored in rows:
        yield document_to_article(stored)


def highlight_terms(searcher: Any, q: str) -> list[str]:
    """The normalised words and fragments of ``q`` to mark on an article page (longest first)."""
    terms: dict[str, None] = {}
    for unit in parse(q or "").positive:
        if unit.scope in ("all", "title"):
            for chunk in unit.text.split():
                terms[chunk] = None
    return sorted(terms, key=len, reverse=True)


def related_articles(searcher: Any, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Articles sharing this one's distinctive words (TF-IDF key terms, more-like-this); result rows."""
    from search.schema import text_counts

    article = get_article(searcher, article_id)
    if article is None:
        return []
    counts = text_counts(article)
    for keyword in article.keywords:
        counts[normalize(keyword)] += 2
    n = max(1, searcher.doc_count())
    weighted = []
    for word, tf in counts.items():
        if len(word) < 2 or word.isdigit():
            continue
        df = searcher.doc_frequency("body", word) + searcher.doc_frequency("title", word)
        if df <= 0:
            continue
        weighted.append(((1 + math.log(tf)) * math.log(1 + n / df), word))
    weighted.sort(reverse=True)
    top = weighted[:15]
    if not top:
        return []
    clauses = [wq.Term(name, w, boost=wt * (2.0 if name == "title" else 1.0)) for wt, w in top for name in ("title", "body")]
    results = searcher.search(wq.Or(clauses), limit=limit + 1)
    pattern = _highlight_pattern([Unit(w) for _wt, w in top[:5]])
    rows = []
    for hit in results:
        if hit.get("id") == article_id:
            continue
        rows.append(_row(searcher, hit.docnum, hit.score, pattern))
    return rows[:limit]


def suggest(searcher: Any, prefix: str, limit: int = 8) -> list[dict[str, str]]:
    """Completions for a typed prefix: places, reporters, people, orgs, titles, then frequent words."""
    text = _clean(prefix or "").strip()
    if not text or limit <= 0:
        return []
    reader = searcher.reader()
    out: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(value: str, kind: str) -> None:
        if value and value not in seen and len(out) < limit:
            seen.add(value)
            out.append({"text": value, "type": kind})

    for fieldname, kind in (("place", "place"), ("reporter", "reporter"), ("person", "person"), ("org", "org")):
        names = sorted(reader.expand_prefix(fieldname, text), key=lambda t: -reader.doc_frequency(fieldname, t))
        for name in names[:limit]:
            add(name if isinstance(name, str) else name.decode("utf-8"), kind)
    table = _table(searcher)
    for docnum in table.docnums:
        if len(out) >= limit:
            break
        title = searcher.stored_fields(docnum).get("title") or ""
        if normalize(title).startswith(text):
            add(title, "title")
    words = [w if isinstance(w, str) else w.decode("utf-8") for w in reader.expand_prefix("body", text)]
    words = [w for w in words if len(w) > 1 or w == text]
    words.sort(key=lambda w: -reader.doc_frequency("body", w))
    for word in words:
        add(word, "word")
    return out

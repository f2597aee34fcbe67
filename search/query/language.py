"""The query language: a typed query string -> plain data every engine can run.

Syntax: words separated by spaces must all match; ``OR`` between words; ``-word`` excludes;
``"…"`` is an exact contiguous phrase; ``title:``, ``reporter:``, ``place:`` (and 标题:, 记者:, 地点:)
restrict a word to a field. The string is normalised like the index (NFKC, traditional →
simplified, lowercase) and cut into :class:`Unit` s: the units of one OR-group are alternatives,
all groups must match (:class:`ParsedQuery`). :func:`parse` never raises: anything malformed
degrades to plain words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from search.analysis import normalize

MAX_QUERY_CHARS = 512  # longer input is cut: no real query is longer, and it bounds the work
MAX_UNITS = 32


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


def chunks(unit: Unit) -> list[str]:
    """The unit's runs of word characters (punctuation splits them)."""
    return re.findall(r"\w+", unit.text)


def unit_pattern(unit: Unit) -> re.Pattern[str]:
    """Regex for the unit's characters in normalised text (non-word characters may separate chunks).

    Latin letters and digits at a chunk's edge must not continue a longer word (``tod`` is not in
    ``method``); Chinese characters need no boundary.
    """
    parts = []
    for chunk in chunks(unit):
        escaped = re.escape(chunk)
        if re.match(r"[a-z0-9]", chunk):
            escaped = r"(?<![a-z0-9])" + escaped
        if re.search(r"[a-z0-9]$", chunk):
            escaped += r"(?![a-z0-9])"
        parts.append(escaped)
    return re.compile(r"\W*".join(parts))


@dataclass
class ParsedQuery:
    """A parsed query: AND of OR-groups of units, minus excluded units."""

    groups: list[list[Unit]] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)

    @property
    def positive(self) -> list[Unit]:
        """Every unit that can match (not excluded)."""
        return [unit for group in self.groups for unit in group]


def clean_query(q: str) -> str:
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
    for text, negated, scope, quoted in _tokens(clean_query(q or "")):
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




def highlight_terms(q: str) -> list[str]:
    """The normalised words and fragments of ``q`` to mark on an article page (longest first)."""
    terms: dict[str, None] = {}
    for unit in parse(q or "").positive:
        if unit.scope in ("all", "title"):
            for chunk in unit.text.split():
                terms[chunk] = None
    return sorted(terms, key=len, reverse=True)

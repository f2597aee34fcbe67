"""The query language's syntax: a typed string -> :class:`Token` s, with the syntax that was ignored.

What people type, and what it means (see also :mod:`search.query.analyze`, which cuts the text of
each token into words):

* words separated by spaces, or typed without spaces: all must match;
* ``OR``, ``|``, ``||`` between two words: either; ``AND``, ``&&`` and ``+word``: both (the
  default anyway; ``+word`` and a quoted phrase are never dropped when a query is relaxed);
* ``-word`` and ``NOT word``: without it;
* ``"…"`` (also ``“…”``, ``「…」``): the exact characters, contiguous;
* ``title:``, ``reporter:``, ``place:`` (and ``标题:``, ``记者:``, ``地点:``, full-width colons too):
  restrict a word to the headline, the bylines, the places.

Operators are upper case (``or`` is a word). Broken syntax is never an error: a lone ``-`` or ``OR``,
``title:`` with nothing after it, unbalanced quotes, parentheses and tokens without any letter,
digit or Chinese character are left out and reported as :class:`~search.query.plan.Ignored`, so the
page can say so. :func:`clean_query` removes control characters and caps the length first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from search.analysis import normalize
from search.query.plan import Ignored, Term

MAX_QUERY_CHARS = 512  # longer input is cut: no real query is longer, and it bounds the work
MAX_CLAUSES = 32

_FIELD_ALIASES = {"title": "title", "标题": "title", "reporter": "reporter", "记者": "reporter",
                  "place": "place", "地点": "place"}  # fmt: skip
_FIELD_PREFIX = re.compile(r"(title|reporter|place|标题|记者|地点):", re.IGNORECASE)
_QUOTES = {'"': '"', "“": "”", "「": "」", "”": "”"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_OR_WORDS = {"OR", "|", "||"}
_AND_WORDS = {"AND", "&&"}
# Operators typed between words without spaces: 湖人||火箭, 湖人|火箭, 小微&&融资.
_GLUED_OPERATOR = re.compile(r"(\|\||&&|\|)")
_WORDLIKE = re.compile(r"\w")
# What may stand before a quote in the same piece: signs and a field prefix (-"…", title:"…").
_PREFIX_ONLY = re.compile(r"[-+]*(?:(?:title|reporter|place|标题|记者|地点):)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    """One piece of the query: text to search for, or an operator (``kind`` ``"or"``)."""

    kind: str  # "text" | "or"
    text: str = ""  # normalised
    quoted: bool = False
    negated: bool = False
    required: bool = False  # +word
    scope: str = "all"


@dataclass
class Syntax:
    """The tokens of a query and the syntax left out of them."""

    tokens: list[Token] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)


def clean_query(q: str) -> str:
    """Drop control and format characters (and lone surrogates), cap the length, NFKC-fold
    (full-width letters, digits, operators and colons become ASCII); case is kept for operators."""
    q = "".join(ch for ch in (q or "")[: MAX_QUERY_CHARS * 2] if unicodedata.category(ch) not in ("Cs", "Co", "Cn"))
    q = _CONTROL.sub(" ", q)
    return unicodedata.normalize("NFKC", q)[:MAX_QUERY_CHARS]


def term_pattern(term: Term) -> re.Pattern[str] | None:
    """Regex for a text term's characters in normalised text (non-word characters may separate the
    runs of a phrase); None for a date.

    Latin letters and digits at a run's edge must not continue a longer word (``tod`` is not in
    ``method``); Chinese characters need no boundary. The leading boundary is checked after the run
    (``2009(?<![a-z0-9]2009)``, not ``(?<![a-z0-9])2009``): a pattern that starts with its literal
    lets the regex engine skip to the run's occurrences, 20 times faster over an article's text.
    """
    if term.date is not None:
        return None
    parts = []
    for chunk in term_chunks(term):
        escaped = re.escape(chunk)
        if re.match(r"[a-z0-9]", chunk):
            escaped += rf"(?<![a-z0-9]{escaped})"
        if re.search(r"[a-z0-9]$", chunk):
            escaped += r"(?![a-z0-9])"
        parts.append(escaped)
    return re.compile(r"\W*".join(parts)) if parts else None


#: UTF-8 of one character that may be a non-word character (``\W``): any but an ASCII letter, digit
#: or underscore and a common ideograph (U+4E00–U+9FFF). Wider than ``\W``, never narrower.
_MAYBE_NON_WORD = rb"(?:[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xe3\xea-\xef][\x80-\xbf]{2}|\xe4[\x80-\xb7][\x80-\xbf]|[\xf0-\xf4][\x80-\xbf]{3})"


def term_screen(term: Term) -> re.Pattern[bytes] | None:
    """A bytes regex for normalised UTF-8 text that matches wherever :func:`term_pattern` does (its
    runs with only possible separators between them, edges unchecked), and seldom elsewhere: a
    document it misses cannot hold the term, so its text is never decoded. None for a date."""
    if term.date is not None:
        return None
    chunks = term_chunks(term)
    return re.compile((_MAYBE_NON_WORD + b"*").join(re.escape(chunk.encode("utf-8")) for chunk in chunks)) if chunks else None


def term_chunks(term: Term) -> list[str]:
    """The term's runs of word characters (punctuation and spaces separate them)."""
    return [chunk for chunk in re.findall(r"\w+", term.text) if chunk.strip("_")]


def _split_glued_operators(piece: str) -> list[str]:
    """``湖人||火箭`` -> ``["湖人", "||", "火箭"]`` (outside quotes only; ``r&d`` stays whole)."""
    if not _GLUED_OPERATOR.search(piece) or piece in _OR_WORDS | _AND_WORDS:
        return [piece]
    return [part for part in _GLUED_OPERATOR.split(piece) if part]


def _pieces(q: str, ignored: list[Ignored]) -> list[tuple[str, bool]]:
    """Split ``q`` at whitespace, keeping quoted stretches whole: ``(text, quoted)`` pairs.

    A quoted piece keeps its quotes so that prefixes before it (``-"…"``, ``title:"…"``) are seen.
    """
    pieces: list[tuple[str, bool]] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        j = i
        quoted = False
        while j < n and not q[j].isspace():
            if q[j] in _QUOTES:
                if not _PREFIX_ONLY.match(q[i:j]):
                    break  # 高新区"开门红": the quoted part is a piece of its own
                close = q.find(_QUOTES[q[j]], j + 1)
                if close == -1:
                    ignored.append(Ignored(q[j], "unbalanced_quote"))
                    q = q[:j] + " " + q[j + 1 :]  # read on as if the quote were a space
                    break
                quoted = True
                j = close + 1
                break
            j += 1
        if j > i:
            pieces.append((q[i:j], quoted))
        i = max(j, i + 1)
    return pieces


def tokenize(q: str) -> Syntax:
    """The tokens of a query string (see the module docstring); never raises.

    >>> [(t.kind, t.text, t.negated, t.scope) for t in tokenize('小微 OR 融资 -新密 title:"开门红"').tokens]
    [('text', '小微', False, 'all'), ('or', '', False, 'all'), ('text', '融资', False, 'all'), ('text', '新密', True, 'all'), ('text', '开门红', False, 'title')]
    >>> [(i.text, i.reason) for i in tokenize("((( title: -").ignored]
    [('(((', 'parenthesis'), ('title:', 'empty_field'), ('-', 'dangling_operator')]
    """
    syntax = Syntax()
    ignored = syntax.ignored
    raw: list[tuple[str, bool]] = []
    for piece, quoted in _pieces(clean_query(q), ignored):
        raw.extend([(part, False) for part in _split_glued_operators(piece)] if not quoted else [(piece, True)])
    negate_next = False
    pending: list[Token] = []
    for piece, quoted in raw:
        if not quoted and piece in _OR_WORDS:
            pending.append(Token("or", piece))
            continue
        if not quoted and piece in _AND_WORDS:
            pending.append(Token("and", piece))
            continue
        if not quoted and piece == "NOT":
            if negate_next:
                ignored.append(Ignored(piece, "dangling_operator"))
            negate_next = True
            continue
        token = _text_token(piece, quoted, ignored)
        if token is None:
            continue
        if negate_next:
            token = Token("text", token.text, token.quoted, True, False, token.scope)
            negate_next = False
        pending.append(token)
    if negate_next:
        ignored.append(Ignored("NOT", "dangling_operator"))
    syntax.tokens = _place_operators(pending, ignored)
    return syntax


def _place_operators(tokens: list[Token], ignored: list[Ignored]) -> list[Token]:
    """Keep an OR only between two searchable words; drop AND (the default); report the others."""
    out: list[Token] = []
    for index, token in enumerate(tokens):
        if token.kind == "text":
            out.append(token)
            continue
        before = out[-1] if out else None
        after = next((t for t in tokens[index + 1 :] if t.kind == "text"), None)
        between_words = tokens[index + 1 : index + 2] and tokens[index + 1].kind == "text"
        usable = before is not None and before.kind == "text" and not before.negated and after is not None and not after.negated
        if not (usable and between_words):
            ignored.append(Ignored(token.text, "dangling_operator"))
        elif token.kind == "or":
            out.append(Token("or", "OR"))
    return out


def _text_token(piece: str, quoted: bool, ignored: list[Ignored]) -> Token | None:
    """One whitespace-separated piece as a text token (prefixes, field, quotes), or None."""
    negated = required = False
    while piece[:1] in ("-", "+") and len(piece) > 1:
        negated = negated or piece[0] == "-"
        required = required or piece[0] == "+"
        piece = piece[1:]
    if piece in ("-", "+"):
        ignored.append(Ignored(piece, "dangling_operator"))
        return None
    scope = "all"
    match = _FIELD_PREFIX.match(piece)
    if match:
        scope = _FIELD_ALIASES[match.group(1).lower()]
        if match.end() == len(piece):
            ignored.append(Ignored(piece, "empty_field"))
            return None
        piece = piece[match.end() :]
    if quoted or (piece[:1] in _QUOTES and piece[-1:] == _QUOTES.get(piece[:1]) and len(piece) > 1):
        inner = piece[1:-1] if piece[:1] in _QUOTES else piece
        if not _WORDLIKE.search(inner):
            ignored.append(Ignored(piece, "no_word"))
            return None
        return Token("text", normalize(inner), True, negated, required, scope)
    stripped = piece.strip("()")
    if not stripped:
        ignored.append(Ignored(piece, "parenthesis"))
        return None
    if stripped != piece:
        lead, trail = piece[: len(piece) - len(piece.lstrip("()"))], piece[len(piece.rstrip("()")) :]
        for part in (lead, trail):
            if part:
                ignored.append(Ignored(part, "parenthesis"))
        piece = stripped
    if not _WORDLIKE.search(piece) or not piece.strip("_"):
        if piece:
            ignored.append(Ignored(piece, "no_word"))
        return None
    return Token("text", normalize(piece), False, negated, required, scope)

"""Completions that keep the whole query: which part of a typed query is the word being typed.

``高新区 孙`` should offer ``高新区 孙庆辉``, not ``孙庆辉`` alone (picking that would drop the
first word), and ``高新区小微`` should offer ``高新区小微企业``. :func:`completion_targets` gives
the ways to split a query into the text to keep as typed and the fragment to complete: the last
whitespace-separated piece, and its suffixes starting at a word boundary (cut by the index's
segmenter), longest first. An engine completes the fragment (names, headline starts, words) and
puts the kept text back in front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.analysis import normalize, tokenize

#: Longest fragment completed (a name or a word is shorter; a headline start may be longer).
MAX_FRAGMENT_CHARS = 50
# Syntax that may stand before the word being typed: signs, quotes, a field prefix.
_LEADING_SYNTAX = re.compile(r"^[-+\"“「(]*(?:(?:title|reporter|place|标题|记者|地点)[:：])?[\"“「(]*", re.IGNORECASE)


@dataclass(frozen=True)
class CompletionTarget:
    """Keep ``kept`` (as typed), complete ``fragment`` (normalised); ``whole``: it is the entire query."""

    kept: str
    fragment: str
    whole: bool


def completion_targets(q: str) -> list[CompletionTarget]:
    """The fragments of ``q`` that a completion may extend, longest first.

    >>> [(t.kept, t.fragment) for t in completion_targets("高新区 孙")]
    [('高新区 ', '孙')]
    >>> [(t.kept, t.fragment) for t in completion_targets("高新区小微")]
    [('', '高新区小微'), ('高新区', '小微')]
    """
    text = (q or "").rstrip()
    if not text or text[-1] in "\"”」)":
        return []
    piece_start = max(text.rfind(" "), text.rfind("\u3000"), text.rfind("\t")) + 1
    syntax = _LEADING_SYNTAX.match(text, piece_start)
    start = syntax.end() if syntax else piece_start
    piece = text[start:]
    if not piece or len(piece) > MAX_FRAGMENT_CHARS:
        return []
    normalised = normalize(piece)  # same length: offsets agree with the typed text
    targets = [CompletionTarget(text[:start], normalised, start == 0)]
    for _word, word_start, _end in tokenize(normalised):
        if word_start > 0:
            targets.append(CompletionTarget(text[: start + word_start], normalised[word_start:], False))
    return [t for t in targets if t.fragment.strip()]

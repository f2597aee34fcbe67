"""Text analysis shared by indexing and querying: normalisation and word segmentation.

One chain on both sides, so a query finds what the index holds:

1. :func:`normalize` — NFKC (full-width ASCII and digits), traditional → simplified (OpenCC ``t2s``),
   lowercase Latin. It keeps the text's length, character for character, so that offsets found in the
   normalised text are valid in the original (highlighting marks the page's own characters).
2. :func:`words` — jieba's *precise* mode (jieba-rs through ``rjieba``: the same dictionary and cuts at
   ~25× the speed) plus the domain dictionary ``data/userdict.txt``. Positions are ordinals from a
   counter and character spans come from ``tokenize()`` — unlike jieba's own Whoosh analyzer, which
   stores character offsets as positions (breaking phrase queries) and mixes search-mode sub-words in.
   One mode, precise, for every word field and for queries: no overlapping sub-words on either side.

Recall of fragments the segmenter did not cut out (``微企`` in 小微/企业) does not use tokens at all:
the embedded engine keeps each document's normalised text in a column and scans it (see
:mod:`search.engines.embedded.matching`), so what counts as a fragment match is exactly "occurs in
the normalised text".

Nothing here knows an engine: the embedded engine wraps :func:`words` in a Whoosh tokenizer
(:mod:`search.engines.embedded.tokenizer`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

# Bump on any change to normalisation, segmentation, the dictionary or the schema's use of them: the indexer
# compares it with the index's and rebuilds instead of mixing tokens.
ANALYSIS_VERSION = "newsearch-analysis-9"

# Chinese characters (CJK unified ideographs, extensions A–F, compatibility ideographs, 〇).
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
# A token is a word when it holds a letter, digit or ideograph; whitespace and punctuation are not.
_WORDLIKE = re.compile(r"\w")


# -- normalisation -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _char_fold(ch: str) -> str:
    """NFKC + lowercase of one character, or the character itself if that would change the length."""
    folded = unicodedata.normalize("NFKC", ch).lower()
    return folded if len(folded) == 1 else ch


@lru_cache(maxsize=4096)
def _char_t2s(ch: str) -> str:
    converted = _t2s().convert(ch)
    return converted if len(converted) == 1 else ch


def normalize(text: str) -> str:
    """NFKC + traditional→simplified + lowercase, keeping the length (offsets stay valid).

    Where a whole-string conversion would change the length (NFKC of ``㈠`` is ``(一)``, OpenCC may
    convert a phrase), the text is converted character by character and characters whose conversion
    is not one character are kept as they are.

    >>> normalize("黨史學習教育 ＴＯＤ ２０２４")
    '党史学习教育 tod 2024'
    """
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        folded = "".join(map(_char_fold, text))
    if not _CJK_CHAR.search(folded):
        return folded
    simplified = _t2s().convert(folded)
    if len(simplified) != len(folded):
        simplified = "".join(map(_char_t2s, folded))
    return simplified


# -- segmentation ------------------------------------------------------------------------------


def userdict_entries() -> list[tuple[str, int | None, str | None]]:
    """The domain dictionary ``search/data/userdict.txt`` as ``(word, freq or None, tag or None)``."""
    text = resources.files("search").joinpath("data/userdict.txt").read_text(encoding="utf-8")
    entries: list[tuple[str, int | None, str | None]] = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        word, freq, tag = normalize(parts[0]), None, None
        for part in parts[1:]:
            if part.isdigit():
                freq = int(part)
            else:
                tag = part
        entries.append((word, freq, tag))
    return entries


_segmenter_lock = threading.Lock()


@lru_cache(maxsize=1)
def segmenter() -> Any:
    """Our own ``rjieba.Jieba`` with the domain dictionary loaded.

    A private instance: other modules may add words to rjieba's default instance, and cuts must not
    depend on what happened to be imported first.
    """
    import rjieba

    with _segmenter_lock:
        jieba = rjieba.Jieba()
        for word, freq, tag in userdict_entries():
            jieba.add_word(word, freq, tag)
    return jieba


def tokenize(normalized: str) -> list[tuple[str, int, int]]:
    """Precise-mode cut of already normalised text as ``(word, start, end)``, whitespace included."""
    if not normalized:
        return []
    return segmenter().tokenize(normalized)


def words(text: str) -> list[tuple[str, int, int, int]]:
    """Normalise and segment ``text``: ``(word, position, startchar, endchar)`` for each word.

    Positions count words and punctuation (so a phrase never matches across a comma) but not
    whitespace; character offsets index ``text`` itself.

    >>> [w for w, *_ in words("黨史學習教育推進會")]
    ['党史', '学习', '教育', '推进', '会']
    """
    out: list[tuple[str, int, int, int]] = []
    pos = 0
    for word, start, end in tokenize(normalize(text)):
        if _WORDLIKE.search(word):
            out.append((word, pos, start, end))
            pos += 1
        elif not word.isspace():
            pos += 1
    return out


def word_list(normalized: str) -> list[str]:
    """The words of already normalised text, in order (whitespace and punctuation dropped)."""
    match = _WORDLIKE.search
    return [w for w, _s, _e in tokenize(normalized) if match(w)]


def word_positions(normalized: str) -> dict[str, list[int]]:
    """``{word: [positions]}`` for already normalised text — the fast path for the index."""
    positions: dict[str, list[int]] = {}
    pos = 0
    match = _WORDLIKE.search
    for word, _start, _end in tokenize(normalized):
        if match(word):
            positions.setdefault(word, []).append(pos)
            pos += 1
        elif not word.isspace():
            pos += 1
    return positions


def word_counts(normalized: str) -> dict[str, int]:
    """``{word: occurrences}`` for already normalised text — the fast path for frequency-only fields."""
    counts: dict[str, int] = {}
    get = counts.get
    match = _WORDLIKE.search
    for word in segmenter().cut(normalized) if normalized else ():
        n = get(word)
        if n is not None:
            counts[word] = n + 1
        elif match(word):
            counts[word] = 1
    return counts


def is_cjk(text: str) -> bool:
    """True if ``text`` is one run of Chinese characters."""
    return bool(text) and CJK_RUN.fullmatch(text) is not None

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

import contextvars
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from functools import lru_cache
from importlib import resources
from typing import Any

# Bump on any change to normalisation, segmentation, the dictionary or the schema's use of them: the indexer
# compares it with the index's and rebuilds instead of mixing tokens.
ANALYSIS_VERSION = "newsearch-analysis-10"  # 10: segment stores (.nsx: text, facets, n-gram and word postings); 9: paper/page/credit facets

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

#: The archive's own dictionary (``seeds/dictionary.toml``: ``(word, tag)`` pairs) in force for the
#: segmentation done in this context — an index run, or a search on an index built with it. A context
#: variable, so two archives with different dictionaries can be used side by side (threads, tests).
_archive_words: contextvars.ContextVar[tuple[tuple[str, str | None], ...]] = contextvars.ContextVar("archive_words", default=())
_SEGMENTERS_KEPT = 4  # one rjieba instance per dictionary in use (~0.4 s to build, ~20 MB each)
_segmenters: dict[tuple[tuple[str, str | None], ...], Any] = {}


def _jieba_class() -> Any:
    """rjieba's ``Jieba`` class, without building the package's default instance where possible.

    ``import rjieba`` builds a default segmenter (its whole dictionary: ~0.25 s) that searching never
    uses, on top of our own: a cold ``newsearch search`` built the dictionary twice. The native module
    is loaded on its own, under its own name, so a later ``import rjieba`` (indexing uses the default
    instance's tagger) finds it and builds the default then.
    """
    import importlib.machinery
    import importlib.util
    import sys

    loaded = sys.modules.get("rjieba.rjieba") or sys.modules.get("rjieba")
    if loaded is not None:
        return loaded.Jieba
    spec = importlib.util.find_spec("rjieba")  # finds the package without running its __init__
    for location in list(spec.submodule_search_locations or []) if spec is not None else []:
        for path in sorted(Path(location).glob("rjieba*.so")):
            native_spec = importlib.util.spec_from_file_location(
                "rjieba.rjieba", path, loader=importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
            )
            if native_spec is None or native_spec.loader is None:
                continue
            native = importlib.util.module_from_spec(native_spec)
            native_spec.loader.exec_module(native)
            sys.modules["rjieba.rjieba"] = native
            return native.Jieba
    import rjieba  # another layout of the package: its own loader

    return rjieba.Jieba


def _build_segmenter(extra: tuple[tuple[str, str | None], ...]) -> Any:
    jieba = _jieba_class()()
    for word, freq, tag in userdict_entries():
        jieba.add_word(word, freq, tag)
    for word, tag in extra:
        jieba.add_word(word, DICTIONARY_WORD_FREQ, tag)
    return jieba


#: Frequency given to the archive's own words: high enough that jieba keeps them whole
#: (``数智港湾`` stays 数智 / 港湾 only if the newsroom has not listed 数智港).
DICTIONARY_WORD_FREQ = 2000


def segmenter() -> Any:
    """Our own ``rjieba.Jieba`` with the domain dictionary (and the archive's words in force) loaded.

    A private instance: other modules may add words to rjieba's default instance, and cuts must not
    depend on what happened to be imported first.
    """
    extra = _archive_words.get()
    jieba = _segmenters.get(extra)
    if jieba is not None:
        return jieba
    with _segmenter_lock:
        jieba = _segmenters.get(extra)
        if jieba is None:
            jieba = _build_segmenter(extra)
            if len(_segmenters) >= _SEGMENTERS_KEPT:
                _segmenters.pop(next(k for k in _segmenters if k))  # never the base one
            _segmenters[extra] = jieba
    return jieba


def normalized_words(words: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str | None], ...]:
    """Archive words as the segmenter takes them: normalised, deduplicated, sorted."""
    found = {normalize(word).strip(): tag for word, tag in words if word and normalize(word).strip()}
    return tuple(sorted(found.items()))


@contextmanager
def archive_words(words: Iterable[tuple[str, str | None]]) -> Iterator[None]:
    """Segment with the archive's own words (``(word, tag)`` pairs) inside this block."""
    token = _archive_words.set(normalized_words(words))
    try:
        yield
    finally:
        _archive_words.reset(token)


def current_archive_words() -> tuple[tuple[str, str | None], ...]:
    """The archive words in force in this context (see :func:`archive_words`)."""
    return _archive_words.get()


def tokenize(normalized: str) -> list[tuple[str, int, int]]:
    """Precise-mode cut of already normalised text as ``(word, start, end)``, whitespace included."""
    if not normalized:
        return []
    return segmenter().tokenize(normalized)


def dictionary_boundaries(normalized: str) -> set[int]:
    """Offsets where the dictionary alone (no HMM guessing of unknown words) cuts ``normalized``.

    Unknown words — most names — fall apart into single characters there, while dictionary
    words stay whole: a name whose edges are such offsets covers whole words, one straddling a
    dictionary word (金基 in 基金基金) does not.

    >>> sorted(dictionary_boundaries("刘云华小微企业"))
    [0, 1, 2, 3, 4, 5, 7]
    """
    bounds = {0}
    for _word, _start, end in segmenter().tokenize(normalized, hmm=False) if normalized else ():
        bounds.add(end)
    return bounds


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


def is_dictionary_word(text: str) -> bool:
    """True if the segmenter's dictionaries (jieba's, the domain's, the archive's) hold ``text`` as one
    word: the dictionary alone, without guessing unknown words, keeps it whole.

    >>> is_dictionary_word("比赛"), is_dictionary_word("必赛")
    (True, False)
    """
    return len(text) == 1 or segmenter().cut(text, False) == [text]


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

"""Pinyin: did-you-mean for homophone typos and for pinyin typed in Latin letters, and pinyin completions.

Chinese typos are mostly homophones: an input method offers 郑洲 as readily as 郑州. And people type
pinyin when they cannot (or will not) switch input methods: ``gaoxinqu`` or its initials ``gxq`` for
高新区. Both are answered from the words and names the index holds (an engine's ``vocabulary()``:
text and the number of articles holding it) with their pinyin from ``pypinyin``'s character table:

- :class:`~search.query.pinyin_index.PinyinIndex` finds words by full toneless pinyin
  (``zhengzhou``), initials (``zz``) and a fuzzy form (zh/ch/sh → z/c/s, -ng → -n: the confusions of
  southern speakers and hurried typists); this module spells them;
- :func:`corrections` proposes rewritten queries: a Latin token replaced by the word its pinyin or
  initials spell (names and headline words), a Chinese stretch that is not an indexed word replaced
  by an indexed homophone — from the same words, or any dictionary word one homophone character away
  that the index holds (counted through the engine's ``term_counts``: only spellings the segmenter's
  dictionary knows are looked up, a few dozen a token, whatever the size of the archive); the caller keeps the one that finds the most (and more than the query as typed);
- ``PinyinIndex.complete`` gives completions for a pinyin prefix (``gaox`` → 高新区).

Engine-agnostic: it needs only the words, which every engine can list (the embedded engine keeps
them spelled in its segment stores).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from search.analysis import CJK_RUN, is_dictionary_word, normalize

if TYPE_CHECKING:
    from search.query.pinyin_index import PinyinIndex

MAX_CANDIDATES = 3  # rewritten queries a caller should try
MAX_WINDOW = 4  # characters of a Chinese stretch replaced at once
MIN_COUNT = 2  # articles a replacement word must appear in (names: 1)
_LATIN = re.compile(r"[a-z]{2,40}")
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f]")

MAX_READINGS = 4  # pinyin spellings kept per word (重庆 is zhongqing and chongqing)


@lru_cache(maxsize=1)
def _char_readings() -> dict[int, str]:
    """pypinyin's table of each character's readings (``"zhòng,chóng"``), read once.

    Only the character table: pypinyin's phrase table is far larger and slower to load, and a word's
    readings are enough to match what people type (both sides are spelled the same way). The table's
    JSON file is read without importing the package, whose ``__init__`` loads the phrase table too
    (0.9 s of every cold ``newsearch search`` that offers a correction, against 30 ms for the file).
    """
    spec = importlib.util.find_spec("pypinyin")  # finds the package without running its __init__
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        table = Path(location) / "pinyin_dict.json"
        if table.is_file():
            return {int(code): value for code, value in json.loads(table.read_text(encoding="utf-8")).items()}
    from pypinyin.pinyin_dict import pinyin_dict  # another layout of the package: its own loader

    return pinyin_dict


@lru_cache(maxsize=65536)
def readings(char: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first (``ü`` written ``v``, as input methods do).

    >>> readings("重"), readings("绿")
    (('zhong', 'chong', 'tong'), ('lv', 'lu'))
    """
    raw = _char_readings().get(ord(char), "")
    out: list[str] = []
    for reading in raw.split(","):
        decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")  # ǜ -> v
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if plain.isalpha() and plain not in out:
            out.append(plain)
    return tuple(out)


def syllables(word: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of a Chinese word, each character's most common reading (empty if a
    character has none).

    >>> syllables("郑州高新区")
    ('zheng', 'zhou', 'gao', 'xin', 'qu')
    """
    parts = [readings(ch) for ch in word]
    return tuple(r[0] for r in parts) if all(parts) else ()


def spellings(word: str) -> list[tuple[str, ...]]:
    """Up to :data:`MAX_READINGS` spellings of a word, the most common readings first."""
    parts = [readings(ch) for ch in word]
    if not all(parts):
        return []
    return [tuple(combo) for combo in itertools.islice(itertools.product(*parts), MAX_READINGS)]


def fuzzy(parts: Iterable[str]) -> str:
    """Syllables with the usual confusions folded (zh/ch/sh → z/c/s, -ng → -n).

    >>> fuzzy(("zheng", "zhou")), fuzzy(("zen", "zou"))
    ('zenzou', 'zenzou')
    """
    return "".join(map(_fuzzy_syllable, parts))


@lru_cache(maxsize=4096)
def _fuzzy_syllable(part: str) -> str:
    if part[:2] in ("zh", "ch", "sh"):
        part = part[0] + part[2:]
    return part[:-1] if part.endswith("ng") else part


#: Looks up how many articles hold each word (an engine's ``term_counts``).
TermCounts = Callable[[Sequence[str]], Mapping[str, int]]
MAX_LOOKUPS = 3000  # homophone candidates looked up per query token


@lru_cache(maxsize=1)
def _chars_by_reading() -> dict[str, list[str]]:
    """Common characters (GB 2312's 6,763) by their most common toneless reading: the homophones a
    typo may have put in place of the right character."""
    table: dict[str, list[str]] = {}
    for code in _char_readings():
        char = chr(code)
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            continue  # a rare character: no input method offers it first
        found = readings(char)
        if found and CJK_RUN.fullmatch(char):
            table.setdefault(found[0], []).append(char)
    return table


def load_tables() -> None:
    """Read the character tables corrections use now rather than at the first typo (~0.2 s)."""
    _chars_by_reading()


def homophone_spellings(word: str) -> list[str]:
    """``word`` with one character replaced by a homophone (same most common reading): 郑洲 → 郑州 …"""
    table = _chars_by_reading()
    out = []
    for position, char in enumerate(word):
        found = readings(char)
        for other in table.get(found[0], []) if found else []:
            if other != char:
                out.append(word[:position] + other + word[position + 1 :])
    return out


def _replacement(token: str, index: PinyinIndex, counts: TermCounts | None) -> tuple[str, int] | None:
    """The best rewrite of one query token and the count of the word it brings in, or None."""
    lowered = token.lower()
    if _LATIN.fullmatch(lowered):
        spelled = index.spelled(lowered)
        return (spelled[0].text, spelled[0].count) if spelled else None
    if not CJK_RUN.fullmatch(token) or index.count_of(token) >= MIN_COUNT:
        return None
    # Stretches of the token (the whole of it first, then shorter ones) that are not indexed words,
    # each with its homophones: the names and headline words of the pinyin index, and — when the
    # engine can count words — any indexed word one homophone character away.
    stretches = [(0, len(token))] + [
        (start, start + size) for size in range(min(MAX_WINDOW, len(token) - 1), 1, -1) for start in range(len(token) - size + 1)
    ]
    candidates: dict[tuple[int, int, str], int] = {}
    lookups: list[tuple[int, int, str]] = []
    for start, end in stretches:
        window = token[start:end]
        if end - start > MAX_WINDOW + 2:
            continue
        for entry in index.homophones(window):
            if entry.count >= MIN_COUNT or entry.type != "word":
                candidates.setdefault((start, end, entry.text), entry.count)
        if counts is not None and len(lookups) < MAX_LOOKUPS:
            # Only spellings that are words at all are counted: a lookup in the index costs far more
            # than asking the segmenter's dictionary, and most homophone spellings are no word.
            words = [spelling for spelling in homophone_spellings(window) if is_dictionary_word(spelling)]
            lookups += [(start, end, spelling) for spelling in words][: MAX_LOOKUPS - len(lookups)]
    if lookups:
        found = counts(sorted({spelling for _s, _e, spelling in lookups} | {token[s:e] for s, e, _w in lookups}))
        for start, end, spelling in lookups:
            if found.get(spelling, 0) >= MIN_COUNT and found.get(spelling, 0) > found.get(token[start:end], 0):
                candidates[(start, end, spelling)] = max(candidates.get((start, end, spelling), 0), found[spelling])
    if not candidates:
        return None
    # The longest stretch corrected wins, then the most frequent word.
    (start, end, word), count = max(candidates.items(), key=lambda item: (item[0][1] - item[0][0], item[1]))
    return token[:start] + word + token[end:], count


def corrections(q: str, index: PinyinIndex, counts: TermCounts | None = None) -> list[str]:
    """Rewritten queries worth trying for ``q`` (best first, at most :data:`MAX_CANDIDATES`).

    Operators, quoted phrases, exclusions and field prefixes are left as typed.

    >>> from search.query.pinyin_index import PinyinIndex
    >>> idx = PinyinIndex.build([{"text": "郑州", "count": 9, "type": "place"}, {"text": "高新区", "count": 7, "type": "place"}])
    >>> corrections("郑洲", idx), corrections("gxq 融资", idx), corrections("gaoxinqu", idx)
    (['郑州'], ['高新区 融资'], ['高新区'])
    """
    q = _UNSAFE.sub("", q or "")  # lone surrogates (argv bytes that were not UTF-8), control characters
    if not q or (index.empty and counts is None):
        return []
    tokens = re.split(r"(\s+)", q.strip())
    options: list[tuple[int, int, str]] = []  # (-count, token position, replacement)
    for position, token in enumerate(tokens):
        if not token or token.isspace() or token.startswith(("-", '"', "“", "「")) or ":" in token or token in ("OR", "AND", "NOT"):
            continue
        found = _replacement(normalize(token), index, counts)
        if found is not None:
            options.append((-found[1], position, found[0]))
    if not options:
        return []
    options.sort()
    candidates: list[str] = []
    everything = list(tokens)
    for _count, position, replacement in options:
        everything[position] = replacement
    candidates.append("".join(everything))  # every token corrected
    for _count, position, replacement in options:  # or one at a time
        one = list(tokens)
        one[position] = replacement
        candidates.append("".join(one))
    return list(dict.fromkeys(c for c in candidates if c != q.strip()))[:MAX_CANDIDATES]

"""Pinyin: did-you-mean for homophone typos and for pinyin typed in Latin letters, and pinyin completions.

Chinese typos are mostly homophones: an input method offers 郑洲 as readily as 郑州. And people type
pinyin when they cannot (or will not) switch input methods: ``gaoxinqu`` or its initials ``gxq`` for
高新区. Both are answered from the words and names the index holds (an engine's ``vocabulary()``:
text and the number of articles holding it) with their pinyin from ``pypinyin``:

- :class:`PinyinIndex` maps full toneless pinyin (``zhengzhou``), initials (``zz``) and a fuzzy form
  (zh/ch/sh → z/c/s, -ng → -n: the confusions of southern speakers and hurried typists) to words;
- :func:`corrections` proposes rewritten queries: a Latin token replaced by the word its pinyin or
  initials spell, a Chinese stretch that is not an indexed word replaced by an indexed homophone;
  the caller keeps the one that finds the most (and more than the query as typed);
- :meth:`PinyinIndex.complete` gives completions for a pinyin prefix (``gaox`` → 高新区).

Engine-agnostic: it needs only the vocabulary, which every engine can list.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from search.analysis import CJK_RUN, normalize

MAX_CANDIDATES = 3  # rewritten queries a caller should try
MAX_WINDOW = 4  # characters of a Chinese stretch replaced at once
MIN_COUNT = 2  # articles a replacement word must appear in (names: 1)
_LATIN = re.compile(r"[a-z]{2,40}")
_TYPE_RANK = {"place": 0, "person": 1, "org": 1, "reporter": 2, "word": 3}

_pinyin_cache: dict[str, tuple[str, ...]] = {}
_pinyin_lock = threading.Lock()


def syllables(word: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of a Chinese word (cached: a word's reading never changes).

    >>> syllables("郑州高新区")
    ('zheng', 'zhou', 'gao', 'xin', 'qu')
    """
    cached = _pinyin_cache.get(word)
    if cached is not None:
        return cached
    from pypinyin import Style, lazy_pinyin

    result = tuple(s for s in lazy_pinyin(word, style=Style.NORMAL, errors="ignore", v_to_u=False) if s.isalpha())
    with _pinyin_lock:
        if len(_pinyin_cache) > 500_000:
            _pinyin_cache.clear()
        _pinyin_cache[word] = result
    return result


def fuzzy(parts: Iterable[str]) -> str:
    """Syllables with the usual confusions folded (zh/ch/sh → z/c/s, -ng → -n).

    >>> fuzzy(("zheng", "zhou")), fuzzy(("zen", "zou"))
    ('zenzou', 'zenzou')
    """
    out = []
    for part in parts:
        part = re.sub(r"^([zcs])h", r"\1", part)
        part = re.sub(r"ng$", "n", part)
        out.append(part)
    return "".join(out)


@dataclass
class Entry:
    """One indexed word or name with its pinyin."""

    text: str
    count: int
    type: str
    full: str
    initials: str
    fuzzy: str


@dataclass
class PinyinIndex:
    """Words of the index by full pinyin, initials and fuzzy pinyin (see the module docstring)."""

    entries: list[Entry] = field(default_factory=list)
    count_of: dict[str, int] = field(default_factory=dict)
    by_full: dict[str, list[Entry]] = field(default_factory=dict)
    by_initials: dict[str, list[Entry]] = field(default_factory=dict)
    by_fuzzy: dict[str, list[Entry]] = field(default_factory=dict)
    sorted_full: list[tuple[str, int]] = field(default_factory=list)  # (full pinyin, entry index)
    sorted_initials: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def build(cls, vocabulary: Iterable[Mapping[str, Any]]) -> "PinyinIndex":
        """Index ``[{"text", "count", "type"}]`` (an engine's vocabulary)."""
        index = cls()
        for item in vocabulary:
            text, count, kind = str(item.get("text", "")), int(item.get("count", 0) or 0), str(item.get("type", "word"))
            if not CJK_RUN.fullmatch(text) or count <= 0:
                continue
            parts = syllables(text)
            if len(parts) != len(text):
                continue  # a character without a reading: no pinyin to match
            entry = Entry(text, count, kind, "".join(parts), "".join(p[0] for p in parts), fuzzy(parts))
            index.entries.append(entry)
            index.count_of[text] = count
        for position, entry in enumerate(index.entries):
            index.by_full.setdefault(entry.full, []).append(entry)
            index.by_initials.setdefault(entry.initials, []).append(entry)
            index.by_fuzzy.setdefault(entry.fuzzy, []).append(entry)
            index.sorted_full.append((entry.full, position))
            index.sorted_initials.append((entry.initials, position))
        index.sorted_full.sort()
        index.sorted_initials.sort()
        return index

    def homophones(self, text: str) -> list[Entry]:
        """Indexed words read like ``text`` (exactly, then fuzzily), most frequent first; ``text`` itself left out."""
        parts = syllables(text)
        if len(parts) != len(text):
            return []
        exact = [e for e in self.by_full.get("".join(parts), []) if e.text != text]
        near = [e for e in self.by_fuzzy.get(fuzzy(parts), []) if e.text != text and e not in exact]
        return _best_first(exact) + _best_first(near)

    def spelled(self, latin: str) -> list[Entry]:
        """Indexed words whose full pinyin (then initials) is ``latin``, best first."""
        full = self.by_full.get(latin, [])
        initials = self.by_initials.get(latin, []) if 2 <= len(latin) <= 6 else []
        return _best_first(full) + _best_first([e for e in initials if e not in full])

    def complete(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Words whose pinyin or initials start with the Latin ``prefix``: ``[{"text", "type"}]``."""
        prefix = prefix.lower()
        if not _LATIN.fullmatch(prefix):
            return []
        found: dict[str, Entry] = {}
        for table in (self.sorted_full, self.sorted_initials):
            start = bisect_left(table, (prefix, -1))
            for key, position in table[start : start + 2000]:
                if not key.startswith(prefix):
                    break
                entry = self.entries[position]
                found.setdefault(entry.text, entry)
        ranked = _best_first(list(found.values()))
        return [{"text": entry.text, "type": entry.type} for entry in ranked[:limit]]


def _best_first(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (-e.count, _TYPE_RANK.get(e.type, 9), e.text))


def _replacement(token: str, index: PinyinIndex) -> tuple[str, int] | None:
    """The best rewrite of one query token and the count of the word it brings in, or None."""
    lowered = token.lower()
    if _LATIN.fullmatch(lowered):
        spelled = index.spelled(lowered)
        return (spelled[0].text, spelled[0].count) if spelled else None
    if not CJK_RUN.fullmatch(token) or index.count_of.get(token, 0) >= MIN_COUNT:
        return None
    whole = [e for e in index.homophones(token) if e.count >= MIN_COUNT or e.type != "word"]
    if whole:
        return whole[0].text, whole[0].count
    # A stretch of an unspaced run that is not an indexed word: try homophones, longest stretch first.
    best: tuple[str, int] | None = None
    for size in range(min(MAX_WINDOW, len(token) - 1), 1, -1):
        for start in range(0, len(token) - size + 1):
            window = token[start : start + size]
            if index.count_of.get(window, 0) >= MIN_COUNT:
                continue
            found = [e for e in index.homophones(window) if e.count >= MIN_COUNT]
            if found and (best is None or found[0].count > best[1]):
                best = (token[:start] + found[0].text + token[start + size :], found[0].count)
        if best is not None:
            return best
    return None


def corrections(q: str, index: PinyinIndex) -> list[str]:
    """Rewritten queries worth trying for ``q`` (best first, at most :data:`MAX_CANDIDATES`).

    Operators, quoted phrases, exclusions and field prefixes are left as typed.

    >>> idx = PinyinIndex.build([{"text": "郑州", "count": 9, "type": "place"}, {"text": "高新区", "count": 7, "type": "place"}])
    >>> corrections("郑洲", idx), corrections("gxq 融资", idx), corrections("gaoxinqu", idx)
    (['郑州'], ['高新区 融资'], ['高新区'])
    """
    if not q or not index.entries:
        return []
    tokens = re.split(r"(\s+)", q.strip())
    options: list[tuple[int, int, str]] = []  # (-count, token position, replacement)
    for position, token in enumerate(tokens):
        if not token or token.isspace() or token.startswith(("-", '"', "“", "「")) or ":" in token or token in ("OR", "AND", "NOT"):
            continue
        found = _replacement(normalize(token), index)
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

"""Character n-grams of normalised text, as integer keys: what the fragment index is made of.

A document's fragment postings hold, per field (headline, body), every *unigram* and *bigram* of
word characters (``\\w``: letters, digits, ideographs) with its count in that field. A gram is an
integer, so a segment's postings are built with numpy sorts instead of a Python dict per document:

* unigram ``c``: the code point, ``< 2**21``;
* bigram ``ab``: ``(a + 1) << 21 | b``, ``>= 2**21`` (so the two kinds never collide).

Query needles are runs of word characters (:func:`search.query.language.chunks`), so every gram of a
needle is indexed: the documents holding a needle are among those holding all of its grams. A
one-character needle's count *is* its unigram count, and a two-character needle ``ab`` with ``a !=
b`` its bigram count (its occurrences cannot overlap). For longer needles the bigram postings keep
where each bigram stands (its code point offset in the field): a needle occurs at ``p`` when its
``k``-th bigram stands at ``p + k`` for every ``k`` (:func:`positional_grams`), so the needle's
occurrences come from the postings too, without reading any text. Only needles whose occurrences
could overlap (``aa``, ``abab``: counted without overlap, as ``bytes.count`` does) and those with
other conditions (Latin and digit edges, separators between runs) are confirmed on the text of the
documents that hold them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

_SHIFT = 21  # bits of a code point
#: Keys from this one up are bigrams (the only grams whose positions are kept).
BIGRAM_BASE = 1 << _SHIFT
_WORD = re.compile(r"\w")


@lru_cache(maxsize=1)
def _bmp_word_table() -> np.ndarray:
    """Which code points below 0x10000 are word characters (the regex ``\\w`` of ``str`` patterns)."""
    table = np.zeros(0x10000, dtype=bool)
    text = "".join(chr(cp) if not 0xD800 <= cp < 0xE000 else " " for cp in range(0x10000))
    table[[m.start() for m in _WORD.finditer(text)]] = True
    return table


def is_word_codepoint(codes: np.ndarray) -> np.ndarray:
    """Boolean mask of the word characters among ``codes`` (uint32 code points)."""
    table = _bmp_word_table()
    mask = np.zeros(len(codes), dtype=bool)
    small = codes < 0x10000
    mask[small] = table[codes[small]]
    if not small.all():
        astral = np.flatnonzero(~small)
        for value in np.unique(codes[astral]).tolist():
            if _WORD.match(chr(value)):
                mask[astral[codes[astral] == value]] = True
    return mask


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32 (UTF-32 without a BOM)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def unigram_key(ch: str) -> int:
    """The key of a one-character gram."""
    return ord(ch)


def bigram_key(a: str, b: str) -> int:
    """The key of a two-character gram."""
    return (ord(a) + 1) << _SHIFT | ord(b)


def needle_keys(needle: str) -> list[int]:
    """The keys to look up for a needle: its unigram if it is one word character, else the bigrams
    of its adjacent word characters (empty when it has none: the caller falls back to a scan)."""
    if len(needle) == 1:
        return [unigram_key(needle)] if _WORD.match(needle) else []
    return [bigram_key(a, b) for a, b in zip(needle, needle[1:]) if _WORD.match(a) and _WORD.match(b)]


def exact_from_postings(needle: str) -> bool:
    """True if the gram counts of ``needle`` are its occurrence counts (no text check needed)."""
    if len(needle) == 1:
        return bool(_WORD.match(needle))
    return len(needle) == 2 and needle[0] != needle[1] and bool(_WORD.match(needle[0]) and _WORD.match(needle[1]))


def positional_grams(needle: str) -> list[tuple[int, int]] | None:
    """``(offset, bigram key)`` of each bigram of a needle of two or more word characters, or None
    when its bigrams do not spell it out (a character that is not a word character: no gram)."""
    if len(needle) < 2 or not all(_WORD.match(ch) for ch in needle):
        return None
    return [(offset, bigram_key(a, b)) for offset, (a, b) in enumerate(zip(needle, needle[1:]))]


def self_overlapping(needle: str) -> bool:
    """True if two occurrences of ``needle`` can overlap (a proper prefix is also a suffix:
    ``哈哈``, ``abab``): then its occurrences are not its non-overlapping count."""
    return any(needle[:k] == needle[-k:] for k in range(1, len(needle)))


def document_grams(texts: list[str], positions: bool = False) -> tuple[np.ndarray, ...]:
    """Every ``(gram, document, count)`` of a list of texts (document = index in the list), sorted by
    gram then document: three int64 arrays. With ``positions``, a fourth: the offset (in code points,
    inside its text) of every occurrence of every bigram posting, posting after posting, ascending
    inside each."""
    empty = np.zeros(0, dtype=np.int64)
    if not texts:
        return (empty, empty, empty, empty) if positions else (empty, empty, empty)
    # One string, texts separated by a newline (not a word character, so no gram spans two texts).
    chars = codepoints("\n".join(texts)).astype(np.int64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[: len(chars)]
    word = is_word_codepoint(chars.astype(np.uint32))
    pair = word[:-1] & word[1:]
    if positions:
        return _positional_grams(chars, doc, word, pair, lengths, len(texts))
    keys = np.concatenate((chars[word], ((chars[:-1][pair] + 1) << _SHIFT) | chars[1:][pair]))
    docs = np.concatenate((doc[word], doc[:-1][pair]))
    del chars, doc, word, pair
    if not len(keys):
        return empty, empty, empty
    doc_bits = max(1, int(len(texts) - 1).bit_length())
    if doc_bits + 2 * _SHIFT + 1 <= 63:
        combined = np.sort((keys << doc_bits) | docs)  # one integer sort instead of a lexsort
        del keys, docs
        first = np.concatenate(([0], np.flatnonzero(np.diff(combined)) + 1))
        counts = np.diff(np.append(first, len(combined)))
        unique = combined[first]
        return unique >> doc_bits, unique & ((1 << doc_bits) - 1), counts
    order = np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    first = np.concatenate(([0], np.flatnonzero((np.diff(keys) != 0) | (np.diff(docs) != 0)) + 1))
    counts = np.diff(np.append(first, len(keys)))
    return keys[first], docs[first], counts


_BMP = 16  # bits of a code point of the Basic Multilingual Plane


def _positional_grams(
    chars: np.ndarray, doc: np.ndarray, word: np.ndarray, pair: np.ndarray, lengths: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`document_grams` with positions, from its code points (``chars``), the text of each
    (``doc``) and which are word characters and word-character pairs."""
    empty = np.zeros(0, dtype=np.int64)
    text_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    offset = np.arange(len(chars), dtype=np.int64) - text_starts[doc]
    singles, firsts = np.flatnonzero(word), np.flatnonzero(pair)
    if not len(singles):
        return empty, empty, empty, empty
    doc_bits = max(1, int(count - 1).bit_length())
    pos_bits = max(1, int(lengths.max()).bit_length())
    if int(chars[singles].max()) < 1 << _BMP:
        # Every character in the BMP (the usual case): a bigram's key packs into 33 bits, so key,
        # document and position make one integer and one sort orders all three.
        small = np.concatenate((chars[singles], ((chars[firsts] + 1) << _BMP) | chars[firsts + 1]))
        if int(small.max()).bit_length() + doc_bits + pos_bits <= 63:
            docs = np.concatenate((doc[singles], doc[firsts]))
            where = np.concatenate((offset[singles], offset[firsts]))
            packed = np.sort((((small << doc_bits) | docs) << pos_bits) | where)
            del small, docs, where
            grams = packed >> pos_bits
            first = np.concatenate(([0], np.flatnonzero(np.diff(grams)) + 1))
            counts = np.diff(np.append(first, len(grams)))
            unique = grams[first]
            small_keys = unique >> doc_bits
            keys = np.where(small_keys >= 1 << _BMP, ((small_keys >> _BMP) << _SHIFT) | (small_keys & ((1 << _BMP) - 1)), small_keys)
            bigram = (packed >> (pos_bits + doc_bits)) >= 1 << _BMP
            return keys, unique & ((1 << doc_bits) - 1), counts, packed[bigram] & ((1 << pos_bits) - 1)
    # Characters beyond the BMP, or too many bits: a (slower) stable three-key sort.
    keys = np.concatenate((chars[singles], ((chars[firsts] + 1) << _SHIFT) | chars[firsts + 1]))
    docs = np.concatenate((doc[singles], doc[firsts]))
    where = np.concatenate((offset[singles], offset[firsts]))
    order = np.lexsort((where, docs, keys))
    keys, docs, where = keys[order], docs[order], where[order]
    first = np.concatenate(([0], np.flatnonzero((np.diff(keys) != 0) | (np.diff(docs) != 0)) + 1))
    counts = np.diff(np.append(first, len(keys)))
    return keys[first], docs[first], counts, where[keys >= BIGRAM_BASE]

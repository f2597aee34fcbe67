"""Script normalisation shared by extraction and analysis: traditional → simplified (OpenCC).

Extraction recognises openers, bylines, places and names on a simplified *shadow* of the text while
keeping the page's own characters in titles and bodies; metadata values (places, names) are stored
simplified so that facets do not split one place into two spellings.
"""

from __future__ import annotations

from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified; other text is returned unchanged.

    >>> to_simplified("本報訊（記者 孫慶輝）")
    '本报讯（记者 孙庆辉）'
    """
    if not text or text.isascii():
        return text
    return _converter().convert(text)


def same_length_shadow(text: str) -> str:
    """A simplified copy whose character offsets match ``text`` (per character where phrases differ)."""
    simplified = to_simplified(text)
    if len(simplified) == len(text):
        return simplified
    return "".join(to_simplified(ch) if len(to_simplified(ch)) == 1 else ch for ch in text)

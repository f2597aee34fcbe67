"""Reprint credits: the source an article was taken from, printed where a byline would close it.

``（据新华社）``, ``（据新华社电）``, ``（来源：大河报）``, ``据《新快报》报道``, ``（综合新华社电）``,
``文章来源：渤海早报``, a medium's name alone in brackets (``（南方都市报）``): each ends an article
and names the source it was reprinted from, but no reporter. The source, without its brackets, 《》
and 电/报道, is the article's ``credit``.

A credit is only read where it closes an article (a line of its own, or the end of the last
paragraph after a finished sentence): ``据英国《金融时报》报道，……`` opening a sentence in a body is
reporting, not a credit.
"""

from __future__ import annotations

import re

from search.ingest.chinese import same_length_shadow, to_simplified

_CJK = "\u3400-\u9fff"
_MARK = r"(?:据|综合|转自|摘自|选自|转载自|编自|来源\s*[：:]|稿件来源\s*[：:]|文章来源\s*[：:]|本文来源\s*[：:]|稿源\s*[：:]|消息来源\s*[：:])"
_SOURCE = rf"[{_CJK}A-Za-z0-9《》〈〉“”\"·、&＆\s]{{2,30}}?"
_END = r"(?:电讯|电|报道|消息|供稿|发布)?"
# Bracketed: （据新华社）, （来源：大河报）, （综合新华社电）.
_BRACKETED = re.compile(rf"^[（(]\s*{_MARK}\s*(?P<src>{_SOURCE})\s*{_END}\s*[）)]$")
# On its own line: 据《新快报》报道, 来源：渤海早报, 文章来源：渤海早报.
_LINE = re.compile(rf"^{_MARK}\s*(?P<src>{_SOURCE})\s*{_END}$")
# Bare in brackets, a medium's name alone: （南方都市报）, (中国日报), （《证券时报》）. A name of a medium
# only (…报, …社, …网, …台): a bare person's name in brackets is a byline, （完） an end mark.
_BARE = re.compile(rf"^[（(]\s*《?(?P<src>[{_CJK}A-Za-z]{{1,12}}?(?:报|社|网|台|杂志))》?\s*[）)]$")
# Closing the last paragraph: ……。（据新华社）, ……。据《新快报》报道, ……。（南方都市报）
_TAIL = re.compile(
    rf"(?<=[。！？!?”’」』…])\s*(?P<credit>[（(]\s*{_MARK}[^（()）。，]{{2,40}}[）)]|{_MARK}\s*《[^《》。，]{{2,20}}》\s*{_END}"
    rf"|[（(]\s*《?[{_CJK}A-Za-z]{{1,12}}》?\s*[）)])$"
)
# Brackets that read as a bare medium's name but name the paper itself or point elsewhere.
_NOT_BARE = re.compile(r"^(?:本报|本社|本网|本台|见|详见|下转|上接|转|接)")
# A source must be a name: a paper or agency (…报, …社, …网, 《…》), not a clause (据了解, 据统计).
_NOT_A_SOURCE = re.compile(r"^(?:了解|悉|介绍|统计|报道|调查|测算|估计|分析|透露|称|说|初步|不完全|相关|有关|此|当地|知情)")
_MEDIA = re.compile(r"(?:报|社|网|台|刊|杂志|客户端|新闻|日报|晚报|在线|频道|体育|财经|》)$")


def _normalise(source: str, strict: bool) -> str | None:
    source = re.sub(r"\s+", "", source).strip("《》〈〉“”\"")
    source = re.sub(r"》《|》、《", "、", source)
    source = source.replace("《", "").replace("》", "")
    if not 2 <= len(source) <= 24 or _NOT_A_SOURCE.match(source):
        return None
    if strict and not _MEDIA.search(source):
        return None
    return source


def parse_credit(text: str) -> str | None:
    """The source named by a whole line that is a reprint credit, or None.

    >>> parse_credit("（据新华社电）"), parse_credit("（来源：渤海早报）"), parse_credit("据《新快报》报道")
    ('新华社', '渤海早报', '新快报')
    >>> parse_credit("据了解，目前已有三家") is None
    True
    """
    text = to_simplified(text.strip())
    if len(text) > 50:
        return None
    match = _BRACKETED.match(text)
    if match:
        return _normalise(match.group("src"), strict=False)
    match = _BARE.match(text)
    if match:
        if _NOT_BARE.match(match.group("src")):
            return None
        return _normalise(match.group("src"), strict=True)
    match = _LINE.match(text)
    if match:
        # Unbracketed, a credit must name a medium: 据《新快报》报道, not 据介绍.
        return _normalise(match.group("src"), strict=True)
    return None


def split_trailing_credit(text: str) -> tuple[str, str] | None:
    """Split ``……依法追究刑事责任。（据新华社）`` into (the paragraph, ``新华社``), or None."""
    shadow = same_length_shadow(text[-60:])
    offset = max(0, len(text) - 60)
    match = _TAIL.search(shadow)
    if not match:
        return None
    credit = parse_credit(match.group("credit"))
    if credit is None:
        return None
    return text[: offset + match.start()].rstrip(), credit

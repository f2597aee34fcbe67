"""Openers and datelines (电头): the words that open a news article and say who sent it, from where, when.

Forms read here, at the start of a paragraph:

* the paper's own: ``本报讯``, ``本报上海3月2日电``, ``本报北京6月11日体育电``, and other papers'
  ``羊城晚报讯``, ``新快报讯``;
* an agency's or a website's: ``新华社郑州11月29日电``, ``中新社北京六月二十五日电``,
  ``中新网5月28日电``, ``华奥星空2月13日电``, ``中广网北京6月4日消息``, and without a date
  ``据新华社电``, ``综合新华社电``, ``新华网消息``;
* a reporter's: ``本报记者王静6月24日北京报道``, ``本报记者 王晓云报道``, ``记者 朱玲 发自广州``.

Each may be followed by its byline in brackets (``（记者 张三、李四）``) or without
(``本报讯 记者 张三 通讯员 李四 正文…``). The month and day of a dateline are its article's; the
source (an agency, another paper) is the article's credit. All patterns are bounded (linear time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import rjieba

from search.ingest.bylines import BULLETS, Byline, is_place, looks_like_name, parse_byline, unpad_names
from search.ingest.chinese import same_length_shadow
from search.ingest.dates import CN_NUMBER, chinese_number, valid_date

_CJK = "\u3400-\u9fff"
_N = rf"[0-9{CN_NUMBER}]"
_DATE = rf"(?P<month>{_N}{{1,3}})\s*月\s*(?P<day>{_N}{{1,3}})\s*日"
# 电/讯/消息 ending a dateline, not the start of a word (电话, 电视, 讯息).
_SENT = r"(?:电|讯|消息)(?![话视影力脑器子商台池站网息问告])"
_BRACKET_BYLINE = r"\s*(?:[（(\[【]\s*(?P<inner>[^）)\]】]{1,80})\s*[）)\]】])?"

# The paper's own opener (本报讯, 本报北京6月10日电) and another paper's (羊城晚报讯).
_PAPER_OPENER = re.compile(
    rf"^(?P<src>本报|[{_CJK}]{{1,6}}报)(?P<place>[{_CJK}]{{0,6}}?)(?:{_DATE})?(?:[{_CJK}]{{0,2}}?)[讯电](?![话视影力脑器子商台池站网息])"
)
# A note a website puts after its name: 中新网(微博)9月22日电.
_ASIDE = rf"(?:\s*[（(][{_CJK}A-Za-z]{{1,6}}[）)])?"
# A dated dispatch from an agency or website: 新华社北京6月10日电, 中新网5月28日电, 华奥星空2月13日电;
# with an agency's ending the 电 may be left out (中新网8月16日 据……).
_DATED = re.compile(
    rf"^(?:据|综合)?(?P<src>[{_CJK}]{{2,12}}?){_ASIDE}\s*(?:{_DATE})(?:(?:[{_CJK}]{{0,2}}?){_SENT}|(?<=日)(?=[ \u3000]))"
)
# Another medium's 讯: 南都讯, 京华时报讯 (not a word that ends in 讯: 通讯, 快讯, 资讯).
_XUN = re.compile(rf"^(?P<src>[{_CJK}]{{2,5}}?){_ASIDE}讯(?=[\s\u3000（(【:：]|记者)")
# An undated one: 据新华社电, 新华社电, 新华网消息.
_UNDATED = re.compile(rf"^(?:据|综合)?(?P<src>[{_CJK}]{{1,6}}(?:社|网))(?:电|消息)(?![话视影力脑器子商台池站网息])")
# A reporter's dateline: 本报记者王静6月24日北京报道, 本报记者 王晓云报道, 记者 朱玲 发自广州.
_REPORTER = re.compile(
    rf"^(?P<role>(?:本报)?[{_CJK}]{{0,5}}?记者)(?P<body>[{_CJK}0-9·、，, \u3000]{{2,30}}?)"
    rf"(?:报道|发自\s*(?P<origin>[{_CJK}]{{2,4}}?)(?=[\s\u3000，,：:0-9]|$))(?P<tail>[\s\u3000：:，,]*)"
)
_BODY_DATE = re.compile(_DATE)
# Where an agency's name ends and the place begins: 新华社|北京, 人民网|北京, 新华网|香港.
_SOURCE_END = re.compile(rf"^(?P<src>[{_CJK}]{{1,8}}?(?:通讯社|社|网|电视台|电台|台|客户端|报))(?P<place>[{_CJK}]{{0,5}})$")
# A byline without brackets after the opener: 记者 张三 通讯员 李四 …, 记者张三报道：…
_ROLE_START = re.compile(rf"^(?:[{_CJK}]{{0,7}}?记者|(?:特约|本报)?通讯员|实习生)")

# The generic names a paper calls itself by, which credit no one else.
_SELF = ("本报", "晚报", "早报", "晨报", "日报", "商报", "都市报")


@dataclass
class Dateline:
    """An opener read from the start of a paragraph."""

    opener: str  # the opener's own text (本报讯, 新华社北京6月10日电（记者 王五）)
    rest: str  # the paragraph after it
    byline: Byline | None = None
    source: str | None = None  # who sent it when not the paper itself: 新华社, 中新网, 羊城晚报
    month: int | None = None
    day: int | None = None
    reporter: bool = False  # a reporter's dateline (本报记者 X 北京报道): alone on a line it is a byline


def _month_day(match: re.Match[str]) -> tuple[int | None, int | None]:
    if not match.groupdict().get("month"):
        return None, None
    month, day = chinese_number(match.group("month")), chinese_number(match.group("day"))
    return (month, day) if valid_date(None, month, day) else (None, None)


def _source_of(head: str) -> str | None:
    """Split ``新华社北京`` into the source ``新华社``; a head without an agency's ending is all source."""
    match = _SOURCE_END.match(head)
    source = match.group("src") if match else head
    return None if source in _SELF else source


@lru_cache(maxsize=4096)
def _names_a_sender(head: str) -> bool:
    """Is ``head`` (before a date and 电) an agency or website with a place, not a clause?

    An agency's ending (社, 网, 台, 报) decides; otherwise the words must all be names and nouns
    (华奥星空), never verbs or function words (会议决定6月10日电告…).
    """
    if _SOURCE_END.match(head):
        return True
    return all(tag[:1] in ("n", "j", "x") or tag in ("nz", "nt", "ns", "eng") for _, tag in rjieba.tag(head))


def _names_and_place(run: str) -> list[str] | None:
    """Names in a reporter's dateline before the place: ``张三、李四``, ``王 芳``, or one name glued to
    the place it reports from (``王静北京``: the name is the prefix that leaves nothing, or a place)."""
    run = unpad_names(run.strip(" \u3000，,、"))
    parts = [part for part in re.split(r"[、，,\s\u3000]+", run) if part]
    if parts and all(looks_like_name(part) for part in parts):
        return parts
    if len(parts) > 1 and all(looks_like_name(part) for part in parts[:-1]) and is_place(parts[-1]):
        return parts[:-1]  # 张三 北京报道
    if len(parts) != 1:
        return None
    glued = parts[0]
    if looks_like_name(glued):
        return [glued]
    for size in (2, 3, 4):
        name, remainder = glued[:size], glued[size:]
        if looks_like_name(name) and len(remainder) >= 2 and is_place(remainder.removeprefix("从")):
            return [name]
    return None


def _leading_byline(rest: str) -> tuple[Byline | None, str]:
    """A byline opening ``rest`` without brackets: ``记者 张三 通讯员 李四 正文…``, ``记者张三报道：正文``."""
    original, rest = rest, same_length_shadow(rest[:200]) + rest[200:]  # read simplified, cut the original
    if not _ROLE_START.match(rest):
        return None, original
    reported = re.match(r"^(?P<byline>[^，。：:！？]{2,40}?)报道[：:\s]+", rest)
    if reported:
        byline = parse_byline(reported.group("byline"))
        if byline is not None:
            return byline, original[reported.end():]
    chunks = re.split(r"([ \u3000]+)", rest)
    best: tuple[Byline | None, int] = (None, 0)
    consumed = ""
    for index in range(0, len(chunks) - 1, 2):  # text chunks at even positions, spaces between
        consumed += chunks[index]
        byline = parse_byline(consumed)
        if byline is not None:
            best = (byline, len(consumed) + len(chunks[index + 1]))
        consumed += chunks[index + 1]
        if len(consumed) > 60:
            break
    byline, cut = best
    if byline is not None:
        origin = re.match(rf"^(?:发自|从)\s*[{_CJK}]{{2,4}}?(?:报道)?[\s\u3000:：，,]+|^[{_CJK}]{{2,4}}报道[\s\u3000:：，,]+", rest[cut:])
        glued = re.match(r"^(?:发自|从)\s*", rest[cut:]) if origin is None else None
        if origin:
            cut += origin.end()  # 记者 王小明 发自北京 正文: where it was filed from is part of the byline
        elif glued:  # 发自北京教育部…: the place runs into the text (a scan lost the space)
            for size in (4, 3, 2):
                place = rest[cut + glued.end(): cut + glued.end() + size]
                if len(place) == size and is_place(place):
                    cut += glued.end() + size
                    break
    if byline is None or not rest[cut:].strip():
        return None, original
    return byline, original[cut:]


def _reporter_dateline(shadow: str, text: str) -> Dateline | None:
    """``本报记者王静6月24日北京报道 正文`` and ``记者 朱玲 发自广州 正文``."""
    match = _REPORTER.match(shadow)
    if not match:
        return None
    body = match.group("body")
    date = _BODY_DATE.search(body)
    names = _names_and_place(body[: date.start()] if date else body)
    if not names:
        return None
    byline = parse_byline(f"{match.group('role')} {' '.join(names)}")
    if byline is None:
        return None
    month, day = _month_day(date) if date else (None, None)
    return Dateline(opener=text[: match.end()].strip(), rest=text[match.end():].strip(), byline=byline, month=month, day=day, reporter=True)


def parse_dateline(text: str) -> Dateline | None:
    """Read the opener or dateline at the start of a paragraph; None when it has none.

    >>> d = parse_dateline("新华社北京6月10日电（记者 陈寂 黄富慧）中国－阿拉伯国家合作论坛……")
    >>> (d.source, d.month, d.day, d.byline.reporters, d.rest[:4])
    ('新华社', 6, 10, ['陈寂', '黄富慧'], '中国－阿')
    >>> d = parse_dateline("本报讯 记者 严子健 实习生 徐思伽 上海玛吉斯男篮前天晚上败走杭州")
    >>> (d.source, d.byline.reporters, d.rest[:4])
    (None, ['严子健', '徐思伽'], '上海玛吉')
    >>> parse_dateline("记者从2月12日召开的会议上获悉") is None
    True
    """
    text = text.strip().lstrip(BULLETS).strip()
    shadow = same_length_shadow(text[:160])  # match on simplified text, cut the original at the same offsets
    dateline = None
    for pattern in (_PAPER_OPENER, _DATED, _UNDATED, _XUN):
        match = pattern.match(shadow)
        if not match:
            continue
        if pattern is _XUN and len(rjieba.cut(match.group("src") + "讯")) < 2:
            continue  # 快讯, 喜讯, 资讯: a word, not a medium's opener
        if pattern is _DATED and not match.group(0).endswith(("电", "讯", "消息")) and not _SOURCE_END.match(match.group("src")):
            continue  # a date without 电 opens a dispatch only after an agency's or website's name
        head = match.group("src") + (match.groupdict().get("place") or "")
        source = "本报" if head.startswith("本报") else _source_of(head) if pattern in (_DATED, _UNDATED) else match.group("src")
        if pattern is _DATED and ("记者" in head or not _names_a_sender(head)):
            continue  # a reporter's dateline (read below), or a sentence that mentions a date
        month, day = _month_day(match)
        dateline = Dateline(opener=text[: match.end()], rest=text[match.end():], source=None if source in _SELF else source, month=month, day=day)
        break
    if dateline is None:
        return _reporter_dateline(shadow, text)
    bracket = re.match(_BRACKET_BYLINE + r"[\s:：]*", dateline.rest)
    inner = bracket.group("inner") if bracket else None
    if inner:
        byline = parse_byline(inner, bare_names=not is_place(inner.strip()))
        if byline is not None:
            dateline.opener += dateline.rest[: bracket.end()]  # type: ignore[union-attr]
            dateline.byline, dateline.rest = byline, dateline.rest[bracket.end():]  # type: ignore[union-attr]
    if dateline.byline is None:
        rest = dateline.rest.lstrip(" \u3000:：")
        byline, after = _leading_byline(rest)
        if byline is not None:
            dateline.byline, dateline.rest = byline, after
            dateline.opener = text[: len(text) - len(after)]
    dateline.opener = dateline.opener.strip()
    dateline.rest = dateline.rest.strip(" \u3000:：").strip()
    return dateline

"""Page furniture: the lines of a page that belong to no article.

* the page header (版头/眉栏): ``河南日报 2023年6月12日 星期一 第05版 要闻``,
  ``大河报｜2022年3月8日｜星期二｜A07：郑州新闻``, ``第06版　观察　　经济日报　2009年6月25日``: the
  paper, the date, the page and its section, in any order and with any separators;
* editor lines (``本版责编：… 美编：… 校对：…``, ``责任编辑：…``, ``编辑 X 校对 Y``): the names in them
  are no one's byline;
* a lone page marker (``第A3版``, ``A07``, ``05``) and section banners (``本地新闻``, ``简　讯``,
  ``【要闻】``), which name the page or its section but are no headline.

The rules read the conventions of the press (a paper's name ends in 报, a page is 第N版 or a letter
and a number, banners are category words or letter-spaced), never one paper's layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.ingest.bylines import looks_like_name, unpad_names
from search.ingest.chinese import to_simplified
from search.ingest.dates import chinese_number, find_full_date, iso, valid_date

_CJK = "\u3400-\u9fff"
MAX_FURNITURE_CHARS = 80

# A paper's name: 人民日报, 大河报, 郑州晚报, 上海证券报, 南方都市报 (本报 is the paper speaking of itself).
_PAPER = re.compile(rf"^[{_CJK}]{{1,8}}报$")
_NOT_PAPER = re.compile(r"^(?:本报|日报|晚报|早报|晨报|周报|简报|快报|画报|情报|汇报|举报|通报|公报|电报|海报|申报|预报|喜报|捷报|黑板报|手抄报)$")
# A page: 第05版, 第A3版, A07, B4, 05版, 第 01 版.
_PAGE = re.compile(r"^(?:第\s*([A-Za-z]{0,2}\s*\d{1,3})\s*版|([A-Za-z]{1,2}\s*\d{1,3})\s*版?|(\d{1,3})\s*版)$")
_LONE_PAGE = re.compile(r"^[-－—·•\s]*(?:第\s*[A-Za-z]{0,2}\s*\d{1,3}\s*版|[A-Za-z]{1,2}\s*\d{1,3}|\d{1,3})\s*(?:版)?[-－—·•\s]*$")
_WEEKDAY = re.compile(r"^(?:星期|礼拜|周)[一二三四五六日天]$")
# Header tokens: a page marker, a run of Chinese characters, or any other run between separators
# (scans glue them: "羊城晚报2010年4月21日", "B4体育新闻").
_HEADER_TOKEN = re.compile(
    rf"第\s*[A-Za-z]{{0,2}}\s*\d{{1,3}}\s*版|[A-Za-z]{{1,2}}\s*\d{{1,3}}(?:\s*版)?|\d{{1,3}}\s*版|[{_CJK}]+|[^\s\u3000|｜│丨·•・/／、,，;；：:{_CJK}]+"
)
_MONTH_DAY_ONLY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]{1,3})月(\d{1,2}|[一二三四五六七八九十]{1,3})日$")

# Roles of the people who made the page (not the articles).
EDITOR_ROLES = (
    "本版责编", "本版编辑", "本版主编", "本版审校", "本版校对", "本版统筹", "本期编辑", "本期责编",
    "责任编辑", "责任校对", "美术编辑", "图片编辑", "值班编辑", "值班主任", "版式设计", "视觉设计", "视觉编辑",
    "美术设计", "版面设计",
    "责编", "编辑", "主编", "美编", "校对", "审校", "审读", "终审", "版式", "组版", "排版", "制版", "统筹", "监制", "制图",
)  # fmt: skip
_EDITOR_ROLE = "|".join(sorted(EDITOR_ROLES, key=len, reverse=True))
_EDITOR_TOKEN = re.compile(rf"\s*(?:(?P<role>{_EDITOR_ROLE})\s*[：:]?|(?P<name>[{_CJK}·]{{2,4}}))[\s\u3000、,，;；/／|｜]*")

# Section banners: a short category name (要闻, 本地新闻, 城市新闻, 综合新闻, 简讯, 体育周刊).
_BANNER_WORDS = (
    "新闻", "要闻", "简讯", "短讯", "快讯", "简报", "速递", "速览", "专版", "专刊", "副刊", "周刊", "特刊",
    "时评", "评论", "综合", "资讯", "动态", "观察", "视点", "热线", "论坛", "广角", "纵横", "文摘",
)  # fmt: skip
_BANNER = re.compile(rf"^[{_CJK}]{{0,6}}(?:{'|'.join(_BANNER_WORDS)})$")
# Columns of short items.
BRIEF_WORDS = ("简讯", "短讯", "快讯", "简报", "速递", "速览", "消息树", "一句话新闻", "新闻速览", "信息窗", "集锦")
_LETTER_SPACED = re.compile(rf"^[{_CJK}](?:[ \u3000]+[{_CJK}]){{1,4}}$")
_BRACKET_LABEL = re.compile(r"^[【\[［〖]\s*([^】\]］〗]{1,12}?)\s*[】\]］〗]$")


@dataclass
class PageHeader:
    """What a page says about itself (every field may be missing)."""

    paper: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    page: str | None = None
    section: str | None = None

    @property
    def date(self) -> str | None:
        """The header's ISO date (``YYYY-MM-DD``), or None without a year."""
        return iso(self.year, self.month, self.day)

    def fill(self, other: "PageHeader") -> None:
        """Take the fields this header lacks from ``other`` (a second furniture line)."""
        for name in ("paper", "page", "section"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        if self.month is None and other.month is not None:
            self.year, self.month, self.day = other.year, other.month, other.day


def _clean(text: str) -> str:
    return to_simplified(text.strip().strip("*#").strip())


def page_code(token: str) -> str | None:
    """``第05版`` -> ``05``, ``A07`` -> ``A07``, ``第 A3 版`` -> ``A3``; None for anything else."""
    match = _PAGE.match(token.strip())
    if not match:
        return None
    code = next(group for group in match.groups() if group)
    return re.sub(r"\s", "", code).upper()


def _header_date(text: str) -> tuple[int | None, int | None, int | None, str]:
    """The header's date and the text with it removed."""
    found = find_full_date(text)
    if found:
        for pattern in (r"[0-9〇○零一二三四五六七八九]{4}\s*年\s*\S{1,3}?\s*月\s*\S{1,3}?\s*日", r"(?:19|20)\d\d[-./]\d{1,2}[-./]\d{1,2}"):
            text = re.sub(pattern, " ", text, count=1)
        return found[0], found[1], found[2], text
    return None, None, None, text


def parse_page_header(line: str) -> PageHeader | None:
    """Read a page header line; None when the line is not one.

    A header has at least two of: a full date, a weekday, a page marker, a paper's name (and nothing
    that reads as a sentence).

    >>> h = parse_page_header("大河报｜2022年3月8日｜星期二｜A07：郑州新闻")
    >>> (h.paper, h.date, h.page, h.section)
    ('大河报', '2022-03-08', 'A07', '郑州新闻')
    >>> parse_page_header("高新区召开党史学习教育推进会") is None
    True
    """
    text = unpad_names(_clean(line))
    if not 2 <= len(text) <= MAX_FURNITURE_CHARS or re.search(r"[。！？!?]", text):
        return None
    if _PAPER.match(text) and not _NOT_PAPER.match(text):
        return PageHeader(paper=text)  # the paper's name on a line of its own, above the rest of the header
    year, month, day, rest = _header_date(text)
    header = PageHeader(year=year, month=month, day=day)
    kinds: set[str] = {"date"} if year is not None else set()  # what the line shows: date, weekday, page, paper
    sections: list[str] = []
    tokens = _HEADER_TOKEN.findall(rest)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.isdigit() and len(token) <= 3 and header.page is None and index == len(tokens):
            header.page = token  # a bare page number closing the header: "… 经济日报 观察 6"
            kinds.add("page")
        elif token.isdigit() and len(token) <= 3 and header.page is None:
            # A bare page number inside the header ("2008年10月15日 星期三 中国教育报 02 新闻"): weak
            # evidence on its own, so it counts like a page code (a date, weekday or paper must stand by).
            header.page = token
            kinds.add("code")
        elif _WEEKDAY.match(token):
            kinds.add("weekday")
        elif (code := page_code(token)) is not None:
            if "page" in kinds:
                return None  # two page markers (H1N1 read as H1, N1): text, not a header
            header.page = code
            kinds.add("page" if "第" in token or "版" in token else "code")
        elif _PAPER.match(token) and not _NOT_PAPER.match(token) and header.paper is None:
            header.paper = token
            kinds.add("paper")
        elif token in EDITOR_ROLES:
            while index < len(tokens) and tokens[index] not in EDITOR_ROLES and looks_like_name(tokens[index]):
                index += 1  # an editor's role in the header: skip the names after it
        elif (md := _MONTH_DAY_ONLY.match(token)) and month is None:
            header.month, header.day = chinese_number(md.group(1)), chinese_number(md.group(2))
            if not valid_date(None, header.month, header.day):
                return None
            kinds.add("date")
        elif re.fullmatch(rf"[{_CJK}]{{2,10}}", token) and not re.search(r"[的了是在和与将为]", token):
            sections.append(token)
        else:
            return None  # a word a header never holds: this is text
    if "code" in kinds:
        kinds.discard("code")
        kinds.add("page")
        if not kinds & {"date", "weekday", "paper"}:
            return None  # "A07" beside words is no header without a paper, a date or a weekday
    if len(kinds) < 2 or len(sections) > 2:
        return None
    header.section = "·".join(sections) or None
    return header


def is_editor_line(text: str) -> bool:
    """An editor line: roles of the page's makers with their names, nothing else.

    >>> is_editor_line("本版责编：刘　勇　　美编：张　婷　　校对：赵　雪"), is_editor_line("编辑 赵晓　校对 孙伟")
    (True, True)
    >>> is_editor_line("编辑部主任参加碰头会，商定编前会的主要内容")
    False
    """
    text = unpad_names(_clean(text))
    if not 3 <= len(text) <= MAX_FURNITURE_CHARS:
        return False
    if text[0] in "（(" and text[-1] in "）)":
        text = text[1:-1].strip()
    position, roles, names = 0, 0, 0
    while position < len(text):
        match = _EDITOR_TOKEN.match(text, position)
        if not match or match.end() == position:
            return False
        if match.group("role"):
            roles += 1
        elif roles == 0 or not looks_like_name(match.group("name")):
            return False  # names before any role, or words that are no name: not an editor line
        else:
            names += 1
        position = match.end()
    return roles >= 1 and names >= 1


def lone_page(text: str) -> str | None:
    """The page named by a line that holds nothing else (``第3版``, ``A07``, ``- 5 -``), or None."""
    text = _clean(text)
    if not _LONE_PAGE.match(text):
        return None
    core = text.strip("-－—·• \u3000")
    return page_code(core) or (core if core.isdigit() else None)


def banner(text: str) -> str | None:
    """The section a banner line names (``本地新闻``, ``简　讯`` -> ``简讯``, ``【要闻】`` -> ``要闻``), or None."""
    text = _clean(text)
    label = _BRACKET_LABEL.match(text)
    if label:
        name = label.group(1).strip()
        # 【要闻】, 【简讯】, 【本地新闻】 name a section; 【内地新增33例甲型流感】 is an item's headline.
        return name if len(name) <= 4 or _BANNER.match(name.replace(" ", "")) else None
    if _LETTER_SPACED.match(text):
        return re.sub(r"[ \u3000]", "", text)
    compact = text.replace(" ", "").replace("\u3000", "")
    if len(compact) <= 8 and _BANNER.match(compact):
        return compact
    return None


def is_brief_banner(section: str) -> bool:
    """Does a banner open a column of short items (简讯, 短讯, 快讯…)?"""
    return any(word in section for word in BRIEF_WORDS)


def is_furniture(text: str) -> bool:
    """Is the line page furniture of any kind (header, editor line, page marker, banner)?"""
    if len(text) > MAX_FURNITURE_CHARS:
        return False
    return bool(parse_page_header(text) or is_editor_line(text) or lone_page(text) or banner(text))

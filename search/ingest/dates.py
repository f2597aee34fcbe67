"""Dates as newspapers print them, and the date a page states about itself.

Three kinds of evidence, strongest first (the catalog, stronger still, is applied by
:mod:`search.ingest.sources`):

1. the page header (``河南日报 2023年6月12日 星期一 第05版``): the page's date, read by
   :mod:`search.ingest.furniture`;
2. a dateline (``新华社郑州11月29日电``): the month and day of its article;
3. the body: the month of its ``M月D日`` dates, and a year only where the text states the present
   year, never a year mentioned in passing.

What counts as the present year was decided from the seed pages and the corpus: news names the
year it reports on when it speaks of a part of that year (``2023年上半年``, ``2023年开年以来``,
``2024年底前``, ``2023年1-8月``) or of an event of the year (``2024年高质量发展推进会``,
``2024河南（郑州）—东盟粮农合作大会``). Only when a page says neither does a year standing alone
as a clause's time count (``……，2023年。``). A year pointing elsewhere in time (``1998年以来``,
``到2035年``, ``早在1998年``) or qualifying a noun (``2023年区域经济发展目标``, ``《…2023年…要点》``,
``2006年西部半决赛``) is read in passing, and a number that is no year (``投资2000万元``) never is
one. A page naming no year gets none.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from search.ingest.chinese import to_simplified

_CJK = "\u3400-\u9fff"
_DIGITS = {"〇": 0, "○": 0, "零": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMBER = "〇○零一二三四五六七八九十"


def chinese_number(text: str) -> int | None:
    """``"二十五"`` -> 25, ``"十七"`` -> 17, ``"二〇〇九"``/``"二00九"`` -> 2009, ``"11"`` -> 11.

    >>> chinese_number("二十五"), chinese_number("十"), chinese_number("二〇〇九"), chinese_number("七")
    (25, 10, 2009, 7)
    """
    text = unicodedata.normalize("NFKC", text.strip())
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        if len(tens) > 1 or len(units) > 1:
            return None
        high = _DIGITS.get(tens, -1) if tens else 1
        low = _DIGITS.get(units, -1) if units else 0
        return high * 10 + low if high >= 0 and low >= 0 else None
    value = 0
    for ch in text:  # digit by digit: 二〇〇九, 二00八
        if ch not in _DIGITS:
            return None
        value = value * 10 + _DIGITS[ch]
    return value


_NUM = rf"[0-9{CN_NUMBER}]"
# A month and day as printed: 6月11日, ６月１１日, 六月二十五日 (bounded: linear on any input).
MONTH_DAY = re.compile(rf"(?<![0-9{CN_NUMBER}])({_NUM}{{1,3}})\s*月\s*({_NUM}{{1,3}})\s*日")
# A full date: 2023年6月12日, 二〇〇九年六月十八日, 2023-06-12, 2023.6.12, 2023/6/12.
FULL_DATE = re.compile(
    rf"(?<![0-9{CN_NUMBER}])({_NUM}{{4}})\s*年\s*({_NUM}{{1,3}})\s*月\s*({_NUM}{{1,3}})\s*日"
    rf"|(?<![\d.])((?:19|20)\d\d)([-./])(0?[1-9]|1[0-2])\5(0?[1-9]|[12]\d|3[01])(?![\d.])"
)


def valid_date(year: int | None, month: int | None, day: int | None) -> bool:
    """A plausible newspaper date (the year may be unknown)."""
    if year is not None and not 1800 <= year <= 2100:
        return False
    return month is not None and 1 <= month <= 12 and (day is None or 1 <= day <= 31)


def find_full_date(text: str) -> tuple[int, int, int] | None:
    """The first full date in ``text`` (year, month, day), or None."""
    for match in FULL_DATE.finditer(text):
        if match.group(1):
            parts = (chinese_number(match.group(1)), chinese_number(match.group(2)), chinese_number(match.group(3)))
        else:
            parts = (int(match.group(4)), int(match.group(6)), int(match.group(7)))
        year, month, day = parts
        if year is not None and valid_date(year, month, day):
            return year, month, day  # type: ignore[return-value]
    return None


def iso(year: int | None, month: int | None, day: int | None) -> str | None:
    """``(2024, 11, 22)`` -> ``"2024-11-22"``; a date without a year has no ISO form."""
    if year is None:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


# --- the present year stated in a body ------------------------------------------------------------

_YEAR_NUMBER = rf"(?<![0-9{CN_NUMBER}.])((?:19|20)\d\d|[一二][〇○零0一二三四五六七八九]{{3}})"
# Parts of a year: the year reported on is named when news speaks of one of them.
_PART_OF_YEAR = (
    r"(?:上半年|下半年|全年|年初|年底|年末|年中|年内|开年|伊始|[第前]?[一二三四1-4]季度|前三季度|"
    r"[1１]\s*[-—－~～至到]\s*\d{1,2}\s*月|初|底|末)"
)
# An event named by its year: 2024年高质量发展推进会, 2024河南（郑州）—东盟粮农合作大会.
_EVENT = (
    rf"[{_CJK}A-Za-z0-9（）()“”《》·—\-]{{0,24}}?"
    r"(?:大会|年会|峰会|论坛|博览会|交易会|展览会|运动会|推进会|座谈会|发布会|洽谈会|推介会|研讨会|招聘会|"
    r"文化节|旅游节|艺术节|音乐节|电影节|大赛|锦标赛|奥运会|世博会|亚运会)"
)
# A deadline or plan ("到2035年", "于2010年初", "力争2025年底前") looks ahead, not at the present.
_AHEAD = r"(?<!到)(?<!至)(?<!于)(?<!在)(?<!截至)(?<!截止)(?<!力争)(?<!计划)(?<!预计)(?<!争取)"
_PRESENT_YEAR = re.compile(rf"{_AHEAD}{_YEAR_NUMBER}(?:\s*年\s*{_PART_OF_YEAR}|\s*年?\s*{_EVENT})")
# Weaker: a year standing alone as a clause's time ("……，2023年。", "2023年，全市…"), not opened by a
# word that points elsewhere in time (自1998年, 从, 早在, 始于, 于, 在). Counted only when the page has
# no stronger statement.
_BARE_YEAR = re.compile(rf"{_AHEAD}(?<!自)(?<!从)(?<!早在)(?<!始于){_YEAR_NUMBER}\s*年(?=[，,。；;！!？?、\s]|$)")
# Spaces that scans put inside dates and numbers: "11 月 22 日", "2024 年".
_DATE_SPACE = re.compile(r"(?<=\d)\s+(?=[年月日])|(?<=[年月])\s+(?=\d)")


def present_years(text: str) -> Counter[int]:
    """Years the text states as the present one (see the module docstring), with their counts.

    >>> sorted(present_years("2023年上半年，……2024年底前……1998年以来……到2035年……投资2000万元"))
    [2023, 2024]
    >>> sorted(present_years("11月22日，2023年")), sorted(present_years("早在1998年，……"))
    ([2023], [])
    """
    for pattern in (_PRESENT_YEAR, _BARE_YEAR):
        years: Counter[int] = Counter()
        for match in pattern.finditer(text):
            year = chinese_number(match.group(1))
            if year is not None and 1800 <= year <= 2100:
                years[year] += 1
        if years:
            return years
    return Counter()


def month_days(text: str) -> list[tuple[int, int]]:
    """Every ``M月D日`` of the text as (month, day), Chinese numerals included."""
    found = []
    for match in MONTH_DAY.finditer(text):
        month, day = chinese_number(match.group(1)), chinese_number(match.group(2))
        if valid_date(None, month, day):
            found.append((month, day))
    return found  # type: ignore[return-value]


def page_date(text: str) -> tuple[str | None, int | None, int | None]:
    """The date a page's text states: (ISO date or None, year or None, month or None).

    The year is the present year the text names most often (ties: the later); the month is the most
    frequent month of its ``M月D日`` dates, and the day the latest of that month. A page that names
    no year of its own gets none: the year is never invented.

    >>> page_date("本报讯 11月21日上午，2024河南（郑州）—东盟粮农合作大会……11月22日")
    ('2024-11-22', 2024, 11)
    >>> page_date("8月26日,高新区……1998年以来……投资2000万元")
    (None, None, 8)
    """
    # Full-width digits and stray spaces ("１１ 月 ２２ 日") read the same as "11月22日".
    text = _DATE_SPACE.sub("", to_simplified(unicodedata.normalize("NFKC", text)))  # 大會 reads as 大会
    years = present_years(text)
    year = max(years, key=lambda y: (years[y], y)) if years else None
    pairs = month_days(text)
    months = Counter(m for m, _ in pairs)
    month = max(months, key=lambda m: (months[m], m)) if months else None
    if year is None:
        return None, None, month
    day = max(d for m, d in pairs if m == month) if month is not None else None
    return iso(year, month, day), year, month


_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_iso_date(value: object) -> tuple[str | None, int | None, int | None]:
    """Parse a catalog or CMS date (``2024-11-22``, ``2024-11``, ``2024``, or a TOML date)."""
    if value is None:
        return None, None, None
    match = _ISO.match(str(value).strip()[:10])
    if not match:
        return None, None, None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and not 1 <= month <= 12 or day is not None and not 1 <= day <= 31:
        return None, None, None
    iso_date = f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day and month else "")
    return iso_date, year, month

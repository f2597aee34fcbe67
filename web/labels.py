"""Chinese display labels for facet names, facet values, kinds and sort orders.

Plain functions used as Jinja filters; the JSON twins carry the raw values, the pages show these.
"""

from __future__ import annotations

import re
from typing import Any

#: Facet parameter names, in the order the sidebar shows them.
FACETS: tuple[str, ...] = ("place", "reporter", "year", "month", "kind", "source", "section", "person", "org")

#: Sort orders accepted by ``sort=``.
SORTS: tuple[str, ...] = ("relevance", "newest", "oldest")

FACET_LABELS: dict[str, str] = {
    "place": "地点",
    "reporter": "记者",
    "year": "年份",
    "month": "月份",
    "kind": "体裁",
    "source": "版面",
    "section": "栏目",
    "person": "人物",
    "org": "机构",
    "from": "起始日期",
    "to": "截止日期",
}

SORT_LABELS: dict[str, str] = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}

KIND_LABELS: dict[str, str] = {"news": "消息", "photo": "图片新闻", "feature": "通讯·特写"}

SUGGESTION_TYPE_LABELS: dict[str, str] = {
    "title": "标题",
    "place": "地点",
    "person": "人物",
    "reporter": "记者",
    "org": "机构",
    "word": "词语",
    "keyword": "词语",
}

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH = re.compile(r"^\d{1,2}$")
_YEAR = re.compile(r"^\d{4}$")


def facet_label(name: str) -> str:
    """``"place"`` -> ``"地点"`` (unknown names are returned unchanged)."""
    return FACET_LABELS.get(name, name)


def kind_label(kind: str | None) -> str:
    """``"news"`` -> ``"消息"``."""
    return KIND_LABELS.get(kind or "", kind or "")


def sort_label(sort: str) -> str:
    """``"newest"`` -> ``"最新"``."""
    return SORT_LABELS.get(sort, sort)


def value_label(facet: str, value: Any) -> str:
    """How a facet value reads on the page: ``("year", "2024")`` -> ``"2024年"``, kinds in Chinese.

    >>> value_label("month", "2024-11"), value_label("month", 11), value_label("kind", "photo")
    ('2024年11月', '11月', '图片新闻')
    """
    text = "" if value is None else str(value)
    if facet == "kind":
        return kind_label(text)
    if facet == "year" and _YEAR.match(text):
        return f"{text}年"
    if facet == "month":
        match = _YEAR_MONTH.match(text)
        if match:
            return f"{match.group(1)}年{int(match.group(2))}月"
        if _MONTH.match(text):
            return f"{int(text)}月"
    return text


def date_label(date: str | None) -> str:
    """ISO ``YYYY[-MM[-DD]]`` -> ``2024年11月22日`` (empty string for None).

    >>> date_label("2024-11-22"), date_label("2023-02"), date_label("2023"), date_label(None)
    ('2024年11月22日', '2023年2月', '2023年', '')
    """
    if not date:
        return ""
    parts = str(date).split("-")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        return str(date)
    suffixes = ("年", "月", "日")
    return "".join(f"{number}{suffix}" for number, suffix in zip(numbers, suffixes))


def suggestion_type_label(kind: str) -> str:
    """``"place"`` -> ``"地点"``."""
    return SUGGESTION_TYPE_LABELS.get(kind, kind)

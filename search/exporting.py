"""Exports of articles as CSV and JSON Lines: the web's download and ``newsearch export`` share them.

- JSON Lines: one object per article with every Article field, plus ``title_note`` (below).
- CSV: one row per article with :data:`CSV_FIELDS`; list fields joined with ``;``. It starts with a
  UTF-8 byte-order mark, so Excel on a Chinese Windows PC opens it as UTF-8 instead of GBK.

``title_note`` says why a title is empty, so an empty cell is not mistaken for a lost one: a photo
caption has none, a structured record (``.jsonl``) came without one, or the page printed none.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from search.model import Article

BOM = "\ufeff"
CSV_FIELDS = (
    "id", "title", "title_note", "kicker", "subtitle", "date", "kind", "source", "position", "paper", "page",
    "section", "reporters", "correspondents", "photographers", "places", "people", "orgs", "keywords", "lead",
    "body", "chars",
)  # fmt: skip


def title_note(article: Article) -> str:
    """Why the article has no title (empty when it has one)."""
    if article.title:
        return ""
    if article.kind == "photo":
        return "图片新闻，无标题"
    if article.source.lower().endswith((".jsonl", ".ndjson")):
        return "来源记录没有标题（title 字段缺失或为空）"
    return "版面上没有标题"


def article_record(article: Article) -> dict[str, Any]:
    """Every Article field plus ``title_note``."""
    return {**article.to_dict(), "title_note": title_note(article)}


def jsonl_lines(articles: Iterable[Article]) -> Iterator[str]:
    """One JSON object per article, each line ending in a newline."""
    for article in articles:
        yield json.dumps(article_record(article), ensure_ascii=False) + "\n"


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return "" if value is None else value


def csv_lines(articles: Iterable[Article], bom: bool = True) -> Iterator[str]:
    """The CSV (header first, then a row per article), a line at a time; ``bom`` starts it with U+FEFF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends, as Excel writes them
    writer.writerow(CSV_FIELDS)
    yield (BOM if bom else "") + buffer.getvalue()
    for article in articles:
        buffer.seek(0)
        buffer.truncate()
        record = article_record(article)
        writer.writerow([_cell(record.get(name)) for name in CSV_FIELDS])
        yield buffer.getvalue()

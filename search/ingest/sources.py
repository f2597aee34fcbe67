"""Seed files in, articles out: pages (.txt/.md), structured exports (.jsonl) and ``catalog.toml``.

:func:`read_seed_file` never raises: whatever is wrong with a file is reported in
``SeedFileResult.problems`` by name, and whatever can be read from it is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.ingest.dates import iso, page_date, parse_iso_date
from search.ingest.extract import ExtractedPage, extract_page, lead_of
from search.ingest.metadata import describe
from search.model import KINDS, Article
from search.ingest.pages import CLAUSE_PUNCT, Page, long_line_problem, normalise_newlines, read_page

PAGE_SUFFIXES = (".txt", ".md", ".markdown", ".text")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CATALOG_NAME = "catalog.toml"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


@dataclass
class SeedFileResult:
    """What one seed file gave: its articles and the problems met reading it."""

    source: str
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: bool = False


def name_is_utf8(name: str) -> bool:
    """Can this file name be stored and shown (is it valid UTF-8, not bytes smuggled in as surrogates)?"""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """A file name safe to print in a report or on a terminal: bytes that are not UTF-8 and unprintable
    characters (newlines, terminal escapes, bidi overrides) written as escapes.

    >>> printable_name("a\\nb\\x1b[2J.txt")
    'a\\\\nb\\\\x1b[2J.txt'
    """
    name = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)


def list_seed_files(seeds_dir: Path) -> list[Path]:
    """Seed files in ``seeds_dir`` (pages and .jsonl exports), sorted by name; hidden files ignored, and
    files whose names are not valid UTF-8 (the indexer reports those)."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        return []
    return sorted(
        path
        for path in seeds_dir.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in PAGE_SUFFIXES + JSONL_SUFFIXES
        and name_is_utf8(path.name)
    )


def load_catalog(seeds_dir: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Read ``seeds/catalog.toml``: known metadata per page file (date, paper, page, section).

    Accepted shapes: ``["000_x.txt"]`` tables at top level, or ``[pages."000_x.txt"]``.
    Returns ``({file name: entry}, problems)``; a broken catalog is reported and ignored.
    """
    path = Path(seeds_dir) / CATALOG_NAME
    if not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return {}, [f"{CATALOG_NAME}: not valid TOML ({error}); ignored"]
    tables = data.get("pages", data)
    catalog = {name: entry for name, entry in tables.items() if isinstance(entry, dict)}
    return catalog, []


def _apply_catalog(article: Article, entry: dict[str, Any] | None) -> None:
    if not entry:
        return
    if "date" in entry:
        article.date, article.year, article.month = parse_iso_date(entry["date"])
    for key in ("section", "paper", "page", "credit"):
        if entry.get(key) is not None:
            setattr(article, key, str(entry[key]))


def add_metadata(article: Article) -> None:
    """Infer the places, people, orgs and keywords the article does not already carry."""
    found = describe(article.title, article.body)
    article.places = article.places or found["places"]
    article.people = article.people or [p for p in found["people"] if p not in article.reporters + article.correspondents + article.photographers]
    article.orgs = article.orgs or found["orgs"]
    article.keywords = article.keywords or found["keywords"]


def page_dates(extracted: ExtractedPage) -> list[tuple[str | None, int | None, int | None]]:
    """Each article's (date, year, month): the page header's date wins over datelines, a dateline's
    month and day over the rest of the page's text, and the year is never invented (see
    :mod:`search.ingest.dates`)."""
    header = extracted.header
    text = "\n".join(f"{a.kicker}\n{a.title}\n{a.subtitle}\n{a.body}" for a in extracted.articles)
    inferred = page_date(text)  # the page's own words: the header's date is not counted twice
    year = header.year if header.year is not None else inferred[1]
    dates = []
    for month, day in extracted.datelines:
        if header.month is not None:
            dates.append((iso(year, header.month, header.day), year, header.month))
        elif month is not None:
            dates.append((iso(year, month, day), year, month))
        else:
            dates.append(inferred)
    return dates


def articles_from_page(page: Page, catalog_entry: dict[str, Any] | None = None, metadata: bool = True) -> list[Article]:
    """Extract a decoded page's articles with their metadata (the page's date is shared).

    ``metadata=False`` leaves the inferred lists (places, people, orgs, keywords) to a later
    :func:`add_metadata` call: full builds run that, the costly part, in their writer processes.
    What the page header says (paper, page, section, date) is already on the articles; the
    catalog entry, when there is one, wins over it.
    """
    extracted = extract_page(page)
    for article, (date, year, month) in zip(extracted.articles, page_dates(extracted)):
        article.date, article.year, article.month = date, year, month
        if metadata:
            add_metadata(article)
        _apply_catalog(article, catalog_entry)
    return extracted.articles


# A structured export may carry lone surrogates as JSON escapes ("\\ud800"), which page decoding
# never produces.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str:
    """A record's value as clean text, as a page's would be: newlines normalised, control characters
    (terminal escapes, bidi overrides) and lone surrogates dropped."""
    if value is None:
        return ""
    return _SURROGATES.sub("", normalise_newlines(str(value)))


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,，、;；]+", _text(value)) if part]
    if isinstance(value, list):
        return [_text(item).strip() for item in value if item is not None and _text(item).strip()]
    return [_text(value)]


def article_from_record(record: dict[str, Any], source: str, position: int, metadata: bool = True) -> Article:
    """Turn one structured record (CMS export) into an Article; missing metadata is inferred
    (unless ``metadata=False``, see :func:`articles_from_page`)."""
    title = _text(record.get("title") or "").strip()
    body = _text(record.get("body") or record.get("text") or "").strip()
    raw_id = _text(record.get("id") or "")
    article_id = raw_id if _SAFE_ID.match(raw_id) else hashlib.sha1(f"{source}\n{position}\n{raw_id}\n{title}\n{body}".encode()).hexdigest()[:16]
    date, year, month = parse_iso_date(record.get("date"))
    kind = record.get("kind") if record.get("kind") in KINDS else "feature"
    article = Article(
        id=article_id,
        source=source,
        position=position,
        title=title,
        kicker=_text(record.get("kicker") or ""),
        subtitle=_text(record.get("subtitle") or ""),
        body=body,
        lead=_text(record.get("lead") or "") or lead_of(body),
        reporters=_string_list(record.get("reporters")),
        correspondents=_string_list(record.get("correspondents")),
        photographers=_string_list(record.get("photographers")),
        places=_string_list(record.get("places")),
        people=_string_list(record.get("people")),
        orgs=_string_list(record.get("orgs")),
        keywords=_string_list(record.get("keywords")),
        kind=kind,
        date=date,
        year=year,
        month=month,
        section=_text(record["section"]) or None if record.get("section") else None,
        paper=_text(record["paper"]) or None if record.get("paper") else None,
        page=_text(record["page"]) or None if record.get("page") else None,
        credit=_text(record["credit"]) or None if record.get("credit") else None,
        chars=len(body),
    )
    if metadata:
        add_metadata(article)
    return article


def read_jsonl(path: Path, metadata: bool = True) -> SeedFileResult:
    """Read a .jsonl export: one article object a line; broken lines are reported and skipped."""
    result = SeedFileResult(source=path.name)
    page = read_page(path)  # same decoding rules as pages
    result.problems.extend(page.problems)
    seen: set[str] = set()
    for number, line in enumerate(page.text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            result.problems.append(f"line {number}: not valid JSON ({error.msg}); skipped")
            continue
        except (ValueError, RecursionError) as error:  # nested too deep, number too long...
            result.problems.append(f"line {number}: not usable JSON ({type(error).__name__}); skipped")
            continue
        if not isinstance(record, dict) or not (record.get("body") or record.get("text") or record.get("title")):
            result.problems.append(f"line {number}: no title or body; skipped")
            continue
        try:
            article = article_from_record(record, path.name, len(result.articles) + 1, metadata)
        except Exception as error:  # noqa: BLE001 - one odd record must not cost the file's others
            result.problems.append(f"line {number}: unusable record ({type(error).__name__}); skipped")
            continue
        if article.id in seen:
            result.problems.append(f"line {number}: duplicate id {article.id!r}; skipped")
            continue
        seen.add(article.id)
        result.articles.append(article)
    if not result.articles:
        result.skipped = True
        result.problems.append("no articles could be read")
    return result


def read_seed_file(path: Path, catalog_entry: dict[str, Any] | None = None, metadata: bool = True) -> SeedFileResult:
    """Read one seed file into articles. Never raises: problems are reported in the result.

    ``metadata=False`` skips inferring places, people, orgs and keywords (see :func:`add_metadata`).
    """
    path = Path(path)
    try:
        if path.suffix.lower() in JSONL_SUFFIXES:
            return read_jsonl(path, metadata)
        page = read_page(path)
        result = SeedFileResult(source=path.name, problems=list(page.problems))
        if not page.text.strip():
            result.skipped = True
            result.problems.append("empty file; skipped")
            return result
        if page.binary_share > 0.05:
            result.skipped = True
            result.problems = ["binary or undecodable content; skipped"]
            return result
        long_line = long_line_problem(page.text)
        if long_line:
            result.problems.append(long_line)
        result.articles = articles_from_page(page, catalog_entry, metadata)
        if not result.articles:
            result.skipped = True
            result.problems.append("no article text found; skipped")
        elif not any(ch in CLAUSE_PUNCT for ch in page.text):
            count = len(result.articles)
            result.problems.append(
                f"only headline-like lines, no running text; indexed as {count} article{'s' if count != 1 else ''} of headlines"
            )
        return result
    except OSError as error:
        return SeedFileResult(source=path.name, problems=[f"cannot read file: {error.strerror or error}"], skipped=True)
    except Exception as error:  # noqa: BLE001 - one bad page must never stop the others
        return SeedFileResult(source=path.name, problems=[f"extraction failed ({type(error).__name__}: {error}); skipped"], skipped=True)

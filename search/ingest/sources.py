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
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.ingest.dates import iso, page_date, parse_iso_date
from search.ingest.extract import ExtractedPage, extract_page, lead_of
from search.ingest.files import (
    CATALOG_NAME,
    JSONL_SUFFIXES,
    PAGE_SUFFIXES,
    ReadFacts,
    SeedFile,
    name_is_utf8,
    printable_name,
    scan_seeds,
)
from search.ingest.metadata import describe
from search.ingest.pages import (
    CLAUSE_PUNCT,
    CONTROL_CHARS,
    MAX_PAGE_BYTES,
    Page,
    decode_bytes,
    long_line_problem,
    normalise_newlines,
    page_from_bytes,
)
from search.model import KINDS, Article

__all__ = [
    "CATALOG_NAME", "JSONL_SUFFIXES", "PAGE_SUFFIXES", "SeedFileResult", "add_metadata", "article_from_record",
    "articles_from_page", "list_seed_files", "load_catalog", "name_is_utf8", "printable_name", "read_seed_file",
]  # fmt: skip

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")
MAX_LINE_PROBLEMS = 100  # problems named line by line in one .jsonl; the rest are counted


@dataclass
class SeedFileResult:
    """What one seed file gave: its articles and the problems met reading it.

    ``sha256``/``size``/``mtime_ns`` describe the bytes that were read and parsed (None if the file
    could not be read); ``refused`` marks a file over a size limit, which the run reports with a
    non-zero exit; ``changed`` says the file moved while it was read (its text may be half old, half new).
    """

    source: str
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: bool = False
    sha256: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    refused: bool = False
    changed: bool = False

    def record(self, facts: ReadFacts) -> None:
        """Note what reading the file found (its hash; a change during the read as a problem)."""
        self.sha256, self.size, self.mtime_ns = facts.sha256, facts.size, facts.mtime_ns
        if facts.changed:
            self.changed = True
            self.problems.append(facts.changed)


def list_seed_files(seeds_dir: Path, follow_symlinks: bool = False) -> list[Path]:
    """Seed files in ``seeds_dir`` (pages and .jsonl exports), sorted by name. Hidden files, names
    that are not valid UTF-8 and symbolic links pointing outside the directory (unless
    ``follow_symlinks``) are left out; :func:`search.ingest.files.scan_seeds` says why."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        return []
    return list(scan_seeds(seeds_dir, follow_symlinks).files.values())


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


_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32 byte-order marks (UTF-32 LE starts like UTF-16 LE)

#: ``on_line(number)``: called as each line of a .jsonl is started (cheap: the budget watches it).
LineProgress = Callable[[int], None]


class _JsonlReader:
    """The records of one .jsonl export, line by line (the file is never held whole in memory)."""

    def __init__(self, result: SeedFileResult, metadata: bool, skip_lines: Collection[int]) -> None:
        self.result = result
        self.metadata = metadata
        self.skip_lines = skip_lines
        self.seen: set[str] = set()
        self.line_problems = 0
        self.other_encodings: dict[str, int] = {}

    def problem(self, number: int, text: str) -> None:
        """A problem of one line; past :data:`MAX_LINE_PROBLEMS` only counted."""
        self.line_problems += 1
        if self.line_problems <= MAX_LINE_PROBLEMS:
            self.result.problems.append(f"line {number}: {text}")

    def decode(self, number: int, raw: bytes) -> str:
        """One line as text: UTF-8, or (a line in another encoding) the page decoding rules."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding, problems = decode_bytes(raw)
            self.other_encodings[encoding] = self.other_encodings.get(encoding, 0) + 1
            for problem in problems:
                self.problem(number, problem)
            return text

    def add(self, number: int, line: str, complete: bool = True) -> None:
        """Parse one line into an article (or a problem naming the line)."""
        if number in self.skip_lines:
            self.problem(number, "extraction of this record took longer than the time budget; skipped")
            return
        line = CONTROL_CHARS.sub("", line.rstrip("\r\n"))
        if not line.strip():
            return
        unfinished = "" if complete else " (the last line has no newline: the file may still be being written)"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            self.problem(number, f"not valid JSON ({error.msg}){unfinished}; skipped")
            return
        except (ValueError, RecursionError) as error:  # nested too deep, number too long...
            self.problem(number, f"not usable JSON ({type(error).__name__}); skipped")
            return
        if not isinstance(record, dict) or not (record.get("body") or record.get("text") or record.get("title")):
            self.problem(number, "no title or body; skipped")
            return
        try:
            article = article_from_record(record, self.result.source, len(self.result.articles) + 1, self.metadata)
        except Exception as error:  # noqa: BLE001 - one odd record must not cost the file's others
            self.problem(number, f"unusable record ({type(error).__name__}); skipped")
            return
        if article.id in self.seen:
            self.problem(number, f"duplicate id {article.id!r}; skipped")
            return
        if unfinished:
            self.problem(number, "indexed, but the last line has no newline: the file may still be being written")
        self.seen.add(article.id)
        self.result.articles.append(article)

    def finish(self) -> None:
        """Summaries: lines read in another encoding, problems past the cap."""
        for encoding, count in self.other_encodings.items():
            self.result.problems.append(f"{count:,} line{'s' if count != 1 else ''} not UTF-8; read as {encoding}")
        if self.line_problems > MAX_LINE_PROBLEMS:
            self.result.problems.append(f"… and {self.line_problems - MAX_LINE_PROBLEMS:,} more lines with problems")


def read_jsonl(
    path: Path,
    metadata: bool = True,
    *,
    follow_symlinks: bool = False,
    skip_lines: Collection[int] = (),
    on_line: LineProgress | None = None,
) -> SeedFileResult:
    """Read a .jsonl export: one article object a line; broken lines are reported and skipped.

    The file is streamed line by line, whatever its size, and hashed as it is read. ``skip_lines``
    are line numbers not to parse (records that ran past the time budget in an earlier attempt).
    """
    result = SeedFileResult(source=path.name)
    reader = _JsonlReader(result, metadata, skip_lines)
    with SeedFile(path, follow_symlinks) as seed:
        lines = seed.lines()
        first = next(lines, b"")
        if first.startswith(_UTF16_32_BOMS):
            # UTF-16/32 lines cannot be split on the byte b"\n": decode the file whole, as a page.
            if seed.before.st_size > MAX_PAGE_BYTES:
                return _refused(result, seed.before.st_size, "a UTF-16 or UTF-32 .jsonl (re-export it as UTF-8)")
            rest = seed.read_all()
            result.record(seed.facts())
            page = page_from_bytes(path.name, first + rest)
            result.problems.extend(page.problems)
            for number, line in enumerate(page.text.split("\n"), start=1):
                if on_line is not None:
                    on_line(number)
                reader.add(number, line)
        else:
            for number, raw in enumerate(_chain(first, lines), start=1):
                if on_line is not None:
                    on_line(number)  # before the record: a record that stalls is known by its line
                text = reader.decode(number, raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw)
                reader.add(number, text, complete=raw.endswith(b"\n"))
            result.record(seed.facts())
    reader.finish()
    if not result.articles:
        result.skipped = True
        result.problems.append("no articles could be read")
    return result


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _refused(result: SeedFileResult, size: int, what: str) -> SeedFileResult:
    """A file over :data:`MAX_PAGE_BYTES`: refused by name, never cut short."""
    result.skipped = result.refused = True
    result.problems.append(
        f"file is {size / 1048576:.1f} MB, over the {MAX_PAGE_BYTES // 1048576} MB limit for {what}; "
        "refused, nothing of it indexed (split it, or export its articles as .jsonl)"
    )
    return result


def read_seed_file(
    path: Path,
    catalog_entry: dict[str, Any] | None = None,
    metadata: bool = True,
    *,
    follow_symlinks: bool = False,
    skip_lines: Collection[int] = (),
    on_line: LineProgress | None = None,
) -> SeedFileResult:
    """Read one seed file into articles. Never raises: problems are reported in the result.

    Each file is read once and its sha256 computed from the very bytes that were parsed
    (``SeedFileResult.sha256``). ``metadata=False`` skips inferring places, people, orgs and keywords
    (see :func:`add_metadata`). ``follow_symlinks=False`` refuses a path that is a symbolic link (the
    directory scan decides which links are allowed). ``skip_lines`` and ``on_line`` concern .jsonl
    exports (see :func:`read_jsonl`).
    """
    path = Path(path)
    try:
        if path.suffix.lower() in JSONL_SUFFIXES:
            return read_jsonl(path, metadata, follow_symlinks=follow_symlinks, skip_lines=skip_lines, on_line=on_line)
        result = SeedFileResult(source=path.name)
        with SeedFile(path, follow_symlinks) as seed:
            if seed.before.st_size > MAX_PAGE_BYTES:
                return _refused(result, seed.before.st_size, "a page")
            data = seed.read_all()
            result.record(seed.facts())
        page = page_from_bytes(path.name, data)
        del data
        result.problems[:0] = page.problems
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

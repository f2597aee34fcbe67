"""Check extracted articles against a folder of pages and their ``expected.toml``.

Used by ``tests/test_pages.py`` and runnable on its own to print what each page came out as and
the figures (articles cut whole, articles right in every checked field)::

    PYTHONPATH=$PWD python tests/page_check.py tests/data/pages
    PYTHONPATH=$PWD python tests/page_check.py tests/data/pages_unseen --verbose

An article is *cut whole* when one extracted article's body starts with its first words and ends
with its last words (whitespace, width and script ignored); it is *right* when it is cut whole and
its headline (kicker, title, subtitle), bylines, credit, kind and date are what the page shows.
"""

from __future__ import annotations

import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from search.ingest.chinese import to_simplified
from search.ingest.sources import read_seed_file
from search.model import Article

NAME_FIELDS = ("reporters", "correspondents", "photographers")
TEXT_FIELDS = ("kicker", "title", "subtitle", "credit")


def squash(text: str | None) -> str:
    """Text compared across layouts: NFKC, simplified, no whitespace."""
    return re.sub(r"\s+", "", to_simplified(unicodedata.normalize("NFKC", text or "")))


@dataclass
class PageResult:
    """One page: its expected articles, what came out, and every difference found."""

    file: str
    expected: list[dict]
    articles: list[Article]
    page_problems: list[str] = field(default_factory=list)
    article_problems: dict[int, list[str]] = field(default_factory=dict)  # expected index -> problems
    whole: int = 0  # expected articles cut whole

    @property
    def right(self) -> int:
        return sum(1 for i in range(len(self.expected)) if not self.article_problems.get(i))


def load_expected(folder: Path) -> list[dict]:
    """The ``[[pages]]`` tables of ``folder/expected.toml``."""
    return tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8"))["pages"]


def _is_cut(article: Article, want: dict) -> bool:
    body = squash(article.body)
    return body.startswith(squash(want["first"])) and body.endswith(squash(want["last"]))


def check_page(folder: Path, page: dict) -> PageResult:
    """Extract one page (through the real reader: decoding, catalog-less) and compare it."""
    articles = read_seed_file(folder / page["file"]).articles
    result = PageResult(page["file"], page["articles"], articles)
    for key in ("paper", "page", "section"):
        got = {getattr(a, key) for a in articles}
        if got != {page.get(key)}:
            result.page_problems.append(f"{key}: want {page.get(key)!r}, got {sorted(map(str, got))}")
    if len(articles) != len(page["articles"]):
        result.page_problems.append(f"{len(page['articles'])} articles expected, {len(articles)} extracted")
    for index, want in enumerate(page["articles"]):
        problems: list[str] = []
        cut = [a for a in articles if _is_cut(a, want)]
        if cut:
            result.whole += 1
        got = cut[0] if cut else (articles[index] if index < len(articles) else None)
        if got is None:
            result.article_problems[index] = ["missing"]
            continue
        if not cut:
            problems.append(f"boundaries: body {squash(got.body)[:16]}…{squash(got.body)[-16:]}")
        for name in TEXT_FIELDS:
            if squash(getattr(got, name)) != squash(want.get(name, "")):
                problems.append(f"{name}: want {want.get(name, '')!r}, got {getattr(got, name)!r}")
        for name in NAME_FIELDS:
            if getattr(got, name) != want.get(name, []):
                problems.append(f"{name}: want {want.get(name, [])}, got {getattr(got, name)}")
        if got.kind != want["kind"]:
            problems.append(f"kind: want {want['kind']}, got {got.kind}")
        if got.date != want.get("date", page.get("date")):
            problems.append(f"date: want {want.get('date', page.get('date'))}, got {got.date}")
        if problems:
            result.article_problems[index] = problems
    return result


def describe(article: Article) -> str:
    """One line: what an article came out as."""
    headline = " / ".join(part for part in (article.kicker, article.title, article.subtitle) if part) or "(no headline)"
    names = "; ".join(f"{role} {'、'.join(getattr(article, role))}" for role in NAME_FIELDS if getattr(article, role))
    return f"{article.kind:7} {headline} | {names or 'no byline'} | credit {article.credit or '-'} | {article.date or 'no date'}"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).parent / "data" / "pages"
    verbose = "--verbose" in argv
    whole = right = total = 0
    for page in load_expected(folder):
        result = check_page(folder, page)
        whole, right, total = whole + result.whole, right + result.right, total + len(page["articles"])
        first = result.articles[0] if result.articles else None
        meta = f"paper {first.paper}, page {first.page}, section {first.section}" if first else "no articles"
        print(f"{page['file']}: {result.whole}/{len(page['articles'])} cut whole, {result.right} right ({meta})")
        for problem in result.page_problems:
            print(f"    page: {problem}")
        if verbose:
            for article in result.articles:
                print(f"    {article.position}. {describe(article)}")
        for index, problems in sorted(result.article_problems.items()):
            for problem in problems:
                print(f"    article {index + 1}: {problem}")
    print(f"total: {whole}/{total} cut whole, {right}/{total} right in every checked field")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Check extracted articles against a folder of pages and their ``expected.toml``.

Used by ``tests/test_pages.py`` and runnable on its own to print what each page came out as and
the figures (articles cut whole, articles right in every checked field)::

    PYTHONPATH=$PWD python tests/page_check.py tests/data/pages
    PYTHONPATH=$PWD python tests/page_check.py tests/data/pages_unseen --verbose
    PYTHONPATH=$PWD python tests/page_check.py tests/data/pages --scan 26    # hard-wrapped like a scan

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
from search.ingest.pages import Page, read_page
from search.ingest.sources import articles_from_page, read_seed_file
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


# Characters a typesetter never puts at the start of a line (避头): they stay at the end of the line before.
_NO_LINE_START = "，。、；：？！”’）》」』】〕…—·,.;:?!)%"


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WFA" else 1


def scan_columns(text: str, width: int) -> str:
    """The page as a scan of narrow columns gives it: every line of running text (a line holding a
    full stop) hard-wrapped at ``width`` display columns, with the typesetter's rules (no closing
    punctuation at a line start, no break inside a number or a Latin word), and a blank line at every
    ninth column line where a column ends mid-sentence. Headlines, bylines and furniture span columns
    and stay whole."""
    out: list[str] = []
    count = 0
    for raw in text.split("\n"):
        line = raw.strip(" \u3000")
        if not re.search(r"[。！？]", line):
            out.append(line)
            continue
        pieces = re.findall(r"[A-Za-z0-9.%]+|.", line)
        lines, current, used = [], "", 0
        for piece in pieces:
            size = sum(_width(ch) for ch in piece)
            if used + size > width and current and piece[0] not in _NO_LINE_START:
                lines.append(current)
                current, used = "", 0
            current, used = current + piece, used + size
        lines.append(current)
        for index, part in enumerate(lines):
            out.append(part)
            count += 1
            if count % 9 == 0 and index + 1 < len(lines):
                out.append("")
    return "\n".join(out)


def page_text(folder: Path, name: str) -> str:
    """A page file's text, decoded as the reader decodes it."""
    return read_page(folder / name).text


def load_expected(folder: Path) -> list[dict]:
    """The ``[[pages]]`` tables of ``folder/expected.toml``."""
    return tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8"))["pages"]


def _is_cut(article: Article, want: dict) -> bool:
    body = squash(article.body)
    return body.startswith(squash(want["first"])) and body.endswith(squash(want["last"]))


def check_page(folder: Path, page: dict, articles: list[Article] | None = None) -> PageResult:
    """Extract one page (through the real reader: decoding, catalog-less) and compare it; or compare
    ``articles`` extracted from a reshaped copy of it."""
    articles = read_seed_file(folder / page["file"]).articles if articles is None else articles
    result = PageResult(page["file"], page["articles"], articles)
    for key in ("paper", "page", "section"):
        got = {getattr(a, key, None) for a in articles}
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
        for name in TEXT_FIELDS:  # getattr with a default: the figures can be measured on older code too
            if squash(getattr(got, name, None)) != squash(want.get(name, "")):
                problems.append(f"{name}: want {want.get(name, '')!r}, got {getattr(got, name, None)!r}")
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
    credit = getattr(article, "credit", None)
    return f"{article.kind:7} {headline} | {names or 'no byline'} | credit {credit or '-'} | {article.date or 'no date'}"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).parent / "data" / "pages"
    verbose = "--verbose" in argv
    scan = int(argv[argv.index("--scan") + 1]) if "--scan" in argv else None
    whole = right = total = 0
    for page in load_expected(folder):
        articles = None
        if scan:
            text = scan_columns(page_text(folder, page["file"]), scan)
            articles = articles_from_page(Page(page["file"], text, "utf-8"))
        result = check_page(folder, page, articles)
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

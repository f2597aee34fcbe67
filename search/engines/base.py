"""The seam between the product and a search engine: what every backend answers, in plain data.

``search.api.Archive`` (used by the CLI, saved queries and the web app) holds one :class:`Engine`
and never knows which. Engines take the same inputs (a query string in the query language of
:mod:`search.query.language`, filters validated by :mod:`search.query.filters`) and answer with the
same plain-data shapes:

- ``search(...)`` -> ``{"query", "total", "page", "limit", "sort", "filters", "took_ms", "results":
  [{"id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind", "score",
  "snippet"}], "facets": {name: [{"value", "count"}]}, "histogram": {"unit", "year", "buckets":
  [{"value", "count"}], "undated"}}`` (more keys may be added, never removed);
- ``article(id)`` -> :class:`~search.model.Article` or None; ``related`` -> result rows;
- ``suggest(prefix)`` -> ``[{"text", "type"}]``; ``export(q, filters, sort)`` -> every Article (of the
  whole result set when a query or filters are given); ``stats()`` -> a dict;
- ``pages()`` -> ``[{"source", "date", "paper", "page", "section", "articles"}]`` (browse by issue);
  ``page_articles(source)`` -> that page file's articles in page order, ``[{"id", "position", "title",
  "kicker", "subtitle", "kind", "date", "reporters", "lead", "chars"}]``;
- ``vocabulary()`` -> ``[{"text", "count", "type"}]``: indexed Chinese names and headline words (2–12
  characters) with the number of articles holding each (did-you-mean and pinyin completions);
  ``term_counts(words)`` -> ``{word: count}``: how many articles hold each word as a word;
  optionally ``pinyin_index()`` -> :class:`~search.query.pinyin_index.PinyinIndex` of those words,
  for an engine that keeps them spelled (else the Archive spells the vocabulary on first use);
- ``rebuild(seeds_dir, ...)`` -> :class:`BuildReport`.

Errors: :class:`IndexMissing` (nothing to search yet: CLI one-line error, HTTP 503) and its subclass
:class:`IndexDamaged` (the index's files are damaged or cannot be read: the same, with what is wrong),
:class:`BuildError` and its subclasses (an index run failed), ``search.query.filters.QueryError``
(bad parameters: HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from search.model import Article


class IndexMissing(FileNotFoundError):
    """There is no searchable index (never built, or deleted)."""

    def __init__(self, where: str | Path, hint: str = "run `newsearch index` first") -> None:
        super().__init__(f"no index in {where}: {hint}")
        self.index_dir = str(where)


class IndexDamaged(IndexMissing):
    """The index exists but cannot be trusted: its files differ from the manifest's checksums, or
    cannot be read (HTTP 503 with this message; ``newsearch index`` rebuilds it from the seeds)."""

    def __init__(self, where: str | Path, problems: Sequence[str]) -> None:
        self.problems = list(problems) or ["the index cannot be read"]
        shown = "; ".join(self.problems[:3]) + (f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else "")
        super().__init__(where)
        self.args = (f"the index in {where} is damaged ({shown}); `newsearch index` rebuilds it from the seeds",)


#: ``progress(done, total, name)`` is called after each seed file is extracted and indexed.
Progress = Callable[[int, int, str], None]


class BuildError(RuntimeError):
    """The index could not be brought up to date (the message is a one-line explanation)."""


class SeedsMissing(BuildError):
    """The seeds directory does not exist (refusing to empty the index because of a typo)."""


class IndexBusy(BuildError):
    """Another index run held the build lock for longer than the timeout."""


@dataclass
class BuildReport:
    """What an index run did, file by file."""

    seeds_dir: str
    index_dir: str
    full: bool = False
    full_reason: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file name -> why
    problems: dict[str, list[str]] = field(default_factory=dict)  # file name -> one-liners
    reasons: dict[str, str] = field(default_factory=dict)  # re-extracted file -> why
    duplicates: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # file name -> why (over a size limit: exit non-zero)
    damaged: list[str] = field(default_factory=list)  # what was wrong with the index (rebuilt in full)
    articles_added: int = 0
    articles_removed: int = 0
    articles_reindexed: int = 0  # segmented again because a dictionary word they hold changed
    dictionary_changed: list[str] = field(default_factory=list)  # words added, removed or retagged
    articles_total: int = 0
    generation: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when this run wrote to the index."""
        return bool(self.full or self.added or self.updated or self.removed or self.articles_reindexed or self.dictionary_changed)

    def summary(self) -> str:
        """One line: counts of files and articles, and the time taken."""
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
        ]
        mode = "full rebuild" if self.full else "incremental"
        if self.dictionary_changed and not self.full:
            parts.append(f"{len(self.dictionary_changed)} dictionary words changed, {self.articles_reindexed} articles re-segmented")
        return (
            f"Indexed {self.seeds_dir} -> {self.index_dir} ({mode}): files {', '.join(parts)}; "
            f"articles +{self.articles_added} -{self.articles_removed}, {self.articles_total} total; "
            f"{self.seconds:.2f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the report."""
        data = asdict(self)
        data["changed"] = self.changed
        return data


class Engine(Protocol):
    """A search backend (see the module docstring for the shapes it returns)."""

    #: ``"embedded"`` or ``"solr"``.
    name: str

    @property
    def state_dir(self) -> Path:
        """A local directory for per-archive state kept by the product (saved queries' ``--new-only``)."""
        ...

    def exists(self) -> bool:
        """True if there is a searchable index (cheap)."""
        ...

    def check(self) -> None:
        """Raise :class:`IndexMissing` unless the index can be searched now."""
        ...

    def search(
        self, q: str, filters: Mapping[str, Sequence[str]], sort: str, page: int, limit: int, facet_size: int
    ) -> dict[str, Any]:
        """One page of results with the exact total and facet counts."""
        ...

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        ...

    def related(self, article_id: str, limit: int) -> list[dict[str, Any]]:
        """Articles like this one, as result rows."""
        ...

    def suggest(self, prefix: str, limit: int) -> list[dict[str, str]]:
        """Completions for what has been typed."""
        ...

    def export(
        self, q: str | None = None, filters: Mapping[str, Sequence[str]] | None = None, sort: str = "relevance"
    ) -> Iterator[Article]:
        """Every indexed article from one consistent snapshot; with a query or filters, every article
        of that search's result set (not one page), in result order."""
        ...

    def pages(self) -> list[dict[str, Any]]:
        """Every indexed page file with its date, paper, page, section and article count."""
        ...

    def page_articles(self, source: str) -> list[dict[str, Any]]:
        """The articles of one page file in page order (empty for an unknown file)."""
        ...

    def vocabulary(self) -> list[dict[str, Any]]:
        """Indexed Chinese names and headline words with their document counts (``{"text", "count", "type"}``)."""
        ...

    def term_counts(self, words: Sequence[str]) -> dict[str, int]:
        """How many articles hold each of ``words`` as a word (zeros may be left out)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Articles, pages, terms, size, last build (engine-specific keys may be added)."""
        ...

    def rebuild(
        self, seeds_dir: str | Path, full: bool = False, progress: Progress | None = None, **options: Any
    ) -> BuildReport:
        """Bring the index up to date with the seed files."""
        ...

    def close(self) -> None:
        """Release what the engine holds open (it reopens on next use)."""
        ...

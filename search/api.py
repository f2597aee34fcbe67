"""The Python API: :class:`Archive`, used by scripts, the CLI and the web app.

    >>> from search.api import Archive
    >>> archive = Archive.open("index_data")                        # doctest: +SKIP
    >>> response = archive.search("小微企业 融资", filters={"year": ["2024"]})   # doctest: +SKIP
    >>> [hit.title for hit in response.results]                     # doctest: +SKIP

An Archive holds one engine (:mod:`search.engines`; the embedded Whoosh index by default) and turns
its plain-data answers into typed results. It is the only door to an engine: ``web/`` and the CLI
never reach past it. The same archive on SolrCloud::

    >>> archive = Archive.open(backend="solr", solr="http://127.0.0.1:8983/solr", collection="news")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from search.engines import open_engine
from search.engines.base import BuildError, BuildReport, Engine, IndexDamaged, IndexMissing, Progress
from search.engines.embedded.indexer import index_exists
from search.engines.embedded.indexer import rebuild as _rebuild_embedded
from search.query import pinyin
from search.query.pinyin_index import PinyinIndex
from search.query import synonyms as synonym_groups
from search.query.filters import SORTS, QueryError, check_filters
from search.query.alternatives import alternative_queries
from search.query.analyze import analyze, highlight_terms
from search.model import Article

__all__ = [
    "Archive",
    "IndexMissing",
    "IndexDamaged",
    "QueryError",
    "SearchHit",
    "FacetValue",
    "SearchResponse",
    "rebuild",
    "index_exists",
    "normalize_filters",
    "BuildError",
    "BuildReport",
]


def rebuild(
    seeds_dir: str | Path,
    index_dir: str | Path = "index_data",
    full: bool = False,
    progress: Progress | None = None,
    *,
    backend: str = "embedded",
    solr: str | None = None,
    collection: str | None = None,
    **options: Any,
) -> BuildReport:
    """Bring an archive up to date with ``seeds_dir`` (incremental; ``full=True`` rebuilds).

    The embedded index in ``index_dir`` by default; ``backend="solr"`` the collection (alias)
    ``collection`` of the cluster at ``solr``, with local state in ``index_dir/solr-<collection>``.
    Also installs ``seeds_dir/synonyms.toml`` beside the archive's state for the searches (see
    :mod:`search.query.synonyms`).
    """
    if backend == "embedded":
        report = _rebuild_embedded(seeds_dir, index_dir, full=full, progress=progress, **options)
        _install_synonyms(seeds_dir, Path(index_dir), report)
        return report
    engine = open_engine(backend, index_dir=index_dir, solr=solr, collection=collection)
    try:
        report = engine.rebuild(seeds_dir, full=full, progress=progress, **options)
        _install_synonyms(seeds_dir, engine.state_dir, report)
        return report
    finally:
        engine.close()


def _install_synonyms(seeds_dir: str | Path, state_dir: Path, report: BuildReport) -> None:
    try:
        problems = synonym_groups.install(Path(seeds_dir), state_dir)
    except OSError as error:
        problems = [f"cannot copy it beside the index ({error.strerror or error}); the previous synonyms stay"]
    if problems:
        report.problems[synonym_groups.SYNONYMS_NAME] = problems


#: Below this many results a search looks for a did-you-mean correction.
DID_YOU_MEAN_BELOW = 3
#: Queries tried after a search finds nothing (each is a search; a zero-result page must stay cheap).
MAX_ALTERNATIVES_TRIED = 4
#: The search :meth:`Archive.warm_up` runs (any word does: it is the opening of things that counts).
WARM_UP_QUERY = "新闻"

# ---------------------------------------------------------------------------------------------
# Typed results


def _split(cls: type, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in fields(cls)} - {"extra"}
    return {k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names}


@dataclass
class SearchHit:
    """One result row of the search shape (README, "Command line"). Keys the engine adds beyond these are kept in ``extra``."""

    id: str
    title: str = ""
    kicker: str = ""
    subtitle: str = ""
    source: str = ""
    date: str | None = None
    reporters: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    kind: str = ""
    score: float = 0.0
    snippet: str = ""
    paper: str | None = None  # from the page header (or catalog.toml); None when unknown
    page: str | None = None
    section: str | None = None
    credit: str | None = None  # the source of a reprint
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SearchHit":
        """Build a hit from a result-row dict."""
        known, extra = _split(cls, data)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The result-row dict of the search shape."""
        data = asdict(self)
        extra = data.pop("extra")
        return {**data, **extra}


@dataclass
class FacetValue:
    """One value of a facet and how many matching articles have it."""

    value: Any
    count: int
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FacetValue":
        """Build a facet value from ``{"value", "count"}``."""
        known, extra = _split(cls, data)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "count"}`` (plus any extra keys)."""
        return {"value": self.value, "count": self.count, **self.extra}


@dataclass
class SearchResponse:
    """A page of results with facet counts; ``to_dict()`` is the search shape the CLI, the API and saved queries share."""

    query: str
    total: int
    page: int
    limit: int
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)
    took_ms: float = 0.0
    results: list[SearchHit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SearchResponse":
        """Build a response from the engine's plain-data result."""
        known, extra = _split(cls, data)
        known["results"] = [SearchHit.from_dict(row) for row in known.get("results", [])]
        known["facets"] = {
            name: [FacetValue.from_dict(value) for value in values] for name, values in (known.get("facets") or {}).items()
        }
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The search JSON shape (plain data, ready for ``json.dumps``)."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "limit": self.limit,
            "sort": self.sort,
            "filters": self.filters,
            "took_ms": self.took_ms,
            "results": [hit.to_dict() for hit in self.results],
            "facets": {name: [value.to_dict() for value in values] for name, values in self.facets.items()},
            **self.extra,
        }

    @property
    def pages(self) -> int:
        """Number of result pages at this limit."""
        return max(1, -(-self.total // self.limit)) if self.limit else 1


_SURROGATES = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """``text`` without lone surrogates (which cannot be encoded: bytes that were not UTF-8 in a
    command-line argument arrive as such), each replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def normalize_filters(filters: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """``{"year": 2024, "place": ["高新区", "金水区"]}`` -> ``{"year": ["2024"], "place": [...]}``."""
    result: dict[str, list[str]] = {}
    for name, value in (filters or {}).items():
        values = [value] if isinstance(value, (str, int, float)) else list(value or [])
        cleaned = [_storable(str(item)) for item in values if item is not None and str(item) != ""]
        if cleaned:
            result[str(name)] = cleaned
    return result


# ---------------------------------------------------------------------------------------------
# Archive


class Archive:
    """A searchable archive over one engine. Thread-safe; cheap to keep open for a process's lifetime.

    ``Archive(index_dir)`` is the embedded index in that directory; ``Archive(backend="solr",
    solr=URL, collection=NAME)`` a SolrCloud collection (local state in ``index_dir``);
    ``Archive(engine=...)`` any :class:`~search.engines.base.Engine`.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        engine: Engine | None = None,
        backend: str = "embedded",
        solr: str | None = None,
        collection: str | None = None,
    ) -> None:
        if engine is None:
            engine = open_engine(backend, index_dir=index_dir or "index_data", solr=solr, collection=collection)
        self.engine: Engine = engine
        self._synonyms: tuple[Any, synonym_groups.Synonyms] | None = None
        self._pinyin: tuple[Any, PinyinIndex] | None = None
        self._cache_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        engine: Engine | None = None,
        backend: str = "embedded",
        solr: str | None = None,
        collection: str | None = None,
    ) -> "Archive":
        """Open an archive and check it can be searched; raises :class:`IndexMissing` if there is no index."""
        archive = cls(index_dir, engine=engine, backend=backend, solr=solr, collection=collection)
        archive.engine.check()
        return archive

    @property
    def backend(self) -> str:
        """The engine's name: ``embedded`` or ``solr``."""
        return self.engine.name

    def exists(self) -> bool:
        """True if there is something to search (cheap: no searcher is opened)."""
        return self.engine.exists()

    @property
    def index_dir(self) -> Path:
        """Where the archive keeps its local state (the index directory of the embedded engine)."""
        return self.engine.state_dir

    def close(self) -> None:
        """Release what the engine holds open (it is reopened if the Archive is used again)."""
        self.engine.close()

    def check(self) -> None:
        """Raise :class:`IndexMissing` (or :class:`IndexDamaged`) unless the index can be searched now (cheap)."""
        self.engine.check()

    def run_in_progress(self) -> dict[str, Any] | None:
        """The index run updating this archive right now (``{"pid", "summary", ...}``), or None."""
        status = getattr(self.engine, "run_status", None)
        return status() if status is not None else None

    def verify(self) -> dict[str, Any]:
        """Check every index file against its recorded checksum, then run a search: ``{"ok", "problems",
        "generation", "files", "bytes", "articles", "seconds"}`` (engines without checksums report what they can)."""
        verify = getattr(self.engine, "verify", None)
        if verify is None:
            self.engine.check()
            return {"ok": True, "problems": [], "articles": self.engine.stats().get("articles")}
        return verify()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------------

    def search(
        self,
        q: str,
        filters: Mapping[str, Any] | None = None,
        sort: str = "relevance",
        page: int = 1,
        limit: int = 10,
        facet_size: int = 10,
        did_you_mean: bool = True,
    ) -> SearchResponse:
        """Run a query (see :mod:`search.query.language`) with facet filters; raises :class:`QueryError`.

        Words of a synonym group also find their synonyms (``response.extra["synonyms"]`` lists the
        expansions used). With few results, ``extra["did_you_mean"]`` offers a corrected query
        (homophones, pinyin typed in Latin letters) that finds more, or None. When nothing is found,
        ``extra["alternatives"]`` lists queries that do find something with the same filters
        (``[{"kind", "q", "total"}]``: the words spaced and unquoted, without exclusions, fewer of
        them), so a zero is never the end of the road. ``facet_size`` values are listed per facet.
        """
        q = q if isinstance(q, str) else ""
        filters = normalize_filters(filters)
        expansion = synonym_groups.expand(q, self.synonyms())
        data = self.engine.search(expansion.query, filters=filters, sort=sort, page=page, limit=limit, facet_size=facet_size)
        data["query"] = q
        data["synonyms"] = expansion.used
        data["did_you_mean"], data["did_you_mean_total"] = None, None
        # Few results, or results that lack a word no article holds with the others (a typo, often):
        # look for a correction that finds more articles holding every one of its words.
        holding_all = 0 if "relaxed" in data else int(data.get("total", 0))
        if did_you_mean and holding_all < DID_YOU_MEAN_BELOW and q.strip():
            data["did_you_mean"], data["did_you_mean_total"] = self._did_you_mean(q, filters, holding_all)
        if data.get("total") == 0 and q.strip():
            data["alternatives"] = self._alternatives(q, filters)
        return SearchResponse.from_dict(data)

    def _alternatives(self, q: str, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Queries (the words spaced, without exclusions, fewer) that find something with ``filters``."""
        found = []
        for kind, candidate in alternative_queries(analyze(q))[:MAX_ALTERNATIVES_TRIED]:
            expanded = synonym_groups.expand(candidate, self.synonyms()).query
            total = self._count(expanded, filters)["total"]
            if total:
                found.append({"kind": kind, "q": candidate, "total": total})
            if len(found) >= 3:
                break
        return found

    def _did_you_mean(self, q: str, filters: dict[str, list[str]], total: int) -> tuple[str | None, int | None]:
        """The correction of ``q`` that finds the most articles (and more than ``q``), with its total."""
        best: tuple[str | None, int | None] = (None, None)
        if not (hasattr(self.engine, "vocabulary") and hasattr(self.engine, "term_counts")):
            return best  # an engine without a vocabulary (the Solr backend, so far) offers no correction
        for candidate in pinyin.corrections(q, self.pinyin_index(), self.engine.term_counts):
            expanded = synonym_groups.expand(candidate, self.synonyms()).query
            try:
                answer = self._count(expanded, filters)
            except QueryError:
                continue
            found = 0 if "relaxed" in answer else int(answer["total"])  # a correction must hold all its words
            if found > total and found > (best[1] or 0):
                best = (candidate, found)
        return best

    def _count(self, q: str, filters: dict[str, list[str]]) -> dict[str, Any]:
        """``{"total", "relaxed"?}`` of a query: counted only, where the engine can (no ranking or page)."""
        count = getattr(self.engine, "count", None)
        if count is not None:
            return count(q, filters)
        return self.engine.search(q, filters=filters, sort="relevance", page=1, limit=1, facet_size=0)

    def synonyms(self) -> synonym_groups.Synonyms:
        """The synonym groups in force (the copy of ``synonyms.toml`` an index run put beside the index;
        re-read when it changes, so a running server picks an edit up at the next index run)."""
        path = self.engine.state_dir / synonym_groups.SYNONYMS_NAME
        try:
            st = os.stat(path)
            stamp: Any = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        with self._cache_lock:
            if self._synonyms is None or self._synonyms[0] != stamp:
                self._synonyms = (stamp, synonym_groups.load_synonyms(path) if stamp else synonym_groups.Synonyms())
            return self._synonyms[1]

    def pinyin_index(self) -> PinyinIndex:
        """The index's words by pinyin: the engine's own where it keeps one (the embedded engine's
        segment stores), else built from its vocabulary on first use and again after it changes."""
        stored = getattr(self.engine, "pinyin_index", None)
        if stored is not None:
            return stored()
        vocabulary = self.engine.vocabulary()
        with self._cache_lock:
            if self._pinyin is None or self._pinyin[0] is not vocabulary:
                self._pinyin = (vocabulary, PinyinIndex.build(vocabulary))
            return self._pinyin[1]

    def warm_up(self) -> None:
        """Do now the one-time work of a first search (open the searcher, load the segmenter, build
        the pinyin index did-you-mean reads), so that no user's first query waits for it; a server
        calls this as it starts. A missing or damaged index is left for the requests to report."""
        try:
            warm_engine = getattr(self.engine, "warm_up", None)
            if warm_engine is not None:
                warm_engine()
            self.search(WARM_UP_QUERY, limit=1, facet_size=1, did_you_mean=False)
            if hasattr(self.engine, "vocabulary"):
                self.pinyin_index()
                pinyin.load_tables()
        except (IndexMissing, IndexDamaged, QueryError):
            pass

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        if _SURROGATES.search(article_id or ""):
            return None  # not text any id could be made of
        return self.engine.article(article_id)

    def related(self, article_id: str, limit: int = 5) -> list[SearchHit]:
        """Articles like this one (result-row shape); empty if the id is unknown."""
        if _SURROGATES.search(article_id or ""):
            return []
        return [SearchHit.from_dict(row) for row in self.engine.related(article_id, limit=limit)]

    def suggest(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Completions for a typed prefix: ``[{"text", "type"}]``; a prefix of Latin letters also
        completes as pinyin or initials (``gaox``, ``gxq`` → 高新区)."""
        found = self.engine.suggest(prefix, limit=limit)
        text = (prefix or "").strip().lower()
        if text.isascii() and text.isalpha() and len(text) >= 2 and len(found) < limit:
            seen = {item["text"] for item in found}
            found += [item for item in self.pinyin_index().complete(text, limit) if item["text"] not in seen]
        return found[:limit]

    def highlight_terms(self, q: str) -> list[str]:
        """The words and fragments of ``q`` to mark in an article page."""
        self.engine.check()
        return highlight_terms(q)

    def export(self, q: str | None = None, filters: Mapping[str, Any] | None = None, sort: str = "relevance") -> Iterator[Article]:
        """Every indexed article, all fields, from one consistent snapshot of the index; with a query
        or filters, every article of that search's result set (not one page), in result order.

        Parameters are checked before anything is returned (a :class:`QueryError` is raised here,
        not halfway through a download).
        """
        filters = normalize_filters(filters)
        if q is None and not filters:
            return self.engine.export()
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        check_filters(filters)
        return self.engine.export(synonym_groups.expand(q or "", self.synonyms()).query, filters, sort)

    def pages(self) -> list[dict[str, Any]]:
        """Every indexed page file (browse by issue): ``[{"source", "date", "paper", "page", "section", "articles"}]``."""
        return self.engine.pages()

    def page_articles(self, source: str) -> list[dict[str, Any]]:
        """One page file's articles in page order, with their headlines (empty if unknown)."""
        if not isinstance(source, str) or _SURROGATES.search(source):
            return []
        return self.engine.page_articles(source)

    def stats(self) -> dict[str, Any]:
        """Articles, pages (seed files indexed), terms, index size in bytes, last build time."""
        return self.engine.stats()

    # -- maintenance --------------------------------------------------------------------------

    def rebuild(self, seeds_dir: str | Path, full: bool = False, progress: Progress | None = None, **options: Any) -> BuildReport:
        """Bring this archive's index up to date with ``seeds_dir`` (and its synonyms); searches pick
        it up on their next call."""
        report = self.engine.rebuild(seeds_dir, full=full, progress=progress, **options)
        _install_synonyms(seeds_dir, self.engine.state_dir, report)
        return report

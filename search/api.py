"""The Python API: :class:`Archive`, used by scripts, the CLI and the web app.

    >>> from search.api import Archive
    >>> archive = Archive.open("index_data")                        # doctest: +SKIP
    >>> response = archive.search("小微企业 融资", filters={"year": ["2024"]})   # doctest: +SKIP
    >>> [hit.title for hit in response.results]                     # doctest: +SKIP

One Whoosh searcher is cached per Archive and refreshed only when the index changed (a stat of the
pointer file and a directory listing per call), so a long-running server sees a rebuilt index without a
restart. Whoosh searchers are not safe to share between threads (they hold file positions and caches),
so calls are serialised by a lock; the search itself is short and the GIL would serialise most of it anyway.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from search.indexer import (
    MANIFEST_NAME,
    POINTER_NAME,
    BuildReport,
    Progress,
    read_json,
    read_pointer,
)
from search.indexer import rebuild as _rebuild
from search.model import Article

__all__ = [
    "Archive",
    "IndexMissing",
    "QueryError",
    "SearchHit",
    "FacetValue",
    "SearchResponse",
    "rebuild",
    "index_exists",
    "normalize_filters",
]

#: Same function as :func:`search.indexer.rebuild`, re-exported for scripts.
rebuild = _rebuild

_OPEN_RETRIES = 5  # a full rebuild may switch generations between reading the pointer and opening


def __getattr__(name: str) -> Any:
    # ``search.api.QueryError`` without importing the engine when the module is imported (PEP 562):
    # the CLI imports this module for every command, including ``--help``.
    if name == "QueryError":
        from search.query import QueryError

        return QueryError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IndexMissing(FileNotFoundError):
    """There is no searchable index in the directory (never built, or deleted)."""

    def __init__(self, index_dir: str | Path) -> None:
        super().__init__(f"no index in {index_dir}: run `newsearch index` first")
        self.index_dir = str(index_dir)


# ---------------------------------------------------------------------------------------------
# Typed results


def _split(cls: type, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in fields(cls)} - {"extra"}
    return {k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names}


@dataclass
class SearchHit:
    """One result row (DESIGN §6). Keys the engine adds beyond these are kept in ``extra``."""

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
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SearchHit":
        """Build a hit from a result-row dict."""
        known, extra = _split(cls, data)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The result-row dict of DESIGN §6."""
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
    """A page of results with facet counts; ``to_dict()`` is the JSON shape of DESIGN §6."""

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
        """The DESIGN §6 JSON shape (plain data, ready for ``json.dumps``)."""
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
    """A searchable index directory. Thread-safe; cheap to keep open for a process's lifetime."""

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._stamp: tuple[int, int, int] | None = None
        self._gen_dir: Path | None = None
        self._terms_cache: tuple[Any, int] | None = None

    @classmethod
    def open(cls, index_dir: str | Path) -> "Archive":
        """Open the index in ``index_dir``; raises :class:`IndexMissing` if there is none."""
        archive = cls(index_dir)
        with archive._using():
            pass
        return archive

    # -- searcher cache ---------------------------------------------------------------------

    def _pointer_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.index_dir / POINTER_NAME)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001 - its files may already be gone
                pass
        self._searcher, self._stamp, self._gen_dir = None, None, None

    def _open_searcher(self) -> None:
        from whoosh import index as whoosh_index
        from whoosh.index import EmptyIndexError

        last_error: Exception | None = None
        for attempt in range(_OPEN_RETRIES):
            stamp = self._pointer_stamp()
            pointer = read_pointer(self.index_dir)
            if stamp is None or pointer is None:
                raise IndexMissing(self.index_dir)
            gen_dir = self.index_dir / pointer["generation"]
            try:
                ix = whoosh_index.open_dir(str(gen_dir))
                self._searcher = ix.searcher()
            except (OSError, EmptyIndexError) as error:
                # The pointer moved (or the index is being deleted) while we were opening: look again.
                last_error = error
                time.sleep(0.05 * (attempt + 1))
                continue
            self._stamp, self._gen_dir = stamp, gen_dir
            return
        raise IndexMissing(self.index_dir) from last_error

    def _fresh_searcher(self) -> Any:
        """The cached searcher, reopened or refreshed if the index changed since the last call."""
        stamp = self._pointer_stamp()
        if stamp is None:
            self._close_searcher()
            raise IndexMissing(self.index_dir)
        if self._searcher is None or stamp != self._stamp:
            self._close_searcher()  # a full rebuild switched generations (or the index was recreated)
            self._open_searcher()
        else:
            from whoosh.index import IndexError as WhooshIndexError

            try:
                if not self._searcher.up_to_date():
                    self._searcher = self._searcher.refresh()  # an incremental run committed
            except (OSError, ValueError, WhooshIndexError):
                # Its directory vanished (EmptyIndexError: no TOC left) or a TOC was replaced mid-read:
                # open again from the pointer, which raises IndexMissing if nothing is left to open.
                self._close_searcher()
                self._open_searcher()
        return self._searcher

    @contextmanager
    def _using(self) -> Iterator[Any]:
        with self._lock:
            yield self._fresh_searcher()

    def close(self) -> None:
        """Release the cached searcher (the Archive reopens it if used again)."""
        with self._lock:
            self._close_searcher()

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
    ) -> SearchResponse:
        """Run a query (DESIGN §8 syntax) with facet filters; raises ``search.query.QueryError``."""
        from search.query import run_search

        with self._using() as searcher:
            data = run_search(searcher, q, filters=normalize_filters(filters), sort=sort, page=page, limit=limit)
        return SearchResponse.from_dict(data)

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        from search.query import get_article

        if _SURROGATES.search(article_id or ""):
            return None  # not text any id could be made of
        with self._using() as searcher:
            return get_article(searcher, article_id)

    def related(self, article_id: str, limit: int = 5) -> list[SearchHit]:
        """Articles like this one (result-row shape); empty if the id is unknown."""
        from search.query import related_articles

        if _SURROGATES.search(article_id or ""):
            return []
        with self._using() as searcher:
            rows = related_articles(searcher, article_id, limit=limit)
        return [SearchHit.from_dict(row) for row in rows]

    def suggest(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Completions for a typed prefix: ``[{"text", "type"}]``."""
        from search.query import suggest

        with self._using() as searcher:
            return suggest(searcher, prefix, limit=limit)

    def highlight_terms(self, q: str) -> list[str]:
        """The words and fragments of ``q`` to mark in an article page."""
        from search.query import highlight_terms

        with self._using() as searcher:
            return highlight_terms(searcher, q)

    def export(self) -> Iterator[Article]:
        """Every indexed article, all fields, from one consistent snapshot of the index.

        Uses its own searcher so a long export neither blocks searches nor is disturbed by a refresh.
        """
        from whoosh import index as whoosh_index

        from search.query import iter_articles

        with self._lock:
            self._fresh_searcher()
            gen_dir = self._gen_dir
        assert gen_dir is not None
        searcher = whoosh_index.open_dir(str(gen_dir)).searcher()
        try:
            yield from iter_articles(searcher)
        finally:
            searcher.close()

    def stats(self) -> dict[str, Any]:
        """Articles, pages (seed files indexed), terms, index size in bytes, last build time."""
        with self._using() as searcher:
            gen_dir = self._gen_dir
            reader = searcher.reader()
            articles = searcher.doc_count()
            key = (self._stamp, reader.generation())
            if self._terms_cache is None or self._terms_cache[0] != key:
                self._terms_cache = (key, sum(1 for _ in reader.all_terms()))
            terms = self._terms_cache[1]
        assert gen_dir is not None
        manifest = read_json(gen_dir / MANIFEST_NAME) or {}
        files = manifest.get("files", {})
        pointer = read_pointer(self.index_dir) or {}
        return {
            "index_dir": str(self.index_dir),
            "generation": gen_dir.name,
            "articles": articles,
            "pages": sum(1 for entry in files.values() if entry.get("ids")),
            "skipped_files": sorted(name for name, entry in files.items() if entry.get("skipped")),
            "terms": terms,
            "index_bytes": _dir_size(gen_dir),
            "last_build": manifest.get("built_at"),
            "analysis_version": pointer.get("analysis_version"),
        }

    # -- maintenance --------------------------------------------------------------------------

    def rebuild(self, seeds_dir: str | Path, full: bool = False, progress: Progress | None = None, **options: Any) -> BuildReport:
        """Bring this archive's index up to date with ``seeds_dir`` (see :func:`search.indexer.rebuild`).

        The cached searcher picks the new index up on its next use.
        """
        return _rebuild(seeds_dir, self.index_dir, full=full, progress=progress, **options)


def _dir_size(path: Path) -> int:
    total = 0
    for entry in os.scandir(path):
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat().st_size
        except OSError:
            pass  # removed by a concurrent commit
    return total


def index_exists(index_dir: str | Path) -> bool:
    """True if ``index_dir`` holds a searchable index (cheap: reads the pointer only)."""
    pointer = read_pointer(Path(index_dir))
    return pointer is not None and (Path(index_dir) / pointer["generation"]).is_dir()


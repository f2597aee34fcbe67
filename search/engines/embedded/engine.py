"""The embedded engine: a Whoosh index in a local directory, behind the :class:`~search.engines.base.Engine` seam.

One Whoosh searcher is cached per engine and refreshed only when the index changed (a stat of the
pointer file and a directory listing per call), so a long-running server sees a rebuilt index without a
restart. Whoosh searchers are not safe to share between threads (they hold file positions and caches),
so calls are serialised by a lock; the search itself is short and the GIL would serialise most of it anyway.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from search.atomic import read_json
from search.engines.base import BuildReport, IndexMissing, Progress
from search.engines.embedded.indexer import MANIFEST_NAME, PENDING_NAME, POINTER_NAME, index_exists, read_pointer, rebuild
from search.model import Article

_OPEN_RETRIES = 5  # a full rebuild may switch generations between reading the pointer and opening


class EmbeddedEngine:
    """The Whoosh index in ``index_dir`` (see the module docstring). Thread-safe."""

    name = "embedded"

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._stamp: tuple[int, int, int] | None = None
        self._gen_dir: Path | None = None
        self._terms_cache: tuple[Any, int] | None = None
        self._words: tuple[Any, list[tuple[str, str]]] | None = None

    @property
    def state_dir(self) -> Path:
        """The index directory itself."""
        return self.index_dir

    def exists(self) -> bool:
        """True if the directory holds a searchable index (reads the pointer only)."""
        return index_exists(self.index_dir)

    def check(self) -> None:
        """Open (or refresh) the searcher; raises :class:`IndexMissing` if there is no index."""
        with self._using():
            pass

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
        from search.analysis import archive_words

        with self._lock:
            searcher = self._fresh_searcher()
            # Queries are cut with the dictionary the index was built with (seeds/dictionary.toml).
            with archive_words(self._archive_words(searcher)):
                yield searcher

    def _archive_words(self, searcher: Any) -> list[tuple[str, str]]:
        """The archive dictionary of the open generation, read from its manifest once per commit."""
        generation = searcher.reader().generation()
        key = (self._gen_dir, generation)
        if self._words is not None and self._words[0] == key:
            return self._words[1]
        assert self._gen_dir is not None
        # The journal names the commit before the manifest does (it is promoted right after).
        for name in (MANIFEST_NAME, PENDING_NAME):
            manifest = read_json(self._gen_dir / name)
            if isinstance(manifest, dict) and manifest.get("generation") == generation:
                entry = manifest.get("dictionary")
                pairs = entry.get("words", []) if isinstance(entry, dict) else []
                words = [(str(pair[0]), str(pair[1])) for pair in pairs if isinstance(pair, list) and len(pair) == 2]
                self._words = (key, words)
                return words
        return self._words[1] if self._words is not None else []

    def close(self) -> None:
        """Release the cached searcher (it is reopened on next use)."""
        with self._lock:
            self._close_searcher()

    # -- queries ----------------------------------------------------------------------------

    def search(
        self, q: str, filters: Mapping[str, Sequence[str]], sort: str, page: int, limit: int, facet_size: int = 10
    ) -> dict[str, Any]:
        """One page of results (see :func:`search.engines.embedded.search.run_search`)."""
        from search.engines.embedded.search import run_search

        with self._using() as searcher:
            return run_search(searcher, q, filters=filters, sort=sort, page=page, limit=limit, facet_size=facet_size)

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        from search.engines.embedded.search import get_article

        with self._using() as searcher:
            return get_article(searcher, article_id)

    def related(self, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Articles like this one (result rows); empty if the id is unknown."""
        from search.engines.embedded.search import related_articles

        with self._using() as searcher:
            return related_articles(searcher, article_id, limit=limit)

    def suggest(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Completions for a typed prefix: ``[{"text", "type"}]``."""
        from search.engines.embedded.search import suggest

        with self._using() as searcher:
            return suggest(searcher, prefix, limit=limit)

    def export(
        self, q: str | None = None, filters: Mapping[str, Sequence[str]] | None = None, sort: str = "relevance"
    ) -> Iterator[Article]:
        """Every indexed article, all fields, from one consistent snapshot of the index; with ``q``
        or ``filters``, every article that search finds (the whole result set), in result order.

        Uses its own searcher so a long export neither blocks searches nor is disturbed by a refresh.
        """
        from whoosh import index as whoosh_index

        from search.analysis import archive_words
        from search.engines.embedded.listing import articles_of, matching_docnums
        from search.engines.embedded.search import iter_articles

        with self._lock:
            words = self._archive_words(self._fresh_searcher())
            gen_dir = self._gen_dir
        assert gen_dir is not None
        searcher = whoosh_index.open_dir(str(gen_dir)).searcher()
        try:
            if q is None and not filters:
                yield from iter_articles(searcher)
            else:
                with archive_words(words):  # the query is cut before the first article is yielded
                    docnums = matching_docnums(searcher, q or "", filters, sort)
                yield from articles_of(searcher, docnums)
        finally:
            searcher.close()

    def pages(self) -> list[dict[str, Any]]:
        """Every page file indexed: ``[{"source", "date", "paper", "page", "section", "articles"}]``."""
        from search.engines.embedded.listing import list_pages

        with self._using() as searcher:
            return list_pages(searcher)

    def page_articles(self, source: str) -> list[dict[str, Any]]:
        """One page file's articles in page order (empty if no such file is indexed)."""
        from search.engines.embedded.listing import page_articles

        with self._using() as searcher:
            return page_articles(searcher, source)

    def term_counts(self, words: Sequence[str]) -> dict[str, int]:
        """How many articles hold each word as a word (in the body): ``{word: count}``, zeros left out."""
        with self._using() as searcher:
            reader = searcher.reader()
            counts = {}
            for word in words[:5000]:
                count = reader.doc_frequency("body", word)  # a headline's words are nearly always in its body too
                if count:
                    counts[word] = count
            return counts

    def vocabulary(self) -> list[dict[str, Any]]:
        """Indexed Chinese words and names with their document counts: ``[{"text", "count", "type"}]``."""
        from search.engines.embedded.listing import vocabulary

        with self._using() as searcher:
            return vocabulary(searcher)

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
        """Bring the index up to date with ``seeds_dir`` (see :func:`search.engines.embedded.indexer.rebuild`).

        The cached searcher picks the new index up on its next use.
        """
        return rebuild(seeds_dir, self.index_dir, full=full, progress=progress, **options)


def _dir_size(path: Path) -> int:
    total = 0
    for entry in os.scandir(path):
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat().st_size
        except OSError:
            pass  # removed by a concurrent commit
    return total

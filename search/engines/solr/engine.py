"""The Solr engine: the archive in a SolrCloud collection, behind the :class:`~search.engines.base.Engine` seam.

``SolrEngine(urls, collection, state_dir)`` reads through the alias ``collection`` (Solr resolves it
per request, so a full rebuild's switch is seen by the next search) and keeps local state — the
build lock, the incremental run's journal and saved queries' ``--new-only`` state — in ``state_dir``.
It holds no searcher: every call is a request, and the client fails over between the nodes given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from search.engines.base import BuildReport, IndexMissing, Progress
from search.engines.solr import lifecycle, search
from search.engines.solr.client import SolrClient, SolrError, SolrUnreachable
from search.model import Article
from search.query.filters import QueryError


class SolrUnavailable(IndexMissing):
    """The cluster cannot be reached, or the collection does not exist yet (HTTP 503, one-line CLI error)."""

    def __init__(self, where: str, hint: str) -> None:
        super().__init__(where, hint)
        self.args = (f"{where}: {hint}",)

    def __str__(self) -> str:
        return str(self.args[0])


def default_state_dir(index_dir: str | Path, collection: str) -> Path:
    """Where local state lives for a collection: ``<index dir>/solr-<collection>``."""
    return Path(index_dir) / f"solr-{collection}"


class SolrEngine:
    """A newsearch archive in SolrCloud (see the module docstring). Thread-safe."""

    name = "solr"

    def __init__(self, urls: str | Sequence[str], collection: str = "news", state_dir: str | Path | None = None) -> None:
        if not collection or not all(ch.isalnum() or ch in "_-" for ch in collection):
            raise ValueError(f"bad collection name {collection!r}: use letters, digits, _ and -")
        self.client = SolrClient(urls)
        self.collection = collection
        self._state_dir = Path(state_dir) if state_dir is not None else default_state_dir("index_data", collection)

    @property
    def state_dir(self) -> Path:
        """The local directory for the build lock, the journal and saved queries' state (created on use)."""
        self._state_dir.mkdir(parents=True, exist_ok=True)
        return self._state_dir

    def _where(self) -> str:
        return f"Solr collection {self.collection!r} at {self.client.where}"

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a read, turning "no such collection" and "no node answers" into :class:`SolrUnavailable`."""
        try:
            return function(self.client, self.collection, *args, **kwargs)
        except SolrUnreachable as error:
            raise SolrUnavailable(self._where(), f"cluster unreachable ({error})") from None
        except SolrError as error:
            if error.status == 404 or "not found" in str(error).lower() and self.collection in str(error):
                raise SolrUnavailable(self._where(), "no such collection: run `newsearch index --backend solr` first") from None
            if error.status == 400:
                raise QueryError(f"the search could not be run: {error}") from None
            raise SolrUnavailable(self._where(), str(error)) from None

    def exists(self) -> bool:
        """True if the alias points to a collection (one Collections API call)."""
        try:
            return lifecycle.alias_target(self.client, self.collection) is not None
        except SolrError:
            return False

    def check(self) -> None:
        """Raise :class:`IndexMissing` unless the collection can be searched now."""
        try:
            target = lifecycle.alias_target(self.client, self.collection)
        except SolrUnreachable as error:
            raise SolrUnavailable(self._where(), f"cluster unreachable ({error})") from None
        except SolrError as error:
            raise SolrUnavailable(self._where(), str(error)) from None
        if target is None:
            raise SolrUnavailable(self._where(), "no such collection: run `newsearch index --backend solr` first")

    def search(
        self, q: str, filters: Mapping[str, Sequence[str]], sort: str, page: int, limit: int, facet_size: int = 10
    ) -> dict[str, Any]:
        """One page of results (see :func:`search.engines.solr.search.run_search`)."""
        return self._call(search.run_search, q, filters=filters, sort=sort, page=page, limit=limit, facet_size=facet_size)

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        return self._call(search.get_article, article_id)

    def related(self, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Articles like this one (MoreLikeThis); empty if the id is unknown."""
        return self._call(search.related_articles, article_id, limit=limit)

    def suggest(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """Completions for a typed prefix."""
        return self._call(search.suggest, prefix, limit=limit)

    def export(self) -> Iterator[Article]:
        """Every article, in page order, from the collection the alias points to when the export starts."""
        self.check()
        target = lifecycle.alias_target(self.client, self.collection) or self.collection
        yield from search.iter_articles(self.client, target)

    def stats(self) -> dict[str, Any]:
        """Articles, pages, terms, index size (one copy of each shard), last build, analysis version."""
        return self._call(_stats)

    def rebuild(self, seeds_dir: str | Path, full: bool = False, progress: Progress | None = None, **options: Any) -> BuildReport:
        """Bring the collection up to date with ``seeds_dir`` (see :mod:`search.engines.solr.lifecycle`)."""
        return lifecycle.rebuild(self.client, self.collection, seeds_dir, self.state_dir, full=full, progress=progress, **options)

    def close(self) -> None:
        """Close pooled connections (reopened on next use)."""
        self.client.close()


def _stats(client: SolrClient, alias: str) -> dict[str, Any]:
    target = lifecycle.alias_target(client, alias)
    if target is None:
        raise SolrError(f"collection {alias} not found", 404)
    manifest = lifecycle.read_manifest(client, target) or {"files": {}}
    files = manifest.get("files", {})
    status = client.admin("CLUSTERSTATUS", collection=target, timeout=30)
    shards = ((status.get("cluster") or {}).get("collections") or {}).get(target, {}).get("shards") or {}
    size, terms = 0, 0
    for shard in shards.values():
        leader = next((r for r in (shard.get("replicas") or {}).values() if r.get("leader") == "true"), None)
        if leader is None:
            continue
        core, node = leader["core"], leader["base_url"]
        # Distinct words of the word fields, per shard (a word held by both shards counts twice).
        luke = client.at_node(node, f"{core}/admin/luke", {"numTerms": 0, "fl": "title_w,body_w", "wt": "json"}, timeout=120)
        terms += sum(int(field.get("distinct") or 0) for field in (luke.get("fields") or {}).values())
        cores = client.at_node(node, "admin/cores", {"action": "STATUS", "core": core, "wt": "json"})
        size += int((((cores.get("status") or {}).get(core) or {}).get("index") or {}).get("sizeInBytes") or 0)
    articles = client.get(f"{target}/select", {"q": "*:*", "fq": "doc_type:article", "rows": 0, "wt": "json"})
    return {
        "index_dir": f"solr:{alias}",
        "generation": target,
        "articles": int((articles.get("response") or {}).get("numFound", 0)),
        "pages": sum(1 for entry in files.values() if entry.get("ids")),
        "skipped_files": sorted(name for name, entry in files.items() if entry.get("skipped")),
        "terms": terms,
        "index_bytes": size,
        "last_build": manifest.get("built_at"),
        "analysis_version": manifest.get("analysis_version"),
        "backend": "solr",
        "solr": client.where,
        "collection": alias,
        "shards": len(shards),
    }

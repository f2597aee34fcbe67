"""The Solr engine's index lifecycle: collections behind an alias, the manifest, incremental and full builds.

Layout in the cluster, for ``--collection news``::

    alias news  ->  collection news_v2     (what every search reads)
                    collection news_v1     (the previous build, kept until the next switch)
    in each collection: the articles; one "file" document per seed file (the manifest entry:
    sha256, catalog digest, article ids, problems); one "meta" document (analysis version,
    catalog sha256, build time)

**Incremental run** (default): the seed files are planned against the manifest exactly as for the
embedded index (:func:`search.engines.embedded.indexer._plan`), the articles of changed and removed
files are deleted by source, the changed files extracted and sent with their manifest documents, and
one commit makes all of it visible at once (the configset has no soft commits, and its hard
auto-commits open no searcher). A journal beside the state (``solr-pending.json``) names the files a
run is changing before it sends anything; a run killed before its commit leaves it, and the next run
re-does those files, so the updates the dead run had sent are replaced before they can be seen.

**Full run** (``--full``, no collection yet, or another analysis version): a new collection
``news_v<N+1>`` is created (2 shards × 2 replicas unless told otherwise), every file is indexed into
it and committed, the count is checked, and only then the alias is moved (``CREATEALIAS`` is atomic).
A killed full run leaves the alias where it was; its half-built collection is deleted by the next run.

Runs are serialised by a lock file in the engine's state directory (run the index job from one host,
as a cron job would), with the embedded engine's lock (:func:`search.engines.embedded.indexer.build_lock`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from search.atomic import read_json, write_json_atomic
from search.engines.base import BuildError, BuildReport, Progress, SeedsMissing
from search.engines.embedded.indexer import DEFAULT_LOCK_TIMEOUT, _extract, _plan, build_lock, report_incremental
from search.engines.solr.client import SolrClient, SolrError
from search.engines.solr.compile import phrase
from search.engines.solr.configsets import ensure_configset
from search.engines.solr.documents import ARTICLE, FILE, META, article_to_document, file_document, meta_document
from search.engines.solr.prepare import prepared_documents

MANIFEST_FORMAT = 1
PENDING_NAME = "solr-pending.json"
#: Documents per update request, and update requests in flight while the next batch is prepared.
BATCH_DOCS = 500
IN_FLIGHT = 2
DEFAULT_SHARDS = int(os.environ.get("NEWSEARCH_SOLR_SHARDS", "2"))
DEFAULT_REPLICAS = int(os.environ.get("NEWSEARCH_SOLR_REPLICAS", "2"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _versioned(alias: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(alias)}_v(\d+)$")


# ---------------------------------------------------------------------------------------------
# The cluster: alias and collections


def alias_target(client: SolrClient, alias: str) -> str | None:
    """The collection the alias points to, or None if there is no such alias."""
    aliases = client.admin("LISTALIASES", timeout=30).get("aliases") or {}
    target = aliases.get(alias)
    return target.split(",")[0] if target else None


def list_collections(client: SolrClient) -> list[str]:
    """Names of the cluster's collections."""
    return list(client.admin("LIST", timeout=30).get("collections") or [])


def create_collection(client: SolrClient, name: str, configset: str, shards: int, replicas: int) -> None:
    """Create a collection and wait until its replicas are active."""
    client.admin(
        "CREATE", name=name, numShards=shards, replicationFactor=replicas, **{"collection.configName": configset},
        waitForFinalState="true",
    )  # fmt: skip


def delete_collection(client: SolrClient, name: str) -> None:
    """Delete a collection (best effort: a failure is retried by the next run)."""
    try:
        client.admin("DELETE", name=name)
    except SolrError:
        pass


def _versions(client: SolrClient, alias: str) -> dict[str, int]:
    pattern = _versioned(alias)
    return {name: int(m.group(1)) for name in list_collections(client) if (m := pattern.match(name))}


def _remove_stale(client: SolrClient, alias: str, current: str | None) -> None:
    """Delete versions of the alias that are neither current nor the one before it (killed builds,
    builds two switches old)."""
    versions = _versions(client, alias)
    number = versions.get(current or "", 0)
    older = [v for v in versions.values() if v < number]
    previous = max(older, default=None)
    for name, version in versions.items():
        if name != current and version != previous:
            delete_collection(client, name)


# ---------------------------------------------------------------------------------------------
# The manifest, kept in the collection


def read_manifest(client: SolrClient, collection: str) -> dict[str, Any] | None:
    """The manifest stored in a collection (its meta and file documents), or None if it has none."""
    files: dict[str, Any] = {}
    meta: dict[str, Any] | None = None
    cursor = "*"
    while True:
        answer = client.post_form(
            f"{collection}/select",
            [("q", f"doc_type:({FILE} OR {META})"), ("sort", "id asc"), ("rows", "1000"), ("fl", "id,doc_type,source,entry"),
             ("cursorMark", cursor), ("wt", "json")],
        )  # fmt: skip
        for doc in (answer.get("response") or {}).get("docs", []):
            entry = json.loads(doc.get("entry") or "{}")
            if doc.get("doc_type") == META:
                meta = entry
            else:
                files[doc["source"]] = entry
        following = answer.get("nextCursorMark")
        if not following or following == cursor:
            break
        cursor = following
    if not isinstance(meta, dict) or meta.get("format") != MANIFEST_FORMAT:
        return None
    return {**meta, "files": files}


# ---------------------------------------------------------------------------------------------
# Sending documents


class _Sender:
    """Sends update batches on a small thread pool, so Python prepares the next batch meanwhile."""

    def __init__(self, client: SolrClient, collection: str) -> None:
        self.client, self.collection = client, collection
        self.pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="newsearch-solr-update")
        self.pending: list[Future[Any]] = []
        self.batch: list[dict[str, Any]] = []

    def add(self, doc: dict[str, Any]) -> None:
        self.batch.append(doc)
        if len(self.batch) >= BATCH_DOCS:
            self.flush()

    def command(self, body: dict[str, Any]) -> None:
        """An update command (``{"delete": ...}``) sent in order, after what was added before it."""
        self.flush()
        self.wait()
        self.client.post_json(f"{self.collection}/update", body, params={"wt": "json"}, timeout=300)

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        while len(self.pending) >= IN_FLIGHT:
            self.pending.pop(0).result()
        self.pending.append(
            self.pool.submit(self.client.post_json, f"{self.collection}/update", batch, params={"wt": "json"}, timeout=300)
        )

    def wait(self) -> None:
        while self.pending:
            self.pending.pop(0).result()

    def commit(self) -> None:
        """Send what is left and make everything sent visible (one commit across the shards)."""
        self.flush()
        self.wait()
        self.client.get(f"{self.collection}/update", {"commit": "true", "waitSearcher": "true", "wt": "json"}, timeout=600)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _send_files(
    sender: _Sender, extracted: Iterable[tuple[str, list[Any], dict[str, Any]]], files: dict[str, Any],
    report: BuildReport, progress: Progress | None, total: int,
) -> None:  # fmt: skip
    for done, (name, articles, entry) in enumerate(extracted, start=1):
        for article in articles:
            sender.add(article_to_document(article))
        report.articles_added += len(articles)
        files[name] = entry
        sender.add(file_document(name, entry))
        if progress is not None:
            progress(done, total, name)


def _send_full(
    sender: _Sender, extracted: Iterable[tuple[str, list[Any], dict[str, Any]]], files: dict[str, Any],
    report: BuildReport, progress: Progress | None, total: int, processes: int,
) -> None:  # fmt: skip
    """Send every file's articles (read without metadata) with documents prepared on ``processes``
    workers, then the files' manifest documents."""

    def articles() -> Iterator[Any]:
        for done, (name, kept, entry) in enumerate(extracted, start=1):
            files[name] = entry
            yield from kept
            if progress is not None:
                progress(done, total + 1, name)

    for docs, problems in prepared_documents(articles(), processes):
        for doc in docs:
            sender.add(doc)
        report.articles_added += len(docs)
        for problem in problems:
            source, _, text = problem.partition(": ")
            files[source]["problems"].append(text)
            report.problems[source] = files[source]["problems"]
    for name, entry in files.items():
        sender.add(file_document(name, entry))
    if progress is not None:
        progress(total + 1, total + 1, "committing")


def _meta(plan: Any, version: str) -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "analysis_version": version, "catalog_sha": plan.catalog_sha, "built_at": _now()}


def _article_count(client: SolrClient, collection: str) -> int:
    answer = client.get(f"{collection}/select", {"q": "*:*", "fq": f"doc_type:{ARTICLE}", "rows": 0, "wt": "json"})
    return int((answer.get("response") or {}).get("numFound", 0))


# ---------------------------------------------------------------------------------------------
# Rebuild


def rebuild(
    client: SolrClient,
    alias: str,
    seeds_dir: str | Path,
    state_dir: str | Path,
    full: bool = False,
    progress: Progress | None = None,
    *,
    lock_timeout: float | None = None,
    on_message: Callable[[str], None] | None = None,
    shards: int | None = None,
    replicas: int | None = None,
    jobs: int | None = None,
    file_timeout: float | None = None,
    follow_symlinks: bool = False,
    verify: bool = False,
) -> BuildReport:
    """Bring the collection behind ``alias`` up to date with ``seeds_dir`` (see the module docstring).

    A full build prepares documents on ``jobs`` processes (default: every core, or ``NEWSEARCH_JOBS``).
    ``file_timeout`` and ``follow_symlinks`` read the seeds as the embedded engine does; ``verify`` is
    accepted for the same command line and checks nothing more: Solr keeps its own index checksums.
    """
    del verify
    reading = {"file_timeout": file_timeout, "follow_symlinks": follow_symlinks}
    started = time.perf_counter()
    seeds, state = Path(seeds_dir), Path(state_dir)
    report = BuildReport(seeds_dir=str(seeds), index_dir=f"solr:{alias}")
    say = on_message or (lambda message: None)
    if not seeds.is_dir():
        raise SeedsMissing(f"seeds directory not found: {seeds}")
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"cannot create the state directory {state}: {error.strerror or error}") from error
    timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    try:
        with build_lock(state, timeout, on_wait=say):
            _rebuild_locked(client, alias, seeds, state, full, progress, report,
                            shards or DEFAULT_SHARDS, replicas or DEFAULT_REPLICAS, jobs, reading)  # fmt: skip
    except SolrError as error:
        raise BuildError(f"cannot update the Solr collection {alias}: {error}") from error
    report.seconds = time.perf_counter() - started
    return report


def _rebuild_locked(
    client: SolrClient, alias: str, seeds: Path, state: Path, full: bool, progress: Progress | None,
    report: BuildReport, shards: int, replicas: int, jobs: int | None, reading: dict[str, Any],
) -> None:  # fmt: skip
    from search.analysis import ANALYSIS_VERSION

    if alias in list_collections(client):
        raise BuildError(f"{alias} is a collection, not an alias: give newsearch an alias name of its own (it creates {alias}_v1 …)")
    current = alias_target(client, alias)
    _remove_stale(client, alias, current)
    manifest = read_manifest(client, current) if current else None
    before = manifest
    reason = None
    if full:
        reason = "requested"
    elif current is None:
        reason = "no collection yet"
    elif manifest is None:
        reason = "manifest missing in the collection"
    elif manifest.get("analysis_version") != ANALYSIS_VERSION:
        reason = f"analysis version changed ({manifest.get('analysis_version')} -> {ANALYSIS_VERSION})"
    pending_path = state / PENDING_NAME
    pending = read_json(pending_path)
    if reason is not None:
        report.full, report.full_reason = True, reason
        manifest = None
    elif isinstance(pending, dict) and pending.get("collection") == current and manifest is not None:
        # A run died before its commit: re-do its files, so what it had sent is replaced.
        for name in pending.get("files", []):
            if name in manifest["files"]:
                manifest["files"][name] = {**manifest["files"][name], "sha256": "interrupted run"}
    plan = _plan(seeds, manifest, follow_symlinks=reading["follow_symlinks"])
    report.skipped.update(plan.unsupported)
    leftovers = []
    if isinstance(pending, dict) and pending.get("collection") == current and manifest is not None:
        leftovers = [n for n in pending.get("files", []) if n not in manifest["files"] and n not in plan.extract]
    if manifest is not None and not plan.extract and not plan.removed and not leftovers:
        _report_unchanged(report, manifest, plan)
        report.generation = current
        if manifest.get("catalog_sha") != plan.catalog_sha:
            sender = _Sender(client, current or alias)
            try:
                sender.add(meta_document(_meta(plan, ANALYSIS_VERSION)))
                sender.commit()
            finally:
                sender.close()
        return
    if report.full:
        _full_build(client, alias, current, plan, progress, report, ANALYSIS_VERSION, shards, replicas, jobs, reading["file_timeout"])
        if before is not None:
            report.removed = sorted(name for name in before["files"] if name not in plan.files)
    else:
        assert current is not None and manifest is not None
        _incremental_build(client, current, manifest, plan, progress, report, ANALYSIS_VERSION, pending_path, leftovers, reading["file_timeout"])
        report.generation = current


def _report_unchanged(report: BuildReport, manifest: dict[str, Any], plan: Any) -> None:
    for name in plan.files:
        entry = manifest["files"][name]
        if entry.get("skipped"):
            report.skipped[name] = "; ".join(entry.get("problems") or ["nothing to index"])
        else:
            report.unchanged.append(name)
        if entry.get("problems") and not entry.get("skipped"):
            report.problems[name] = list(entry["problems"])
    report.articles_total = sum(len(entry.get("ids", [])) for entry in manifest["files"].values())


def _full_build(
    client: SolrClient, alias: str, current: str | None, plan: Any, progress: Progress | None, report: BuildReport,
    version: str, shards: int, replicas: int, jobs: int | None, file_timeout: float | None,
) -> None:  # fmt: skip
    from search.engines.embedded.bulk import worker_count

    workers = worker_count(jobs)
    configset = ensure_configset(client)
    versions = _versions(client, alias)
    name = f"{alias}_v{max(versions.values(), default=0) + 1}"
    create_collection(client, name, configset, shards, replicas)
    files: dict[str, Any] = {}
    names = list(plan.files)
    sender = _Sender(client, name)
    try:
        _send_full(sender, _extract(plan, names, {}, report, workers, file_timeout=file_timeout), files, report, progress, len(names), workers.count)
        sender.add(meta_document(_meta(plan, version)))
        sender.commit()
        expected = sum(len(entry["ids"]) for entry in files.values())
        found = _article_count(client, name)
        if found != expected:
            raise BuildError(f"the new collection {name} holds {found} articles, not {expected}; the alias stays on {current}")
    except BaseException:
        sender.close()
        delete_collection(client, name)  # never aliased: no reader ever saw it
        raise
    sender.close()
    # The switch: searches through the alias read the old collection until here, the new one after.
    client.admin("CREATEALIAS", name=alias, collections=name)
    _remove_stale(client, alias, name)
    report.added = [n for n in names if not files[n]["skipped"]]
    report.articles_total = sum(len(entry["ids"]) for entry in files.values())
    report.generation = name
    if plan.catalog_problems:
        report.problems["catalog.toml"] = list(plan.catalog_problems)


def _incremental_build(
    client: SolrClient, collection: str, manifest: dict[str, Any], plan: Any, progress: Progress | None,
    report: BuildReport, version: str, pending_path: Path, leftovers: list[str], file_timeout: float | None,
) -> None:  # fmt: skip
    known: dict[str, Any] = manifest["files"]
    names = [name for name in plan.files if name in plan.extract]
    files = {name: entry for name, entry in known.items() if name in plan.files and name not in plan.extract}
    owners = {article_id: name for name, entry in files.items() for article_id in entry.get("ids", [])}
    leaving = plan.removed + names + leftovers
    write_json_atomic(pending_path, {"collection": collection, "files": sorted(set(leaving)), "started_at": _now()})
    sender = _Sender(client, collection)
    try:
        for start in range(0, len(leaving), 50):
            chunk = leaving[start : start + 50]
            sources = " OR ".join(phrase(name) for name in chunk)
            sender.command({"delete": {"query": f"source:({sources})"}})
        for name in plan.removed + names:
            report.articles_removed += len(known.get(name, {}).get("ids", []))
        _send_files(sender, _extract(plan, names, owners, report, file_timeout=file_timeout), files, report, progress, len(names))
        sender.add(meta_document(_meta(plan, version)))
        sender.commit()
    finally:
        sender.close()
    pending_path.unlink(missing_ok=True)
    report_incremental(report, plan, names, known, files)

"""The embedded engine's index lifecycle: manifest, incremental and full builds, lock, versions.

The Whoosh index in an index directory is brought up to date with ``seeds/``.

On-disk layout of an index directory (see docs/ARCHITECTURE.md, "Index lifecycle")::

    index_data/
      current.json        pointer: {"generation": "gen-000002", "previous": ..., "analysis_version": ...}
      gen-000002/         a complete Whoosh index + manifest.json (what it holds, file by file)
      gen-000001/         the previous generation, kept so searchers still open on it keep working
      .build.lock         fcntl lock: one index run at a time (Whoosh's WRITELOCK stays Whoosh's)

Incremental runs update the current generation in place (a Whoosh commit is atomic for readers);
full runs and analysis-version changes build a new generation aside and switch ``current.json``
with ``os.replace``. The manifest is only written after the Whoosh commit; a journal
(``manifest.pending.json``) written before the commit lets the next run tell whether a run killed
in between had committed, so the manifest and the index never disagree for long.

Nothing heavy is imported at module level: an unchanged run hashes files and returns without
importing Whoosh, opening a writer or loading a segmenter dictionary.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.atomic import fsync_dir, read_json, sha256_file, write_json_atomic
from search.engines.base import BuildError, BuildReport, IndexBusy, Progress, SeedsMissing

if TYPE_CHECKING:
    from search.engines.embedded.bulk import Workers

__all__ = [
    "BuildError", "BuildReport", "IndexBusy", "Progress", "SeedsMissing", "rebuild", "read_pointer",
    "current_generation_dir", "load_manifest", "build_lock", "index_exists", "read_json", "write_json_atomic",
]  # fmt: skip

POINTER_NAME = "current.json"
MANIFEST_NAME = "manifest.json"
PENDING_NAME = "manifest.pending.json"
LOCK_NAME = ".build.lock"
GEN_PREFIX = "gen-"
MANIFEST_FORMAT = 1
DEFAULT_LOCK_TIMEOUT = float(os.environ.get("NEWSEARCH_LOCK_TIMEOUT", "600"))
_GEN_DIR = re.compile(r"^gen-(\d+)$")
_WHOOSH_TOC = re.compile(r"^_MAIN_(\d+)\.toc$")  # Whoosh's TOC naming for the default index name

def _digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Layout: pointer and generations


def read_pointer(index_dir: Path) -> dict[str, Any] | None:
    """The ``current.json`` pointer of an index directory, or None if there is no index."""
    data = read_json(Path(index_dir) / POINTER_NAME)
    if not isinstance(data, dict) or not isinstance(data.get("generation"), str):
        return None
    return data


def current_generation_dir(index_dir: Path) -> Path | None:
    """The directory holding the searchable Whoosh index, or None if there is none."""
    pointer = read_pointer(index_dir)
    if pointer is None:
        return None
    path = Path(index_dir) / pointer["generation"]
    return path if path.is_dir() else None


def whoosh_generation(gen_dir: Path) -> int:
    """Latest committed Whoosh generation in ``gen_dir`` (-1 if none), from the TOC file names.

    Reading the names avoids importing Whoosh on the fast path; it mirrors
    ``whoosh.index.TOC._latest_generation`` for the default index name.
    """
    latest = -1
    try:
        names = os.listdir(gen_dir)
    except OSError:
        return -1
    for name in names:
        match = _WHOOSH_TOC.match(name)
        if match:
            latest = max(latest, int(match.group(1)))
    return latest


def load_manifest(gen_dir: Path) -> dict[str, Any] | None:
    """The manifest of a generation directory, reconciled with its Whoosh commits.

    If a run was killed after writing its journal, the journal is promoted when the Whoosh commit it
    announced did happen, and dropped otherwise. Returns None when no trustworthy manifest exists
    (missing, corrupt, or out of step with the index), which makes the caller rebuild in full.
    Must be called with the build lock held (it may rewrite files).
    """
    gen_dir = Path(gen_dir)
    committed = whoosh_generation(gen_dir)
    pending_path = gen_dir / PENDING_NAME
    pending = read_json(pending_path)
    if pending is not None:
        if isinstance(pending, dict) and pending.get("generation") == committed:
            os.replace(pending_path, gen_dir / MANIFEST_NAME)  # the commit happened: adopt its manifest
            fsync_dir(gen_dir)
        else:
            pending_path.unlink(missing_ok=True)  # the commit never happened: the old manifest holds
    elif pending_path.exists():
        pending_path.unlink(missing_ok=True)  # half-written journal: the commit cannot have started
    manifest = read_json(gen_dir / MANIFEST_NAME)
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return None
    if manifest.get("generation") != committed or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def _generation_dirs(index_dir: Path) -> dict[str, int]:
    found = {}
    for entry in os.scandir(index_dir):
        match = _GEN_DIR.match(entry.name)
        if match and entry.is_dir():
            found[entry.name] = int(match.group(1))
    return found


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    """Delete generation directories that are neither current nor previous (e.g. killed builds)."""
    for name in _generation_dirs(index_dir):
        if name not in keep:
            shutil.rmtree(index_dir / name, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Lock


@contextmanager
def build_lock(
    index_dir: Path, timeout: float = DEFAULT_LOCK_TIMEOUT, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the index directory's build lock; wait up to ``timeout`` seconds for another run.

    ``fcntl.flock`` is released by the kernel when its holder dies, so a killed run never leaves a
    stale lock behind.
    """
    path = Path(index_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            holder = _lock_holder(fd)
            if time.monotonic() >= deadline:
                raise IndexBusy(
                    f"another index run{holder} is still updating {index_dir}; gave up after {timeout:g}s "
                    "(set NEWSEARCH_LOCK_TIMEOUT to wait longer)"
                )
            if not announced and on_wait is not None:
                on_wait(f"waiting for another index run{holder} to finish (up to {timeout:g}s)")
                announced = True
            time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


# ---------------------------------------------------------------------------------------------
# Planning: what changed since the manifest


@dataclass
class _Plan:
    seeds_dir: Path
    files: dict[str, Path]  # seed file name -> path, in sorted order
    hashes: dict[str, str]
    catalog_sha: str | None
    catalog: dict[str, dict[str, Any]] | None = None  # loaded lazily
    catalog_problems: list[str] = field(default_factory=list)
    extract: dict[str, str] = field(default_factory=dict)  # name -> reason (new/changed/...)
    removed: list[str] = field(default_factory=list)
    unsupported: dict[str, str] = field(default_factory=dict)
    stats: dict[str, list[int]] = field(default_factory=dict)  # name -> [size, mtime_ns] when hashed
    hashed_at_ns: int = 0  # when the files were hashed
    restated: bool = False  # a file was re-hashed unchanged (touched): its new stat is worth recording


def _scan(seeds_dir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    from search.ingest.sources import list_seed_files, name_is_utf8, printable_name

    files = {path.name: path for path in list_seed_files(seeds_dir)}
    unsupported = {}
    for entry in os.scandir(seeds_dir):
        if entry.name in files or entry.name.startswith(".") or entry.name == "catalog.toml":
            continue
        if entry.is_file() and not name_is_utf8(entry.name):
            unsupported[printable_name(entry.name)] = "file name is not valid UTF-8; rename the file to index it"
        elif entry.is_file():
            unsupported[entry.name] = f"not a seed file type ({Path(entry.name).suffix or 'no suffix'}); ignored"
    return files, unsupported


#: A file modified less than this long before it was hashed is hashed again next time, even if its
#: size and mtime look the same (a rewrite within the clock's granularity keeps both).
_RACY_NS = 2_000_000_000


def _trusted_hash(entry: dict[str, Any] | None, stat: list[int]) -> str | None:
    """The manifest's hash of a file whose size and mtime are those recorded when it was hashed
    (as git and rsync decide): hashing every seed file of a large archive takes seconds."""
    if not entry or entry.get("stat") != stat or not isinstance(entry.get("sha256"), str):
        return None
    return entry["sha256"]


def _stat_to_record(plan: "_Plan", name: str) -> list[int] | None:
    """The size and mtime to record with a file's hash: none if the file was modified so shortly
    before it was hashed that a rewrite could keep both (it is hashed again next time)."""
    stat = plan.stats.get(name)
    return stat if stat is not None and stat[1] < plan.hashed_at_ns - _RACY_NS else None


def _plan(seeds_dir: Path, manifest: dict[str, Any] | None) -> _Plan:
    files, unsupported = _scan(seeds_dir)
    hashes = {}
    stats: dict[str, list[int]] = {}
    known_files = (manifest or {}).get("files", {})
    hashed_at_ns = time.time_ns()
    restated = False
    for name, path in list(files.items()):
        try:
            st = path.stat()
            stats[name] = [st.st_size, st.st_mtime_ns]
            trusted = _trusted_hash(known_files.get(name), stats[name])
            hashes[name] = trusted or sha256_file(path)
            if trusted is None and known_files.get(name, {}).get("sha256") == hashes[name] and stats[name][1] < hashed_at_ns - _RACY_NS:
                restated = True  # touched, not changed: record the new stat so it is not hashed again
        except OSError as error:  # unreadable (permissions) or gone since the listing: skip it, by name
            del files[name]
            stats.pop(name, None)
            unsupported[name] = f"cannot read file ({error.strerror or error}); skipped"
    catalog_path = seeds_dir / "catalog.toml"
    plan = _Plan(
        seeds_dir=seeds_dir,
        files=files,
        hashes=hashes,
        catalog_sha=sha256_file(catalog_path) if catalog_path.is_file() else None,
        unsupported=unsupported,
        stats=stats,
        hashed_at_ns=hashed_at_ns,
        restated=restated,
    )
    if manifest is None:
        plan.extract = {name: "new" for name in files}
        return plan
    known: dict[str, dict[str, Any]] = manifest["files"]
    plan.removed = sorted(name for name in known if name not in files)
    for name in files:
        if name not in known:
            plan.extract[name] = "new"
        elif known[name].get("sha256") != plan.hashes[name]:
            plan.extract[name] = "changed"
    if plan.catalog_sha != manifest.get("catalog_sha"):
        for name in files:
            if name not in plan.extract and known[name].get("catalog") != _digest(_catalog_entry(plan, name)):
                plan.extract[name] = "catalog entry changed"
    # A file whose articles lost an id clash to another file gets another chance when that file goes.
    leaving = set(plan.extract) | set(plan.removed)
    owners = {article_id: name for name, entry in known.items() for article_id in entry.get("ids", [])}
    for name, entry in known.items():
        if name in files and name not in plan.extract:
            if any(owners.get(article_id) in leaving for article_id in entry.get("shadowed", [])):
                plan.extract[name] = "duplicate id released"
    return plan


def _catalog_entry(plan: _Plan, name: str) -> dict[str, Any] | None:
    if plan.catalog is None:
        plan.catalog = {}
        if plan.catalog_sha is not None:
            from search.ingest.sources import load_catalog

            plan.catalog, plan.catalog_problems = load_catalog(plan.seeds_dir)
    return plan.catalog.get(name)


# ---------------------------------------------------------------------------------------------
# Rebuild


def rebuild(
    seeds_dir: str | Path,
    index_dir: str | Path,
    full: bool = False,
    progress: Progress | None = None,
    *,
    lock_timeout: float | None = None,
    on_message: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with the seed files in ``seeds_dir``.

    Incremental by default: only new and changed files are extracted, removed files' articles are
    deleted, and an unchanged run only hashes files. ``full=True`` (or a changed ANALYSIS_VERSION, or a
    missing/inconsistent manifest) builds a new index generation aside and switches to it atomically.
    Searches keep working throughout; a run killed at any moment leaves the previous index searchable
    and the next run completes the work. Full builds use ``jobs`` processes (default: every core the
    process may use, or ``NEWSEARCH_JOBS``; see :mod:`search.engines.embedded.bulk`). Raises :class:`BuildError` subclasses for a missing seeds
    directory, a busy lock, or an index that cannot be written.
    """
    started = time.perf_counter()
    seeds = Path(seeds_dir)
    index = Path(index_dir)
    report = BuildReport(seeds_dir=str(seeds), index_dir=str(index))
    say = on_message or (lambda message: None)

    if not seeds.is_dir():
        raise SeedsMissing(f"seeds directory not found: {seeds}")
    try:
        index.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"cannot create index directory {index}: {error.strerror or error}") from error

    timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    try:
        with build_lock(index, timeout, on_wait=say):
            _rebuild_locked(seeds, index, full, progress, report, jobs)
    except OSError as error:
        raise BuildError(f"cannot write the index in {index}: {error.strerror or error}") from error
    report.seconds = time.perf_counter() - started
    return report


def _rebuild_locked(
    seeds: Path,
    index: Path,
    full: bool,
    progress: Progress | None,
    report: BuildReport,
    jobs: int | None,
) -> None:
    from search.analysis import ANALYSIS_VERSION
    from search.engines.embedded.bulk import worker_count

    pointer = read_pointer(index)
    gen_dir = current_generation_dir(index)
    keep = {name for name in ((pointer or {}).get("generation"), (pointer or {}).get("previous")) if name}
    _remove_stale_generations(index, keep)  # leftovers of killed full builds

    manifest = load_manifest(gen_dir) if gen_dir is not None else None
    before = manifest
    reason = None
    if full:
        reason = "requested"
    elif pointer is None or gen_dir is None:
        reason = "no index yet"
    elif pointer.get("analysis_version") != ANALYSIS_VERSION or (
        manifest is not None and manifest.get("analysis_version") != ANALYSIS_VERSION
    ):
        old = (manifest or {}).get("analysis_version") or pointer.get("analysis_version")
        reason = f"analysis version changed ({old} -> {ANALYSIS_VERSION})"
    elif manifest is None:
        reason = "manifest missing or out of step with the index"
    if reason is not None:
        report.full, report.full_reason = True, reason
        manifest = None

    plan = _plan(seeds, manifest)
    report.skipped.update(plan.unsupported)
    if manifest is not None and not plan.extract and not plan.removed:
        assert gen_dir is not None and pointer is not None
        if manifest.get("catalog_sha") != plan.catalog_sha or plan.restated:
            # The catalog changed without touching any indexed file's entry, or files were touched
            # without changing: record it (and the files' new stats), no commit.
            manifest["catalog_sha"] = plan.catalog_sha
            for name, entry in manifest["files"].items():
                if name in plan.stats and entry.get("sha256") == plan.hashes.get(name):
                    entry["stat"] = _stat_to_record(plan, name)
            write_json_atomic(gen_dir / MANIFEST_NAME, manifest)
            _catalog_problems(plan, report)
        _report_unchanged(report, manifest, plan)
        report.generation = pointer["generation"]
        return

    if report.full:
        _full_build(index, pointer, plan, progress, report, ANALYSIS_VERSION, worker_count(jobs))
        if before is not None:
            report.removed = sorted(name for name in before["files"] if name not in plan.files)
    else:
        assert gen_dir is not None and manifest is not None and pointer is not None
        _incremental_build(gen_dir, manifest, plan, progress, report, ANALYSIS_VERSION)
        report.generation = pointer["generation"]


def _report_unchanged(report: BuildReport, manifest: dict[str, Any], plan: _Plan) -> None:
    for name in plan.files:
        entry = manifest["files"][name]
        if entry.get("skipped"):
            report.skipped[name] = "; ".join(entry.get("problems") or ["nothing to index"])
        else:
            report.unchanged.append(name)
        if entry.get("problems") and not entry.get("skipped"):
            report.problems[name] = list(entry["problems"])
    report.articles_total = sum(len(entry.get("ids", [])) for entry in manifest["files"].values())


def _extract(
    plan: _Plan, names: list[str], owners: dict[str, str], report: BuildReport, workers: Workers | None = None
) -> Iterator[tuple[str, list[Any], dict[str, Any]]]:
    """Extract each file and settle id clashes: the first owner keeps an id, later copies are reported.

    With ``workers`` (a :class:`search.engines.embedded.bulk.Workers`, full builds) files are read in worker processes
    without the inferred metadata, which :func:`search.engines.embedded.bulk.write_articles` adds; results still
    arrive in ``names`` order. Without, files are read here, completely.
    """
    from search.engines.embedded.bulk import read_files
    from search.ingest.sources import read_seed_file

    jobs = [(plan.files[name], _catalog_entry(plan, name)) for name in names]
    results = read_files(jobs, workers) if workers is not None else (read_seed_file(*job) for job in jobs)
    for name, result in zip(names, results):
        problems = list(result.problems)
        kept, shadowed = [], []
        for article in result.articles:
            owner = owners.get(article.id)
            if owner is not None:
                where = "earlier in this file" if owner == name else f"in {owner}"
                problems.append(f"duplicate article id {article.id} (already {where}); skipped")
                report.duplicates.append(f"{name}: {article.id} (kept the one {where})")
                shadowed.append(article.id)
                continue
            owners[article.id] = name
            kept.append(article)
        entry = {
            "sha256": plan.hashes[name],
            "stat": _stat_to_record(plan, name),
            "catalog": _digest(_catalog_entry(plan, name)),
            "ids": [article.id for article in kept],
            "shadowed": shadowed,
            "problems": problems,
            "skipped": bool(result.skipped or not kept),
        }
        if problems:
            report.problems[name] = problems
        if entry["skipped"]:
            report.skipped[name] = "; ".join(problems) or "no articles found"
        yield name, kept, entry


def _new_manifest(plan: _Plan, analysis_version: str, files: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "analysis_version": analysis_version,
        "catalog_sha": plan.catalog_sha,
        "built_at": _now(),
        "files": files,
    }


def _index_files(
    writer: Any,
    plan: _Plan,
    names: list[str],
    owners: dict[str, str],
    files: dict[str, Any],
    progress: Progress | None,
    report: BuildReport,
) -> None:
    from search.engines.embedded.schema import add_articles

    total = len(names)
    for done, (name, articles, entry) in enumerate(_extract(plan, names, owners, report), start=1):
        if articles:
            report.articles_added += add_articles(writer, articles)
        files[name] = entry
        if progress is not None:
            progress(done, total, name)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _catalog_problems(plan: _Plan, report: BuildReport) -> None:
    if plan.catalog_problems:
        report.problems["catalog.toml"] = list(plan.catalog_problems)


def _full_build(
    index: Path,
    pointer: dict[str, Any] | None,
    plan: _Plan,
    progress: Progress | None,
    report: BuildReport,
    version: str,
    workers: Workers,
) -> None:
    """Build a new generation directory from every seed file, then switch the pointer to it."""
    from whoosh import index as whoosh_index

    from search.engines.embedded.bulk import write_articles
    from search.engines.embedded.schema import build_schema

    numbers = _generation_dirs(index)
    name = f"{GEN_PREFIX}{max(numbers.values(), default=0) + 1:06d}"
    gen_dir = index / name
    gen_dir.mkdir()
    ix = whoosh_index.create_in(str(gen_dir), build_schema())
    files: dict[str, Any] = {}
    names = list(plan.files)
    total_bytes = sum(_size_of(plan.files[n]) for n in names)
    try:
        # Progress counts the files, then one last step for the writing still running after the
        # last file is read; the label says how many articles were read and written.
        steps = len(names) + 1
        state = {"files": 0, "read": 0, "written": 0, "bytes": 0}

        def show(name: str) -> None:
            if progress is not None:
                progress(state["files"], steps, f"{name} · {state['read']:,} articles read, {state['written']:,} written")

        def on_written(count: int) -> None:
            state["written"] = count
            show("writing" if state["files"] == len(names) else names[state["files"] - 1] if state["files"] else "reading")

        def articles() -> Iterator[Any]:
            for file_name, kept, entry in _extract(plan, names, {}, report, workers):
                files[file_name] = entry
                state["files"] += 1
                state["read"] += len(kept)
                state["bytes"] += _size_of(plan.files[file_name])
                show(file_name)
                yield from kept

        def expected() -> int:  # articles to expect (it sets the chunk size only)
            if not state["bytes"]:
                return max(1, total_bytes // 3000)  # about 3 KB of UTF-8 Chinese an article
            return max(state["read"], round(state["read"] * total_bytes / state["bytes"]))

        for problem in write_articles(ix, articles(), workers, expected, on_written):
            source, _, text = problem.partition(": ")
            files[source]["problems"].append(text)
            report.problems[source] = files[source]["problems"]
        report.articles_added = state["read"]
        if progress is not None:
            progress(steps, steps, f"done · {state['read']:,} articles")
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)  # never pointed to; readers never saw it
        raise
    manifest = _new_manifest(plan, version, files)
    manifest["generation"] = ix.latest_generation()
    ix.close()
    write_json_atomic(gen_dir / MANIFEST_NAME, manifest)
    # The switch: readers see the old generation until this os.replace, the new one after it.
    previous = pointer.get("generation") if pointer else None
    write_json_atomic(
        index / POINTER_NAME,
        {"generation": name, "previous": previous, "analysis_version": version, "switched_at": _now()},
    )
    _remove_stale_generations(index, {name, previous} - {None})
    report.added = [n for n in names if not files[n]["skipped"]]
    report.articles_total = sum(len(entry["ids"]) for entry in files.values())
    report.generation = name
    _catalog_problems(plan, report)


def _incremental_build(
    gen_dir: Path, manifest: dict[str, Any], plan: _Plan, progress: Progress | None, report: BuildReport, version: str
) -> None:
    """Delete the articles of changed and removed files, index the changed files, commit, then record."""
    from whoosh import index as whoosh_index

    known: dict[str, Any] = manifest["files"]
    names = [name for name in plan.files if name in plan.extract]  # sorted, like plan.files
    files = {name: entry for name, entry in known.items() if name in plan.files and name not in plan.extract}
    for name, entry in files.items():  # unchanged files: their size and mtime as hashed now
        entry["stat"] = _stat_to_record(plan, name)
    owners = {article_id: name for name, entry in files.items() for article_id in entry.get("ids", [])}

    from search.engines.embedded.writer import ArticleWriter, merge_small_segments

    ix = whoosh_index.open_dir(str(gen_dir))
    writer = ArticleWriter(ix)
    try:
        # Deletions first: Whoosh applies them to committed segments, not to documents added later
        # in the same writer. Delete by id (what the manifest recorded) and by source (belt and
        # braces, in case an earlier killed run indexed a file the manifest never heard of).
        for name in plan.removed + names:
            for article_id in known.get(name, {}).get("ids", []):
                writer.delete_by_term("id", article_id)
            writer.delete_by_term("source", name)
            report.articles_removed += len(known.get(name, {}).get("ids", []))
        _index_files(writer, plan, names, owners, files, progress, report)
        new_manifest = _new_manifest(plan, version, files)
        new_manifest["generation"] = whoosh_generation(gen_dir) + 1  # what this commit will write
        # Journal first, so a kill between the commit and the manifest write can be told apart
        # from a kill before the commit (see load_manifest).
        write_json_atomic(gen_dir / PENDING_NAME, new_manifest)
        writer.commit(mergetype=merge_small_segments)
    except BaseException:
        writer.cancel()
        (gen_dir / PENDING_NAME).unlink(missing_ok=True)
        raise
    committed = ix.latest_generation()
    ix.close()
    new_manifest["generation"] = committed
    write_json_atomic(gen_dir / MANIFEST_NAME, new_manifest)
    (gen_dir / PENDING_NAME).unlink(missing_ok=True)

    for name in names:
        if files[name]["skipped"]:
            continue
        (report.added if name not in known else report.updated).append(name)
        if name in known:
            report.reasons[name] = plan.extract[name]
    report.removed = list(plan.removed)
    for name in plan.files:
        if name not in plan.extract:
            entry = files[name]
            if entry.get("skipped"):
                report.skipped[name] = "; ".join(entry.get("problems") or ["nothing to index"])
            else:
                report.unchanged.append(name)
    report.articles_total = sum(len(entry["ids"]) for entry in files.values())
    _catalog_problems(plan, report)


def index_exists(index_dir: str | Path) -> bool:
    """True if ``index_dir`` holds a searchable index (cheap: reads the pointer only)."""
    pointer = read_pointer(Path(index_dir))
    return pointer is not None and (Path(index_dir) / pointer["generation"]).is_dir()

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

Every run also checks the index it is about to trust: the manifest records the size and sha256 of
each index file (:mod:`search.engines.embedded.integrity`), and a generation whose files no longer
match — or that cannot be read — is rebuilt in full from the seeds, announced as such. A run that
fails (a full disk) removes what it wrote; a full rebuild first deletes the previous-but-one
generation, so at most two generations take space, and checks free space before writing anything.

Nothing heavy is imported at module level: an unchanged run hashes files and returns without
importing Whoosh, opening a writer or loading a segmenter dictionary.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.atomic import fsync_dir, read_json, sha256_file, write_json_atomic
from search.engines.base import (
    BuildError,
    BuildReport,
    IndexBusy,
    Progress,
    SeedsMissing,
)
from search.engines.embedded import inplace, integrity
from search.engines.embedded.diskspace import (
    check_space,
    entries,
    expected_bytes,
    remove_new_entries,
    remove_writer_leftovers,
)
from search.ingest.files import SEED_CONFIG_FILES
from search.engines.embedded.runlock import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_NAME,
    STATUS_NAME,
    RunStatus,
    build_lock,
    describe_status,
    run_status,
)

if TYPE_CHECKING:
    from search.engines.embedded.bulk import Workers

__all__ = [
    "BuildError", "BuildReport", "IndexBusy", "Progress", "SeedsMissing", "rebuild", "read_pointer",
    "current_generation_dir", "load_manifest", "build_lock", "index_exists", "read_json", "write_json_atomic",
    "LOCK_NAME", "STATUS_NAME", "DEFAULT_LOCK_TIMEOUT", "describe_status", "run_status",
]  # fmt: skip

POINTER_NAME = "current.json"
MANIFEST_NAME = "manifest.json"
PENDING_NAME = "manifest.pending.json"
GEN_PREFIX = "gen-"
MANIFEST_FORMAT = 1
#: A seed file modified less than this many seconds before the run may still be being written
#: (``NEWSEARCH_SETTLE_SECONDS`` changes it; 0 turns the note off).
SETTLE_SECONDS = 2.0


def settle_seconds() -> float:
    """How recent a modification makes a file "maybe still being written" (the environment wins)."""
    try:
        return max(0.0, float(os.environ.get("NEWSEARCH_SETTLE_SECONDS", SETTLE_SECONDS)))
    except ValueError:
        return SETTLE_SECONDS
_GEN_DIR = re.compile(r"^gen-(\d+)$")
_WHOOSH_TOC = re.compile(r"^_MAIN_(\d+)\.toc$")  # Whoosh's TOC naming for the default index name
#: Files of the seeds directory that configure the archive and are never read as pages.
_SEED_CONFIG_FILES = SEED_CONFIG_FILES

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
            # The commit happened: adopt its manifest, with the checksums of the files it wrote (the
            # run was killed before it could record them; they are recorded as found now).
            before = read_json(gen_dir / MANIFEST_NAME)
            known = before.get("index_files") if isinstance(before, dict) else None
            pending["index_files"] = integrity.record_files(gen_dir, known if isinstance(known, dict) else None)
            write_json_atomic(gen_dir / MANIFEST_NAME, pending)
            pending_path.unlink(missing_ok=True)
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
    links: set[str] = field(default_factory=set)  # seed files that are (allowed) symbolic links
    sizes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)  # when the run listed the files (seconds)
    dictionary: Any = None  # search.ingest.dictionary.Dictionary of the seeds
    words_changed: list[str] = field(default_factory=list)  # added or removed since the manifest
    stats: dict[str, list[int]] = field(default_factory=dict)  # name -> [size, mtime_ns] when listed
    hashed_at_ns: int = 0  # when the files were listed and hashed
    restated: bool = False  # a file was re-hashed unchanged (touched): its new stat is worth recording


def _scan(seeds_dir: Path, follow_symlinks: bool = False) -> tuple[dict[str, Path], dict[str, str], set[str]]:
    from search.ingest.files import scan_seeds

    scan = scan_seeds(seeds_dir, follow_symlinks)
    return scan.files, scan.skipped, scan.links


#: A file modified less than this long before the run is hashed again next time, even if its size
#: and mtime look the same (a rewrite within the clock's granularity keeps both).
_RACY_NS = 2_000_000_000


def _trusted_hash(entry: dict[str, Any] | None, stat: list[int]) -> str | None:
    """The manifest's hash of a file whose size and mtime are those recorded with it (as git and
    rsync decide): hashing every seed file of a large archive takes seconds. The recorded hash is
    always that of bytes read and indexed (:func:`_read_stat`), so trusting it skips reading a file
    that did not move, never records a hash of bytes not read."""
    if not entry or entry.get("stat") != stat or not isinstance(entry.get("sha256"), str):
        return None
    return entry["sha256"]


def _read_stat(plan: "_Plan", result: Any) -> list[int] | None:
    """The size and mtime to record beside the hash of the bytes a read found: those of the file
    descriptor that was read, and none (hashed again next time) if the file moved while it was read
    or was modified so shortly before the run that a rewrite could keep both."""
    if result.sha256 is None or result.changed or result.size is None or result.mtime_ns is None:
        return None
    return [result.size, result.mtime_ns] if result.mtime_ns < plan.hashed_at_ns - _RACY_NS else None


def _stat_to_record(plan: "_Plan", name: str) -> list[int] | None:
    """The size and mtime to record for a file not read in this run whose hash (computed now, or
    trusted) matches its entry: none if it was modified shortly before the run."""
    stat = plan.stats.get(name)
    return stat if stat is not None and stat[1] < plan.hashed_at_ns - _RACY_NS else None


def _plan(seeds_dir: Path, manifest: dict[str, Any] | None, follow_symlinks: bool = False) -> _Plan:
    """What this run must do: hash every seed file and compare with the manifest.

    The hashes decide which files to read; the manifest records the hash of the bytes actually read
    (see :func:`_extract`), so a file that changes meanwhile is never recorded under the wrong hash.
    A file whose size and mtime are those recorded with its hash is not hashed again
    (:func:`_trusted_hash`).
    """
    from search.ingest.files import link_target_problem

    started = time.time()
    hashed_at_ns = time.time_ns()
    files, unsupported, links = _scan(seeds_dir, follow_symlinks)
    hashes, sizes = {}, {}
    stats: dict[str, list[int]] = {}
    known_files = (manifest or {}).get("files", {})
    restated = False
    for name, path in list(files.items()):
        try:
            st = path.stat()
            stats[name] = [st.st_size, st.st_mtime_ns]
            sizes[name] = st.st_size
            trusted = _trusted_hash(known_files.get(name), stats[name])
            hashes[name] = trusted or sha256_file(path)
            if trusted is None and known_files.get(name, {}).get("sha256") == hashes[name] and stats[name][1] < hashed_at_ns - _RACY_NS:
                restated = True  # touched, not changed: record the new stat so it is not hashed again
        except OSError as error:  # unreadable (permissions) or gone since the listing: skip it, by name
            del files[name]
            stats.pop(name, None)
            unsupported[name] = f"cannot read file ({error.strerror or error}); skipped"
    catalog_path = seeds_dir / "catalog.toml"
    catalog_sha = None
    if catalog_path.is_symlink() and (problem := link_target_problem(catalog_path, seeds_dir, follow_symlinks)):
        unsupported["catalog.toml"] = problem.replace("skipped", "ignored")
    elif catalog_path.is_file():
        catalog_sha = sha256_file(catalog_path)
    plan = _Plan(
        seeds_dir=seeds_dir,
        files=files,
        hashes=hashes,
        catalog_sha=catalog_sha,
        unsupported=unsupported,
        links=links,
        sizes=sizes,
        started=started,
        stats=stats,
        hashed_at_ns=hashed_at_ns,
        restated=restated,
    )
    from search.ingest.dictionary import load_dictionary

    plan.dictionary = load_dictionary(seeds_dir)
    if manifest is None:
        plan.extract = {name: "new" for name in files}
        return plan
    plan.words_changed = _words_changed(manifest, plan.dictionary.words)
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
    # A file whose articles lost an id clash gets another chance when the owner goes or changes, and
    # whenever the owner comes later by name (the rule is "first by name", whatever the history).
    waiting = set(files) - set(plan.extract)
    shadowing = {name: entry["shadowed"] for name, entry in known.items() if entry.get("shadowed") and name in waiting}
    if not shadowing:  # the usual case: no id clash, so no need to map a million ids to their files
        return plan
    leaving = set(plan.extract) | set(plan.removed)
    owners = {article_id: name for name, entry in known.items() for article_id in entry.get("ids", [])}
    for name, shadowed in shadowing.items():
        shadowed_by = [owners.get(article_id) for article_id in shadowed]
        if any(owner in leaving for owner in shadowed_by):
            plan.extract[name] = "duplicate id released"
        elif any(owner is not None and owner > name for owner in shadowed_by):
            plan.extract[name] = "duplicate id: this file comes first by name"
    return plan


def _manifest_words(manifest: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The archive dictionary an index was built with (``(word, tag)`` pairs; none before it existed)."""
    entry = (manifest or {}).get("dictionary") or {}
    return [(str(word), str(tag)) for word, tag in entry.get("words", []) if word]


def _words_changed(manifest: dict[str, Any], words: list[tuple[str, str]]) -> list[str]:
    """Words added, removed or retagged since the index was built."""
    before, now = dict(_manifest_words(manifest)), dict(words)
    return sorted(word for word in before.keys() | now.keys() if before.get(word) != now.get(word))


def _catalog_entry(plan: _Plan, name: str) -> dict[str, Any] | None:
    if plan.catalog is None:
        plan.catalog = {}
        if plan.catalog_sha is not None and "catalog.toml" not in plan.unsupported:
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
    follow_symlinks: bool = False,
    file_timeout: float | None = None,
    verify: bool = False,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with the seed files in ``seeds_dir``.

    Incremental by default: only new and changed files are extracted, removed files' articles are
    deleted, and an unchanged run only hashes files. ``full=True`` (or a changed ANALYSIS_VERSION, a
    missing/inconsistent manifest, or a damaged index) builds a new index generation aside and switches
    to it atomically. Searches keep working throughout; a run killed at any moment leaves the previous
    index searchable and the next run completes the work. Full builds use ``jobs`` processes (default:
    every core the process may use, or ``NEWSEARCH_JOBS``; see :mod:`search.engines.embedded.bulk`).

    Each file is read under a time budget (``file_timeout`` seconds, default ``$NEWSEARCH_FILE_TIMEOUT``
    or 30; see :mod:`search.ingest.workers`). Symbolic links in ``seeds_dir`` pointing outside it are
    skipped unless ``follow_symlinks``. The index files are checked against the manifest's checksums
    before an incremental run (files whose mtime moved are hashed; ``verify=True`` hashes all of them).
    Raises :class:`BuildError` subclasses for a missing seeds directory, a busy lock, too little free
    space, or an index that cannot be written.
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
    options = _RunOptions(progress=progress, follow_symlinks=follow_symlinks, file_timeout=file_timeout)
    try:
        with build_lock(index, timeout, on_wait=say):
            options.status = RunStatus(index, full)
            _rebuild_locked(seeds, index, full, options, report, jobs, verify)
    except OSError as error:
        raise BuildError(f"cannot write the index in {index}: {error.strerror or error}") from error
    report.seconds = time.perf_counter() - started
    return report


def _damage(gen_dir: Path, manifest: dict[str, Any], full: bool) -> list[str]:
    """What is wrong with the generation's index files (empty when they match the manifest)."""
    recorded = manifest.get("index_files")
    if not isinstance(recorded, dict) or not recorded:
        return ["the manifest holds no checksums of the index files (written by an older version)"]
    problems = integrity.verify(gen_dir, recorded, full=full)
    toc = f"_MAIN_{manifest.get('generation')}.toc"
    if toc not in recorded:
        problems.append(f"the manifest does not vouch for the index's table of contents ({toc})")
    return problems


def _rebuild_locked(
    seeds: Path,
    index: Path,
    full: bool,
    options: _RunOptions,
    report: BuildReport,
    jobs: int | None,
    verify: bool = False,
) -> None:
    from search.analysis import ANALYSIS_VERSION

    pointer = read_pointer(index)
    gen_dir = current_generation_dir(index)
    keep = {name for name in ((pointer or {}).get("generation"), (pointer or {}).get("previous")) if name}
    _remove_stale_generations(index, keep)  # leftovers of killed full builds
    if gen_dir is not None:
        remove_writer_leftovers(gen_dir)

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
    else:
        assert gen_dir is not None
        damage = _damage(gen_dir, manifest, full=verify)
        if damage:
            report.damaged = damage
            reason = "index damaged: " + "; ".join(damage[:3]) + (f"; and {len(damage) - 3} more" if len(damage) > 3 else "")
    if reason is not None:
        report.full, report.full_reason = True, reason
        manifest = None

    plan = _plan(seeds, manifest, options.follow_symlinks)
    report.skipped.update(plan.unsupported)
    _dictionary_problems(plan, report)
    if manifest is not None and not plan.extract and not plan.removed and not plan.words_changed:
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

    from search.analysis import archive_words

    report.dictionary_changed = list(plan.words_changed)
    # Everything segmented in this run (workers forked to read files or to write segments inherit
    # the context) uses the archive's own words.
    with archive_words(plan.dictionary.words):
        if not report.full:
            assert gen_dir is not None and manifest is not None and pointer is not None
            try:
                _incremental_build(gen_dir, manifest, plan, options, report, ANALYSIS_VERSION)
                report.generation = pointer["generation"]
                return
            except IndexUnreadable as error:
                # Damage the checksums did not show (or a manifest that vouched for damaged files):
                # start again from the seeds, into a new generation.
                fresh = BuildReport(seeds_dir=report.seeds_dir, index_dir=report.index_dir)
                report.__dict__.update(fresh.__dict__)
                report.full, report.full_reason = True, f"index damaged: {error}"
                report.damaged = [str(error)]
                before = manifest
                plan = _plan(seeds, None, options.follow_symlinks)
                report.skipped.update(plan.unsupported)
        from search.engines.embedded.bulk import worker_count  # extraction's modules: a full build only

        _full_build(index, pointer, plan, options, report, ANALYSIS_VERSION, worker_count(jobs))
        if before is not None:
            report.removed = sorted(name for name in before["files"] if name not in plan.files)


#: Notes about one run's reading (see :func:`_read_problems`); manifests written before those notes
#: were kept out of them may still hold some, which later runs must not repeat.
_RUN_NOTES = ("indexed as read (the next run reads it again if it changes)", "changed during this run (after it was listed)")


def _lasting(problems: list[str]) -> list[str]:
    return [problem for problem in problems if not any(note in problem for note in _RUN_NOTES)]


def _report_unchanged(report: BuildReport, manifest: dict[str, Any], plan: _Plan) -> None:
    for name in plan.files:
        entry = manifest["files"][name]
        if entry.get("skipped"):
            report.skipped[name] = "; ".join(entry.get("problems") or ["nothing to index"])
        else:
            report.unchanged.append(name)
        if entry.get("refused"):
            report.refused[name] = "; ".join(entry.get("problems") or [])
        if _lasting(entry.get("problems") or []) and not entry.get("skipped"):
            report.problems[name] = _lasting(entry["problems"])
    report.articles_total = sum(len(entry.get("ids", [])) for entry in manifest["files"].values())


#: ``on_reading(files done, {file name: .jsonl line or None})``: the files being read right now.
Reading = Callable[[int, dict[str, int | None]], None]


class IdOwners:
    """Which seed file owns each article id, for the duplicate-id rule of an incremental run: the
    ids of the files read in this run as they are read, and those of the unchanged files.

    The unchanged files' map (a million ids at a million articles, 0.3 s to build) is built only
    when an id read now is in the index already (``indexed``); new articles with new ids never
    need it.
    """

    def __init__(self, unchanged: dict[str, Any], indexed: Callable[[str], bool]) -> None:
        self._unchanged = unchanged
        self._indexed = indexed
        self._read: dict[str, str] = {}
        self._known: dict[str, str] | None = None

    def get(self, article_id: str) -> str | None:
        """The file that owns ``article_id``, or None."""
        if article_id in self._read:
            return self._read[article_id]
        if self._known is None:
            if not self._indexed(article_id):
                return None
            self._known = {known: name for name, entry in self._unchanged.items() for known in entry.get("ids", [])}
        return self._known.get(article_id)

    def __setitem__(self, article_id: str, name: str) -> None:
        self._read[article_id] = name


def _extract(
    plan: _Plan,
    names: list[str],
    owners: IdOwners | dict[str, str],
    report: BuildReport,
    workers: Workers | None = None,
    *,
    taken: dict[str, list[tuple[str, str]]] | None = None,
    on_reading: Reading | None = None,
    file_timeout: float | None = None,
) -> Iterator[tuple[str, list[Any], dict[str, Any]]]:
    """Extract each file and settle id clashes; yield ``(name, kept articles, manifest entry)``.

    Files are read in worker processes under a time budget per file (see
    :mod:`search.ingest.workers`): a file past it is skipped by name and the others go on. With
    ``workers`` (a :class:`search.engines.embedded.bulk.Workers`, full builds) they are read in
    parallel without the inferred metadata, which :func:`search.engines.embedded.bulk.write_articles`
    adds; without, in one worker, completely. Results arrive in ``names`` order either way.

    The manifest entry records the sha256 of the bytes that were read, so a file rewritten during
    the run is recorded with the content that was indexed, never under its old hash.

    Duplicate ids, one rule for every kind of run: the copy in the file that comes first by name
    keeps an id (within a file, the first copy); later copies are skipped and reported by name.
    When a file read now comes before the current owner of an id — a file not read in this run —
    it takes the id, and ``{owner: [(id, taker)]}`` is noted in ``taken`` for the caller to remove.
    """
    from search.engines.embedded.bulk import read_files
    from search.ingest.workers import ReadJob
    from search.ingest.workers import read_files as read_in_workers

    reading = set(names)
    jobs = [ReadJob(plan.files[name], _catalog_entry(plan, name), name in plan.links) for name in names]
    done = 0

    def on_progress(current: dict[str, int | None]) -> None:
        if on_reading is not None:
            on_reading(done, current)

    if workers is not None:
        results = read_files(jobs, workers, timeout=file_timeout, on_progress=on_progress)
    else:
        results = read_in_workers(jobs, processes=1, metadata=True, timeout=file_timeout, on_progress=on_progress)
    for name, result in zip(names, results):
        done += 1
        problems = list(result.problems)
        # What this run saw while reading (a file modified just before it) is said in this run's
        # report only: kept in the manifest, a later run would repeat "before this run" of itself.
        this_run = _read_problems(plan, name, result)
        problems += this_run
        kept, shadowed = [], []
        for article in result.articles:
            owner = owners.get(article.id)
            if owner is not None and taken is not None and owner not in reading and name < owner:
                # This file comes first by name: it takes the id from a file not read in this run.
                taken.setdefault(owner, []).append((article.id, name))
                report.duplicates.append(f"{owner}: {article.id} (kept the one in {name}, which comes first by name)")
                owner = None
            if owner is not None:
                where = "earlier in this file" if owner == name else f"in {owner}, which comes first by name"
                problems.append(f"duplicate article id {article.id} (already {where}); skipped")
                report.duplicates.append(f"{name}: {article.id} (kept the one {where})")
                shadowed.append(article.id)
                continue
            owners[article.id] = name
            kept.append(article)
        entry = {
            "sha256": result.sha256 or plan.hashes[name],
            "size": result.size if result.size is not None else plan.sizes.get(name),
            "stat": _read_stat(plan, result),
            "catalog": _digest(_catalog_entry(plan, name)),
            "ids": [article.id for article in kept],
            "shadowed": shadowed,
            "problems": [problem for problem in problems if problem not in this_run],
            "skipped": bool(result.skipped or not kept),
            "refused": result.refused,
        }
        if problems:
            report.problems[name] = problems
        if entry["skipped"]:
            report.skipped[name] = "; ".join(problems) or "no articles found"
        if result.refused:
            report.refused[name] = "; ".join(problems)
        yield name, kept, entry


def _read_problems(plan: _Plan, name: str, result: Any) -> list[str]:
    """What reading showed about a file being written: changed since it was listed, or modified
    just before the run (it may still be growing)."""
    problems = []
    if result.sha256 is not None and result.sha256 != plan.hashes.get(name) and not result.changed:
        problems.append("changed during this run (after it was listed); the content read was indexed")
    if result.mtime_ns is not None:
        age = plan.started - result.mtime_ns / 1e9
        if age < settle_seconds():
            when = "during this run" if age < 0 else f"{age:.1f} s before this run"
            problems.append(
                f"modified {when}: it may still be being written; indexed as read (the next run reads it again if it changes)"
            )
    return problems


def _give_up_ids(files: dict[str, Any], taken: dict[str, list[tuple[str, str]]], report: BuildReport) -> None:
    """Record in their manifest entries the ids files not read in this run lost to a file first by name."""
    for owner, lost in taken.items():
        entry = files.get(owner)
        if entry is None:
            continue
        ids = {article_id for article_id, _taker in lost}
        entry["ids"] = [article_id for article_id in entry.get("ids", []) if article_id not in ids]
        entry["shadowed"] = list(entry.get("shadowed", [])) + sorted(ids)
        entry["problems"] = list(entry.get("problems", [])) + [
            f"duplicate article id {article_id} (also in {taker}, which comes first by name); skipped"
            for article_id, taker in lost
        ]
        report.problems[owner] = entry["problems"]
        if not entry["ids"]:
            entry["skipped"] = True


def _new_manifest(plan: _Plan, analysis_version: str, files: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "analysis_version": analysis_version,
        "catalog_sha": plan.catalog_sha,
        "dictionary": _dictionary_entry(plan),
        "built_at": _now(),
        "files": files,
    }


@dataclass
class _RunOptions:
    """How this run reads files and reports progress."""

    progress: Progress | None = None
    status: RunStatus | None = None
    follow_symlinks: bool = False
    file_timeout: float | None = None

    def on_reading(self, total: int) -> Reading:
        """A callback for :func:`_extract`: the status file and the progress bar follow the reading."""

        def on_reading(done: int, current: dict[str, int | None]) -> None:
            if self.status is not None:
                self.status.reading(done, total, current)
            if self.progress is not None and current:
                label = ", ".join(f"{name} (line {line:,})" if line else name for name, line in current.items())
                self.progress(done, total, label)

        return on_reading


def _index_files(
    writer: Any,
    plan: _Plan,
    names: list[str],
    owners: IdOwners | dict[str, str],
    files: dict[str, Any],
    options: _RunOptions,
    report: BuildReport,
    searcher: Any = None,
) -> None:
    from search.engines.embedded.schema import add_articles

    total = len(names)
    taken: dict[str, list[tuple[str, str]]] = {}
    extracted = _extract(plan, names, owners, report, taken=taken, on_reading=options.on_reading(total), file_timeout=options.file_timeout)
    for done, (name, articles, entry) in enumerate(extracted, start=1):
        if articles:
            report.articles_added += add_articles(writer, articles)
        files[name] = entry
        if options.progress is not None:
            options.progress(done, total, name)
    # Ids an earlier-named file took from a file not read now: its committed copies go.
    for lost in taken.values():
        for article_id, _taker in lost:
            writer.delete_by_term("id", article_id, searcher=searcher)
            report.articles_removed += 1
    _give_up_ids(files, taken, report)


def _dictionary_problems(plan: _Plan, report: BuildReport) -> None:
    if plan.dictionary is not None and plan.dictionary.problems:
        report.problems["dictionary.toml"] = list(plan.dictionary.problems)


def _dictionary_entry(plan: _Plan) -> dict[str, Any]:
    return {"sha256": plan.dictionary.sha256, "words": [list(pair) for pair in plan.dictionary.words]}


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _catalog_problems(plan: _Plan, report: BuildReport) -> None:
    if plan.catalog_problems:
        report.problems["catalog.toml"] = list(plan.catalog_problems)


def _expected_bytes(plan: _Plan, names: list[str], like: Path | None = None, manifest: dict[str, Any] | None = None) -> int:
    """About how many bytes an index of ``names`` takes (see :func:`diskspace.expected_bytes`)."""
    return expected_bytes(sum(plan.sizes.get(name, 0) for name in names), like, manifest)


def _full_build(
    index: Path,
    pointer: dict[str, Any] | None,
    plan: _Plan,
    options: _RunOptions,
    report: BuildReport,
    version: str,
    workers: Workers,
) -> None:
    """Build a new generation directory from every seed file, then switch the pointer to it.

    At most two generations take space: the previous-but-one is deleted before the new one is
    written (the current one stays for searchers that have it open until the switch), and the free
    space is checked against the expected size before anything is written.
    """
    from whoosh import index as whoosh_index

    from search.engines.embedded.bulk import write_articles
    from search.engines.embedded.schema import build_schema

    current = pointer.get("generation") if pointer else None
    _remove_stale_generations(index, {current} - {None})
    names = list(plan.files)
    like = index / current if current and (index / current).is_dir() else None
    check_space(index, _expected_bytes(plan, names, like), f"a full build of {len(names)} seed files")
    numbers = _generation_dirs(index)
    name = f"{GEN_PREFIX}{max(numbers.values(), default=0) + 1:06d}"
    gen_dir = index / name
    files: dict[str, Any] = {}
    total_bytes = sum(plan.sizes.get(n, 0) for n in names)
    try:
        gen_dir.mkdir()
        ix = whoosh_index.create_in(str(gen_dir), build_schema())
        # Articles stream from the readers to the writers a chunk at a time (the parent never holds
        # the archive). Progress counts the files, then one last step for the writing still running
        # after the last file is read; the label says how many articles were read and written.
        steps = len(names) + 1
        state = {"files": 0, "read": 0, "written": 0, "bytes": 0}

        def counts() -> str:
            return f"{state['read']:,} articles read, {state['written']:,} written"

        def show(label: str) -> None:
            if options.progress is not None:
                options.progress(state["files"], steps, f"{label} · {counts()}")

        def on_reading(done: int, current: dict[str, int | None]) -> None:
            if options.status is not None:
                options.status.reading(done, steps, current)
            if current:
                show(", ".join(f"{n} (line {line:,})" if line else n for n, line in current.items()))

        def on_written(count: int) -> None:
            state["written"] = count
            show("writing" if state["files"] == len(names) else names[state["files"] - 1] if state["files"] else "reading")

        def articles() -> Iterator[Any]:
            extracted = _extract(plan, names, {}, report, workers, on_reading=on_reading, file_timeout=options.file_timeout)
            for file_name, kept, entry in extracted:
                files[file_name] = entry
                state["files"] += 1
                state["read"] += len(kept)
                state["bytes"] += plan.sizes.get(file_name, 0)
                show(file_name)  # "name · N articles read, M written"
                yield from kept
            if options.status is not None:
                options.status.update(force=True, phase=f"writing: {counts()}", current={})

        def expected() -> int:  # articles to expect (it sets the chunk size only)
            if not state["bytes"]:
                return max(1, total_bytes // 3000)  # about 3 KB of UTF-8 Chinese an article
            return max(state["read"], round(state["read"] * total_bytes / state["bytes"]))

        for problem in write_articles(ix, articles(), workers, expected, on_written):
            source, _, text = problem.partition(": ")
            files[source]["problems"].append(text)
            report.problems[source] = files[source]["problems"]
        report.articles_added = state["read"]
        if options.progress is not None:
            options.progress(steps, steps, f"done · {state['read']:,} articles")
        manifest = _new_manifest(plan, version, files)
        manifest["generation"] = ix.latest_generation()
        ix.close()
        manifest["index_files"] = integrity.record_files(gen_dir)
        write_json_atomic(gen_dir / MANIFEST_NAME, manifest)
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)  # never pointed to; readers never saw it
        raise
    # The switch: readers see the old generation until this os.replace, the new one after it.
    write_json_atomic(
        index / POINTER_NAME,
        {"generation": name, "previous": current, "analysis_version": version, "switched_at": _now()},
    )
    _remove_stale_generations(index, {name, current} - {None})
    report.added = [n for n in names if not files[n]["skipped"]]
    report.articles_total = sum(len(entry["ids"]) for entry in files.values())
    report.generation = name
    _catalog_problems(plan, report)


class IndexUnreadable(BuildError):
    """The current generation could not be read while updating it (damage the checksums missed)."""


def _incremental_build(
    gen_dir: Path, manifest: dict[str, Any], plan: _Plan, options: _RunOptions, report: BuildReport, version: str
) -> None:
    """Delete the articles of changed and removed files, index the changed files, commit, then record.

    A failure (a full disk) removes whatever the run wrote into the generation directory; an index
    that cannot be read raises :class:`IndexUnreadable` (the caller rebuilds in full).
    """
    from search.engines.embedded.writer import ArticleWriter

    known: dict[str, Any] = manifest["files"]
    names = [name for name in plan.files if name in plan.extract]  # sorted, like plan.files
    files = {name: entry for name, entry in known.items() if name in plan.files and name not in plan.extract}
    for name, entry in files.items():  # unchanged files: their size and mtime as hashed now
        entry["stat"] = _stat_to_record(plan, name)
    # Room for the new segment, and for Whoosh merging small segments into one at the commit.
    check_space(gen_dir, 2 * _expected_bytes(plan, names, gen_dir, manifest), f"updating {len(names)} seed files")

    from search.engines.embedded.schema import add_articles
    from search.engines.embedded.writer import merge_small_segments

    before = entries(gen_dir)
    try:
        ix = inplace.open_dir(str(gen_dir))
        writer = ArticleWriter(ix)
    except OSError:
        remove_new_entries(gen_dir, before)
        raise
    except Exception as error:  # noqa: BLE001 - a damaged TOC or segment: rebuild instead
        remove_new_entries(gen_dir, before)
        raise IndexUnreadable(f"the index could not be opened ({type(error).__name__}: {error})") from error
    deleting = None
    try:
        # One searcher of the committed segments for every deletion: without one, Whoosh opens a
        # reader of every segment per deleted term (18 ms at a million articles: 18 s for one
        # changed 1,000-article export).
        deleting = writer.searcher()
        # Deletions first: Whoosh applies them to committed segments, not to documents added later
        # in the same writer. Delete by id (what the manifest recorded) and by source (belt and
        # braces, in case an earlier killed run indexed a file the manifest never heard of).
        for name in plan.removed + names:
            for article_id in known.get(name, {}).get("ids", []):
                writer.delete_by_term("id", article_id, searcher=deleting)
            writer.delete_by_term("source", name, searcher=deleting)
            report.articles_removed += len(known.get(name, {}).get("ids", []))
        if plan.words_changed:
            # Only articles whose text holds a changed word are cut differently now: rewrite those
            # (from their stored fields) and leave every other article, and every file, alone.
            leaving = set(plan.removed) | set(names)
            stored = _articles_holding(ix, plan.words_changed, leaving)
            for article in stored:
                writer.delete_by_term("id", article.id, searcher=deleting)
            report.articles_reindexed = add_articles(writer, stored)
        id_reader = deleting.reader()
        owners = IdOwners(files, indexed=lambda article_id: id_reader.doc_frequency("id", article_id) > 0)
        _index_files(writer, plan, names, owners, files, options, report, searcher=deleting)
        deleting.close()
        deleting = None
        new_manifest = _new_manifest(plan, version, files)
        new_manifest["generation"] = whoosh_generation(gen_dir) + 1  # what this commit will write
        if options.status is not None:
            options.status.update(force=True, phase="committing", current={})
        # Journal first, so a kill between the commit and the manifest write can be told apart
        # from a kill before the commit (see load_manifest).
        write_json_atomic(gen_dir / PENDING_NAME, new_manifest)
        writer.commit(mergetype=merge_small_segments)
    except BaseException as error:
        if deleting is not None:
            deleting.close()
        try:
            writer.cancel()
        except Exception:  # noqa: BLE001 - a full disk may fail the cancel too; the files go anyway
            pass
        (gen_dir / PENDING_NAME).unlink(missing_ok=True)
        remove_new_entries(gen_dir, before)
        if isinstance(error, Exception) and not isinstance(error, (OSError, BuildError)):
            raise IndexUnreadable(f"the index could not be updated ({type(error).__name__}: {error})") from error
        raise
    committed = ix.latest_generation()
    ix.close()
    new_manifest["generation"] = committed
    new_manifest["index_files"] = integrity.record_files(gen_dir, manifest.get("index_files"))
    write_json_atomic(gen_dir / MANIFEST_NAME, new_manifest)
    (gen_dir / PENDING_NAME).unlink(missing_ok=True)

    report_incremental(report, plan, names, known, files)


def report_incremental(report: BuildReport, plan: _Plan, names: list[str], known: dict[str, Any], files: dict[str, Any]) -> None:
    """Fill ``report`` after an incremental run of any engine: the files read (``names``) added or
    updated, the rest unchanged, skipped or refused, the total and the catalog's problems.
    ``known`` is the manifest's files before the run, ``files`` the manifest's files after it."""
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
            if entry.get("refused"):
                report.refused[name] = "; ".join(entry.get("problems") or [])
    report.articles_total = sum(len(entry["ids"]) for entry in files.values())
    _catalog_problems(plan, report)


def _articles_holding(ix: Any, words: list[str], leaving: set[str]) -> list[Any]:
    """The committed articles whose normalised headline or body contains any of ``words`` (skipping
    those of the files in ``leaving``, which this run deletes or re-extracts anyway)."""
    from search.analysis import normalize
    from search.engines.embedded.doctable import doc_table
    from search.engines.embedded.schema import document_to_article

    found: dict[int, None] = {}
    with ix.searcher() as searcher:
        table = doc_table(searcher)
        for word in words:
            needle = normalize(word).encode("utf-8")
            for docnum in table.text.occurrences(needle, None, False, None):
                if table.row_of[docnum] >= 0:
                    found.setdefault(docnum)
        articles = [document_to_article(searcher.stored_fields(docnum)) for docnum in sorted(found)]
    return [article for article in articles if article.source not in leaving]


def index_exists(index_dir: str | Path) -> bool:
    """True if ``index_dir`` holds a searchable index (cheap: reads the pointer only)."""
    pointer = read_pointer(Path(index_dir))
    return pointer is not None and (Path(index_dir) / pointer["generation"]).is_dir()

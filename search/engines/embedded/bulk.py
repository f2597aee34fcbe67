"""Full builds on every core: extraction and Whoosh segment writing in worker processes.

A full build is CPU-bound Python: cutting pages into articles, inferring their metadata (a tagging
pass over every text), segmenting, Whoosh encoding postings, and the segment store's n-gram
postings. It runs as a stream, on every core:

1. **Reading.** A pool of workers reads the seed files and cuts them into articles, without the
   costly metadata inference; results come back in file order, so duplicate ids are settled
   exactly as in a serial run.
2. **Writing.** As the articles arrive they are cut into chunks (:func:`chunk_size`: the archive
   split evenly between the workers, at most :data:`MAX_ARTICLES_PER_SEGMENT` a chunk); each chunk
   is handed to a writer process forked for it, which infers the chunk's metadata and writes it as
   one Whoosh segment (and its store) in the new generation directory. At most one writer per
   worker runs at a time; when all are busy, reading waits. The parent then commits one TOC listing
   every segment, in chunk order, through Whoosh's documented custom ``mergetype`` hook: readers see
   the whole build at once or not at all, and document numbers follow file order.

Streaming is what keeps a large build linear: the parent never holds the archive (a million
Article objects are gigabytes of Python objects, which forked writers would copy page by page as
the garbage collector touched them), each writer's memory is bounded by its chunk, and writers keep
the collector off what they inherited (:func:`_few_collections`).

Writers are forked (they inherit their chunk without pickling, and the segmenter dictionary already
loaded) and die with their parent (Linux ``PR_SET_PDEATHSIG``): a killed build leaves no orphan
writing into a directory that the next run deletes, nor holding the inherited build-lock descriptor.
Where ``fork`` is unavailable, with one core, or for small inputs, everything runs in this process.

Whoosh coupling: a worker closes its segment with ``SegmentWriter._finalize_segment()``, the method
Whoosh's own multiprocessing writer (``whoosh.multiproc``) uses for the same purpose. Whoosh is pinned
to 2.7.x (its last line), so this private method will not move.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.engines.embedded import inplace
from search.model import Article
from search.ingest.sources import SeedFileResult, add_metadata
from search.ingest.workers import ReadJob, die_with_parent
from search.ingest.workers import read_files as read_in_workers

#: Below this many bytes of seed files, forking readers costs more than it saves.
MIN_PARALLEL_BYTES = 512 * 1024
#: Below this many articles per worker, one process writes faster than several.
MIN_ARTICLES_PER_WORKER = 400
#: A writer holds its segment's postings in memory (~30 bytes each, ~250 an article): this bounds it.
MAX_ARTICLES_PER_SEGMENT = 20_000
_PROGRESS_STEP = 500  # articles between two progress counts of a writer
READ_AHEAD = 2  # files read ahead per reading process


@dataclass(frozen=True)
class Workers:
    """How many processes a full build uses, and whether the user asked for exactly that."""

    count: int
    explicit: bool = False  # --jobs / NEWSEARCH_JOBS: used even for inputs too small to gain from it


def worker_count(requested: int | None = None) -> Workers:
    """Processes for a full build: ``requested`` (``--jobs``), else ``NEWSEARCH_JOBS``, else the cores
    this process may run on. One where ``fork`` is unavailable."""
    explicit = requested is not None
    if requested is None:
        env = os.environ.get("NEWSEARCH_JOBS", "").strip()
        if env.isdigit():
            requested, explicit = int(env), True
    if requested is None:
        try:
            requested = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            requested = os.cpu_count() or 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return Workers(1)
    return Workers(max(1, min(int(requested), 64)), explicit)


def read_files(
    jobs: Sequence[ReadJob], workers: Workers, timeout: float | None = None, on_progress: Any = None
) -> Iterator[SeedFileResult]:
    """Read each job's file into articles *without* inferred metadata, in order.

    :func:`write_articles` infers the metadata. Uses ``workers.count`` processes unless the input is
    too small to gain from them; every file is read under the time budget of
    :mod:`search.ingest.workers`.
    """
    size = sum(_file_size(job.path) for job in jobs)
    count = min(workers.count, len(jobs))
    if count < 2 or (size < MIN_PARALLEL_BYTES and not workers.explicit):
        count = 1
    # Results in file order (the duplicate-id rule), each file in a process that can be stopped, and
    # at most READ_AHEAD files per reader read ahead of what the caller has taken: reading is faster
    # than writing, and an unbounded backlog of results would hold the whole archive in this process.
    yield from read_in_workers(
        jobs, processes=count, metadata=False, timeout=timeout, on_progress=on_progress, read_ahead=READ_AHEAD * count
    )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _complete(articles: Sequence[Article]) -> list[str]:
    """Infer every article's metadata; an article whose inference fails keeps its text, reported."""
    problems = []
    for article in articles:
        try:
            add_metadata(article)
        except Exception as error:  # noqa: BLE001 - one odd text must not lose the others
            problems.append(f"{article.source}: metadata of article {article.id} not inferred ({type(error).__name__}: {error})")
    return problems


@contextmanager
def _few_collections() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects already alive (``gc.freeze``) and make it
    run rarely while a segment is written.

    A writer allocates millions of small lists (postings) that form no cycles, and a forked writer
    inherits its parent's heap: with the default thresholds every full collection walked all of it,
    touching (and so copying) every inherited page. Measured on a writer's workload (20,000 articles'
    postings) forked from a parent holding 200,000 articles: 22.8 s, 16.4 s of it in the collector;
    with this, 5.7 s, 0.4 s in the collector — the same as from an empty parent.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _segments_of(ix: Any, shares: Sequence[Sequence[Article]], written: Any = None) -> tuple[list[Any], list[str]]:
    """Write each share as a new, uncommitted segment of ``ix``: Whoosh's segment descriptors, and
    the problems met inferring metadata. ``written`` (a shared counter) counts the articles added."""
    with _few_collections():
        return _write_segments(ix, shares, written)


def _write_segments(ix: Any, shares: Sequence[Sequence[Article]], written: Any) -> tuple[list[Any], list[str]]:
    from search.engines.embedded.schema import add_articles
    from search.engines.embedded.writer import ArticleWriter

    segments, problems = [], []
    for share in shares:
        if not share:
            continue
        # _lk=False: the parent's writer holds the index's write lock for the whole build.
        writer = ArticleWriter(ix, _lk=False)
        for start in range(0, len(share), _PROGRESS_STEP):
            part = share[start : start + _PROGRESS_STEP]
            problems += _complete(part)
            add_articles(writer, part)
            if written is not None:
                with written.get_lock():
                    written.value += len(part)
        segments.append(writer._finalize_segment())
    return segments, problems


#: The chunk a writer about to be forked inherits (set just before the fork, cleared right after, so
#: that the parent's memory is not held by a Process object's arguments until the writer is done).
_handed_over: list[Article] = []


def _write_chunk(gen_dir: str, written: Any, send: Any) -> None:
    """Worker: write the inherited chunk as one segment of the index in ``gen_dir``; send the result back."""
    die_with_parent()
    try:
        send.send(("ok", _segments_of(inplace.open_dir(gen_dir), [_handed_over], written)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the build
        send.send(("error", traceback.format_exc(limit=6)))
    finally:
        send.close()


class WorkerFailed(RuntimeError):
    """A segment-writing worker failed or died."""


@dataclass
class _Running:
    number: int  # the chunk's place in document order
    process: Any
    receive: Any
    size: int


def chunk_size(expected_articles: int, workers: Workers) -> int:
    """Articles per segment: the archive split evenly between the workers, in segments of at most
    :data:`MAX_ARTICLES_PER_SEGMENT` (the writer's memory) and at least :data:`MIN_ARTICLES_PER_WORKER`."""
    count = max(1, workers.count)
    per_worker = max(1, math.ceil(expected_articles / (count * MAX_ARTICLES_PER_SEGMENT)))
    size = math.ceil(expected_articles / (count * per_worker))
    return max(1 if workers.explicit else MIN_ARTICLES_PER_WORKER, min(MAX_ARTICLES_PER_SEGMENT, size))


def write_articles(
    ix: Any,
    articles: Iterable[Article],
    workers: Workers,
    expected: Callable[[], int] = lambda: 0,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Infer the metadata of ``articles`` (read by :func:`read_files`, arriving in document order),
    write them into the empty index ``ix`` and commit, using up to ``workers.count`` processes.

    Articles are taken as they come, ``chunk_size(expected())`` at a time (``expected()``: the
    number of articles foreseen, an estimate that may improve as files are read); each chunk is
    written as one segment by a worker forked
    for it, so the parent holds only the chunks not yet handed over, never the archive.
    ``progress(written)`` is called with the number of articles written so far, now and then.

    Returns the problems met (articles whose metadata could not be inferred; they are indexed
    anyway). Raises :class:`WorkerFailed` if a worker fails; nothing is committed then.
    """
    from search.engines.embedded.writer import ArticleWriter

    parallel = workers.count > 1 and (workers.explicit or expected() >= 2 * MIN_ARTICLES_PER_WORKER)
    writer = ArticleWriter(ix)  # holds the write lock; commits the segments the others write
    context = multiprocessing.get_context("fork")
    written = context.Value("q", 0, lock=True)
    running: list[_Running] = []
    done: dict[int, list[Any]] = {}
    problems: list[str] = []

    def report() -> None:
        if progress is not None:
            progress(int(written.value))

    def collect(block: bool) -> None:
        for job in list(running):
            if block or not job.process.is_alive() or job.receive.poll(0):
                segments, their_problems = _collect(job.process, job.receive)
                done[job.number] = segments
                problems.extend(their_problems)
                running.remove(job)
                return

    def hand_over(number: int, chunk: list[Article]) -> None:
        if parallel and number == 0:
            _load_models(chunk[0])  # once here, inherited by every writer forked after
        if not parallel:
            segments, their_problems = _segments_of(ix, [chunk], written)
            done[number] = segments
            problems.extend(their_problems)
            report()
            return
        while len(running) >= workers.count:  # all busy: wait for one (this also bounds memory)
            _wait_any(running, report)
            collect(block=False)
        global _handed_over
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_write_chunk, args=(str(ix.storage.folder), written, send), daemon=True)
        _handed_over = chunk
        try:
            process.start()
        finally:
            _handed_over = []
        send.close()
        running.append(_Running(number, process, receive, len(chunk)))

    try:
        chunk: list[Article] = []
        number = 0
        for article in articles:
            chunk.append(article)
            if len(chunk) >= chunk_size(max(expected(), 1), workers) and parallel or len(chunk) >= MAX_ARTICLES_PER_SEGMENT:
                hand_over(number, chunk)
                number, chunk = number + 1, []
                report()
        if chunk:
            hand_over(number, chunk)
            number += 1
        while running:
            _wait_any(running, report)
            collect(block=False)
        segments = [segment for key in sorted(done) for segment in done[key]]
        report()
        # Whoosh's custom merge hook: the new segment list is every chunk's segment, in order.
        writer.commit(mergetype=lambda _writer, existing: list(existing) + segments)
        return problems
    except BaseException:
        for job in running:
            job.process.kill()
        writer.cancel()
        raise


def _load_models(sample: Article) -> None:
    """Load the segmenter and the metadata models (dictionaries, idf tables) in this process, by
    analysing a copy of one article, so that writers forked later inherit them instead of each
    loading its own."""
    import copy

    from search.engines.embedded.schema import article_to_document

    probe = copy.deepcopy(sample)
    try:
        add_metadata(probe)
        article_to_document(probe)
    except Exception:  # noqa: BLE001 - the writer reports the article's problem itself
        pass


def _wait_any(running: Sequence[_Running], report: Callable[[], None]) -> None:
    """Wait until a running worker has sent its result or died, reporting progress meanwhile."""
    from multiprocessing.connection import wait

    while True:
        ready = wait([job.receive for job in running] + [job.process.sentinel for job in running], timeout=0.5)
        report()
        if ready:
            return


def _collect(process: Any, receive: Any) -> Any:
    """What a worker sent (its segments and problems), or :class:`WorkerFailed`."""
    try:
        status, payload = receive.recv()
    except EOFError:
        process.join()
        raise WorkerFailed(f"an indexing worker died (exit code {process.exitcode})") from None
    finally:
        receive.close()
    process.join()
    if status != "ok":
        raise WorkerFailed(f"an indexing worker failed:\n{payload}")
    return payload

"""Full builds on every core: extraction and Whoosh segment writing in worker processes.

A full build is CPU-bound Python: cutting pages into articles, inferring their metadata (a tagging
pass over every text), segmenting, and Whoosh encoding postings. It runs in two parallel phases:

1. **Reading.** A pool of workers reads the seed files and cuts them into articles, without the
   costly metadata inference; results come back in file order, so duplicate ids are settled
   exactly as in a serial run.
2. **Writing.** The kept articles are cut into contiguous shares of nearly equal text length, one
   per worker (more when a worker's share would exceed :data:`MAX_ARTICLES_PER_SEGMENT`). Each
   worker infers its articles' metadata and writes each share as a Whoosh segment in the new
   generation directory; the parent takes a share too. The parent then commits one TOC listing
   every segment, in share order, through Whoosh's documented custom ``mergetype`` hook: readers
   see the whole build at once or not at all, and document numbers follow file order.

Balancing by articles rather than files matters: five files on two cores would otherwise split 3:2.

Workers are forked (they inherit their share without pickling, and the segmenter dictionary already
loaded) and die with their parent (Linux ``PR_SET_PDEATHSIG``): a killed build leaves no orphan
writing into a directory that the next run deletes, nor holding the inherited build-lock descriptor.
Where ``fork`` is unavailable, with one core, or for small inputs, everything runs in this process.

Whoosh coupling: a worker closes its segment with ``SegmentWriter._finalize_segment()``, the method
Whoosh's own multiprocessing writer (``whoosh.multiproc``) uses for the same purpose. Whoosh is pinned
to 2.7.x (its last line), so this private method will not move.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    # Results in file order (the duplicate-id rule), each file in a process that can be stopped.
    yield from read_in_workers(jobs, processes=count, metadata=False, timeout=timeout, on_progress=on_progress)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _shares(articles: Sequence[Article], count: int) -> list[Sequence[Article]]:
    """``count`` contiguous slices of nearly equal text length (text length is what costs)."""
    weights = [len(a.body) + len(a.title) + 200 for a in articles]
    total = sum(weights)
    bounds, acc, cut = [0], 0, 1
    for i, weight in enumerate(weights):
        acc += weight
        if cut < count and acc >= total * cut / count:
            bounds.append(i + 1)
            cut += 1
    bounds += [len(articles)] * (count + 1 - len(bounds))
    return [articles[bounds[i] : bounds[i + 1]] for i in range(count)]


def _complete(articles: Sequence[Article]) -> list[str]:
    """Infer every article's metadata; an article whose inference fails keeps its text, reported."""
    problems = []
    for article in articles:
        try:
            add_metadata(article)
        except Exception as error:  # noqa: BLE001 - one odd text must not lose the others
            problems.append(f"{article.source}: metadata of article {article.id} not inferred ({type(error).__name__}: {error})")
    return problems


def _segments_of(ix: Any, shares: Sequence[Sequence[Article]]) -> tuple[list[Any], list[str]]:
    """Write each share as a new, uncommitted segment of ``ix``: Whoosh's segment descriptors, and
    the problems met inferring metadata."""
    from search.engines.embedded.schema import add_articles
    from search.engines.embedded.writer import ArticleWriter

    segments, problems = [], []
    for share in shares:
        if not share:
            continue
        problems += _complete(share)
        # _lk=False: the parent's writer holds the index's write lock for the whole build.
        writer = ArticleWriter(ix, _lk=False)
        add_articles(writer, share)
        segments.append(writer._finalize_segment())
    return segments, problems


def _write_shares(gen_dir: str, shares: Sequence[Sequence[Article]], send: Any) -> None:
    """Worker: write ``shares`` as segments of the index in ``gen_dir``; send the result back."""
    die_with_parent()
    try:
        from whoosh import index as whoosh_index

        send.send(("ok", _segments_of(whoosh_index.open_dir(gen_dir), shares)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the build
        send.send(("error", traceback.format_exc(limit=6)))
    finally:
        send.close()


class WorkerFailed(RuntimeError):
    """A segment-writing worker failed or died."""


def write_articles(ix: Any, articles: Sequence[Article], workers: Workers) -> list[str]:
    """Infer the metadata of ``articles`` (read by :func:`read_files`), write them into the empty
    index ``ix`` and commit, using up to ``workers.count`` processes.

    Returns the problems met (articles whose metadata could not be inferred; they are indexed
    anyway). Raises :class:`WorkerFailed` if a worker fails; nothing is committed then.
    """
    from search.engines.embedded.writer import ArticleWriter

    minimum = 1 if workers.explicit else MIN_ARTICLES_PER_WORKER
    count = max(1, min(workers.count, len(articles) // minimum))
    per_worker = math.ceil(len(articles) / (count * MAX_ARTICLES_PER_SEGMENT)) if articles else 1
    shares = _shares(articles, count * per_worker)
    writer = ArticleWriter(ix)  # holds the write lock; commits the segments the others write
    try:
        running = []
        if count > 1:
            context = multiprocessing.get_context("fork")
            for worker in range(count - 1):
                receive, send = context.Pipe(duplex=False)
                mine = shares[worker * per_worker : (worker + 1) * per_worker]
                process = context.Process(target=_write_shares, args=(str(ix.storage.folder), mine, send), daemon=True)
                process.start()
                send.close()
                running.append((process, receive))
        # This process writes the last shares meanwhile.
        own_segments, problems = _segments_of(ix, shares[(count - 1) * per_worker :])
        segments: list[Any] = []
        for process, receive in running:
            theirs, their_problems = _collect(process, receive)
            segments += theirs
            problems += their_problems
        segments += own_segments
        # Whoosh's custom merge hook: the new segment list is every share's segment, in order.
        writer.commit(mergetype=lambda _writer, existing: list(existing) + segments)
        return problems
    except BaseException:
        writer.cancel()
        raise


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

"""Seed files read in worker processes under a time budget, so that no file can stall an index run.

Extraction is pure Python and CPU-bound; a page whose text defeats a rule (a megabyte line, some
pattern nobody foresaw) must cost its own file, not the run, the build lock and every run queued
behind it. Python cannot interrupt a thread stuck inside a regular expression, but it can kill a
process, so every file is read in a forked worker (:func:`read_files`):

* **Pages** (``.txt``/``.md``) get :data:`DEFAULT_FILE_TIMEOUT` seconds each. A worker past it is
  killed, the file is reported by name as skipped, and a fresh worker takes the next file.
* **.jsonl exports** get the budget per record: the worker publishes the line it is on in shared
  memory, and the budget counts from the last line it started. A record past it is skipped by line
  number and the file is read again from the start without it (every byte is hashed again, so the
  recorded hash is still that of the whole file), at most :data:`MAX_STALLED_RECORDS` times.
* A worker that dies (out of memory, a crash in a C extension) costs its file, reported by name.

Results come back in the order of the jobs, whatever the number of workers, so duplicate ids are
settled as in a serial run. Workers are forked (they inherit the loaded dictionaries) and die with
their parent (Linux ``PR_SET_PDEATHSIG``). Where ``fork`` is unavailable, files are read in this
process without a budget.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from search.ingest.sources import SeedFileResult, read_seed_file

DEFAULT_FILE_TIMEOUT = 30.0
MAX_STALLED_RECORDS = 5  # records of one .jsonl skipped for the budget before the file is given up
_POLL = 0.25  # seconds between looks at the workers' progress
_SENDING = -2  # the "line" a worker publishes while it sends its result (never a stall)


def file_timeout(requested: float | None = None) -> float:
    """The time budget per file: ``requested``, else ``$NEWSEARCH_FILE_TIMEOUT``, else 30 s (0 = none)."""
    if requested is not None:
        return max(0.0, float(requested))
    raw = os.environ.get("NEWSEARCH_FILE_TIMEOUT", "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_FILE_TIMEOUT
    except ValueError:
        return DEFAULT_FILE_TIMEOUT


@dataclass(frozen=True)
class ReadJob:
    """One seed file to read: its path, its catalog entry, whether it is an allowed symbolic link."""

    path: Path
    catalog_entry: dict[str, Any] | None = None
    follow_symlinks: bool = False


#: ``on_progress({file name: line or None})``: the files being read right now (and the .jsonl line reached).
Progress = Callable[[dict[str, int | None]], None]


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process if its parent dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(conn: Connection, where: Any, metadata: bool) -> None:
    """Worker process: read the files the parent sends, publishing the line reached in ``where``."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle

    def on_line(number: int) -> None:
        where[1] = number

    try:
        while True:
            job = conn.recv()
            if job is None:
                return
            index, read, skip_lines = job
            where[0], where[1] = index, 0
            try:
                result = read_seed_file(
                    read.path, read.catalog_entry, metadata,
                    follow_symlinks=read.follow_symlinks, skip_lines=skip_lines, on_line=on_line,
                )  # fmt: skip
            except BaseException:  # noqa: BLE001 - read_seed_file never raises; if it does, say so
                result = SeedFileResult(source=read.path.name, skipped=True, problems=[
                    f"extraction failed ({traceback.format_exc(limit=1).strip().splitlines()[-1]}); skipped"])  # fmt: skip
            where[1] = _SENDING
            conn.send((index, result))
    except (EOFError, OSError, KeyboardInterrupt):
        return
    finally:
        conn.close()


@dataclass
class _Worker:
    process: Any
    conn: Connection
    where: Any  # shared [job index, line]: what the worker is doing, readable without a message
    job: int | None = None
    started: float = 0.0
    line: int = 0
    since: float = 0.0  # when ``line`` last moved


@dataclass
class _Pending:
    read: ReadJob
    skip_lines: set[int] = field(default_factory=set)
    stalls: list[str] = field(default_factory=list)


class _Pool:
    """Forked readers with a budget (see the module docstring)."""

    def __init__(self, count: int, metadata: bool, timeout: float, ahead: int | None = None) -> None:
        self.context = multiprocessing.get_context("fork")
        self.count, self.metadata, self.timeout = count, metadata, timeout
        self.ahead = ahead  # at most this many files read past the one the caller waits for
        self.workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        parent_end, child_end = self.context.Pipe(duplex=True)
        where = self.context.RawArray("q", 2)
        process = self.context.Process(target=_worker_main, args=(child_end, where, self.metadata), daemon=True)
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end, where)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.conn.close()
        worker.process.join(timeout=10)
        self.workers.remove(worker)

    def close(self) -> None:
        """Stop every worker (politely if idle, SIGKILL if busy)."""
        for worker in list(self.workers):
            if worker.job is None:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
            self._retire(worker, kill=worker.job is not None)

    def run(self, jobs: Sequence[ReadJob], on_progress: Progress | None) -> Iterator[SeedFileResult]:
        """Results of ``jobs`` in order."""
        pending = {index: _Pending(job) for index, job in enumerate(jobs)}
        queue = list(range(len(jobs)))  # job indexes not handed out yet (retries go in front)
        done: dict[int, SeedFileResult] = {}
        next_out = 0
        while next_out < len(jobs):
            while (
                queue
                and (self.ahead is None or queue[0] < next_out + self.ahead)
                and (len(self.workers) < self.count or any(w.job is None for w in self.workers))
            ):
                worker = next((w for w in self.workers if w.job is None), None) or self._spawn()
                index = queue.pop(0)
                now = time.monotonic()
                worker.job, worker.started, worker.line, worker.since = index, now, 0, now
                worker.conn.send((index, pending[index].read, frozenset(pending[index].skip_lines)))
            busy = [w for w in self.workers if w.job is not None]
            for conn in wait([w.conn for w in busy], timeout=_POLL):
                worker = next(w for w in busy if w.conn is conn)
                try:
                    index, result = conn.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)
                    index = worker.job
                    assert index is not None
                    done[index] = self._died(pending[index].read, worker.process.exitcode)
                    self._retire(worker, kill=True)
                    continue
                result.problems[:0] = pending[index].stalls
                done[index] = result
                worker.job = None
            self._check_budget(pending, queue, done)
            if on_progress is not None:
                on_progress({pending[w.job].read.path.name: (w.line or None) for w in self.workers if w.job is not None})
            while next_out in done:
                yield done.pop(next_out)
                pending.pop(next_out, None)
                next_out += 1

    def _check_budget(self, pending: dict[int, _Pending], queue: list[int], done: dict[int, SeedFileResult]) -> None:
        now = time.monotonic()
        for worker in [w for w in self.workers if w.job is not None]:
            line = int(worker.where[1])
            if line != worker.line:
                worker.line, worker.since = line, now
            if line == _SENDING or not self.timeout or now - worker.since <= self.timeout:
                continue
            index = worker.job
            assert index is not None
            job = pending[index]
            self._retire(worker, kill=True)
            name = job.read.path.name
            if line > 0 and len(job.skip_lines) < MAX_STALLED_RECORDS:
                # A .jsonl record past the budget: read the file again without it.
                job.skip_lines.add(line)
                queue.insert(0, index)
                continue
            why = f"extraction took longer than {self.timeout:g} s"
            if line > 0:
                why = f"{len(job.skip_lines) + 1} records took longer than {self.timeout:g} s each"
            done[index] = SeedFileResult(source=name, skipped=True, problems=[
                f"{why}; stopped and skipped (it is tried again when the file changes)"])  # fmt: skip

    @staticmethod
    def _died(read: ReadJob, exitcode: int | None) -> SeedFileResult:
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit status {exitcode}"
        return SeedFileResult(source=read.path.name, skipped=True, problems=[f"the extraction worker died ({how}); skipped"])


def warm_up(metadata: bool) -> None:
    """Load what reading needs (segmenter dictionary, gazetteer, script converter, and with
    ``metadata`` the keyword weights) in this process, so that forked workers inherit it instead of
    each loading it inside its first file's time budget."""
    from search.ingest.pages import Page
    from search.ingest.sources import articles_from_page

    articles_from_page(Page("warm-up.txt", "本报讯（记者 王小明）高新区召开会议，研究小微企业融资。", "utf-8"), metadata=metadata)


def read_files(
    jobs: Sequence[ReadJob],
    *,
    processes: int = 1,
    metadata: bool = True,
    timeout: float | None = None,
    on_progress: Progress | None = None,
    read_ahead: int | None = None,
) -> Iterator[SeedFileResult]:
    """Read each job's file into articles (:func:`search.ingest.sources.read_seed_file`) in up to
    ``processes`` forked workers, each file under the time budget ``timeout`` (see
    :func:`file_timeout`); results in job order. ``on_progress`` hears, about four times a second,
    which files are being read. ``read_ahead`` bounds how many files are read ahead of the one
    the caller waits for (results the caller has not taken yet are held in this process)."""
    budget = file_timeout(timeout)
    if not jobs:
        return
    if "fork" not in multiprocessing.get_all_start_methods():
        for job in jobs:
            yield read_seed_file(job.path, job.catalog_entry, metadata, follow_symlinks=job.follow_symlinks)
        return
    warm_up(metadata)
    pool = _Pool(max(1, min(processes, len(jobs))), metadata, budget, read_ahead)
    try:
        yield from pool.run(jobs, on_progress)
    finally:
        pool.close()

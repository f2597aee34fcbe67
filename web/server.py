"""Serving the app with waitress, defensively (every limit set on purpose, see :data:`LIMITS`), in one
or several worker processes sharing the listening sockets and the memory-mapped index.

What each limit is for (waitress's default in brackets):

* ``connection_limit`` 1000 [100] — waitress stops accepting once this many connections are open:
  with the default, 99 idle sockets locked every user out. The descriptor limit is raised to match.
* ``asyncore_use_poll`` [select] — ``select()`` cannot watch more than 1,024 descriptors.
* ``channel_timeout`` 30 s [120] — an idle connection (keep-alive, or a client that stopped reading
  its response) is closed after this; ``cleanup_interval`` 5 s [30] is how often they are looked at.
* :data:`REQUEST_DEADLINE` 20 s (ours) — a request must arrive whole within this of its first byte:
  a client dripping a byte every few seconds (slowloris) never counts as idle, so waitress alone would
  keep it forever. Checked at each cleanup, so such a connection lives at most 25 s.
* ``max_request_header_size`` 64 KiB [256 KiB] — the request line (URL) and headers; the app also
  answers 400 to a query string over :data:`web.params.MAX_QUERY_STRING_BYTES`.
* ``max_request_body_size`` 64 KiB [1 GiB] — only GET is served, so a body is never needed; a
  larger one is refused (413) as soon as its headers say so, instead of being read to the end.
* ``inbuf_overflow`` 256 KiB [512 KiB], ``outbuf_high_watermark`` 1 MiB [16 MiB] and
  ``outbuf_overflow`` 4 MiB [1 MiB] — requests and responses stay in memory (a request is at most
  128 KiB, a page at most a few hundred KB; a download waits once a megabyte is pending), never in
  temporary files that a client who stops reading keeps open.
* :data:`STALLED_RESPONSE_TIMEOUT` 15 s (ours) — a response whose client has not taken a byte for this
  long is dropped. Waitress never times out a connection while its request is being answered, so a
  download nobody reads would hold a thread for ever.
* ``threads`` 4 (``--threads``) — searches are CPU-bound and share one interpreter, so more threads
  than cores gain nothing; idle and slow connections never hold a thread (waitress reads requests
  in its event loop and hands only complete ones to threads).
* The log: waitress warns "Task queue depth is N" for every request that waits for a thread; under
  load that is thousands of lines. They are summarised, at most one line a minute.

Worker processes (``--workers``): a search is mostly Python holding the GIL, so threads in one
process use one core. ``serve`` binds the sockets in the parent and forks ``workers`` processes, each
running waitress with every limit above (``threads`` threads each) on the same sockets with its own
app and Archive; the kernel hands each connection to one of them. They share the index through the
page cache: its files (Whoosh's segments and our segment stores) are memory-mapped, so the archive
is in memory once, whatever the number of workers. :func:`default_workers` picks one per core.

The parent only supervises: it restarts a worker that dies from a signal or an error, and on
SIGTERM/SIGINT stops them all; workers die with the parent (Linux ``PR_SET_PDEATHSIG``). Index
files are memory-mapped, and although the engine stops using a generation whose files change under
it (:mod:`search.engines.embedded.engine`), a file truncated in the very microseconds a request reads
it would end a worker with SIGBUS. The listening sockets belong to the parent, so the port stays open
while a new worker starts, and the other workers keep answering meanwhile.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

LIMITS: dict[str, Any] = {
    "connection_limit": 1000,
    "asyncore_use_poll": True,
    "channel_timeout": 30,
    "cleanup_interval": 5,
    "max_request_header_size": 64 * 1024,
    "max_request_body_size": 64 * 1024,
    "inbuf_overflow": 256 * 1024,
    "outbuf_overflow": 4 * 1024 * 1024,
    "outbuf_high_watermark": 1024 * 1024,
    "backlog": 1024,
}
REQUEST_DEADLINE = 20.0
STALLED_RESPONSE_TIMEOUT = 15.0
QUEUE_LOG_INTERVAL = 60.0
_RESTART_DELAYS = (0.5, 1, 2, 5, 10, 30)  # seconds before restarting a server that keeps dying
MAX_DEFAULT_WORKERS = 8

log = logging.getLogger("newsearch.serve")


class QueueDepthSummary(logging.Filter):
    """Let one "Task queue depth" warning through per ``interval`` seconds, with how many were held
    back and the deepest queue seen meanwhile."""

    def __init__(self, interval: float = QUEUE_LOG_INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self.last = float("-inf")
        self.held = 0
        self.deepest = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """True for the record to print (rewritten as a summary), False to hold it back."""
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        self.deepest = max(self.deepest, depth if isinstance(depth, int) else 0)
        now = time.monotonic()
        if now - self.last < self.interval:
            self.held += 1
            return False
        if self.held:
            record.msg = "Task queue depth is %d (deepest %d; %d such warnings in the last %.0f s)"
            record.args = (depth, self.deepest, self.held + 1, now - self.last)
        self.last, self.held, self.deepest = now, 0, 0
        return True


def _raise_descriptor_limit(wanted: int) -> None:
    """Raise the soft limit on open files to ``wanted`` (or the hard limit), best effort."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        pass


def _enforce_deadlines(server: Any, request_deadline: float, stalled_timeout: float) -> None:
    """Close connections whose request has not arrived whole ``request_deadline`` seconds after its
    first byte, and connections whose response has not moved for ``stalled_timeout`` seconds.

    Wraps the waitress server's ``maintenance`` (its periodic sweep of idle channels, every
    ``cleanup_interval``). A channel with a partly received request (``channel.request``) and no
    request being served (``channel.requests``) is timed from the sweep that first saw it so. A channel
    being served with output pending (``total_outbufs_len``) and no byte sent since ``last_activity``
    is closed: closing wakes the thread waiting to write (``ClientDisconnected``), which is freed.
    """
    sweep = server.maintenance
    first_seen: dict[int, float] = {}

    def maintenance(now: float) -> None:
        sweep(now)
        live = set()
        for channel in list(server.active_channels.values()):
            key = id(channel)
            live.add(key)
            if channel.requests:
                first_seen.pop(key, None)
                if channel.total_outbufs_len and now - channel.last_activity > stalled_timeout:
                    channel.will_close = True  # the client stopped reading a response
                continue
            if channel.request is None:
                first_seen.pop(key, None)  # between requests: channel_timeout's job
                continue
            if now - first_seen.setdefault(key, now) > request_deadline:
                channel.will_close = True
        for key in set(first_seen) - live:
            del first_seen[key]

    server.maintenance = maintenance


def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host:port`` (every address it resolves to), as waitress would bind them."""
    from waitress.adjustments import Adjustments

    sockets = []
    for family, socktype, proto, sockaddr in Adjustments(host=host, port=port).listen:
        sock = socket.socket(family, socktype, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen(LIMITS["backlog"])
        sockets.append(sock)
    return sockets


def run_waitress(app: Any, sockets: list[socket.socket], threads: int) -> None:
    """Serve ``app`` on ``sockets`` with :data:`LIMITS` and the request deadline, until stopped."""
    from waitress.server import BaseWSGIServer, create_server

    logging.basicConfig()
    logging.getLogger("waitress.queue").addFilter(QueueDepthSummary())
    _raise_descriptor_limit(LIMITS["connection_limit"] + 64)
    socket_map: dict[int, Any] = {}
    server = create_server(app, map=socket_map, sockets=sockets, threads=threads, **LIMITS)
    for dispatcher in list(socket_map.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            _enforce_deadlines(dispatcher, REQUEST_DEADLINE, STALLED_RESPONSE_TIMEOUT)
    server.run()


def default_workers() -> int:
    """Worker processes for ``newsearch serve``: ``$NEWSEARCH_WORKERS``, else the cores this process
    may run on (at most :data:`MAX_DEFAULT_WORKERS`)."""
    raw = os.environ.get("NEWSEARCH_WORKERS", "").strip()
    if raw.isascii() and raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def serve(
    make_app: Callable[[], Any], host: str, port: int, threads: int = 4, workers: int = 1, supervise: bool = True
) -> None:
    """Serve the app ``make_app()`` builds on ``host:port`` until SIGTERM or Ctrl+C.

    With ``supervise`` (and ``fork``), ``workers`` child processes serve the same sockets and each is
    started again if it dies (see the module docstring); the parent only watches them. Without, this
    process serves alone.
    """
    sockets = _bind(host, port)
    if not supervise or not hasattr(os, "fork"):
        run_waitress(_warming(make_app()), sockets, threads)
        return
    if workers > 1:
        where = sockets[0].getsockname() if sockets else (host, port)
        print(f"serving on http://{host}:{where[1]}/ with {workers} worker processes", file=sys.stderr, flush=True)
    _supervise(lambda: run_waitress(_warming(make_app()), sockets, threads), max(1, workers))


def _warming(app: Any) -> Any:
    """``app``, its archive warmed up first (``Archive.warm_up``: the searcher opened, the pinyin
    index built), so that no user's first query pays for it. Connections that arrive meanwhile wait
    in the listening socket's backlog (or go to a worker that is ready)."""
    from web.archive import warm_up

    try:
        warm_up(app)
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first request does the work
        logging.getLogger("newsearch.serve").warning("warm-up failed; the first searches will be slower", exc_info=True)
    return app


def _start_child(run_child: Callable[[], None], previous: dict[int, Any]) -> int:
    """Fork a server process running ``run_child``; its pid (in the parent)."""
    child = os.fork()
    if child:
        return child
    for sig, handler in previous.items():  # the server process
        signal.signal(sig, handler)
    from search.ingest.workers import die_with_parent

    die_with_parent()
    status = 0
    try:
        run_child()
    except KeyboardInterrupt:
        pass
    except BaseException:  # noqa: BLE001 - reported, then the parent decides
        logging.getLogger("newsearch.serve").exception("the server failed")
        status = 1
    finally:
        sys.stderr.flush()
        os._exit(status)


def _supervise(run_child: Callable[[], None], workers: int = 1) -> None:
    """Run ``workers`` forked children, each ``run_child``; restart one when it dies from a signal or
    an error (after a delay that grows while they keep dying); stop them all on SIGTERM/SIGINT."""
    stopping = False
    children: set[int] = set()

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    crashes: list[float] = []
    restarts: list[float] = []  # when a dead worker is due to be started again
    try:
        for _ in range(workers):
            children.add(_start_child(run_child, previous))
        while not stopping and (children or restarts):
            if restarts and time.monotonic() >= restarts[0]:
                restarts.pop(0)
                children.add(_start_child(run_child, previous))
                continue
            pid, status = _reap(0.1 if restarts else None)
            if not pid:
                continue
            children.discard(pid)
            if stopping:
                break
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                continue  # stopped on purpose (Ctrl+C reached it): not replaced
            now = time.monotonic()
            crashes = [moment for moment in crashes if now - moment < 60] + [now]
            delay = _RESTART_DELAYS[min(len(crashes), len(_RESTART_DELAYS)) - 1]
            print(f"newsearch serve: the server process {_describe(status)}; restarting it in {delay:g} s", file=sys.stderr, flush=True)
            restarts.append(now + delay)
            restarts.sort()
    finally:
        stop(signal.SIGTERM, None)
        for pid in list(children):
            _wait(pid)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _reap(timeout: float | None) -> tuple[int, int]:
    """A child that ended and its status, waiting at most ``timeout`` seconds (None: until one
    ends); ``(0, 0)`` if none did (or a signal interrupted the wait)."""
    if timeout is None:
        try:
            return os.wait()
        except ChildProcessError:
            return 0, 0
        except InterruptedError:
            return 0, 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            time.sleep(timeout)
            return 0, 0
        if pid:
            return pid, status
        if time.monotonic() >= deadline:
            return 0, 0
        time.sleep(0.02)


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        why = " (an index file changed under it)" if number == signal.SIGBUS else ""
        return f"died of {name}{why}"
    return f"exited with status {os.WEXITSTATUS(status)}"

"""Serving the app with waitress: one process, or several sharing one listening socket.

A search is mostly Python holding the GIL, so threads in one process use one core. With
``workers > 1`` the parent binds the socket and forks that many worker processes, each running
waitress (``threads`` threads) on the same socket with its own app and Archive; the kernel hands
each connection to one of them. They share the index through the page cache: the index's files
are memory-mapped, so the archive is in memory once, whatever the number of workers.

The parent only supervises: it restarts a worker that dies, and on SIGTERM/SIGINT stops them all.
Workers die with the parent (Linux ``PR_SET_PDEATHSIG``), so a killed server leaves none behind.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

#: A worker that dies within this many seconds of its start is not restarted (a crash loop).
_MIN_LIFETIME = 5.0


def default_workers() -> int:
    """Worker processes for ``newsearch serve``: ``NEWSEARCH_WORKERS``, else the cores this process
    may run on (at most 8)."""
    env = os.environ.get("NEWSEARCH_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(make_app: Callable[[], Any], host: str, port: int, threads: int, workers: int = 1, **options: Any) -> None:
    """Serve ``make_app()`` on ``host:port`` until stopped (see the module docstring)."""
    from waitress import serve as waitress_serve

    if workers <= 1 or not hasattr(os, "fork"):
        waitress_serve(make_app(), host=host, port=port, threads=threads, **options)
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    listener.setblocking(False)
    children: dict[int, float] = {}
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                _die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                waitress_serve(make_app(), sockets=[listener], threads=threads, **options)
            except BaseException:  # noqa: BLE001 - reported, and the parent decides
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children[pid] = time.monotonic()

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        start()
    print(f"serving on http://{host}:{listener.getsockname()[1]} with {workers} worker processes", file=sys.stderr, flush=True)
    try:
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = children.pop(pid, None)
            if not stopping and started is not None and time.monotonic() - started >= _MIN_LIFETIME:
                start()  # a worker died (killed, out of memory): replace it
            elif not stopping and not children:
                raise SystemExit("every server worker failed; see the errors above")
    finally:
        stop(signal.SIGTERM, None)
        listener.close()

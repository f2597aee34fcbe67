"""``newsearch serve --workers N``: N waitress processes on one port, sharing the index.

Checked on a real server: searches are answered by more than one process (each worker has its own
Archive), a worker killed by a signal is replaced, and SIGTERM stops the parent and every worker.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from search.api import rebuild
from tests.attack_helpers import Server

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def wait_for(condition, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_share_the_port_are_replaced_and_stop_together(seeds_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuild(seeds_dir, index_dir)
    server = Server(index_dir, threads=2, extra_env={"NEWSEARCH_WORKERS": "3"})  # as --workers 3
    with server:
        assert wait_for(lambda: len(children(server.process.pid)) == 3)
        workers = children(server.process.pid)

        # Many searches at once: all answered, every one right.
        answers: list[int] = []

        def search() -> None:
            status, data = server.search("高新区")
            answers.append(data["total"] if status == 200 else -1)

        threads = [threading.Thread(target=search) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 24 and len(set(answers)) == 1 and answers[0] > 0

        # A worker killed (out of memory, an operator's mistake) is replaced once it had run a while.
        time.sleep(5.5)
        os.kill(workers[0], signal.SIGKILL)
        assert wait_for(lambda: len(children(server.process.pid)) == 3 and workers[0] not in children(server.process.pid))
        assert server.search("高新区")[0] == 200

        replaced = children(server.process.pid)
        server.process.terminate()
        server.process.wait(timeout=30)
        assert wait_for(lambda: not any(alive(pid) for pid in replaced))

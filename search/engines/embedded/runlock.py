"""One index run at a time: the build lock, and what the run holding it is doing.

``.build.lock`` is an ``fcntl.flock`` (released by the kernel when its holder dies, so a killed run
never leaves a stale lock). The holder keeps ``.build.status.json`` beside it (:class:`RunStatus`):
its pid, the phase, the files read so far and the ones being read now. A run waiting for the lock
names the holder and what it is doing; ``newsearch stats`` shows it (:func:`run_status`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from search.atomic import read_json
from search.engines.base import IndexBusy

LOCK_NAME = ".build.lock"
STATUS_NAME = ".build.status.json"
DEFAULT_LOCK_TIMEOUT = float(os.environ.get("NEWSEARCH_LOCK_TIMEOUT", "600"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
            holder = _lock_holder(fd, Path(index_dir))
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
            (Path(index_dir) / STATUS_NAME).unlink(missing_ok=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_holder(fd: int, index_dir: Path) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    if not (pid.isascii() and pid.isdigit()):
        return ""
    status = read_json(index_dir / STATUS_NAME)
    doing = describe_status(status) if isinstance(status, dict) and str(status.get("pid")) == pid else ""
    return f" (pid {pid}{', ' + doing if doing else ''})"


class RunStatus:
    """What this run is doing, in ``.build.status.json`` beside the lock, for ``newsearch stats`` and
    for runs waiting on the lock. Written at most a few times a second; best effort (a full disk
    must not fail the run over it); removed when the lock is released."""

    def __init__(self, index_dir: Path, full: bool) -> None:
        self.path = Path(index_dir) / STATUS_NAME
        self.data: dict[str, Any] = {"pid": os.getpid(), "started_at": _now(), "full": full, "phase": "planning"}
        self._written = 0.0
        self.update(force=True)

    def update(self, force: bool = False, **fields: Any) -> None:
        """Merge ``fields`` into the status and write it (unless written less than 0.2 s ago)."""
        self.data.update(fields)
        now = time.monotonic()
        if not force and now - self._written < 0.2:
            return
        self._written = now
        tmp = self.path.with_name(f"{STATUS_NAME}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def reading(self, done: int, total: int, current: dict[str, int | None]) -> None:
        """Files read so far, and the ones being read now (with the .jsonl line reached)."""
        self.update(phase="reading", done=done, total=total, current=current)


def describe_status(status: dict[str, Any]) -> str:
    """One line about a run in progress: ``full rebuild, reading 3/10, on cms.jsonl (line 12,000)``."""
    parts = ["full rebuild" if status.get("full") else "incremental"]
    phase = status.get("phase")
    if phase == "reading" and status.get("total"):
        parts.append(f"reading {status.get('done', 0)}/{status['total']}")
    elif phase:
        parts.append(str(phase))
    current = status.get("current") or {}
    if isinstance(current, dict) and current:
        on = [f"{name} (line {line:,})" if isinstance(line, int) else str(name) for name, line in current.items()]
        parts.append("on " + ", ".join(on))
    if status.get("started_at"):
        parts.append(f"started {status['started_at']}")
    return ", ".join(parts)


def run_status(index_dir: str | Path) -> dict[str, Any] | None:
    """The status of the index run holding ``index_dir``'s build lock, or None if no run holds it.

    Read-only: the lock is probed with a shared ``flock`` (never created), the status file read.
    """
    path = Path(index_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
            status = read_json(Path(index_dir) / STATUS_NAME)
            status = status if isinstance(status, dict) and str(status.get("pid")) == pid else {}
            return {"pid": int(pid) if pid.isascii() and pid.isdigit() else None, **status}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

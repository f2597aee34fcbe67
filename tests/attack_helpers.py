"""Shared pieces of the attack tests (issue 7): real CLI and server processes, synthetic corpora.

Nothing here needs ``../shared``: every corpus is generated in a temporary directory from the
repository's five seed pages.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED_PAGES = sorted((REPO_ROOT / "seeds").glob("*.txt"))

# Markup that must never reach a page unescaped, and the escaped forms a page must show instead.
SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = '<a href="javascript:alert(2)">点此</a>'


# ``python -c DENYING ARGS`` runs ``newsearch ARGS`` under a Python audit hook that refuses, with
# PermissionError, every write under $ATTACK_DENY_WRITES_UNDER and every open of $ATTACK_DENY_READS_OF:
# a read-only directory or an unreadable file even for root (for whom chmod stops nothing). Each
# refusal is also noted on stderr ("DENIED: ...") so a test can tell whether one was attempted.
DENYING = """
import os, sys
WRITES_UNDER = os.environ.get("ATTACK_DENY_WRITES_UNDER")
READS_OF = os.environ.get("ATTACK_DENY_READS_OF")
WRITES_UNDER = os.path.realpath(WRITES_UNDER) if WRITES_UNDER else None
READS_OF = os.path.realpath(READS_OF) if READS_OF else None
WRITE_EVENTS = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.chmod", "os.chown", "os.utime",
                "os.truncate", "os.symlink", "os.link", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

def real(path):
    if path is None or isinstance(path, int):
        return None
    try:
        return os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None

def under(path):
    path = real(path)
    return bool(WRITES_UNDER and path and (path == WRITES_UNDER or path.startswith(WRITES_UNDER + os.sep)))

def deny(event, path, errno, message):
    sys.stderr.write(f"DENIED: {event} {path}\\n")
    sys.stderr.flush()
    raise PermissionError(errno, message, os.fsdecode(path))

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if READS_OF and real(path) == READS_OF:
            deny(event, path, 13, "Permission denied")
        writing = bool(flags and flags & WRITE_FLAGS) or bool(mode and any(c in mode for c in "wax+"))
        if writing and under(path):
            deny(event, path, 30, "Read-only file system")
    elif event in WRITE_EVENTS:
        for path in args[:2]:
            if isinstance(path, (str, bytes, os.PathLike)) and under(path):
                deny(event, path, 30, "Read-only file system")

sys.addaudithook(hook)
from search.cli import main
main()
"""


def denying(*args: str, writes_under: Path | None = None, reads_of: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``newsearch ARGS`` with writes under ``writes_under`` and reads of ``reads_of`` refused (see DENYING)."""
    extra = {}
    if writes_under is not None:
        extra["ATTACK_DENY_WRITES_UNDER"] = str(writes_under)
    if reads_of is not None:
        extra["ATTACK_DENY_READS_OF"] = str(reads_of)
    return subprocess.run([sys.executable, "-c", DENYING, *args], env=env(extra), capture_output=True, text=True, timeout=timeout)


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: this checkout first on sys.path, no NEWSEARCH_* leaking in."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    clean["NEWSEARCH_SETTLE_SECONDS"] = "0"  # files a test just wrote are complete (see conftest)
    clean.update(extra or {})
    return clean


def newsearch(*args: str, cwd: Path | None = None, timeout: float = 120, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m search ARGS`` (the ``newsearch`` command) to completion."""
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        cwd=cwd,
        env=env(extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """A user error: non-zero exit, no traceback, exactly one ``Error:`` line naming ``fragments``."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr
    return errors[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real ``newsearch serve`` (waitress) process on a free port."""

    def __init__(self, index_dir: Path, *, threads: int = 4, argv: list[str] | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.index_dir = index_dir
        command = argv or [sys.executable, "-m", "search"]
        self.process = subprocess.Popen(
            [*command, "serve", "--index", str(index_dir), "--seeds", str(index_dir.parent / "no-seeds-here"),
             "--port", str(self.port), "--threads", str(threads)],
            env=env(extra_env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def request(self, path: str, timeout: float = 30) -> tuple[int, dict[str, str], str]:
        """GET ``path`` exactly as given (no client-side normalisation): status, headers, body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()

    def search(self, q: str, html: bool = False) -> tuple[int, Any]:
        status, _headers, body = self.request(("/search" if html else "/api/search") + "?q=" + quote(q))
        return status, (body if html else json.loads(body))

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the server answers (any status: a 503 for a missing index is an answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}: {self.process.stderr.read()}")
            try:
                self.request("/healthz", timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not answer")

    def stop(self) -> str:
        """Stop the server; return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _out, err = self.process.communicate()
        return err or ""

    def __enter__(self) -> "Server":
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_synthetic_pages(seeds: Path, count: int, marker: str = "龙虾音乐节") -> None:
    """``count`` pages ``syn_NNNN.txt``: a real seed page plus a numbered paragraph naming ``marker``
    (the file name is part of every article id, so each copy yields distinct articles)."""
    seeds.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        page = SEED_PAGES[number % len(SEED_PAGES)].read_bytes()
        extra = f"\n\n本报讯(记者 王小明) 高新区第{number}号合成稿件：梧桐园区举办{marker}。\n".encode()
        (seeds / f"syn_{number:04d}.txt").write_bytes(page + extra)


def seed_articles() -> list[Any]:
    """The articles of the repository's seed pages (as extracted), to reuse their text."""
    from search.ingest.sources import read_seed_file

    return [article for page in SEED_PAGES for article in read_seed_file(page).articles]


def write_synthetic_jsonl(seeds: Path, files: int, per_file: int, marker: str = "龙虾音乐节") -> int:
    """``.jsonl`` exports of seed-article text, each record with a numbered sentence naming ``marker``.
    Returns the number of records written."""
    seeds.mkdir(parents=True, exist_ok=True)
    articles = seed_articles()
    number = 0
    for file_number in range(files):
        lines = []
        for _ in range(per_file):
            article = articles[number % len(articles)]
            record = {
                "id": f"syn-{number:05d}",
                "title": article.title or f"合成稿件{number}",
                "body": f"{article.body}\n本报讯 第{number}号合成稿件：梧桐园区举办{marker}。",
                "date": f"2024-{number % 12 + 1:02d}-15",
                "reporters": article.reporters,
                "places": article.places,
                "section": "要闻",
            }
            lines.append(json.dumps(record, ensure_ascii=False))
            number += 1
        (seeds / f"cms_{file_number:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number


def indexed_ids(index_dir: Path) -> set[str]:
    from search.api import Archive

    with Archive.open(index_dir) as archive:
        return {article.id for article in archive.export()}

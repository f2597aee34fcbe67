"""The real server under load and with its index taken away (issue 7), as separate processes.

* Load: several client threads search in a loop over HTTP against ``newsearch serve`` (waitress) while
  ``newsearch index --full`` rebuilds 1,050 articles twice in another process: every answer must be a
  200 with all 1,050 hits (a query every article matches), through the generation switches.
* A read-only index directory: the server must serve from it and never write to it. As root (CI),
  ``chmod`` stops nothing, so the server runs under a Python audit hook that refuses every write under
  the index directory (open for writing, mkdir, rename, remove, chmod, utime...), and the directory's
  listing, sizes and mtimes are compared before and after; as another user the directory is also
  made read-only for real.
* The index deleted while serving: a 503 page that says to run ``newsearch index`` (JSON under /api),
  then answers again as soon as it is rebuilt, without a restart. tests/test_web.py covers a missing
  index in-process; this is the running server losing it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from search.engines.embedded.indexer import read_pointer
from tests.attack_helpers import (
    DENYING,
    Server,
    denying,
    newsearch,
    write_synthetic_jsonl,
)

pytestmark = pytest.mark.slow

MARKER = "龙虾音乐节"  # every synthetic article names it
CLIENTS = 4


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("load")
    count = write_synthetic_jsonl(root / "seeds", files=10, per_file=105, marker=MARKER)
    return {"root": root, "seeds": root / "seeds", "count": count}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """100 articles: enough for the read-only and deletion tests, quick to rebuild three times."""
    root = tmp_path_factory.mktemp("small")
    count = write_synthetic_jsonl(root / "seeds", files=2, per_file=50, marker=MARKER)
    return {"root": root, "seeds": root / "seeds", "count": count}


def build(corpus: dict, index_dir: Path, *args: str) -> None:
    result = newsearch("index", "--seeds", str(corpus["seeds"]), "--index", str(index_dir), *args, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{corpus['count']} total" in result.stdout, result.stdout


# ---------------------------------------------------------------------------------------------
# Load during full rebuilds


class Client(threading.Thread):
    """Searches in a loop until told to stop: JSON, HTML, a fragment and a filtered query in turn."""

    def __init__(self, server: Server, expected: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.server, self.expected, self.stop = server, expected, stop
        self.searches: list[float] = []  # start time of each search
        self.errors: list[str] = []
        self.empty = 0

    def run(self) -> None:
        requests = [
            (f"/api/search?q={quote(MARKER)}", "json"),
            (f"/search?q={quote(MARKER)}", "html"),
            (f"/api/search?q={quote('音乐')}&limit=3", "json"),  # a fragment of a word
            (f"/api/search?q={quote(MARKER)}&year=2024&sort=newest", "json"),
        ]
        turn = 0
        while not self.stop.is_set():
            path, kind = requests[turn % len(requests)]
            turn += 1
            started = time.monotonic()
            try:
                status, _headers, body = self.server.request(path)
            except Exception as error:  # noqa: BLE001 - every failure is counted, none may happen
                self.errors.append(f"{path}: {type(error).__name__}: {error}")
                continue
            self.searches.append(started)
            if status != 200:
                self.errors.append(f"{path}: HTTP {status}: {body[:200]}")
            elif kind == "json" and json.loads(body)["total"] != self.expected:
                self.empty += 1
            elif kind == "html" and f"找到 <strong>{self.expected}</strong> 篇文章" not in body:
                self.empty += 1


def test_clients_get_full_answers_during_full_rebuilds(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir)
    stop = threading.Event()
    with Server(index_dir, threads=4) as server:
        clients = [Client(server, corpus["count"], stop) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        try:
            time.sleep(0.5)
            generations = [read_pointer(index_dir)["generation"]]
            windows = []
            for _ in range(2):
                started = time.monotonic()
                build(corpus, index_dir, "--full")
                windows.append((started, time.monotonic()))
                generations.append(read_pointer(index_dir)["generation"])
            time.sleep(0.5)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=60)
    errors = [error for client in clients for error in client.errors]
    searches = [moment for client in clients for moment in client.searches]
    during = sum(1 for moment in searches if any(start <= moment <= end for start, end in windows))
    print(f"\n{len(searches)} searches by {CLIENTS} clients, {during} during the 2 full rebuilds of {corpus['count']} "
          f"articles ({sum(end - start for start, end in windows):.1f} s); errors: {len(errors)}; "
          f"incomplete answers: {sum(c.empty for c in clients)}")  # fmt: skip
    assert errors == []
    assert sum(client.empty for client in clients) == 0
    assert len(set(generations)) == 3  # two switches happened under load
    assert during >= 40 and all(client.searches for client in clients)


# ---------------------------------------------------------------------------------------------
# A read-only index directory


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode))
    return found


def set_writable(root: Path, writable: bool) -> None:
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(Path(directory, name), 0o644 if writable else 0o444)
        os.chmod(directory, 0o755 if writable else 0o555)


def test_a_read_only_index_directory_is_served_and_never_written(small, tmp_path):
    corpus = small
    index_dir = tmp_path / "index"
    build(corpus, index_dir)
    really_read_only = os.geteuid() != 0  # as root, chmod would not stop a write: the audit hook does
    if really_read_only:
        set_writable(index_dir, False)
    before = snapshot(index_dir)
    deny = {"ATTACK_DENY_WRITES_UNDER": str(index_dir)}
    try:
        # The hook works: an index run in the same conditions is refused, with a one-line error.
        run = denying("index", "--seeds", str(corpus["seeds"]), "--index", str(index_dir), "--full", writes_under=index_dir)
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert "Error: cannot" in run.stderr and "Read-only file system" in run.stderr
        # Saved queries read from it; only --new-only (which records what it returned) cannot run.
        saved = tmp_path / "saved.toml"
        saved.write_text(f'[queries.festival]\nq = "{MARKER}"\n', encoding="utf-8")
        plain = denying("saved", "run", "--all", "--file", str(saved), "--index", str(index_dir), "--format", "json", writes_under=index_dir)
        assert plain.returncode == 0 and json.loads(plain.stdout)[0]["total"] == corpus["count"], plain.stderr
        new_only = denying("saved", "run", "--all", "--new-only", "--file", str(saved), "--index", str(index_dir), writes_under=index_dir)
        assert new_only.returncode == 1 and "Traceback" not in new_only.stderr, new_only.stderr
        (error,) = [line for line in new_only.stderr.splitlines() if not line.startswith("DENIED:")]  # the hook's own note
        assert error.startswith("Error: Read-only file system") and error.endswith(".saved_state.lock"), new_only.stderr
        with Server(index_dir, threads=2, argv=[sys.executable, "-c", DENYING], extra_env=deny) as server:
            status, data = server.search(MARKER)
            assert status == 200 and data["total"] == corpus["count"]
            article = data["results"][0]["id"]
            for path in ("/", f"/search?q={quote(MARKER)}&year=2024", f"/article/{article}?q={quote(MARKER)}",
                         f"/api/article/{article}", f"/api/suggest?q={quote('龙虾')}", "/healthz"):  # fmt: skip
                status, _headers, body = server.request(path)
                assert status == 200, (path, body[:300])
            err = server.stop()
        assert "DENIED" not in err and "Traceback" not in err, err
    finally:
        if really_read_only:
            set_writable(index_dir, True)
    after = snapshot(index_dir)
    if really_read_only:  # the modes were restored in between
        before = {k: v[:2] for k, v in before.items()}
        after = {k: v[:2] for k, v in after.items()}
    assert after == before


# ---------------------------------------------------------------------------------------------
# The index deleted while serving


def assert_index_missing_answers(server: Server, article: str) -> None:
    for path in (f"/search?q={quote(MARKER)}", "/", f"/article/{article}"):
        status, _headers, body = server.request(path)
        assert status == 503, (path, status)
        assert "索引尚未建立" in body and "newsearch index" in body and "Traceback" not in body
    status, _headers, body = server.request(f"/api/search?q={quote(MARKER)}")
    assert status == 503 and json.loads(body)["error"] == "index_missing"
    assert server.request("/healthz")[0] == 503


def test_the_index_deleted_while_serving_is_a_503_until_rebuilt(small, tmp_path):
    corpus = small
    index_dir = tmp_path / "index"
    build(corpus, index_dir)
    with Server(index_dir, threads=2) as server:
        status, data = server.search(MARKER)
        assert status == 200 and data["total"] == corpus["count"]
        article = data["results"][0]["id"]

        shutil.rmtree(index_dir)  # the whole directory
        assert_index_missing_answers(server, article)
        build(corpus, index_dir)
        assert server.search(MARKER)[1]["total"] == corpus["count"]
        assert server.request(f"/article/{article}")[0] == 200

        generation = index_dir / read_pointer(index_dir)["generation"]
        shutil.rmtree(generation)  # only the generation the pointer names
        assert_index_missing_answers(server, article)
        build(corpus, index_dir)
        assert server.search(MARKER)[1]["total"] == corpus["count"]

        (index_dir / "current.json").write_text("{not json", encoding="utf-8")  # a corrupt pointer
        assert_index_missing_answers(server, article)
        build(corpus, index_dir)
        status, data = server.search(MARKER)
        assert status == 200 and data["total"] == corpus["count"]
        assert server.process.poll() is None  # the same process all along: no restart
    err = server.stop()
    assert "Traceback" not in err and "no index" in err  # logged as a warning, not as a crash

"""Index lifecycle with real processes: SIGKILL at any moment, readers during rebuilds, concurrent runs.

Synthetic seed sets are written in tmp (copies of the real pages with a numbered paragraph each, so every
page yields distinct ids). Kill moments are fractions of a measured, uninterrupted build, so the tests
hit early, middle and late moments whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from search.api import Archive, IndexMissing
from search.engines.embedded.indexer import LOCK_NAME, build_lock, current_generation_dir

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((REPO_ROOT / "seeds").glob("*.txt"))
KILL_AT = (0.15, 0.5, 0.85)
WORD = "高新区"


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return clean


def start(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", *args],
        env={**env(), **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(*args: str, extra_env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        env={**env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_pages(seeds: Path, numbers: range, edition: str = "") -> None:
    """Pages ``syn_NNNN.txt``: a real page plus a numbered paragraph (``edition`` changes the content)."""
    seeds.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        page = PAGES[number % len(PAGES)].read_bytes()
        extra = f"\n\n本报讯(记者 王小明) 高新区第{number}号合成稿件{edition}：梧桐园区举办龙虾音乐节。\n".encode()
        (seeds / f"syn_{number:04d}.txt").write_bytes(page + extra)


def indexed_ids(index_dir: Path) -> set[str]:
    """The indexed ids; also checks that none is indexed twice (a set alone would hide a duplicate)."""
    with Archive.open(index_dir) as archive:
        ids = [article.id for article in archive.export()]
        assert len(ids) == len(set(ids)) == archive.stats()["articles"]
        return set(ids)


def timed_build(seeds: Path, index_dir: Path, *args: str) -> float:
    started = time.monotonic()
    result = run("index", "--seeds", str(seeds), "--index", str(index_dir), *args)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started


def kill_after(seconds: float, *args: str) -> subprocess.Popen:
    process = start(*args)
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()
    return process


def assert_searchable(index_dir: Path) -> int:
    result = run("search", WORD, "--index", str(index_dir), "--format", "json", "--limit", "1")
    assert result.returncode == 0, result.stderr
    total = json.loads(result.stdout)["total"]
    assert total > 0
    return total


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two seed sets (before/after: pages added, edited, deleted), their reference ids and build times."""
    root = tmp_path_factory.mktemp("lifecycle")
    before, after = root / "before", root / "after"
    write_pages(before, range(0, 30))
    write_pages(after, range(0, 24))  # 24-29 deleted
    write_pages(after, range(0, 6), edition="（修订）")  # 0-5 edited
    write_pages(after, range(30, 60))  # 30 added
    reference = {}
    seconds = {}
    for name, seeds in (("before", before), ("after", after)):
        seconds[name] = timed_build(seeds, root / f"ref-{name}")
        reference[name] = indexed_ids(root / f"ref-{name}")
    assert reference["before"] != reference["after"]
    return {"root": root, "before": before, "after": after, "ids": reference, "seconds": seconds}


@pytest.mark.parametrize("fraction", KILL_AT)
def test_sigkill_during_the_first_build_then_the_next_run_completes(corpus, tmp_path, fraction):
    index_dir = tmp_path / "index"
    kill_after(corpus["seconds"]["after"] * fraction, "index", "--seeds", str(corpus["after"]), "--index", str(index_dir))
    result = run("search", WORD, "--index", str(index_dir))
    assert "Traceback" not in result.stderr
    assert result.returncode == 0 or "no index in" in result.stderr
    timed_build(corpus["after"], index_dir)
    assert indexed_ids(index_dir) == corpus["ids"]["after"]
    assert "0 added, 0 updated, 0 removed" in run("index", "--seeds", str(corpus["after"]), "--index", str(index_dir)).stdout


@pytest.mark.parametrize("fraction", KILL_AT)
def test_sigkill_during_an_incremental_run_keeps_the_old_index_searchable(corpus, tmp_path, fraction):
    index_dir = tmp_path / "index"
    timed_build(corpus["before"], index_dir)
    old_total = assert_searchable(index_dir)
    # The incremental run re-extracts 36 of the 60 pages: about 0.6 of a full build; kill it part-way.
    kill_after(corpus["seconds"]["after"] * 0.6 * fraction, "index", "--seeds", str(corpus["after"]), "--index", str(index_dir))
    assert assert_searchable(index_dir) >= min(old_total, 1)
    ids = indexed_ids(index_dir)
    assert ids in (corpus["ids"]["before"], corpus["ids"]["after"])  # one commit: all or nothing
    timed_build(corpus["after"], index_dir)
    assert indexed_ids(index_dir) == corpus["ids"]["after"]
    again = run("index", "--seeds", str(corpus["after"]), "--index", str(index_dir))
    assert "0 added, 0 updated, 0 removed" in again.stdout, again.stdout


def processes_using(index_dir: Path) -> list[int]:
    """Pids of live processes whose command line names ``index_dir`` (an index run or its workers)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if str(index_dir) in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("fraction", KILL_AT)
def test_sigkill_during_a_full_rebuild_keeps_the_previous_generation(corpus, tmp_path, fraction):
    index_dir = tmp_path / "index"
    timed_build(corpus["after"], index_dir)
    generation = current_generation_dir(index_dir)
    # Two processes (reader pool, then segment writers): killing the run must not leave them behind.
    args = ("index", "--full", "--jobs", "2", "--seeds", str(corpus["after"]), "--index", str(index_dir))
    kill_after(corpus["seconds"]["after"] * fraction, *args)
    # Workers die with their parent (PR_SET_PDEATHSIG) instead of finishing their share unseen.
    deadline = time.monotonic() + 1
    while processes_using(index_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_using(index_dir) == []
    assert_searchable(index_dir)
    assert current_generation_dir(index_dir) in (generation, *sorted(index_dir.glob("gen-*")))
    assert indexed_ids(index_dir) == corpus["ids"]["after"]
    timed_build(corpus["after"], index_dir)
    assert indexed_ids(index_dir) == corpus["ids"]["after"]
    assert len(list(index_dir.glob("gen-*"))) <= 2  # half-built generations are cleaned up


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from search.api import Archive
    index_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
    cached = Archive.open(index_dir)
    searches, errors, empties = 0, [], 0
    while not stop.exists():
        for archive in (cached, Archive(index_dir)):   # a long-lived searcher, and a fresh open
            try:
                if archive.search(sys.argv[3]).total == 0:
                    empties += 1
                searches += 1
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
    print(json.dumps({"searches": searches, "errors": errors[:5], "empties": empties}))
    """
)


def test_readers_keep_getting_answers_during_full_and_incremental_rebuilds(corpus, tmp_path):
    index_dir = tmp_path / "index"
    timed_build(corpus["before"], index_dir)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(index_dir), str(stop), WORD], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(1.0)
        timed_build(corpus["before"], index_dir, "--full")
        timed_build(corpus["after"], index_dir)  # incremental: adds, edits, deletes
        timed_build(corpus["after"], index_dir, "--full")
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    summary = json.loads(out)
    assert summary["errors"] == [] and summary["empties"] == 0
    assert summary["searches"] > 20


def test_two_concurrent_runs_one_waits_for_the_other(corpus, tmp_path):
    index_dir = tmp_path / "index"
    args = ("index", "--full", "--seeds", str(corpus["after"]), "--index", str(index_dir))
    first = start(*args)
    time.sleep(0.3)
    second = start(*args)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert any("waiting for another index run" in err for _, err in outputs)
    assert indexed_ids(index_dir) == corpus["ids"]["after"]
    assert len(list(index_dir.glob("gen-*"))) <= 2


def test_a_run_that_cannot_get_the_lock_gives_up_with_a_clear_message(corpus, tmp_path):
    index_dir = tmp_path / "index"
    timed_build(corpus["before"], index_dir)
    with build_lock(index_dir):
        result = run(
            "index", "--seeds", str(corpus["after"]), "--index", str(index_dir), extra_env={"NEWSEARCH_LOCK_TIMEOUT": "1"}
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"(pid {os.getpid()})" in result.stderr and "gave up after 1s" in result.stderr
    assert (index_dir / LOCK_NAME).exists()
    assert indexed_ids(index_dir) == corpus["ids"]["before"]  # untouched


def test_archive_reports_a_missing_index_then_recovers(corpus, tmp_path):
    index_dir = tmp_path / "index"
    with pytest.raises(IndexMissing):
        Archive.open(index_dir)
    timed_build(corpus["before"], index_dir)
    assert Archive.open(index_dir).search(WORD).total > 0

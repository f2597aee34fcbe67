"""Issue 12, findings 3, 4 and 12: index integrity and a full disk.

* 3: ``truncate`` of a ``.seg`` (or ``cp -a backup/. live/`` with identical bytes) under a running
  server killed it with SIGBUS and logged nothing; after a restart every page was a 500 while
  ``/healthz`` said 200.
* 4: damage (2,000 bytes flipped in a ``.seg``, one byte in the TOC, a ``.seg`` deleted or truncated)
  was invisible: 500 pages, tracebacks or a bare "Aborted!" on the command line, ``newsearch index``
  saying "unchanged", ``/healthz`` 200.
* 12: a failed incremental run on a full disk left ``MAIN.tmp/*.ctmp`` and empty segments, more with
  each retry; a full rebuild needed three generations of space. These run on a real small file
  system (tmpfs, mounted for the test; skipped where this process may not mount).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from search.api import Archive, IndexDamaged
from search.atomic import write_json_atomic
from search.engines.embedded.indexer import current_generation_dir, read_pointer
from tests.attack_helpers import SEED_PAGES, Server, assert_one_line_error, newsearch
from tests.attack_helpers import env as child_env
from web import create_app

WORD = "高新区"


def build(seeds: Path, index: Path, *args: str) -> subprocess.CompletedProcess:
    result = newsearch("index", "--seeds", str(seeds), "--index", str(index), *args, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture()
def site(tmp_path: Path) -> dict:
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for page in SEED_PAGES:
        shutil.copy2(page, seeds / page.name)
    build(seeds, index)
    with Archive.open(index) as archive:
        total = archive.search(WORD).total
        article = archive.search(WORD).results[0].id
    return {"seeds": seeds, "index": index, "total": total, "article": article, "root": tmp_path}


def segment(index: Path) -> Path:
    gen_dir = current_generation_dir(index)
    assert gen_dir is not None
    return max(gen_dir.glob("*.seg"), key=lambda path: path.stat().st_size)


def toc(index: Path) -> Path:
    gen_dir = current_generation_dir(index)
    assert gen_dir is not None
    return next(gen_dir.glob("_MAIN_*.toc"))


def store(index: Path) -> Path:
    """The largest segment store (``.nsx``: text, facets, n-gram and word postings) of the current generation."""
    gen_dir = current_generation_dir(index)
    assert gen_dir is not None
    return max(gen_dir.glob("*.nsx"), key=lambda path: path.stat().st_size)


def flip(path: Path, offset: int, count: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(count)
        handle.seek(offset)
        handle.write(bytes(byte ^ 0xFF for byte in data))


def damage(index: Path, kind: str) -> str:
    """Damage the index the way finding 4 did; return the name of the damaged file."""
    if kind == "flip-2000-bytes-in-a-segment":
        path = segment(index)
        flip(path, path.stat().st_size // 3, 2000)
    elif kind == "flip-a-byte-in-the-toc":
        path = toc(index)
        flip(path, path.stat().st_size // 2, 1)
    elif kind == "flip-2000-bytes-in-a-store":
        path = store(index)
        flip(path, path.stat().st_size // 3, 2000)
    elif kind == "delete-a-store":
        path = store(index)
        path.unlink()
    elif kind == "truncate-a-store":
        path = store(index)
        os.truncate(path, path.stat().st_size // 2)
    elif kind == "delete-a-segment":
        path = segment(index)
        path.unlink()
    else:
        path = segment(index)
        os.truncate(path, path.stat().st_size // 2)
    return path.name


# ---------------------------------------------------------------------------------------------
# Finding 4: damage is found, said in one line, and rebuilt from the seeds


DAMAGE = [
    "flip-2000-bytes-in-a-segment", "flip-a-byte-in-the-toc", "delete-a-segment", "truncate-a-segment",
    "flip-2000-bytes-in-a-store", "delete-a-store", "truncate-a-store",
]  # fmt: skip


@pytest.mark.parametrize("kind", DAMAGE)
def test_damage_is_found_said_in_one_line_and_rebuilt_from_the_seeds(site, kind):
    index, seeds = site["index"], site["seeds"]
    name = damage(index, kind)
    for args in (("search", WORD), ("show", site["article"]), ("export",), ("stats",)):
        result = newsearch(*args, "--index", str(index))
        assert "Aborted!" not in result.stderr
        assert_one_line_error(result, "is damaged", name, "`newsearch index` rebuilds it")
    client = create_app({"TESTING": True}, index_dir=index).test_client()
    for path in ("/", f"/search?q={quote(WORD)}", f"/article/{site['article']}", "/api/search?q=x",
                 f"/api/article/{site['article']}", "/healthz"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 503, (path, response.status_code)
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and ("索引暂不可用" in body or "index damaged" in body or "index_damaged" in body)
    assert client.get("/api/search?q=x").get_json()["error"] == "index_damaged"
    check = newsearch("check", "--index", str(index))
    assert_one_line_error(check, "is damaged", name)
    rebuilt = build(seeds, index)
    assert f"full rebuild (index damaged: {name}" in rebuilt.stdout
    assert "added 5: " + ", ".join(page.name for page in SEED_PAGES) in rebuilt.stdout  # what it was rebuilt from
    assert "unchanged" not in rebuilt.stdout.replace("0 unchanged", "")
    with Archive.open(index) as archive:
        assert archive.search(WORD).total == site["total"]
    assert client.get("/healthz").status_code == 200  # the same app, without a restart
    assert newsearch("check", "--index", str(index)).stdout.startswith("index OK: ")


def test_damage_that_kept_size_and_mtime_is_found_by_check_and_index_verify(site):
    index, seeds = site["index"], site["seeds"]
    path = segment(index)
    before = path.stat()
    flip(path, before.st_size // 2, 64)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    check = newsearch("check", "--index", str(index))
    assert_one_line_error(check, "is damaged", f"{path.name} changed (its sha256 differs", "newsearch index --verify")
    rebuilt = build(seeds, index, "--verify")
    assert f"full rebuild (index damaged: {path.name} changed" in rebuilt.stdout


def test_a_large_archive_manifest_still_guards_its_index_files(site):
    # Opening a searcher reads a large manifest (a million articles' ids: megabytes) without
    # parsing its list of ids; the checksums after that list are still read and enforced.
    index = site["index"]
    manifest_path = current_generation_dir(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"].update({f"more-{n:05d}.jsonl": {"ids": [f"more-{n}-{i}" for i in range(40)]} for n in range(2000)})
    write_json_atomic(manifest_path, manifest)
    assert manifest_path.stat().st_size > 1 << 20
    with Archive.open(index) as archive:
        assert archive.search(WORD).total == site["total"]
    name = damage(index, "flip-2000-bytes-in-a-segment")
    with pytest.raises(IndexDamaged, match=name):
        Archive.open(index).search(WORD)


def test_an_unchanged_run_on_a_sound_index_stays_incremental(site):
    again = build(site["seeds"], site["index"])
    assert "5 unchanged" in again.stdout and "full rebuild" not in again.stdout


# ---------------------------------------------------------------------------------------------
# Finding 3: files changed under the running server


def test_an_index_file_changed_under_the_server_is_refused_then_served_again(site):
    index, seeds = site["index"], site["seeds"]
    gen_dir = current_generation_dir(index)
    assert gen_dir is not None
    backup = site["root"] / "backup"
    shutil.copytree(gen_dir, backup, copy_function=shutil.copy2)
    query = f"/api/search?q={quote(WORD)}"
    with Server(index, threads=2) as server:
        assert server.request(query)[0] == 200
        os.truncate(segment(index), segment(index).stat().st_size // 2)
        status, _headers, body = server.request(query)
        assert status == 503 and json.loads(body)["error"] == "index_damaged"
        status, _headers, page = server.request(f"/search?q={quote(WORD)}")
        assert status == 503 and "索引暂不可用" in page and "newsearch index" in page
        assert server.request("/healthz")[0] == 503
        # The bytes come back (cp -a of a backup over the live files): served again, no restart.
        subprocess.run(["cp", "-a", f"{backup}/.", f"{gen_dir}/"], check=True)
        status, _headers, body = server.request(query)
        assert status == 200 and json.loads(body)["total"] == site["total"]
        assert server.request("/healthz")[0] == 200

        # Truncations and restores while clients search: every answer a 200 or a 503.
        answers: dict[int, int] = {}
        errors: list[str] = []
        stop = threading.Event()

        def searching() -> None:
            while not stop.is_set():
                try:
                    status = server.request(query, timeout=30)[0]
                    answers[status] = answers.get(status, 0) + 1
                except OSError as error:
                    errors.append(repr(error))

        clients = [threading.Thread(target=searching) for _ in range(3)]
        for client in clients:
            client.start()
        target = segment(index)
        try:
            for _ in range(6):
                time.sleep(0.3)
                os.truncate(target, 1000)
                time.sleep(0.3)
                subprocess.run(["cp", "-a", f"{backup}/.", f"{gen_dir}/"], check=True)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=60)
        assert set(answers) <= {200, 503} and answers.get(200), answers
        # Damaged again, then rebuilt by `newsearch index`: the running server picks the new generation up.
        os.truncate(segment(index), 10)
        assert server.request(query)[0] == 503
        rebuilt = build(seeds, index)
        assert "full rebuild (index damaged:" in rebuilt.stdout
        status, _headers, body = server.request(query)
        assert status == 200 and json.loads(body)["total"] == site["total"]
        assert server.process.poll() is None
        err = server.stop()
    restarts = err.count("restarting it")
    print(f"\nanswers while files were truncated and restored: {answers}; connection errors: {len(errors)}; "
          f"server restarts after a SIGBUS: {restarts}")  # fmt: skip
    assert "Traceback" not in err
    assert len(errors) <= 3 * restarts  # a request in flight when a SIGBUS hit is the only one lost


def test_a_server_process_killed_by_sigbus_is_restarted_on_the_same_port(site):
    import signal

    with Server(site["index"], threads=2) as server:
        listing = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        children = listing.read_text().split()
        assert len(children) >= 1  # one worker process per core
        os.kill(int(children[0]), signal.SIGBUS)
        # The dead worker is replaced by a new process (its core dump may take a moment first).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = listing.read_text().split()
            if children[0] not in now and len(now) == len(children):
                break
            time.sleep(0.1)
        assert children[0] not in now and len(now) == len(children)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if server.request("/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert server.request(f"/api/search?q={quote(WORD)}")[0] == 200
        err = server.stop()
    assert "the server process died of SIGBUS (an index file changed under it); restarting it" in err


# ---------------------------------------------------------------------------------------------
# Finding 12: a full disk


@pytest.fixture()
def small_disk(tmp_path: Path):
    """A tmpfs mounted for the test (root only); yields ``mount(size)`` -> the mount point."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or result.returncode}): disk-full tests need root")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def fill(directory: Path, leave: int = 0) -> Path:
    """Write a ballast file until the file system has ``leave`` bytes free (or none)."""
    ballast = directory / "ballast.bin"
    with open(ballast, "wb") as out:
        try:
            while shutil.disk_usage(directory).free > leave:
                out.write(b"\0" * min(1 << 20, max(4096, shutil.disk_usage(directory).free - leave)))
                out.flush()
        except OSError:
            pass
    return ballast


def listing(directory: Path) -> dict[str, int]:
    return {str(path.relative_to(directory)): path.stat().st_size for path in directory.rglob("*") if path.is_file()}


def new_page(seeds: Path, number: int = 0) -> None:
    text = (SEED_PAGES[0].read_text(encoding="utf-8") + f"\n\n本报讯(记者 王小明) 第{number}号新稿件。\n") * 8
    (seeds / f"900_new_{number}.txt").write_text(text, encoding="utf-8")


def test_a_run_that_cannot_fit_fails_before_writing_anything(site, small_disk):
    disk = small_disk("1m")
    result = newsearch("index", "--seeds", str(site["seeds"]), "--index", str(disk / "index"))
    assert_one_line_error(result, "not enough free space", "nothing was written")
    assert sorted(os.listdir(disk / "index")) == [".build.lock"]


def test_a_run_that_fills_the_disk_removes_what_it_wrote_and_keeps_the_index(site, small_disk):
    disk = small_disk("16m")
    index = disk / "index"
    build(site["seeds"], index)
    new_page(site["seeds"])
    gen_dir = current_generation_dir(index)
    assert gen_dir is not None
    before = listing(gen_dir)
    # The disk fills up while the run writes: another process takes the space once the writer is open.
    run = subprocess.Popen([sys.executable, "-m", "search", "index", "--seeds", str(site["seeds"]), "--index", str(index)],
                           env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None and set(os.listdir(gen_dir)) <= set(before) | {"MAIN_WRITELOCK"}:
        time.sleep(0.005)
    ballast = fill(disk)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1, (out, err)
    assert "Traceback" not in err and "No space left on device" in err
    assert listing(gen_dir) == before  # no MAIN.tmp/*.ctmp, no empty segments, no journal
    with Archive.open(index) as archive:
        assert archive.search(WORD).total == site["total"]
    retry = newsearch("index", "--seeds", str(site["seeds"]), "--index", str(index))
    assert retry.returncode == 1 and listing(gen_dir) == before  # each retry leaves nothing either
    ballast.unlink()
    assert "added 1: 900_new_0.txt" in build(site["seeds"], index).stdout


def test_a_full_rebuild_needs_two_generations_of_space_not_three(tmp_path, small_disk):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = (Path(__file__).parent / "data" / "thucnews-1000.jsonl").read_text(encoding="utf-8").splitlines()
    (seeds / "cms.jsonl").write_text("\n".join(lines[:100]) + "\n", encoding="utf-8")
    probe = tmp_path / "probe"
    build(seeds, probe)
    generation = sum(path.stat().st_size for path in current_generation_dir(probe).iterdir())  # type: ignore[union-attr]
    disk = small_disk(str(int(generation * 2.6) + 512 * 1024))  # room for two generations and a half, not three
    index = disk / "index"
    build(seeds, index)
    build(seeds, index, "--full")  # now the current generation and the previous one
    third = build(seeds, index, "--full")
    assert "full rebuild (requested)" in third.stdout
    names = sorted(name for name in os.listdir(index) if name.startswith("gen-"))
    assert names == ["gen-000002", "gen-000003"] and read_pointer(index)["generation"] == "gen-000003"
    print(f"\none generation: {generation / 1048576:.1f} MB; three full builds in {int(generation * 2.6 / 1048576) + 0.5:.1f} MB of disk")

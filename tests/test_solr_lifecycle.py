"""The Solr engine's lifecycle on a real cluster: incremental runs, alias switches, a killed rebuild,
an interrupted incremental run, a changed analysis version, and a node stopped under load.

Also: without Java or Maven the Solr tests fail (they do not skip) unless NEWSEARCH_SKIP_SOLR=1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from search.api import Archive
from search.engines.solr import lifecycle
from search.engines.solr.documents import article_to_document, meta_document
from search.model import Article

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((REPO_ROOT / "seeds").glob("*.txt")) + sorted((REPO_ROOT / "seeds").glob("*.md"))
CORPUS = REPO_ROOT / "tests" / "data" / "thucnews-1000.jsonl"


def _solr(cluster, state: Path, collection: str) -> Archive:
    return Archive(state, backend="solr", solr=cluster.url, collection=collection)


def _total(archive: Archive, q: str = "") -> int:
    return archive.search(q, limit=1).total


@pytest.mark.solr
def test_incremental_runs_add_update_and_remove_files_and_full_runs_move_the_alias(solr_cluster, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in PAGES[:3]:
        shutil.copy(page, seeds)
    archive = _solr(solr_cluster, tmp_path / "state", "news_life")
    client = archive.engine.client
    assert not archive.exists()

    first = archive.rebuild(seeds)
    assert first.full and first.full_reason == "no collection yet" and first.generation == "news_life_v1"
    assert lifecycle.alias_target(client, "news_life") == "news_life_v1"
    three = _total(archive)
    assert three == first.articles_total > 0

    shutil.copy(PAGES[3], seeds)
    added = archive.rebuild(seeds)
    assert not added.full and added.added == [PAGES[3].name] and len(added.unchanged) == 3
    assert _total(archive) == added.articles_total > three

    text = (seeds / PAGES[0].name).read_text(encoding="utf-8")
    (seeds / PAGES[0].name).write_text(text + "\n本报讯 狼城岗镇新建一座图书馆，方便群众借阅。\n", encoding="utf-8")
    updated = archive.rebuild(seeds)
    assert updated.updated == [PAGES[0].name] and updated.reasons[PAGES[0].name] == "changed"
    assert archive.search("图书馆").total >= 1

    (seeds / PAGES[1].name).unlink()
    removed = archive.rebuild(seeds)
    assert removed.removed == [PAGES[1].name] and removed.articles_removed > 0
    assert archive.search("", filters={"source": [PAGES[1].name]}).total == 0
    assert _total(archive) == removed.articles_total

    unchanged = archive.rebuild(seeds)
    assert not unchanged.changed and unchanged.generation == "news_life_v1"

    second = archive.rebuild(seeds, full=True)
    assert second.full and second.generation == "news_life_v2"
    assert lifecycle.alias_target(client, "news_life") == "news_life_v2"
    third = archive.rebuild(seeds, full=True)
    assert third.generation == "news_life_v3"
    names = set(lifecycle.list_collections(client))
    assert {"news_life_v3", "news_life_v2"} <= names and "news_life_v1" not in names  # the previous one is kept
    assert _total(archive) == third.articles_total == removed.articles_total


@pytest.mark.solr
def test_an_interrupted_incremental_run_is_redone_before_its_updates_can_show(solr_cluster, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in PAGES[:2]:
        shutil.copy(page, seeds)
    archive = _solr(solr_cluster, tmp_path / "state", "news_journal")
    archive.rebuild(seeds)
    client, target = archive.engine.client, lifecycle.alias_target(archive.engine.client, "news_journal")
    before = _total(archive)
    # A run that died after sending an update and before its commit: the update waits in Solr's
    # transaction log, and the journal names the file it was changing.
    ghost = Article(id="ghost-article", source=PAGES[0].name, position=99, title="幽灵文章", body="不应出现的内容")
    client.post_json(f"{target}/update", [article_to_document(ghost)], params={"wt": "json"})
    (archive.index_dir / lifecycle.PENDING_NAME).write_text(
        f'{{"collection": "{target}", "files": ["{PAGES[0].name}"]}}', encoding="utf-8"
    )
    report = archive.rebuild(seeds)
    assert report.updated == [PAGES[0].name]
    assert archive.article("ghost-article") is None and archive.search("幽灵文章").total == 0
    assert _total(archive) == before
    assert not (archive.index_dir / lifecycle.PENDING_NAME).exists()


@pytest.mark.solr
def test_a_changed_analysis_version_rebuilds_into_a_new_collection(solr_cluster, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(PAGES[0], seeds)
    archive = _solr(solr_cluster, tmp_path / "state", "news_version")
    archive.rebuild(seeds)
    client = archive.engine.client
    target = lifecycle.alias_target(client, "news_version")
    meta = {"format": lifecycle.MANIFEST_FORMAT, "analysis_version": "newsearch-analysis-0", "catalog_sha": None, "built_at": "x"}
    client.post_json(f"{target}/update", [meta_document(meta)], params={"commit": "true", "wt": "json"})
    report = archive.rebuild(seeds)
    assert report.full and report.full_reason.startswith("analysis version changed (newsearch-analysis-0 ->")
    assert report.generation == "news_version_v2" and archive.stats()["analysis_version"] != "newsearch-analysis-0"


def _cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.mark.solr
@pytest.mark.slow
def test_a_full_rebuild_killed_mid_way_leaves_the_alias_on_the_old_collection(solr_cluster, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in PAGES:
        shutil.copy(page, seeds)
    state = tmp_path / "state"
    archive = _solr(solr_cluster, state, "news_kill")
    old = archive.rebuild(seeds)
    client = archive.engine.client
    shutil.copy(CORPUS, seeds)
    command = [sys.executable, "-m", "search", "index", "--full", "--seeds", str(seeds), "--index", str(state),
               "--backend", "solr", "--solr", solr_cluster.url, "--collection", "news_kill"]  # fmt: skip
    process = subprocess.Popen(command, env=_cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and "news_kill_v2" not in lifecycle.list_collections(client):
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        assert "news_kill_v2" in lifecycle.list_collections(client)
        time.sleep(3)  # documents are being prepared and sent into news_kill_v2
        assert process.poll() is None, "the rebuild finished before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    assert lifecycle.alias_target(client, "news_kill") == "news_kill_v1"
    assert _total(archive) == old.articles_total  # readers still see the old collection, all of it
    assert archive.search("狼城岗").total == 1
    # The next run deletes the half-built collection and brings the alias up to date.
    report = archive.rebuild(seeds)
    assert report.added == [CORPUS.name] and not report.full
    assert "news_kill_v2" not in lifecycle.list_collections(client)
    assert _total(archive) == old.articles_total + 1000


@pytest.mark.solr
@pytest.mark.slow
def test_searches_keep_answering_while_a_node_is_stopped(solr_cluster, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in PAGES:
        shutil.copy(page, seeds)
    archive = _solr(solr_cluster, tmp_path / "state", "news_failover")
    archive.rebuild(seeds)
    queries = ["高新区", "项目", "小微企业融资", "开门红 -新密", "党史学习教育", "狼城岗", "reporter:孙庆辉", "金水区 OR 二七区"]
    expected = {q: archive.search(q, limit=5).total for q in queries}
    assert all(expected.values())
    errors: list[str] = []
    empty: list[str] = []
    answers = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client(offset: int) -> None:
        reader = _solr(solr_cluster, tmp_path / "state", "news_failover")
        i = offset
        while not stop.is_set():
            q = queries[i % len(queries)]
            i += 1
            try:
                response = reader.search(q, limit=5)
            except Exception as error:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(f"{q}: {type(error).__name__}: {error}")
                continue
            with lock:
                answers[0] += 1
                if response.total != expected[q] or not response.results:
                    empty.append(f"{q}: {response.total} != {expected[q]}")
        reader.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        solr_cluster.stop_node(1)
        stopped_at = answers[0]
        time.sleep(10)
        during = answers[0] - stopped_at
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        solr_cluster.start_node(1)
    assert errors == [] and empty == []
    assert during > 8  # the searches went on while the node was down
    archive.engine.client.admin("CLUSTERSTATUS")  # the node is back
    assert archive.search("狼城岗").total == 1


def test_without_java_or_maven_the_solr_tests_fail_unless_skipped_on_purpose(tmp_path):
    test = tmp_path / "test_needs_solr.py"
    test.write_text("def test_cluster(solr_cluster):\n    pass\n", encoding="utf-8")
    shutil.copy(REPO_ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    env = {**_cli_env(), "PATH": str(tmp_path / "no-tools"), "NEWSEARCH_SKIP_SOLR": ""}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), "--rootdir", str(tmp_path)]
    failed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert failed.returncode == 1, failed.stdout
    assert "java not found" in failed.stdout and "NEWSEARCH_SKIP_SOLR=1" in failed.stdout
    skipped = subprocess.run(command, env={**env, "NEWSEARCH_SKIP_SOLR": "1"}, capture_output=True, text=True, timeout=120,
                             cwd=REPO_ROOT)  # fmt: skip
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout


def _basic_auth_security(user: str, password: str) -> dict:
    """A security.json for Solr's BasicAuthPlugin with one user allowed everything."""
    import base64
    import hashlib

    salt = os.urandom(32)
    digest = hashlib.sha256(hashlib.sha256(salt + password.encode()).digest()).digest()
    credentials = f"{base64.b64encode(digest).decode()} {base64.b64encode(salt).decode()}"
    return {
        "authentication": {"class": "solr.BasicAuthPlugin", "blockUnknown": True, "credentials": {user: credentials}},
        "authorization": {"class": "solr.RuleBasedAuthorizationPlugin", "user-role": {user: "admin"},
                          "permissions": [{"name": "all", "role": "admin"}]},
    }  # fmt: skip


def _wait_for_status(url: str, status: int, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(f"{url}/admin/collections?action=LIST&wt=json", timeout=10).status_code == status:
            return
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered {status}")


@pytest.mark.solr
def test_solr_behind_authentication_takes_newsearch_credentials_from_the_environment(solr_cluster, tmp_path):
    import json as json_module

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(PAGES[2], seeds)
    state = tmp_path / "state"
    _solr(solr_cluster, state, "news_auth").rebuild(seeds)
    security = tmp_path / "security.json"
    security.write_text(json_module.dumps(_basic_auth_security("newsearch", "s3cret-Pass")), encoding="utf-8")
    off = tmp_path / "no-security.json"
    off.write_text("{}", encoding="utf-8")
    args = ["--backend", "solr", "--solr", solr_cluster.url, "--collection", "news_auth", "--index", str(state)]
    solr_cluster.set_security(security)
    try:
        _wait_for_status(solr_cluster.nodes[0], 401)
        refused = subprocess.run([sys.executable, "-m", "search", "search", "金水区", *args], env=_cli_env(),
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "NEWSEARCH_SOLR_USER" in refused.stderr and "401" in refused.stderr
        env = {**_cli_env(), "NEWSEARCH_SOLR_USER": "newsearch", "NEWSEARCH_SOLR_PASSWORD": "s3cret-Pass"}
        allowed = subprocess.run([sys.executable, "-m", "search", "search", "金水区", "--format", "json", *args], env=env,
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
        assert allowed.returncode == 0, allowed.stderr
        assert json_module.loads(allowed.stdout)["total"] > 0
        shutil.copy(PAGES[3], seeds)
        indexed = subprocess.run([sys.executable, "-m", "search", "index", "--seeds", str(seeds), *args], env=env,
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
        assert indexed.returncode == 0 and f"added 1: {PAGES[3].name}" in indexed.stdout, indexed.stderr
        assert "s3cret" not in refused.stderr + allowed.stderr + indexed.stdout + indexed.stderr
    finally:
        solr_cluster.set_security(off)
        _wait_for_status(solr_cluster.nodes[0], 200)


@pytest.mark.solr
def test_serve_on_solr_builds_the_collection_first_then_serves_it(solr_cluster, tmp_path):
    from tests.attack_helpers import Server

    seeds = tmp_path / "no-seeds-here"  # the seeds directory the test server is started with
    seeds.mkdir()
    shutil.copy(PAGES[0], seeds)
    backend = {"NEWSEARCH_BACKEND": "solr", "NEWSEARCH_SOLR": solr_cluster.url, "NEWSEARCH_COLLECTION": "news_serve"}
    server = Server(tmp_path / "index", extra_env=backend)
    try:
        server.wait_ready(timeout=240)
        status, body = server.search("高新区")
        assert status == 200 and body["total"] > 0 and set(body) >= {"query", "total", "results", "facets"}
        assert server.request("/healthz")[0] == 200
        status, _headers, page = server.request(f"/article/{body['results'][0]['id']}")
        assert status == 200 and "<script>" not in page
    finally:
        stderr = server.stop()
    assert "building it from" in stderr and "Solr collection 'news_serve'" in stderr

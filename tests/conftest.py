"""Shared fixtures: the repository's seed pages, copied into a temporary directory per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_SEEDS = REPO_ROOT / "seeds"


@pytest.fixture(autouse=True)
def _files_written_by_a_test_are_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write seed files and index them at once: the "modified just now, may still be being
    written" note would then depend on how fast the machine is. The test of that note turns it on."""
    monkeypatch.setenv("NEWSEARCH_SETTLE_SECONDS", "0")


@pytest.fixture(autouse=True)
def _answers_kept_apart(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test keeps its search answers in a store of its own (and its subprocesses with it), not
    in the user's cache directory."""
    monkeypatch.setenv("NEWSEARCH_ANSWERS_DIR", str(tmp_path_factory.mktemp("answers")))


@pytest.fixture()
def seeds_dir(tmp_path: Path) -> Path:
    """A writable copy of the five seed pages (and catalog, if any)."""
    target = tmp_path / "seeds"
    shutil.copytree(REPO_SEEDS, target)
    return target


# ---------------------------------------------------------------------------------------------
# A real SolrCloud cluster (2 nodes + ZooKeeper), started once per test run for the Solr tests.


@pytest.fixture(scope="session")
def solr_cluster(tmp_path_factory: pytest.TempPathFactory):
    """The running cluster (see tests/solr_cluster.py). Fails — does not skip — when Java or Maven is
    missing, unless NEWSEARCH_SKIP_SOLR=1 asks to skip on purpose."""
    from tests.solr_cluster import ClusterUnavailable, skip_requested, start_cluster

    if skip_requested():
        pytest.skip("NEWSEARCH_SKIP_SOLR=1: Solr tests skipped on purpose")
    try:
        cluster = start_cluster(tmp_path_factory.mktemp("solr"), nodes=2)
    except ClusterUnavailable as error:
        pytest.fail(f"cannot run the Solr tests: {error}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.shutdown()

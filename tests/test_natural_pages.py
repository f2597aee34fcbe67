"""Every natural query, typed into the search page of an archive of the seed pages and the 1,000
THUCNews articles, shows results — or says why not and offers a query that finds something."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.api import rebuild
from search.evaluation import load_judged
from tests.conftest import REPO_SEEDS
from web import create_app

CORPUS = Path(__file__).resolve().parent / "data" / "thucnews-1000.jsonl"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("natural")
    seeds = root / "seeds"
    shutil.copytree(REPO_SEEDS, seeds)
    shutil.copy(CORPUS, seeds / CORPUS.name)
    rebuild(seeds, root / "index")
    return create_app({"TESTING": True}, index_dir=root / "index").test_client()


@pytest.mark.slow
def test_every_natural_query_shows_results_or_a_query_that_finds_something(client) -> None:
    silent = []
    for item in load_judged(name="natural_queries.toml"):
        response = client.get("/search", query_string={"q": item["q"]})
        assert response.status_code == 200, item["q"]
        page = response.get_data(as_text=True)
        data = client.get("/api/search", query_string={"q": item["q"]}).get_json()
        if data["total"]:
            assert 'class="result"' in page, item["q"]
            if "relaxed" in data:  # results that lack a word say which
                assert "以下结果不含：" in page and all(word in page for word in data["relaxed"]["dropped"])
        elif not any(alt["total"] for alt in data["alternatives"]):
            silent.append(item["q"])
    assert not silent, silent

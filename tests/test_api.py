"""The Archive API: typed results, refresh after rebuilds, a deleted index, threads."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from search.api import Archive, FacetValue, IndexMissing, SearchHit, SearchResponse, index_exists, rebuild
from search.model import Article

NEW_PAGE = """高新区举办龙虾音乐节

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节，吸引市民三千余人参加。
活动现场设置美食、非遗和文创展区，带动周边商户营业额明显增长。
"""
ROW_KEYS = {"id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind", "score", "snippet"}


@pytest.fixture()
def index_dir(seeds_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    rebuild(seeds_dir, target)
    return target


def test_open_without_an_index_raises_index_missing(tmp_path):
    with pytest.raises(IndexMissing, match="run `newsearch index` first"):
        Archive.open(tmp_path / "nothing-here")
    assert not index_exists(tmp_path / "nothing-here")


def test_search_returns_typed_hits_and_the_design_json_shape(index_dir):
    archive = Archive.open(index_dir)
    response = archive.search("高新区", limit=3)
    assert isinstance(response, SearchResponse) and response.total >= 1
    assert 1 <= len(response.results) <= 3 and all(isinstance(hit, SearchHit) for hit in response.results)
    data = response.to_dict()
    assert {"query", "total", "page", "limit", "results", "facets"} <= set(data)
    assert (data["query"], data["page"], data["limit"]) == ("高新区", 1, 3)
    for row in data["results"]:
        assert ROW_KEYS <= set(row)
    for values in response.facets.values():
        assert all(isinstance(value, FacetValue) for value in values)
    assert SearchResponse.from_dict(data).to_dict() == data


def test_filters_accept_plain_values_and_lists(index_dir):
    archive = Archive.open(index_dir)
    everything = archive.search("高新区", limit=50)
    source = everything.results[0].source
    narrowed = archive.search("高新区", filters={"source": source}, limit=50)
    assert narrowed.total >= 1 and {hit.source for hit in narrowed.results} == {source}
    assert archive.search("高新区", filters={"source": [source]}, limit=50).total == narrowed.total


def test_article_related_suggest_highlight_export_and_stats(index_dir):
    archive = Archive.open(index_dir)
    articles = list(archive.export())
    assert articles and all(isinstance(article, Article) for article in articles)
    first = articles[0]
    found = archive.article(first.id)
    assert found is not None and found.to_dict() == first.to_dict()
    assert archive.article("no-such-id") is None
    assert all(isinstance(hit, SearchHit) for hit in archive.related(first.id))
    assert archive.related("no-such-id") == []
    assert isinstance(archive.suggest("高新"), list)
    assert isinstance(archive.highlight_terms("高新区 融资"), list)
    stats = archive.stats()
    assert stats["articles"] == len(articles) and stats["pages"] == 5
    assert stats["terms"] > 0 and stats["index_bytes"] > 0 and stats["last_build"]


def test_one_search_path_reads_unspaced_queries_relaxes_and_offers_alternatives(index_dir):
    archive = Archive.open(index_dir)
    found = archive.search("郑州高新区企业座谈会")
    assert found.results[0].title.startswith("高新区召开“万人助万企”企业家座谈会") and "relaxed" not in found.extra
    relaxed = archive.search("高新区龙虾座谈会")  # no seed page mentions 龙虾
    assert relaxed.total >= 1 and relaxed.extra["relaxed"]["dropped"] == ["龙虾"]
    assert relaxed.to_dict()["relaxed"] == relaxed.extra["relaxed"]  # the JSON shape carries it
    nothing = archive.search('"高新区小微企业融资"')
    assert nothing.total == 0 and nothing.extra["alternatives"][0] == {"kind": "spaced_query", "q": "高新区 小微 企业 融资", "total": 1}
    assert "alternatives" not in found.extra
    # Each alternative's total (counted, not searched) is what searching it finds, filters and all.
    checked = 0
    for q, filters in (("龙虾万人助万企", None), ('"高新区小微企业融资"', None), ('"企业融资" -高新区', None)):
        for alternative in archive.search(q, filters=filters).extra.get("alternatives", []):
            assert alternative["total"] == archive.search(alternative["q"], filters=filters).total >= 1, alternative
            checked += 1
    assert checked >= 2
    picked = [item["text"] for item in archive.suggest("党史 孙")]
    assert "党史 孙庆辉" in picked and archive.search(picked[0]).total >= 1


def test_a_running_archive_sees_incremental_and_full_rebuilds(seeds_dir, index_dir):
    archive = Archive.open(index_dir)
    assert archive.search("龙虾音乐节").total == 0
    (seeds_dir / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    archive.rebuild(seeds_dir)
    assert archive.search("龙虾音乐节").total >= 1  # an incremental commit: refreshed
    (seeds_dir / "005_new.txt").unlink()
    rebuild(seeds_dir, index_dir, full=True)
    assert archive.search("龙虾音乐节").total == 0  # a new generation: reopened


def test_a_deleted_index_is_a_clear_error_and_recovers_when_rebuilt(seeds_dir, index_dir):
    archive = Archive.open(index_dir)
    total = archive.search("高新区").total
    shutil.rmtree(index_dir)
    with pytest.raises(IndexMissing):
        archive.search("高新区")
    rebuild(seeds_dir, index_dir)
    assert archive.search("高新区").total == total


def test_threads_share_one_archive_while_it_is_rebuilt(seeds_dir, index_dir):
    archive = Archive.open(index_dir)
    expected = archive.search("高新区").total
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                totals.append(archive.search("高新区").total)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):
            rebuild(seeds_dir, index_dir, full=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    assert totals and set(totals) == {expected}


def test_warm_up_prepares_a_server_archive_and_a_missing_index_is_left_to_the_requests(seeds_dir, tmp_path):
    # A server warms its archive before answering; with no index yet that must not fail the server.
    missing = Archive(tmp_path / "index")
    missing.warm_up()
    rebuild(seeds_dir, tmp_path / "index")
    missing.warm_up()  # the same archive, once the index exists
    assert missing.search("高新区 融资").total > 0
    assert missing.search("郑洲").extra["did_you_mean"] == "郑州"  # corrections still offered after warming


def test_a_warmed_archive_finds_names_and_words_as_a_cold_one_does(seeds_dir, index_dir, monkeypatch):
    # A server reads every name of the index as it starts and then skips the name lookups of words
    # that are no name: the answers must be the same as those of a CLI that never warmed up.
    monkeypatch.setenv("NEWSEARCH_ANSWERS_DIR", "off")  # each archive computes its own answers
    queries = ["孙庆辉", "孙庆辉小微企业", "高新区", "梧桐", "郑州市 融资", "金水区招商", "龙虾"]
    cold = {q: Archive.open(index_dir).search(q) for q in queries}
    warm = Archive.open(index_dir)
    warm.warm_up()
    for q in queries:
        answer = warm.search(q)
        assert (answer.total, [h.id for h in answer.results]) == (cold[q].total, [h.id for h in cold[q].results]), q
    assert cold["孙庆辉"].total >= 1  # his byline, though his name is not body text


def test_a_fresh_process_counts_facets_as_a_warmed_server_does(seeds_dir, index_dir, monkeypatch):
    # A cold CLI counts the facets of a small result from the segments' stores instead of building
    # each facet's column; a server builds every column as it warms up. Same counts, same order, over
    # two segments with a replaced page (deleted documents), with and without filters.
    monkeypatch.setenv("NEWSEARCH_ANSWERS_DIR", "off")  # each archive computes its own answers
    (seeds_dir / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    first = sorted(seeds_dir.glob("00[0-4]_*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\n高新区孙庆辉调研龙虾产业\n\n本报讯 高新区调研龙虾养殖。\n", encoding="utf-8")
    rebuild(seeds_dir, index_dir)
    searches = [("龙虾", {}), ("龙虾音乐节", {}), ("高新区", {}), ("", {}), ("郑州", {"kind": ["news"]}), ("高新区", {"place": ["高新区"]})]
    warm = Archive.open(index_dir)
    warm.warm_up()
    for q, filters in searches:
        cold = Archive.open(index_dir).search(q, filters=filters, facet_size=3)
        warmed = warm.search(q, filters=filters, facet_size=3)
        assert cold.total == warmed.total, q
        assert {name: [v.to_dict() for v in values] for name, values in cold.facets.items()} == {
            name: [v.to_dict() for v in values] for name, values in warmed.facets.items()
        }, (q, filters)
    assert sum(value.count for value in warm.search("龙虾").facets["kind"]) >= 2


def test_a_repeated_search_gives_the_same_answer_and_sees_a_new_page(seeds_dir, index_dir):
    # Repeats are answered from the engine's answers of this index version (pagination, back button).
    archive = Archive.open(index_dir)
    first = archive.search("高新区", filters={"kind": ["news"]})
    first.results.clear()  # a caller changing its copy changes nothing for the next one
    again = archive.search("高新区", filters={"kind": ["news"]})
    assert again.total == archive.search("高新区", filters={"kind": "news"}).total > 0 and again.results
    assert [hit.id for hit in archive.search("龙虾音乐节").results] == []
    (seeds_dir / "new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    rebuild(seeds_dir, index_dir)
    assert len(archive.search("龙虾音乐节").results) == 1  # the new index version is searched, not the old answer

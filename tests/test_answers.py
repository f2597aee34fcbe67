"""Answers kept on disk: shared by every process that searches an index, never stale, never in
the way of a search (damaged store, no store to be had), never written into the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from diskcache import Cache, JSONDisk

from search.api import Archive, rebuild
from search.engines.embedded.answers import forget, store_directory

NEW_PAGE = """高新区举办龙虾音乐节

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节，吸引市民三千余人参加。
"""


@pytest.fixture()
def index(seeds_dir: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    rebuild(seeds_dir, index_dir)
    return index_dir


def kept() -> int:
    directory = store_directory()
    assert directory is not None
    with Cache(str(directory), disk=JSONDisk) as store:
        return len(store)


def test_an_answer_found_by_one_process_is_kept_for_the_next(index: Path) -> None:
    before = {path.name for path in index.rglob("*")}
    with Archive.open(index) as first:
        answer = first.search("高新区小微企业融资")
    assert answer.total > 0
    assert kept() == 1  # on disk, for a server's other workers and the next command
    assert {path.name for path in index.rglob("*")} == before  # and not in the index directory
    with Archive.open(index) as second:  # a new Archive, as a new worker or a later command opens it
        again = second.search("高新区小微企业融资")
    assert [hit.id for hit in again.results] == [hit.id for hit in answer.results]
    assert again.total == answer.total and again.facets == answer.facets


def test_an_answer_kept_before_new_articles_is_not_served_after(seeds_dir: Path, index: Path) -> None:
    with Archive.open(index) as archive:
        before = archive.search("龙虾音乐节")
    (seeds_dir / "zz_festival.txt").write_text(NEW_PAGE, encoding="utf-8")
    rebuild(seeds_dir, index)
    with Archive.open(index) as archive:
        after = archive.search("龙虾音乐节")
    assert after.total == before.total + 1
    assert any("龙虾音乐节" in hit.title for hit in after.results)


def test_answers_of_one_index_are_never_served_for_another(seeds_dir: Path, tmp_path: Path, index: Path) -> None:
    other = tmp_path / "other"
    (seeds_dir / "zz_festival.txt").write_text(NEW_PAGE, encoding="utf-8")
    rebuild(seeds_dir, other)
    with Archive.open(index) as first, Archive.open(other) as second:
        assert second.search("龙虾音乐节").total == first.search("龙虾音乐节").total + 1


def test_forgetting_an_index_leaves_the_others_answers(seeds_dir: Path, tmp_path: Path, index: Path) -> None:
    other = tmp_path / "other"
    rebuild(seeds_dir, other)
    for where in (index, other):
        with Archive.open(where) as archive:
            archive.search("高新区")
    assert kept() == 2
    forget(index)
    assert kept() == 1


def test_a_damaged_answer_store_is_made_again_and_costs_nothing_but_its_answers(index: Path) -> None:
    with Archive.open(index) as archive:
        expected = archive.search("高新区").total
    directory = store_directory()
    assert directory is not None
    for path in directory.glob("cache.db*"):
        path.write_bytes(b"\x00not sqlite\x00" * 100)
    with Archive.open(index) as archive:
        assert archive.search("高新区").total == expected
        assert archive.search("二七区").total >= 0
    assert kept() == 2  # made again, and keeping answers


def test_where_no_store_can_be_made_searches_go_on(index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory", encoding="utf-8")
    for setting in (str(blocked), "off"):
        monkeypatch.setenv("NEWSEARCH_ANSWERS_DIR", setting)
        with Archive.open(index) as archive:
            first = archive.search("高新区")
            assert first.total > 0 and archive.search("高新区").total == first.total

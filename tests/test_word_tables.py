"""jieba's word tables read from the cache file give the same words, tags, weights and article
metadata as the dicts, and a missing, damaged or unwritable cache never changes an answer."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from search.ingest import word_tables as tables_module
from search.ingest.metadata import describe
from search.ingest.word_tables import WordTables, cache_path, read_dictionary, read_idf

CORPUS = Path(__file__).parent / "data" / "thucnews-1000.jsonl"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _articles(count: int) -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8") as lines:
        return [json.loads(line) for _, line in zip(range(count), lines)]


def _describe_with(tables: WordTables, monkeypatch: pytest.MonkeyPatch, articles: list[dict[str, str]]) -> list[dict]:
    monkeypatch.setattr(tables_module, "_tables", tables)
    return [describe(article.get("title", ""), article.get("body", "")) for article in articles]


def test_the_first_run_writes_the_cache_and_the_next_describes_articles_the_same_from_it(cache_home, monkeypatch):
    articles = _articles(12)
    path = cache_path()
    assert path is not None and not path.exists()
    first = WordTables(path)
    from_dicts = _describe_with(first, monkeypatch, articles)
    assert first.loaded and path.is_file()  # no cache yet: the dicts, and the cache written for later

    second = WordTables(path)
    from_cache = _describe_with(second, monkeypatch, articles)
    assert not second.loaded  # a dozen articles are looked up in the file, the dicts never read
    assert from_cache == from_dicts
    assert any(described["people"] for described in from_cache) and all(described["keywords"] for described in from_cache)


def test_every_lookup_in_the_cache_file_equals_the_dicts(cache_home):
    frequencies, tags = read_dictionary()
    idf, median = read_idf()
    WordTables(cache_path()).load()  # writes the file
    tables = WordTables(cache_path())
    picked = random.Random(7).sample(sorted(frequencies), 1500) + random.Random(8).sample(sorted(idf), 1500)
    for word in picked + ["不是一个词语", "zzzz", ""]:
        assert tables.frequency(word) == frequencies.get(word)
        assert tables.tag(word) == tags.get(word)
        assert tables.idf(word) == idf.get(word)
    assert tables.median_idf() == median
    assert not tables.loaded


def test_a_big_run_reads_the_dicts_after_enough_lookups(cache_home, monkeypatch):
    WordTables(cache_path()).load()
    monkeypatch.setattr(tables_module, "LOOKUPS_BEFORE_LOADING", 50)
    tables = WordTables(cache_path())
    words = sorted(read_dictionary()[0])[:200]
    answers = [tables.frequency(word) for word in words]
    assert tables.loaded
    assert answers == [read_dictionary()[0][word] for word in words]


def test_a_damaged_cache_file_is_replaced_and_answers_stay_right(cache_home):
    path = cache_path()
    WordTables(path).load()
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # a torn or overwritten file
    tables = WordTables(path)
    assert tables.frequency("记者") == read_dictionary()[0]["记者"]
    assert tables.loaded  # the file could not be read: the dicts answer
    assert WordTables(path).frequency("记者") == read_dictionary()[0]["记者"]  # and the file is sound again
    assert path.stat().st_size > 1_000_000


def test_without_a_writable_cache_directory_the_dicts_answer(tmp_path, monkeypatch, cache_home):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache directory cannot be made
    tables = WordTables(cache_path())
    assert tables.tag("高新区") == read_dictionary()[1].get("高新区")
    assert tables.median_idf() == read_idf()[1]
    assert tables.loaded

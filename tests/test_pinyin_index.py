"""Did-you-mean's pinyin index, kept spelled in the segment stores, answers exactly as one spelled
from the whole vocabulary: the same words with the same counts and types, the same corrections of
typed homophones and pinyin, and completions that are the most frequent words of the prefix.
Checked after a build on two processes, an incremental run that adds, changes and deletes files, and
small runs whose commits merge segments (each segment spells only its own words).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from search.api import Archive
from search.engines.embedded.doctable import segment_store
from search.engines.embedded.indexer import rebuild
from search.query import pinyin
from search.query.pinyin_index import Entry, PinyinIndex, best_first, keeps, word_keys
from tests.test_fragment_index import REPO, corpus_records, segment_count, write_jsonl


def typed_like_people(words: list[str], seed: int) -> list[str]:
    """Queries with the typos people make: one character swapped for a homophone, the word's pinyin
    typed in Latin letters, its initials."""
    rng = random.Random(seed)
    queries = []
    for word in rng.sample(words, min(80, len(words))):
        swapped = pinyin.homophone_spellings(word)
        if swapped:
            queries.append(rng.choice(swapped))
        queries.append("".join(pinyin.syllables(word)))
        queries.append("".join(part[0] for part in pinyin.syllables(word)))
    return queries + ["郑洲", "gaoxinqu", "gxq", "高薪区", "zhengzhou 融资", "不存在的词"]


def assert_same_as_the_vocabulary(index_dir: Path, seed: int) -> None:
    with Archive.open(index_dir) as archive:
        with archive.engine._using() as searcher:  # every segment's store holds its table: none is spelled now
            leaves = [leaf for leaf, _offset in searcher.reader().leaf_readers()]
            assert len(leaves) == segment_count(index_dir)
            assert all(segment_store(leaf).pinyin is not None for leaf in leaves)
        vocabulary = archive.engine.vocabulary()
        stored = archive.pinyin_index()
        spelled = PinyinIndex.build(vocabulary)  # the whole vocabulary spelled now, in memory
        kept = [item for item in vocabulary if keeps(item["text"])]
        assert len(kept) > 300
        assert sum(len(table) for table in spelled.tables) == len(kept)
        for item in kept:
            assert stored.entry(item["text"]) == Entry(item["text"], item["count"], item["type"])
        counts = archive.engine.term_counts
        for q in typed_like_people([item["text"] for item in kept if item["count"] >= 2], seed):
            assert pinyin.corrections(q, stored, counts) == pinyin.corrections(q, spelled, counts), q
        for prefix in ("gaox", "gxq", "zh", "bj", "xinhua", "zz", "sh", "zhengzhougaoxinqu"):
            wanted = best_first(
                [Entry(i["text"], i["count"], i["type"]) for i in kept if any(k.startswith(prefix) for keys in word_keys(i["text"])[:2] for k in keys)]
            )
            assert [c["text"] for c in stored.complete(prefix)] == [e.text for e in wanted[:8]], prefix


@pytest.fixture()
def archive_seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    for number in range(3):
        write_jsonl(seeds / f"corpus_{number}.jsonl", corpus_records(100 * number, 100 * number + 100))
    return seeds


def test_stored_pinyin_index_answers_as_the_whole_vocabulary_after_builds_changes_and_merges(archive_seeds: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuild(archive_seeds, index_dir, full=True, jobs=2)
    assert segment_count(index_dir) >= 2
    assert_same_as_the_vocabulary(index_dir, seed=1)

    (archive_seeds / "corpus_1.jsonl").unlink()
    write_jsonl(archive_seeds / "corpus_9.jsonl", corpus_records(500, 550))
    rebuild(archive_seeds, index_dir)
    assert_same_as_the_vocabulary(index_dir, seed=2)

    before = segment_count(index_dir)
    for number in range(11):
        write_jsonl(archive_seeds / f"small_{number:02d}.jsonl", corpus_records(600 + 5 * number, 605 + 5 * number))
        rebuild(archive_seeds, index_dir)
    assert segment_count(index_dir) < before + 11  # a merge happened
    assert_same_as_the_vocabulary(index_dir, seed=3)


def test_a_typo_is_corrected_from_a_word_of_a_page_just_added(archive_seeds: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuild(archive_seeds, index_dir, full=True)
    page = archive_seeds / "zz_new_page.txt"
    page.write_text("枸杞岛渔村民宿迎客\n本报讯 枸杞岛的渔村民宿本周迎来游客。\n\n枸杞岛海鲜节开幕\n本报讯 枸杞岛海鲜节昨日开幕。\n", encoding="utf-8")
    rebuild(archive_seeds, index_dir)
    with Archive.open(index_dir) as archive:
        assert archive.search("gouqi").extra["did_you_mean"] == "枸杞"  # a headline word of the new page only

"""The archive's own dictionary (``seeds/dictionary.toml``): reloaded by the next index run, which
re-segments only the articles holding a changed word. Real Whoosh indexes, real rjieba."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from whoosh import index as whoosh_index

from search.api import Archive, rebuild
from search.engines.embedded.indexer import current_generation_dir
from tests.conftest import REPO_SEEDS

# 智慧岛 (a project name jieba cuts into 智慧 / 岛) stands alone in one article; in another it is part of
# 智慧岛大厦, a longer name the dictionary already holds; the others never mention it.
RECORDS = [
    {"id": "port", "title": "智慧岛开园", "body": "郑东新区智慧岛今天开园，首批二十家企业入驻智慧岛。"},
    {"id": "bay", "title": "智慧岛大厦封顶", "body": "智慧岛大厦主体封顶，将建设研发楼宇。"},
    {"id": "other1", "title": "金水区举办运动会", "body": "金水区第十届全民运动会开幕。"},
    {"id": "other2", "title": "二七区召开产业大会", "body": "二七区召开产业发展大会，部署全年工作。"},
]


def _seeds(tmp_path: Path, dictionary: str | None) -> Path:
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        shutil.copytree(REPO_SEEDS, seeds)
        lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS)
        (seeds / "800_projects.jsonl").write_text(lines + "\n", encoding="utf-8")
    path = seeds / "dictionary.toml"
    if dictionary is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(dictionary, encoding="utf-8")
    return seeds


def _docnums(index: Path) -> dict[str, int]:
    ix = whoosh_index.open_dir(str(current_generation_dir(index)))
    with ix.searcher() as searcher:
        return {fields["id"]: docnum for docnum, fields in searcher.iter_docs()}


def _body_frequency(index: Path, word: str) -> int:
    """Live articles whose body holds ``word`` as a word (a term of the body field)."""
    from whoosh import query

    ix = whoosh_index.open_dir(str(current_generation_dir(index)))
    with ix.searcher() as searcher:
        return len(list(searcher.docs_for_query(query.Term("body", word))))


def test_an_added_word_re_segments_only_the_articles_holding_it(tmp_path):
    index = tmp_path / "index"
    seeds = _seeds(tmp_path, 'words = ["智慧岛大厦"]\n')
    first = rebuild(seeds, index)
    assert first.full and "dictionary.toml" not in first.skipped and not first.problems.get("dictionary.toml")
    assert _body_frequency(index, "智慧岛") == 0  # not a word yet: found only as characters
    with Archive.open(index) as archive:
        before = {hit.id: hit.score for hit in archive.search("智慧岛").results}
    assert set(before) == {"port", "bay"}
    docnums_before = _docnums(index)

    seeds = _seeds(tmp_path, '# the newsroom adds its project\nwords = ["智慧岛大厦", "智慧岛"]\n')
    report = rebuild(seeds, index)
    assert not report.full and report.dictionary_changed == ["智慧岛"]
    # Only the two articles whose text holds 智慧岛 were rewritten (智慧岛大厦 holds it too); no file was.
    assert report.articles_reindexed == 2
    assert not report.added and not report.updated and len(report.unchanged) == 6
    after = _docnums(index)
    untouched = set(after) - {"port", "bay"}
    assert all(after[i] == docnums_before[i] for i in untouched)  # the same Whoosh documents
    assert after["port"] != docnums_before["port"] and after["bay"] != docnums_before["bay"]
    assert len(after) == len(docnums_before)

    # Now a word: in the index's postings, and the article holding it as a word ranks above the one
    # where it is only characters inside 智慧岛大厦.
    assert _body_frequency(index, "智慧岛") == 1
    with Archive.open(index) as archive:
        results = archive.search("智慧岛").results
        assert [hit.id for hit in results] == ["port", "bay"]
        assert results[0].score > results[1].score

    # An unchanged run touches nothing; removing the word re-segments the same two again.
    assert not rebuild(seeds, index).changed
    seeds = _seeds(tmp_path, 'words = ["智慧岛大厦"]\n')
    removed = rebuild(seeds, index)
    assert removed.dictionary_changed == ["智慧岛"] and removed.articles_reindexed == 2
    assert _body_frequency(index, "智慧岛") == 0


def test_a_full_build_on_several_processes_uses_the_dictionary(tmp_path):
    # Two processes: the first file's articles (政银企协同 is in 000's) are written by the forked worker,
    # the last file's (智慧岛) by the parent; both must cut with the archive's words.
    index = tmp_path / "index"
    seeds = _seeds(tmp_path, 'words = ["智慧岛", "政银企协同"]\n')
    report = rebuild(seeds, index, jobs=2)
    assert report.full
    assert _body_frequency(index, "智慧岛") == 2
    assert _body_frequency(index, "政银企协同") == 1


def test_the_query_is_cut_with_the_index_dictionary(tmp_path):
    index = tmp_path / "index"
    seeds = _seeds(tmp_path, 'words = ["政银企协同"]\n')
    rebuild(seeds, index)
    with Archive.open(index) as archive:
        hit = archive.search("政银企协同").results[0]
        assert hit.title == "政银企协同解决小微企业融资难题"
    from search.analysis import word_list

    assert "政银企协同" not in word_list("政银企协同")  # outside an archive's context: the base dictionary


def test_a_broken_dictionary_is_reported_and_ignored(tmp_path):
    seeds = _seeds(tmp_path, "words = [\n")
    report = rebuild(seeds, tmp_path / "index")
    assert report.articles_total == 25 and "not readable TOML" in report.problems["dictionary.toml"][0]
    seeds = _seeds(tmp_path, 'words = ["好词", "two words", 5]\nnames = "孙庆辉"\n')
    report = rebuild(seeds, tmp_path / "index")
    problems = " ".join(report.problems["dictionary.toml"])
    assert "'two words' is not a word" in problems and "'5'" in problems and "'names' should be a list" in problems

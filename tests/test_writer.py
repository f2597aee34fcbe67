"""ArticleWriter writes the same index as Whoosh's own SegmentWriter, posting for posting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh import index
from whoosh.writing import SegmentWriter

from search.model import Article
from search.engines.embedded.schema import add_articles, build_schema
from search.ingest.sources import list_seed_files, read_seed_file
from search.engines.embedded.writer import MERGE_LIMIT, ArticleWriter, segments_to_merge

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return [a for p in list_seed_files(REPO_SEEDS) for a in read_seed_file(p).articles]


def snapshot(ix: Any) -> dict[str, Any]:
    """Everything Whoosh holds: every posting with its value, field lengths, stored fields."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        postings = {}
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            items = []
            while matcher.is_active():
                items.append((reader.stored_fields(matcher.id())["id"], matcher.weight(), matcher.value()))
                matcher.next()
            postings[(fieldname, text)] = sorted(items)
        docs = {}
        for docnum in reader.all_doc_ids():
            stored = reader.stored_fields(docnum)
            lengths = {name: reader.doc_field_length(docnum, name) for name in ("title", "body", "place", "id")}
            docs[stored["id"]] = (stored, lengths)
        return {"postings": postings, "docs": docs, "count": reader.doc_count()}


def build(directory: Path, writer_class: type, batches: list[list[Article]], delete: list[str]) -> Any:
    directory.mkdir()
    ix = index.create_in(str(directory), build_schema())
    for number, batch in enumerate(batches):
        writer = writer_class(ix)
        if number:  # later batches also delete
            for article_id in delete:
                writer.delete_by_term("id", article_id)
        add_articles(writer, batch)
        writer.add_document(id=f"plain-{number}", title="高新区 plain string", body="用字符串添加的正文。高新区")
        # The last commit merges every segment into the new one: merged postings go through the pool.
        writer.commit(optimize=number == len(batches) - 1)
    return ix


def test_article_writer_index_equals_whoosh_segment_writer(tmp_path: Path, seed_articles: list[Article]) -> None:
    batches = [seed_articles[:12], seed_articles[12:18], seed_articles[18:]]
    delete = [seed_articles[3].id, seed_articles[14].id]
    ours = snapshot(build(tmp_path / "ours", ArticleWriter, batches, delete))
    whoosh = snapshot(build(tmp_path / "whoosh", SegmentWriter, batches, delete))
    assert ours["count"] == whoosh["count"] == len(seed_articles) + 3 - len(delete)
    assert ours["postings"].keys() == whoosh["postings"].keys()
    assert ours["postings"] == whoosh["postings"]
    assert ours["docs"] == whoosh["docs"]


def test_segments_merged_at_commit_keep_every_document(tmp_path: Path, seed_articles: list[Article]) -> None:
    ix = build(tmp_path / "ix", ArticleWriter, [seed_articles[:5], seed_articles[5:10], seed_articles[10:]], [])
    assert len(ix._segments()) == 1  # the three batches were merged into one segment
    assert snapshot(ix)["count"] == len(seed_articles) + 3


def test_segment_store_holds_every_document_after_merges_and_deletions(tmp_path: Path, seed_articles: list[Article]) -> None:
    """The store written beside each segment has the text, facets and word postings of exactly the
    documents Whoosh has, including those a merge copied from older segments."""
    from search.engines.embedded.doctable import segment_store
    from search.engines.embedded.schema import article_extras, document_to_article

    batches = [seed_articles[:12], seed_articles[12:18], seed_articles[18:]]
    ix = build(tmp_path / "ix", ArticleWriter, batches, [seed_articles[3].id])
    with ix.searcher() as searcher:
        for leaf, _base in searcher.reader().leaf_readers():
            store = segment_store(leaf)
            assert store.buffer is not None  # read from its file, not rebuilt
            assert store.count == leaf.doc_count_all()
            for local in leaf.all_doc_ids():
                stored = leaf.stored_fields(local)
                fulltext, facets = article_extras(document_to_article(stored))
                assert store.fulltext(local) == fulltext
                assert store.facet_row(local) == tuple(None if value == "" else value for value in facets)  # empty = none
            for field in ("title", "body"):
                for term in leaf.lexicon(field):
                    word = term.decode("utf-8")
                    matcher = leaf.postings(field, word)
                    expected = []
                    while matcher.is_active():
                        expected.append((matcher.id(), int(matcher.weight())))
                        matcher.next()
                    docs, counts = store.word_postings(field, word)
                    assert list(zip(docs.tolist(), counts.tolist())) == expected, (field, word)


def test_a_segment_without_a_store_is_searched_the_same(tmp_path: Path, seed_articles: list[Article]) -> None:
    """A segment written by another writer has no store file: readers build one in memory from its
    stored fields and postings, and every search answers as on our writer's index."""
    from search.engines.embedded.search import run_search

    ours = build(tmp_path / "ours", ArticleWriter, [seed_articles], [])
    plain = build(tmp_path / "plain", SegmentWriter, [seed_articles], [])
    assert list((tmp_path / "ours").glob("*.nsx")) and not list((tmp_path / "plain").glob("*.nsx"))
    with ours.searcher() as a, plain.searcher() as b:
        for q in ("高新区", "微企", "小微企业 融资", "开门红 -新密", '"城市更新"', "title:高新区", "place:登封市", "孙庆辉"):
            first, second = run_search(a, q), run_search(b, q)
            assert first["total"] == second["total"] and first["results"] == second["results"], q
            assert first["facets"] == second["facets"], q


def test_adding_a_page_to_a_large_archive_never_copies_a_full_build_segment() -> None:
    """A million-article build leaves 52 segments of 19,231 articles: a commit adding one page
    writes its own small segment and copies none of them (it once rewrote 18,342 articles, 6 s)."""
    assert segments_to_merge([19_231] * 52 + [3]) == []
    assert segments_to_merge([19_231] * 52 + [3] * 9) == []  # nine small segments: not yet


def test_small_segments_of_many_commits_are_merged_once_there_are_ten() -> None:
    counts = [19_231] * 5 + [3, 5, 2, 8, 1, 4, 6, 2, 9, 7]
    assert sorted(segments_to_merge(counts)) == list(range(5, 15))


def test_a_merge_copies_at_most_the_limit() -> None:
    counts = [4_000] * 12
    chosen = segments_to_merge(counts)
    assert 2 <= len(chosen) and sum(counts[n] for n in chosen) <= MERGE_LIMIT


def test_a_page_added_then_removed_leaves_no_empty_segment_behind(tmp_path: Path, seeds_dir: Path) -> None:
    """Each empty segment would cost every later search and commit a reader of its own."""
    from search.api import rebuild
    from search.engines.embedded.indexer import current_generation_dir

    index_dir = tmp_path / "index"
    rebuild(seeds_dir, index_dir)
    page = seeds_dir / "zz_added.txt"
    for round_number in range(3):
        page.write_text(f"高新区第{round_number}次座谈会\n\n本报讯 高新区召开第{round_number}次企业座谈会。\n", encoding="utf-8")
        rebuild(seeds_dir, index_dir)
        page.unlink()
        rebuild(seeds_dir, index_dir)
    ix = index.open_dir(str(current_generation_dir(index_dir)))
    try:
        live = [segment.doc_count_all() - segment.deleted_count() for segment in ix._segments()]
    finally:
        ix.close()
    assert live and all(count > 0 for count in live), live

"""The index lifecycle in-process: incremental runs, manifest, catalog, versions, duplicates, journal, lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import search.analysis
from search.engines.embedded import indexer
from search.api import Archive
from search.engines.embedded.indexer import (
    MANIFEST_NAME,
    PENDING_NAME,
    POINTER_NAME,
    IndexBusy,
    SeedsMissing,
    build_lock,
    current_generation_dir,
    rebuild,
    whoosh_generation,
)

NEW_PAGE = """高新区举办龙虾音乐节

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节，吸引市民三千余人参加。
活动现场设置美食、非遗和文创展区，带动周边商户营业额明显增长。
"""


def ids_in_index(index_dir: Path) -> set[str]:
    with Archive.open(index_dir) as archive:
        return {article.id for article in archive.export()}


def manifest_of(index_dir: Path) -> dict:
    gen_dir = current_generation_dir(index_dir)
    assert gen_dir is not None
    return json.loads((gen_dir / MANIFEST_NAME).read_text(encoding="utf-8"))


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture()
def built(seeds_dir: Path, tmp_path: Path) -> Path:
    """An index built from the five seed pages."""
    index_dir = tmp_path / "index"
    report = rebuild(seeds_dir, index_dir)
    assert report.full and report.full_reason == "no index yet"
    return index_dir


def test_first_run_builds_everything_and_records_a_manifest(seeds_dir, built):
    manifest = manifest_of(built)
    seeds = sorted(p.name for p in seeds_dir.iterdir())
    assert sorted(manifest["files"]) == seeds
    assert manifest["analysis_version"] == search.analysis.ANALYSIS_VERSION
    assert manifest["generation"] == whoosh_generation(current_generation_dir(built))
    recorded = {i for entry in manifest["files"].values() for i in entry["ids"]}
    assert recorded == ids_in_index(built) and len(recorded) >= 5
    pointer = json.loads((built / POINTER_NAME).read_text())
    assert pointer["analysis_version"] == search.analysis.ANALYSIS_VERSION


def test_an_unchanged_run_only_hashes(seeds_dir, built):
    gen_dir = current_generation_dir(built)
    before = whoosh_generation(gen_dir)
    report = rebuild(seeds_dir, built)
    assert not report.changed and len(report.unchanged) == 5
    assert report.seconds < 1.0
    assert whoosh_generation(gen_dir) == before  # no commit happened


def test_an_unchanged_run_opens_no_writer_and_loads_no_segmenter(seeds_dir, built):
    # search.analysis (for ANALYSIS_VERSION) imports whoosh.analysis; the index and writer modules and
    # jieba must stay unloaded.
    code = (
        "import sys; from search.engines.embedded.indexer import rebuild; "
        f"r = rebuild({str(seeds_dir)!r}, {str(built)!r}); "
        "print(r.changed, *(m in sys.modules for m in ('jieba', 'whoosh.index', 'whoosh.writing')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False", "False"]


def test_adding_editing_and_deleting_pages(seeds_dir, built):
    before = ids_in_index(built)
    (seeds_dir / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    report = rebuild(seeds_dir, built)
    assert report.added == ["005_new.txt"] and not report.updated and not report.removed
    added = set(manifest_of(built)["files"]["005_new.txt"]["ids"])
    assert added and ids_in_index(built) == before | added
    with Archive.open(built) as archive:
        assert archive.search("龙虾音乐节").total >= 1

    (seeds_dir / "005_new.txt").write_text(NEW_PAGE.replace("龙虾", "螃蟹"), encoding="utf-8")
    report = rebuild(seeds_dir, built)
    assert report.updated == ["005_new.txt"] and report.reasons["005_new.txt"] == "changed"
    edited = set(manifest_of(built)["files"]["005_new.txt"]["ids"])
    assert ids_in_index(built) == before | edited
    with Archive.open(built) as archive:
        assert archive.search('"龙虾音乐节"').total == 0  # quoted: no relaxing to 音乐节 alone
        assert archive.search("螃蟹音乐节").total >= 1

    victim = sorted(seeds_dir.glob("00[0-4]_*.txt"))[0]
    victim_ids = set(manifest_of(built)["files"][victim.name]["ids"])
    victim.unlink()
    report = rebuild(seeds_dir, built)
    assert report.removed == [victim.name] and report.articles_removed == len(victim_ids)
    assert ids_in_index(built) == (before - victim_ids) | edited
    assert victim.name not in manifest_of(built)["files"]


def test_catalog_changes_reextract_only_the_files_whose_entry_changed(seeds_dir, built):
    names = sorted(p.name for p in seeds_dir.glob("*.txt"))
    catalog = seeds_dir / "catalog.toml"
    catalog.write_text(f'["{names[0]}"]\ndate = "2021-05-04"\nsection = "要闻"\n', encoding="utf-8")
    report = rebuild(seeds_dir, built)
    assert report.updated == [names[0]] and report.reasons[names[0]] == "catalog entry changed"
    first_id = manifest_of(built)["files"][names[0]]["ids"][0]
    with Archive.open(built) as archive:
        article = archive.article(first_id)
        assert article is not None and (article.date, article.section) == ("2021-05-04", "要闻")
    # Same entries, different text (a comment): nothing to re-extract, and the next run is unchanged.
    catalog.write_text("# known pages\n" + catalog.read_text(encoding="utf-8"), encoding="utf-8")
    assert not rebuild(seeds_dir, built).changed
    assert rebuild(seeds_dir, built).unchanged == names


def test_an_analysis_version_change_rebuilds_in_full_into_a_new_generation(seeds_dir, built, monkeypatch):
    old_gen = current_generation_dir(built)
    monkeypatch.setattr(search.analysis, "ANALYSIS_VERSION", "test-changed-version")
    report = rebuild(seeds_dir, built)
    assert report.full and "analysis version changed" in report.full_reason
    assert "test-changed-version" in report.full_reason
    new_gen = current_generation_dir(built)
    assert new_gen != old_gen and old_gen.is_dir()  # previous generation kept for open searchers
    assert manifest_of(built)["analysis_version"] == "test-changed-version"
    assert not rebuild(seeds_dir, built).changed
    # A third generation removes the first.
    rebuild(seeds_dir, built, full=True)
    assert not old_gen.exists() and new_gen.is_dir()


def test_full_rebuild_gives_the_same_articles(seeds_dir, built):
    before = ids_in_index(built)
    report = rebuild(seeds_dir, built, full=True)
    assert report.full and report.full_reason == "requested" and len(report.added) == 5
    assert ids_in_index(built) == before


def test_duplicate_ids_across_files_are_reported_not_clobbered(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    jsonl(seeds / "a.jsonl", [{"id": "same-1", "title": "金水区甲文", "body": "金水区的第一篇文章。"}])
    jsonl(seeds / "b.jsonl", [{"id": "same-1", "title": "二七区乙文", "body": "二七区的另一篇文章。"},
                              {"id": "b-2", "title": "二七区丙文", "body": "二七区的第三篇文章。"}])
    report = rebuild(seeds, index)
    assert any("same-1" in line for line in report.duplicates)
    assert any("duplicate article id same-1" in p for p in report.problems["b.jsonl"])
    with Archive.open(index) as archive:
        assert archive.article("same-1").title == "金水区甲文"
        assert archive.article("b-2") is not None
    # When the owner goes, the shadowed copy gets its turn.
    (seeds / "a.jsonl").unlink()
    report = rebuild(seeds, index)
    assert report.removed == ["a.jsonl"] and report.reasons["b.jsonl"] == "duplicate id released"
    with Archive.open(index) as archive:
        assert archive.article("same-1").title == "二七区乙文"
        assert archive.search("二七区").total == 2


def test_bad_and_unsupported_files_are_skipped_by_name(seeds_dir, built):
    (seeds_dir / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
    (seeds_dir / "empty.txt").write_bytes(b"")
    report = rebuild(seeds_dir, built)
    assert "not a seed file type" in report.skipped["scan.pdf"]
    assert "empty.txt" in report.skipped and not report.added
    again = rebuild(seeds_dir, built)  # skipped files are remembered, and still named
    assert not again.changed and set(again.skipped) == {"scan.pdf", "empty.txt"}


def test_missing_seeds_directory_is_an_error_not_an_empty_index(built, tmp_path):
    with pytest.raises(SeedsMissing, match="seeds directory not found"):
        rebuild(tmp_path / "no-such-seeds", built)
    assert ids_in_index(built)


def test_killed_after_commit_before_manifest_is_reconciled(seeds_dir, built, monkeypatch):
    (seeds_dir / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    real_write = indexer.write_json_atomic

    def die_on_manifest(path, data):
        if Path(path).name == MANIFEST_NAME:
            raise KeyboardInterrupt("simulated kill between the Whoosh commit and the manifest write")
        real_write(path, data)

    monkeypatch.setattr(indexer, "write_json_atomic", die_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        rebuild(seeds_dir, built)
    monkeypatch.undo()
    gen_dir = current_generation_dir(built)
    assert (gen_dir / PENDING_NAME).exists()
    report = rebuild(seeds_dir, built)  # the journal is adopted: the commit did happen
    assert not report.changed and "005_new.txt" in report.unchanged
    assert not (gen_dir / PENDING_NAME).exists()
    assert set(manifest_of(built)["files"]["005_new.txt"]["ids"]) <= ids_in_index(built)


def test_a_journal_without_its_commit_is_dropped(seeds_dir, built):
    gen_dir = current_generation_dir(built)
    manifest = manifest_of(built)
    bogus = dict(manifest, generation=manifest["generation"] + 1, files={})
    (gen_dir / PENDING_NAME).write_text(json.dumps(bogus), encoding="utf-8")
    report = rebuild(seeds_dir, built)
    assert not report.changed and len(report.unchanged) == 5
    assert not (gen_dir / PENDING_NAME).exists()


def test_a_manifest_out_of_step_with_the_index_forces_a_full_rebuild(seeds_dir, built):
    gen_dir = current_generation_dir(built)
    (gen_dir / MANIFEST_NAME).write_text("{broken", encoding="utf-8")
    report = rebuild(seeds_dir, built)
    assert report.full and "manifest" in report.full_reason
    assert not rebuild(seeds_dir, built).changed


def test_leftovers_of_a_killed_full_build_are_removed(seeds_dir, built):
    junk = built / "gen-000099"
    junk.mkdir()
    (junk / "half-written.seg").write_bytes(b"x" * 100)
    rebuild(seeds_dir, built)
    assert not junk.exists()


def test_a_second_run_waits_for_the_lock_then_gives_up_clearly(seeds_dir, built):
    messages: list[str] = []
    with build_lock(built):
        started = time.monotonic()
        with pytest.raises(IndexBusy, match="another index run .*gave up after 0.3s"):
            rebuild(seeds_dir, built, lock_timeout=0.3, on_message=messages.append)
        assert time.monotonic() - started >= 0.3
    assert messages and "waiting for another index run" in messages[0]
    assert not rebuild(seeds_dir, built, lock_timeout=0.3).changed  # lock released


def test_progress_is_reported_per_file_with_articles(seeds_dir, tmp_path):
    calls: list[tuple[int, int, str]] = []
    rebuild(seeds_dir, tmp_path / "index", progress=lambda done, total, name: calls.append((done, total, name)))
    names = sorted(p.name for p in seeds_dir.iterdir())
    # A full build: one step per file (named, with the articles read so far), then the writing step.
    firsts = {}
    for done, _total, name in calls:
        firsts.setdefault(done, name)
    assert sorted(firsts) == list(range(1, 7))
    for step, name in enumerate(names, start=1):
        assert firsts[step].startswith(f"{name} · ") and "articles read" in firsts[step]
    assert calls[-1] == (6, 6, "done · 21 articles")
    assert {total for _done, total, _name in calls} == {6}


def test_a_parallel_full_build_gives_the_same_archive_as_a_serial_one(seeds_dir, tmp_path):
    from whoosh import index as whoosh_index

    serial = rebuild(seeds_dir, tmp_path / "serial", jobs=1)
    parallel = rebuild(seeds_dir, tmp_path / "parallel", jobs=2)
    assert serial.articles_total == parallel.articles_total == 21
    assert manifest_of(tmp_path / "serial")["files"] == manifest_of(tmp_path / "parallel")["files"]
    # Two writer processes wrote one segment each, committed together.
    segments = whoosh_index.open_dir(str(current_generation_dir(tmp_path / "parallel")))._segments()
    assert len(segments) == 2
    with Archive.open(tmp_path / "serial") as one, Archive.open(tmp_path / "parallel") as two:
        assert [a.to_dict() for a in one.export()] == [a.to_dict() for a in two.export()]
        for q in ("高新区", "微企", "小微企业 融资", "开门红 -新密", "reporter:孙庆辉"):
            first, second = one.search(q, limit=30).to_dict(), two.search(q, limit=30).to_dict()
            assert first["results"] == second["results"] and first["facets"] == second["facets"], q
    # The next incremental run works on the multi-segment index.
    (seeds_dir / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    report = rebuild(seeds_dir, tmp_path / "parallel", jobs=2)
    assert report.added == ["005_new.txt"] and report.articles_total == 22

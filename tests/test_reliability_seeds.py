"""Issue 12, findings 5, 6, 10, 13 and 14 (first half): nothing is lost silently.

* 5: a .jsonl of 28 MB (10,000 records) was cut at 20 MB: 2,871 articles lost, exit 0. Exports now
  stream line by line whatever their size; a page over the stated limit is refused by name, exit 3.
* 6: a seed file was hashed before it was read, so content rewritten in between was stored under the
  old hash, and once the original was restored the next run said "unchanged": articles gone for good.
* 10: which copy of a duplicate id won depended on history (incremental: the first indexed; --full:
  the lower name). One rule now — first by name — and the losing copy is named in both kinds of run.
* 13: a symbolic link in seeds/ to a file outside was followed, and its text was searchable over HTTP.
* 14: a half-written file (a .jsonl without its last newline, a page just written) was indexed silently.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

from search.api import Archive, rebuild
from search.ingest.sources import read_seed_file
from tests.attack_helpers import SEED_PAGES, newsearch
from web import create_app

RECORD_BODY = "本报讯 高新区梧桐园区举办龙虾音乐节，吸引市民三千余人参加。" * 40


def age(path: Path, seconds: float = 60) -> None:
    """Make ``path`` look written ``seconds`` ago (a file that has settled)."""
    moment = os.stat(path).st_mtime - seconds
    os.utime(path, (moment, moment))


def write_records(path: Path, records: list[dict], final_newline: bool = True) -> Path:
    text = "\n".join(json.dumps(record, ensure_ascii=False) for record in records) + ("\n" if final_newline else "")
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Finding 5: .jsonl of any size


def test_a_28_mb_jsonl_export_is_read_whole(tmp_path):
    count = 10_000
    body = RECORD_BODY * 1  # ~2.8 KB a record, as in the finding's export
    path = write_records(tmp_path / "export.jsonl", [{"id": f"cms-{n:05d}", "title": f"第{n}篇", "body": body} for n in range(count)])
    assert path.stat().st_size > 28_000_000
    result = read_seed_file(path, metadata=False)
    assert len(result.articles) == count and result.articles[-1].id == f"cms-{count - 1:05d}"
    assert result.problems == [] and not result.refused
    assert result.size == path.stat().st_size and result.sha256 is not None


def test_a_page_over_the_size_limit_is_refused_by_name_with_a_non_zero_exit(tmp_path):
    from search.ingest.pages import MAX_PAGE_BYTES

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in SEED_PAGES:
        shutil.copy2(page, seeds / page.name)
    with open(seeds / "huge.txt", "wb") as out:
        out.truncate(MAX_PAGE_BYTES + 1)  # sparse: the size is what matters
    result = newsearch("index", "--seeds", str(seeds), "--index", str(tmp_path / "index"))
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "refused huge.txt: file is 64.0 MB, over the 64 MB limit for a page; refused, nothing of it indexed" in result.stdout
    assert "added 5" in result.stdout and "Traceback" not in result.stderr
    again = newsearch("index", "--seeds", str(seeds), "--index", str(tmp_path / "index"))
    assert again.returncode == 3 and "refused huge.txt" in again.stdout  # said again until it is dealt with


# ---------------------------------------------------------------------------------------------
# Finding 6: a file rewritten during a run


def test_a_file_rewritten_during_the_run_is_recorded_with_the_content_that_was_indexed(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    first = write_records(seeds / "a.jsonl", [{"id": "a-1", "title": "甲", "body": "第一个文件的稿件。"}])
    original = [{"id": f"b-{n:04d}", "title": f"乙{n}", "body": f"第二个文件的第{n}篇稿件。"} for n in range(1001)]
    second = write_records(seeds / "b.jsonl", original)
    original_bytes = second.read_bytes()
    for path in (first, second):
        age(path)

    def rewrite_b_after_a(done: int, total: int, name: str) -> None:
        if name.split(" · ")[0] == "a.jsonl":  # a.jsonl read (a full build adds article counts); b.jsonl was hashed when the run listed the files; now it changes
            write_records(second, original[:530])

    report = rebuild(seeds, index, progress=rewrite_b_after_a)
    assert report.articles_total == 531  # the content that was read
    second.write_bytes(original_bytes)  # restored byte for byte
    again = rebuild(seeds, index)
    assert "b.jsonl" in again.updated and "b.jsonl" not in again.unchanged
    with Archive.open(index) as archive:
        assert sum(1 for article in archive.export()) == 1002


# ---------------------------------------------------------------------------------------------
# Finding 10: one rule for duplicate ids


def test_a_duplicate_id_belongs_to_the_file_first_by_name_whatever_the_history(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    record = {"id": "shared-1", "title": "同一编号", "body": "两份导出里都有这篇稿件。"}
    write_records(seeds / "b.jsonl", [{**record, "body": "b 里的版本。"}])
    rebuild(seeds, index)
    write_records(seeds / "a.jsonl", [{**record, "body": "a 里的版本。"}])  # comes first by name, indexed later
    incremental = rebuild(seeds, index)
    with Archive.open(index) as archive:
        assert archive.article("shared-1").source == "a.jsonl"
    assert incremental.duplicates == ["b.jsonl: shared-1 (kept the one in a.jsonl, which comes first by name)"]
    full = rebuild(seeds, index, full=True)
    with Archive.open(index) as archive:
        assert archive.article("shared-1").source == "a.jsonl"
    assert full.duplicates == ["b.jsonl: shared-1 (kept the one in a.jsonl, which comes first by name)"]
    # The owner goes: the other copy comes back without a full rebuild.
    (seeds / "a.jsonl").unlink()
    rebuild(seeds, index)
    with Archive.open(index) as archive:
        assert archive.article("shared-1").source == "b.jsonl"


# ---------------------------------------------------------------------------------------------
# Finding 13: symbolic links


def test_a_link_to_a_file_outside_the_seeds_is_skipped_and_reported(tmp_path):
    seeds, index, outside = tmp_path / "seeds", tmp_path / "index", tmp_path / "private"
    seeds.mkdir()
    outside.mkdir()
    shutil.copy2(SEED_PAGES[0], seeds / SEED_PAGES[0].name)
    secret = outside / "secret.txt"
    secret.write_text("本报讯 绝密文件：账户口令是紫罗兰七号。本文不应出现在检索结果中。\n", encoding="utf-8")
    os.symlink(secret, seeds / "link.txt")
    os.symlink(SEED_PAGES[1], seeds / "repo-link.txt")  # outside too: the repository's own seeds
    os.symlink(SEED_PAGES[0].name, seeds / "alias.txt")  # inside: allowed
    result = newsearch("index", "--seeds", str(seeds), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert f"skipped link.txt: symbolic link to a file outside the seeds directory ({secret}); not followed" in result.stdout
    assert "skipped repo-link.txt: symbolic link to a file outside the seeds directory" in result.stdout
    assert f"added 2: {SEED_PAGES[0].name}, alias.txt" in result.stdout  # a link inside the seeds is a seed
    client = create_app({"TESTING": True}, index_dir=index).test_client()
    assert client.get(f"/api/search?q={quote('紫罗兰七号')}").get_json()["total"] == 0
    followed = newsearch("index", "--seeds", str(seeds), "--index", str(index), "--follow-symlinks")
    assert "added 2: link.txt, repo-link.txt" in followed.stdout, followed.stdout
    client = create_app({"TESTING": True}, index_dir=index).test_client()
    assert client.get(f"/api/search?q={quote('紫罗兰七号')}").get_json()["total"] == 1


# ---------------------------------------------------------------------------------------------
# Finding 14: half-written files


def test_half_written_files_are_reported_as_such(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_SETTLE_SECONDS", "2")  # the default, which the test suite turns off
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    settled = write_records(seeds / "done.jsonl", [{"id": "d-1", "title": "完整", "body": "写完的文件。"}])
    age(settled)
    cut = seeds / "cut.jsonl"  # the last record stops mid-string, without its newline
    cut.write_text(json.dumps({"id": "c-1", "title": "一", "body": "第一篇。"}, ensure_ascii=False) + '\n{"id": "c-2", "body": "第',
                   encoding="utf-8")  # fmt: skip
    age(cut)
    growing = seeds / "growing.txt"
    growing.write_text("本报讯（记者 王小明）高新区召开会议，研究小微企业融资。\n", encoding="utf-8")  # just written
    report = rebuild(seeds, index)
    assert "done.jsonl" not in report.problems
    (problem,) = report.problems["cut.jsonl"]
    assert problem.startswith("line 2: not valid JSON") and problem.endswith(
        "(the last line has no newline: the file may still be being written); skipped"
    )
    (note,) = report.problems["growing.txt"]
    assert note.startswith("modified") and "it may still be being written; indexed as read" in note
    # A later run that finds the file as it was does not repeat that it was modified "before this run"
    # (the note is turned off for that run: only a note kept from the first one could show).
    monkeypatch.setenv("NEWSEARCH_SETTLE_SECONDS", "0")
    later = rebuild(seeds, index)
    assert "growing.txt" in later.unchanged and "growing.txt" not in later.problems
    monkeypatch.setenv("NEWSEARCH_SETTLE_SECONDS", "2")
    # The rest of the file arrives: the next run reads it whole.
    write_records(cut, [{"id": "c-1", "title": "一", "body": "第一篇。"}, {"id": "c-2", "title": "二", "body": "第二篇。"}])
    assert "cut.jsonl" in rebuild(seeds, index).updated
    with Archive.open(index) as archive:
        assert archive.article("c-2") is not None

"""Seed files of every kind: .jsonl exports, catalog.toml, and bad files that must never stop a build."""

from __future__ import annotations

import json
import os
from pathlib import Path

from search.ingest.sources import list_seed_files, load_catalog, read_seed_file


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_articles_are_read_with_their_fields_and_inferred_metadata(tmp_path):
    record = {"id": "cms-1", "title": "金水区召开会议", "body": "本报讯 金水区召开高质量发展大会。会议强调小微企业融资。",
              "date": "2024-03-05", "section": "要闻", "reporters": ["党贺喜"]}
    path = write_jsonl(tmp_path / "export.jsonl", [json.dumps(record, ensure_ascii=False)])
    result = read_seed_file(path)
    assert not result.problems
    (article,) = result.articles
    assert (article.id, article.title, article.section, article.reporters) == ("cms-1", "金水区召开会议", "要闻", ["党贺喜"])
    assert (article.date, article.year, article.month) == ("2024-03-05", 2024, 3)
    assert "金水区" in article.places and article.keywords


def test_a_broken_jsonl_line_is_reported_and_its_neighbours_kept(tmp_path):
    path = write_jsonl(tmp_path / "cms.jsonl", [
        json.dumps({"id": "a", "title": "一", "body": "第一篇。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b", "title": "二", "body": "第二篇。"}, ensure_ascii=False),
        json.dumps({"id": "a", "title": "重复", "body": "重复的编号。"}, ensure_ascii=False),
    ])
    result = read_seed_file(path)
    assert [a.id for a in result.articles] == ["a", "b"]
    assert any(problem.startswith("line 2:") for problem in result.problems)
    assert any("duplicate id" in problem for problem in result.problems)


def test_jsonl_without_title_keeps_body_and_gets_a_hash_id_for_unsafe_ids(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": "../../etc/passwd", "title": None, "body": "正文。"})])
    (article,) = read_seed_file(path).articles
    assert article.title == "" and article.body == "正文。"
    assert "/" not in article.id and len(article.id) == 16


def test_catalog_metadata_wins_over_inference(seeds_dir):
    (seeds_dir / "catalog.toml").write_text(
        '["001_2fcdea626b87df4c.txt"]\ndate = "2021-08-28"\npaper = "郑州日报"\npage = "A3"\nsection = "高新"\n',
        encoding="utf-8")
    catalog, problems = load_catalog(seeds_dir)
    assert not problems
    name = "001_2fcdea626b87df4c.txt"
    articles = read_seed_file(seeds_dir / name, catalog[name]).articles
    assert {(a.date, a.year, a.month, a.section, a.paper, a.page) for a in articles} == {
        ("2021-08-28", 2021, 8, "高新", "郑州日报", "A3")}


def test_a_broken_catalog_is_reported_not_fatal(seeds_dir):
    (seeds_dir / "catalog.toml").write_text('["x.txt"\ndate = ', encoding="utf-8")
    catalog, problems = load_catalog(seeds_dir)
    assert catalog == {} and "not valid TOML" in problems[0]


def test_list_seed_files_takes_pages_and_exports_only(seeds_dir):
    (seeds_dir / "notes.docx").write_bytes(b"PK")
    (seeds_dir / ".hidden.txt").write_text("x", encoding="utf-8")
    (seeds_dir / "catalog.toml").write_text("", encoding="utf-8")
    names = [p.name for p in list_seed_files(seeds_dir)]
    assert len(names) == 5 and all(n.endswith(".txt") for n in names)


def test_bad_files_are_reported_by_name_and_skipped_or_salvaged(tmp_path):
    (tmp_path / "junk.txt").write_bytes(os.urandom(50_000))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "huge.txt").write_text("高新区召开会议，研究小微企业融资。" * 60_000, encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes("本报讯（记者 孙庆辉）高新区召开会议。会议强调做好工作。".encode("gbk"))
    junk, empty, huge, gbk = (read_seed_file(tmp_path / n) for n in ("junk.txt", "empty.txt", "huge.txt", "gbk.txt"))
    assert junk.skipped and "binary" in junk.problems[0]
    assert empty.skipped and "empty" in empty.problems[0]
    assert not huge.skipped and huge.articles[0].chars > 1_000_000
    assert gbk.articles[0].reporters == ["孙庆辉"] and not gbk.problems


def test_unreadable_path_never_raises(tmp_path):
    result = read_seed_file(tmp_path / "missing.txt")
    assert result.skipped and "cannot read" in result.problems[0]

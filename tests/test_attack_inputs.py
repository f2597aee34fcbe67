"""Bad seed files beside good ones, through a real ``newsearch index`` process (issue 7).

One seeds directory holds copies of the five real pages and one bad file of each kind: binary junk, an
empty file, a 5 MB single line, a UTF-8 page with a corrupted block in the middle, a GBK page without a
BOM, a page of only headlines, and a ``.jsonl`` export with broken lines (invalid JSON, nesting too deep
for the parser, a lone surrogate and terminal escapes in a record). The run must exit 0, name every
problem file with what it did, and index every good article and every readable part: checked against
clean copies of the same pages, by article count and by searching text from each part.
(tests/test_sources.py checks ``read_seed_file`` in-process; this is the CLI end to end.)
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from pathlib import Path

import pytest

from search.api import Archive
from search.ingest.sources import read_seed_file
from tests.attack_helpers import SEED_PAGES, denying, newsearch

pytestmark = pytest.mark.slow

HUGE_BYTES = 5 * 1024 * 1024
HUGE_SENTENCE = "梧桐园区持续优化营商环境，服务企业发展。"
HUGE_END = "全文最后一句写的是彩虹桥落成。"
DAMAGED_SOURCE = SEED_PAGES[2]  # 11 articles
DAMAGED_BEFORE = "助企业解困"  # the junk goes in just before the line holding this headline
DAMAGED_AFTER_TEXT = "精准养护"  # a headline of an article after the damage
GBK_SOURCE = SEED_PAGES[1]
HEADLINES = "高新区召开党工委会议\n\n郑州市城市更新项目名单公布\n\n金水区举办社区文化节\n\n中原区推进老旧小区改造\n"
GOOD_RECORDS = [
    {"id": "cms-ok-1", "title": "二七区举办龙舟邀请赛", "body": "本报讯 二七区在樱桃沟举办龙舟邀请赛，十二支队伍参赛。", "date": "2024-06-10"},
    {"id": "cms-ok-2", "title": "惠济区黄河湿地迎来候鸟", "body": "本报讯 惠济区黄河湿地近日迎来大批候鸟越冬。", "reporters": ["李青"]},
    {"id": "cms-ok-3", "title": "上街区航空小镇开放日", "body": "本报讯 上街区航空小镇举办开放日活动，市民体验飞行模拟。"},
]
ODD_RECORD = {"id": "cms-odd", "title": "\u001b[31m荥阳市石榴节开幕\u0007", "body": "本报讯 荥阳市河阴石榴节开幕\ud800。",
              "reporters": ["\u202e张三"]}  # fmt: skip


def _jsonl_lines() -> list[str]:
    good = [json.dumps(record, ensure_ascii=False) for record in GOOD_RECORDS]
    return [
        good[0],
        '{"id": "cms-broken", "title": "断了的一行',  # line 2: invalid JSON
        good[1],
        "[" * 100_000 + "]" * 100_000,  # line 4: valid JSON, nested too deep for the parser
        json.dumps(ODD_RECORD),  # line 5: escapes: a lone surrogate, ESC and BEL, a bidi override
        good[2],
    ]


def _junk_insertion_point(data: bytes) -> int:
    """The byte offset of the start of the line holding DAMAGED_BEFORE (between two articles)."""
    return data.rindex(b"\n", 0, data.index(DAMAGED_BEFORE.encode())) + 1


def write_bad_seeds(seeds: Path) -> dict[str, object]:
    """The good pages plus one bad file of each kind; returns facts the assertions need."""
    seeds.mkdir(parents=True)
    for page in SEED_PAGES:
        shutil.copy(page, seeds / page.name)
    rng = random.Random(7)
    (seeds / "junk.txt").write_bytes(bytes(rng.randrange(256) for _ in range(64 * 1024)))
    (seeds / "empty.txt").write_bytes(b"")
    sentence = HUGE_SENTENCE.encode()
    repeats = (HUGE_BYTES - len(HUGE_END.encode())) // len(sentence)
    (seeds / "huge.txt").write_bytes(sentence * repeats + HUGE_END.encode())
    clean = DAMAGED_SOURCE.read_bytes()
    cut = _junk_insertion_point(clean)
    junk = bytes(rng.randrange(256) for _ in range(600))
    (seeds / "damaged.txt").write_bytes(clean[:cut] + junk + clean[cut:])
    (seeds / "gbk.txt").write_bytes(GBK_SOURCE.read_text(encoding="utf-8").encode("gbk"))
    (seeds / "headlines.txt").write_text(HEADLINES, encoding="utf-8")
    (seeds / "cms.jsonl").write_text("\n".join(_jsonl_lines()) + "\n", encoding="utf-8")
    settled = time.time() - 60  # written a while ago: no "modified just before this run" note joins the lines
    for path in seeds.iterdir():
        os.utime(path, (settled, settled))
    return {"junk_start": cut, "junk_end": cut + len(junk)}


def clean_twin(tmp: Path, name: str, text: bytes) -> list[str]:
    """Article ids of a clean page with the same file name (ids depend on the name and the text)."""
    twin = tmp / "twins" / name
    twin.parent.mkdir(exist_ok=True)
    twin.write_bytes(text)
    return [article.id for article in read_seed_file(twin).articles]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("bad-seeds")
    facts = write_bad_seeds(root / "seeds")
    result = newsearch("index", "--seeds", str(root / "seeds"), "--index", str(root / "index"), timeout=240)
    return {"root": root, "index": root / "index", "result": result, **facts}


def report_lines(run: dict[str, object], name: str) -> list[str]:
    stdout = run["result"].stdout  # type: ignore[attr-defined]
    return [line for line in stdout.splitlines() if re.match(rf"(skipped|warning) {re.escape(name)}: ", line)]


def hits(run: dict[str, object], q: str) -> list:
    with Archive.open(run["index"]) as archive:  # type: ignore[arg-type]
        return archive.search(q, limit=100).results


# ---------------------------------------------------------------------------------------------


def test_the_run_exits_zero_without_a_traceback(run):
    result = run["result"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_unreadable_files_are_named_and_skipped(run):
    # "skipped" once per line: the reason no longer repeats it.
    assert report_lines(run, "junk.txt") == ["skipped junk.txt: binary or undecodable content"]
    assert report_lines(run, "empty.txt") == ["skipped empty.txt: empty file"]
    assert not [hit for hit in hits(run, "") if hit.source in ("junk.txt", "empty.txt")]


def test_a_corrupted_block_is_cut_out_by_byte_offset_and_the_rest_salvaged(run, tmp_path):
    start, end = run["junk_start"], run["junk_end"]
    (line,) = report_lines(run, "damaged.txt")
    assert line.startswith("warning damaged.txt: ")
    assert f"at byte {start}-{end - 1} cut out" in line and f"from byte {end}" in line
    # Every article of the page, before and after the damage, is indexed exactly as from a clean copy.
    want = clean_twin(tmp_path, "damaged.txt", DAMAGED_SOURCE.read_bytes())
    assert len(want) == 11
    with Archive.open(run["index"]) as archive:
        got = [hit.id for hit in archive.search("", filters={"source": "damaged.txt"}, limit=100).results]
        assert sorted(got) == sorted(want)
        after = [hit for hit in archive.search(f"title:{DAMAGED_AFTER_TEXT}", limit=20).results if hit.source == "damaged.txt"]
        assert len(after) == 1  # an article that starts after the damaged block
        assert "\ufffd" not in archive.article(after[0].id).body


def test_a_gbk_page_without_bom_gives_the_same_articles_as_its_utf8_original(run, tmp_path):
    assert report_lines(run, "gbk.txt") == []  # nothing wrong with it: no warning
    want = clean_twin(tmp_path, "gbk.txt", GBK_SOURCE.read_bytes())
    with Archive.open(run["index"]) as archive:
        got = [hit.id for hit in archive.search("", filters={"source": "gbk.txt"}, limit=100).results]
        assert sorted(got) == sorted(want) and len(want) == 3
        assert any(hit.source == "gbk.txt" for hit in archive.search("万人助万企").results)


def test_a_5mb_single_line_is_reported_and_indexed_to_its_last_sentence(run):
    (line,) = report_lines(run, "huge.txt")
    assert re.search(r"warning huge\.txt: line 1 is [\d,]+ characters long without a line break", line)
    (hit,) = [hit for hit in hits(run, "彩虹桥落成") if hit.source == "huge.txt"]
    with Archive.open(run["index"]) as archive:
        article = archive.article(hit.id)
    size = (run["root"] / "seeds" / "huge.txt").stat().st_size
    assert article.body.endswith(HUGE_END) and len(article.body.encode()) == size > HUGE_BYTES - 100


def test_searches_matching_the_5mb_line_everywhere_stay_fast(run):
    # The sentence occurs ~87,000 times in the long line: each hit's snippet once cost minutes.
    with Archive.open(run["index"]) as archive:
        archive.search("高新区")  # warm the searcher's tables
        started = time.perf_counter()
        response = archive.search("营商环境")
        seconds = time.perf_counter() - started
    (hit,) = [hit for hit in response.results if hit.source == "huge.txt"]
    assert "<mark>营商环境</mark>" in hit.snippet and len(hit.snippet) < 400
    assert seconds < 5, f"{seconds:.1f}s"


def test_a_page_of_only_headlines_is_reported_and_its_headlines_searchable(run):
    (line,) = report_lines(run, "headlines.txt")
    assert "only headline-like lines" in line and "indexed as 1 article" in line
    assert [hit.source for hit in hits(run, "社区文化节")] == ["headlines.txt"]


def test_broken_jsonl_lines_are_named_by_number_and_their_neighbours_kept(run):
    lines = report_lines(run, "cms.jsonl")
    assert any(line.startswith("warning cms.jsonl: line 2: not valid JSON") for line in lines), lines
    assert any(line.startswith("warning cms.jsonl: line 4: not usable JSON (RecursionError)") for line in lines), lines
    assert len(lines) == 2, lines
    with Archive.open(run["index"]) as archive:
        for record in GOOD_RECORDS:
            assert archive.article(record["id"]).title == record["title"]
        odd = archive.article("cms-odd")  # line 5: kept, with the control characters and the surrogate dropped
        assert odd.title == "[31m荥阳市石榴节开幕" and odd.body == "本报讯 荥阳市河阴石榴节开幕。"
        assert odd.reporters == ["张三"]
        assert archive.search("石榴节").total == 1


def test_every_good_article_is_indexed_and_nothing_else(run, tmp_path):
    good_pages = [page for page in SEED_PAGES]
    want = {article_id for page in good_pages for article_id in clean_twin(tmp_path, page.name, page.read_bytes())}
    want |= set(clean_twin(tmp_path, "damaged.txt", DAMAGED_SOURCE.read_bytes()))
    want |= set(clean_twin(tmp_path, "gbk.txt", GBK_SOURCE.read_bytes()))
    with Archive.open(run["index"]) as archive:
        by_source: dict[str, set[str]] = {}
        for article in archive.export():
            by_source.setdefault(article.source, set()).add(article.id)
        stats = archive.stats()
    indexed = set().union(*by_source.values())
    assert want <= indexed  # every article of every good page, and of the salvaged and GBK pages
    assert {record["id"] for record in GOOD_RECORDS} | {"cms-odd"} == by_source["cms.jsonl"]
    assert len(by_source["huge.txt"]) == 1 and len(by_source["headlines.txt"]) == 1
    assert set(by_source) == {page.name for page in good_pages} | {"damaged.txt", "gbk.txt", "huge.txt", "headlines.txt", "cms.jsonl"}
    expected_total = len(want) + 4 + 1 + 1  # + the jsonl records, the long line, the headlines
    assert stats["articles"] == expected_total == 21 + 11 + 3 + 6
    assert f"{expected_total} total" in run["result"].stdout
    assert sorted(stats["skipped_files"]) == ["empty.txt", "junk.txt"]


def test_an_unchanged_second_run_still_names_the_bad_files(run):
    again = newsearch("index", "--seeds", str(run["root"] / "seeds"), "--index", str(run["index"]))
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 updated, 0 removed" in again.stdout
    assert "skipped junk.txt: binary or undecodable content" in again.stdout
    assert "skipped empty.txt: empty file" in again.stdout
    assert "warning damaged.txt: damaged block" in again.stdout


# ---------------------------------------------------------------------------------------------
# Hostile file names


def test_hostile_file_names_are_escaped_in_reports_and_a_non_utf8_name_is_skipped(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    page = SEED_PAGES[0].read_bytes()
    names = {"ok.txt": "正常", "<img src=x onerror=alert(1)>.txt": "标签", "line\nbreak.txt": "换行", "esc\x1b[2J.txt": "转义"}
    for name, word in names.items():
        (seeds / name).write_bytes(page.replace("高新区一项目".encode(), f"{word}一项目".encode()))
    (seeds / os.fsdecode(b"\xff\xfe bytes.txt")).write_bytes(page)
    result = newsearch("index", "--seeds", str(seeds), "--index", str(tmp_path / "index"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.stdout)  # no raw newline-in-a-name, no ESC
    assert "line\\nbreak.txt" in result.stdout and "esc\\x1b[2J.txt" in result.stdout
    assert "skipped \\xff\\xfe bytes.txt: file name is not valid UTF-8; rename the file to index it" in result.stdout
    assert "20 total" in result.stdout  # the four other pages, five articles each
    with Archive.open(tmp_path / "index") as archive:
        (hit,) = archive.search("转义一项目").results
        assert hit.source == "esc\x1b[2J.txt"  # stored as it is on disk ...
    shown = newsearch("show", hit.id, "--index", str(tmp_path / "index"))
    assert shown.returncode == 0 and "source:         esc\\x1b[2J.txt" in shown.stdout  # ... printed escaped
    assert "\x1b" not in shown.stdout
    table = newsearch("search", '"一项目"', "--index", str(tmp_path / "index"))  # quoted: the headline's characters
    assert "\x1b" not in table.stdout and "esc\\x1b[2J.txt (1)" in table.stdout


def test_an_unreadable_page_is_skipped_by_name_and_the_others_indexed(tmp_path):
    """A page the index run may not read (permissions: refused by an audit hook, as root ignores
    chmod) is skipped and named; before, the run stopped with "cannot write the index"."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for page in SEED_PAGES:
        shutil.copy(page, seeds / page.name)
    locked = seeds / "locked.txt"
    shutil.copy(SEED_PAGES[0], locked)
    if os.geteuid() != 0:
        locked.chmod(0)
    result = denying("index", "--seeds", str(seeds), "--index", str(tmp_path / "index"), reads_of=locked)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "skipped locked.txt: cannot read file (Permission denied)\n" in result.stdout
    assert "21 total" in result.stdout and "added 5:" in result.stdout

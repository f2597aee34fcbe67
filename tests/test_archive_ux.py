"""What archive users expect beyond the search box (issue 15), on real indexes built from the seed pages:
the timeline, browse by issue, facets that show everything, exports of a whole result set, searching by
filters alone, did-you-mean (homophones, pinyin), synonyms, and the rough edges that were fixed.

The archive's own dictionary and people/organisation precision have their own files
(``test_dictionary.py``, ``test_entities.py``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.api import Archive, rebuild
from search.engines.embedded.indexer import current_generation_dir, whoosh_generation
from tests.conftest import REPO_ROOT, REPO_SEEDS
from web import create_app
from web.params import MAX_FACET_SIZE

SYNONYMS = """# test synonyms
groups = [
  ["高新区", "郑州高新区", "高新技术产业开发区"],
  "龙湖镇, 龙湖",
]
"""
# A structured export with one record that has no title (its headline must come from its first sentence).
RECORDS = [
    {"id": "cms-1", "title": "", "body": "龙湖镇举行春季植树活动。志愿者种下一千棵树，龙湖沿岸添新绿。", "date": "2022-03-12"},
    {"id": "cms-2", "title": "高新技术产业开发区新签约项目", "body": "高新技术产业开发区签约五个项目。总投资十亿元。", "date": "2022-05-01"},
]


def newsearch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "NEWSEARCH_SETTLE_SECONDS": "0"}, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ux")
    seeds = root / "seeds"
    shutil.copytree(REPO_SEEDS, seeds)
    (seeds / "900_cms.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n", encoding="utf-8")
    (seeds / "synonyms.toml").write_text(SYNONYMS, encoding="utf-8")
    report = rebuild(seeds, root / "index_data")
    assert "synonyms.toml" not in report.skipped and "dictionary.toml" not in report.skipped
    return root


@pytest.fixture(scope="module")
def index_dir(work: Path) -> Path:
    return work / "index_data"


@pytest.fixture()
def archive(index_dir: Path) -> Archive:
    return Archive.open(index_dir)


@pytest.fixture(scope="module")
def client(index_dir: Path):
    return create_app({"TESTING": True}, index_dir=index_dir).test_client()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Timeline


def test_the_histogram_counts_matches_per_year_then_per_month_within_one_year(archive):
    everything = archive.search("")
    histogram = everything.extra["histogram"]
    assert histogram["unit"] == "year"
    counts = {b["value"]: b["count"] for b in histogram["buckets"]}
    assert counts == {"2022": 2, "2023": 12, "2024": 6}
    assert sum(counts.values()) + histogram["undated"] == everything.total
    one_year = archive.search("", filters={"year": "2024"}).extra["histogram"]
    assert one_year["unit"] == "month" and one_year["year"] == 2024 and len(one_year["buckets"]) == 12
    months = {b["value"]: b["count"] for b in one_year["buckets"] if b["count"]}
    assert months == {"2024-08": 1, "2024-11": 5}
    # The same counts follow the query.
    query = {b["value"]: b["count"] for b in archive.search("小微企业").extra["histogram"]["buckets"] if b["count"]}
    assert sum(query.values()) <= archive.search("小微企业").total


def test_timeline_bars_are_server_side_svg_links_that_filter(client):
    html = page(client, "/search?q=高新区")
    assert '<svg class="timeline-chart"' in html and "<script" not in html.split('<svg class="timeline-chart"')[1].split("</svg>")[0]
    bars = re.findall(r'<a href="([^"]+)" role="listitem" class="timeline-bar[^"]*" data-period="(\d{4})"', html)
    assert bars and all("year=" + period in url for url, period in bars)
    url, period = bars[-1]
    filtered = page(client, url.replace("&amp;", "&"))
    assert f'data-period="{period}-' in filtered  # now per month of that year
    api = client.get(url.replace("&amp;", "&").replace("/search", "/api/search")).get_json()
    assert api["histogram"]["unit"] == "month" and api["filters"] == {"year": [period]}
    assert all(row["date"].startswith(period) for row in api["results"])


# ---------------------------------------------------------------------------------------------
# Browse by issue


def test_browse_lists_page_files_by_date_and_a_page_shows_its_articles_in_page_order(client, archive):
    html = page(client, "/browse")
    assert "按版面浏览" in html and "2024年11月22日" in html and "/browse/000_60733420360c6775.txt" in html
    data = client.get("/api/browse").get_json()
    dates = [day["date"] for paper in data["papers"] for day in paper["dates"]]
    assert dates[0] == "2024-11-22" and data["pages"] == 6
    listing = client.get("/api/browse/000_60733420360c6775.txt").get_json()
    positions = [a["position"] for a in listing["articles"]]
    assert positions == sorted(positions) == list(range(1, 6))
    assert listing["articles"][1]["title"] == "政银企协同解决小微企业融资难题"
    html = page(client, "/browse/000_60733420360c6775.txt")
    assert html.index("高新区一项目拟入库") < html.index("政银企协同解决小微企业融资难题")
    assert client.get("/browse/nope.txt").status_code == 404
    assert client.get("/api/browse/nope.txt").get_json()["error"] == "not_found"


def test_the_article_page_links_to_its_page(client, archive):
    hit = archive.search("政银企协同").results[0]
    html = page(client, f"/article/{hit.id}")
    assert f'href="/browse/{hit.source}#a-2"' in html


# ---------------------------------------------------------------------------------------------
# Facets that show everything


def test_facets_show_ten_values_then_more_and_all(client):
    short = client.get("/api/search?q=").get_json()
    full = client.get("/api/search?_facet_size=max").get_json()
    assert len(short["facets"]["org"]) == 10 and short["facet_more"]["org"]["truncated"]
    assert short["facet_more"]["org"]["all_url"].startswith("/api/search?_facet_size=max")
    assert len(full["facets"]["org"]) > 40 and not full["facet_more"]["org"]["truncated"]
    assert len(full["facets"]["place"]) > 10
    html = page(client, "/search?_facet_size=max&year=2024")
    assert 'class="facet-filter"' in html and "收起" in html  # a filter box inside a long facet
    assert ">全部</a>" in page(client, "/search?year=2024")
    assert client.get(f"/api/search?q=x&_facet_size={MAX_FACET_SIZE + 1}").status_code == 400


# ---------------------------------------------------------------------------------------------
# Export


def test_the_whole_result_set_downloads_as_csv_with_a_bom_and_as_jsonl(client, archive):
    total = archive.search("高新区").total
    assert total > 10  # more than one page
    csv_response = client.get("/export.csv?q=高新区")
    body = csv_response.get_data()
    assert csv_response.status_code == 200 and body.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == total and {"id", "title", "title_note", "body", "reporters"} <= set(rows[0])
    jsonl = client.get("/export.jsonl?q=高新区&year=2024").get_data(as_text=True).splitlines()
    assert len(jsonl) == archive.search("高新区", filters={"year": "2024"}).total
    assert all(json.loads(line)["year"] == 2024 for line in jsonl)
    assert client.get("/export.csv?q=高新区&year=abcd").status_code == 400
    html = page(client, "/search?q=高新区")
    assert 'href="/export.csv?q=' in html and 'href="/export.jsonl?q=' in html


def test_cli_export_of_a_search_and_filters(work):
    out = newsearch("export", "--q", "高新区", "--filter", "year=2024", "--format", "csv", cwd=work)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))
    with Archive.open(work / "index_data") as archive:
        assert len(rows) == archive.search("高新区", filters={"year": "2024"}).total
    jsonl = newsearch("export", "--filter", "source=900_cms.jsonl", cwd=work).stdout.splitlines()
    records = {r["id"]: r for r in map(json.loads, jsonl)}
    assert set(records) == {"cms-1", "cms-2"}
    assert records["cms-1"]["title"] == "" and "没有标题" in records["cms-1"]["title_note"]  # said, not hidden
    assert records["cms-2"]["title_note"] == ""
    everything = newsearch("export", cwd=work).stdout.splitlines()
    assert len(everything) == 23


# ---------------------------------------------------------------------------------------------
# Filters alone, results per page


def test_cli_search_with_only_filters_lists_by_filter(work):
    out = newsearch("search", "--filter", "reporter=孙庆辉", "--format", "json", cwd=work)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["query"] == "" and data["total"] >= 3 and all("孙庆辉" in row["reporters"] for row in data["results"])
    none = newsearch("search", cwd=work)
    assert none.returncode == 2 and "give a QUERY" in none.stderr and "Traceback" not in none.stderr


def test_results_per_page_choice(client):
    html = page(client, "/search?q=高新区&limit=20")
    assert re.search(r'<a href="/search\?q=[^"]*limit=50"', html)
    assert 'aria-current="true" class="is-current">20' in html
    data = client.get("/api/search?q=高新区&limit=20").get_json()
    assert data["limit"] == 20 and len(data["results"]) == min(20, data["total"])


# ---------------------------------------------------------------------------------------------
# Did you mean, pinyin, synonyms


@pytest.mark.parametrize("typed, meant", [("郑洲", "郑州"), ("gaoxinqu", "高新区"), ("gxq", "高新区"), ("高薪区", "高新区")])
def test_did_you_mean_homophones_and_pinyin(archive, typed, meant):
    response = archive.search(typed)
    assert response.extra["did_you_mean"] == meant
    # Results that lack a typed word (relaxed: 高薪区 finds 区 alone) hold none of the typed words together.
    holding_all = 0 if "relaxed" in response.extra else response.total
    assert response.extra["did_you_mean_total"] == archive.search(meant).total > holding_all


def test_did_you_mean_keeps_quiet_when_the_query_finds_things(archive):
    assert archive.search("小微企业").extra["did_you_mean"] is None
    assert archive.search("郑州").extra["did_you_mean"] is None


def test_did_you_mean_on_the_page_in_json_and_in_the_cli(client, work):
    html = page(client, "/search?q=郑洲")
    assert "您是不是要找：" in html and 'class="did-you-mean-link">郑州</a>' in html
    data = client.get("/api/search?q=郑洲").get_json()
    assert data["did_you_mean"] == "郑州" and data["did_you_mean_url"] == "/api/search?q=%E9%83%91%E5%B7%9E"
    table = newsearch("search", "郑洲", cwd=work)
    assert "您是不是要找：郑州" in table.stdout


def test_suggestions_accept_pinyin_prefixes(client):
    for prefix in ("gaox", "gxq"):
        texts = [s["text"] for s in client.get(f"/api/suggest?q={prefix}").get_json()["suggestions"]]
        assert "高新区" in texts, (prefix, texts)


def test_synonyms_expand_at_query_time_and_are_shown(archive, client):
    # "高新技术产业开发区" appears only in the .jsonl record; a search for 高新区 finds it through the group.
    ids = {hit.id for hit in archive.search("高新区", limit=100).results}
    assert "cms-2" in ids
    used = archive.search("高新区").extra["synonyms"]
    assert used == [{"term": "高新区", "synonyms": ["郑州高新区", "高新技术产业开发区"]}]
    assert archive.search("龙湖").total == archive.search("龙湖镇").total >= 1
    assert "cms-2" not in {h.id for h in archive.search("项目 -高新区", limit=100).results}  # exclusion covers synonyms
    html = page(client, "/search?q=高新区")
    assert "已包含同义词" in html and "高新技术产业开发区" in html
    assert archive.search('"高新区"').extra["synonyms"] == []  # a quoted phrase is taken as typed


def test_a_synonym_change_needs_no_rebuild(work, tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    shutil.copytree(REPO_SEEDS, seeds)
    rebuild(seeds, index)
    gen = current_generation_dir(index)
    before = whoosh_generation(gen)
    with Archive.open(index) as archive:
        assert archive.search("开门红").extra["synonyms"] == []
        (seeds / "synonyms.toml").write_text('groups = [["开门红", "首季告捷"]]\n', encoding="utf-8")
        report = rebuild(seeds, index)
        assert not report.changed and whoosh_generation(gen) == before  # nothing re-indexed
        assert archive.search("开门红").extra["synonyms"] == [{"term": "开门红", "synonyms": ["首季告捷"]}]  # same Archive


# ---------------------------------------------------------------------------------------------
# Rough edges


def test_new_only_with_nothing_new_says_so_with_the_date_of_the_last_run(work, tmp_path):
    saved = tmp_path / "saved.toml"
    saved.write_text('[queries.gx]\nq = "高新区"\nlimit = 100\n', encoding="utf-8")
    first = newsearch("saved", "run", "gx", "--new-only", "--file", str(saved), "--index", str(work / "index_data"), cwd=work)
    assert first.returncode == 0 and "没有新文章" not in first.stdout
    again = newsearch("saved", "run", "gx", "--new-only", "--file", str(saved), "--index", str(work / "index_data"), cwd=work)
    assert again.returncode == 0
    assert re.search(r"没有新文章自上次运行（\d{4}-\d\d-\d\dT[\d:]+\+00:00）以来", again.stdout), again.stdout
    assert "place:" not in again.stdout and "No results" not in again.stdout  # no facet counts of old hits
    jsonl = newsearch("saved", "run", "gx", "--new-only", "--format", "jsonl", "--file", str(saved),
                      "--index", str(work / "index_data"), cwd=work)  # fmt: skip
    assert json.loads(jsonl.stdout)["since"]


def test_saved_query_csv_gives_the_query_text_too(work, tmp_path):
    saved = tmp_path / "saved.toml"
    saved.write_text('[queries.xw]\nq = "小微企业 融资"\n', encoding="utf-8")
    out = newsearch("saved", "run", "xw", "--format", "csv", "--file", str(saved), "--index", str(work / "index_data"), cwd=work)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows and rows[0]["query"] == "xw" and rows[0]["query_text"] == "小微企业 融资"


def test_a_page_past_the_last_says_so_without_page_99_of_2(client):
    html = page(client, "/search?q=小微企业&page=99")
    assert "第 99 /" not in html and "没有第 99 页" in html and "去最后一页" in html


def test_api_errors_are_chinese_with_stable_english_codes(client):
    missing = client.get("/api/article/no-such-id").get_json()
    assert missing["error"] == "not_found" and "没有编号为" in missing["message"]
    bad = client.get("/api/search?q=x&kind=essay").get_json()
    assert bad["error"] == "bad_request" and bad["param"] == "kind" and "体裁" in bad["message"]


def test_adjacent_marks_make_one_mark(client):
    data = client.get("/api/search?q=小微企业 融资").get_json()
    snippets = " ".join(row["snippet"] for row in data["results"])
    assert "</mark><mark>" not in snippets and "<mark>小微企业融资</mark>" in snippets


def test_a_search_by_filters_alone_has_a_heading_without_empty_quotes(client):
    html = page(client, "/search?reporter=孙庆辉")
    assert "“”" not in html and "按条件筛选的文章" in html


def test_an_index_run_names_an_empty_file_once(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO_SEEDS, seeds)
    (seeds / "empty.txt").write_text("", encoding="utf-8")
    old = time.time() - 60  # written a while ago: not also "modified just before this run"
    os.utime(seeds / "empty.txt", (old, old))
    out = newsearch("index", "--seeds", str(seeds), "--index", str(tmp_path / "index"), cwd=tmp_path)
    line = next(line for line in out.stdout.splitlines() if "empty.txt" in line)
    assert line == "skipped empty.txt: empty file"


def test_a_jsonl_record_without_a_title_is_headed_by_its_first_sentence(work):
    out = newsearch("search", "植树", cwd=work)
    assert "龙湖镇举行春季植树活动 (untitled)" in out.stdout


def test_the_docs_state_the_contracts_themselves():
    for path in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")), REPO_ROOT / "saved_queries.toml"]:
        assert "DESIGN §" not in path.read_text(encoding="utf-8"), path

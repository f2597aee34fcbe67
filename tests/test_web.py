"""The web app through Flask's test client, over a real index built from the seed pages (no mocks).

Covers every route, the JSON search shape of the twins, facets (toggle URLs, several values, counts
that change), chips, sorting, pagination, date ranges, the no-results state, 400/404/405/503 pages,
hostile input (in the query and in article text) staying escaped, and the security headers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from search.api import Archive, rebuild
from tests.conftest import REPO_SEEDS
from web import create_app
from web.highlight import mark_segments, safe_snippet
from web.params import SearchState

ROW_KEYS = {"id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind", "score", "snippet"}
SEARCH_KEYS = {"query", "total", "page", "limit", "sort", "filters", "took_ms", "results", "facets"}
ARTICLE_KEYS = {
    "id", "source", "position", "title", "kicker", "subtitle", "body", "lead", "reporters", "correspondents",
    "photographers", "places", "people", "orgs", "keywords", "kind", "date", "year", "month", "section", "chars",
}

HOSTILE_PAGE = """高新区龙虾节<script>alert("title")</script>开幕

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节<img src=x onerror=alert(1)>，吸引市民三千余人参加。
活动现场设置美食、非遗和文创展区，<b>带动</b>周边商户营业额明显增长，"A&B"商户表示满意<script>alert("body")</script>。
"""


# ---------------------------------------------------------------------------------------------
# Fixtures: one real index per module (seed pages + one page of hostile text)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    seeds = root / "seeds"
    shutil.copytree(REPO_SEEDS, seeds)
    (seeds / "900_hostile.txt").write_text(HOSTILE_PAGE, encoding="utf-8")
    rebuild(seeds, root / "index")
    return root / "index"


@pytest.fixture(scope="module")
def app(index_dir: Path):
    return create_app({"TESTING": True}, index_dir=index_dir)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def archive(index_dir: Path) -> Archive:
    return Archive.open(index_dir)


@pytest.fixture()
def missing_client(tmp_path: Path):
    return create_app({"TESTING": True}, index_dir=tmp_path / "no-index-here").test_client()


def html(response) -> str:
    return response.get_data(as_text=True)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def hostile_id(archive: Archive) -> str:
    hits = archive.search("龙虾").results
    assert hits, "the hostile page should have been indexed"
    return hits[0].id


# ---------------------------------------------------------------------------------------------
# Landing page


def test_home_page_is_chinese_with_a_labelled_search_box_and_browse_links(client):
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="zh-CN">' in page
    assert '<label for="q"' in page and 'id="q" name="q"' in page
    assert 'role="combobox"' in page and 'aria-controls="q-suggestions"' in page and 'role="listbox"' in page
    assert 'action="/search"' in page
    assert re.search(r"档案收录 <strong>\d+</strong> 篇文章", page)
    assert "/search?place=" in page and "/search?reporter=" in page  # browse by facet


def test_home_with_a_query_string_redirects_to_search(client):
    response = client.get("/?q=小微企业")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/search?q=")


def test_search_without_query_or_filters_is_the_landing_page(client):
    response = client.get("/search?q=&place=&from=&to=")
    assert response.status_code == 200
    assert "在报纸档案中检索" in html(response)


# ---------------------------------------------------------------------------------------------
# Results page


def test_results_page_shows_highlighted_results_with_headline_and_metadata(client, archive):
    response = client.get("/search?q=小微企业")
    assert response.status_code == 200
    page = html(response)
    expected = archive.search("小微企业")
    assert f"找到 <strong>{expected.total}</strong> 篇文章" in page
    assert "<mark>小微企业</mark>" in page
    assert "毫秒" in page  # the time taken
    first = expected.results[0]
    assert f'href="/article/{first.id}?q=' in page
    assert first.source in page
    assert "政银企协同解决" in page and "供需两端发力" in page  # title and kicker of the best hit
    assert "地点" in page and "记者" in page
    for label in ("相关度", "最新", "最早"):
        assert label in page


def test_results_page_has_facets_with_counts_and_server_built_toggle_links(client):
    page = html(client.get("/search?q=小微企业"))
    assert 'id="facet-place"' in page and 'id="facet-year"' in page
    links = re.findall(r'<a class="facet-value" href="([^"]+)" data-facet="place">', page)
    assert links, "each place value links to its toggle URL"
    assert all(query_of(link.replace("&amp;", "&"))["q"] == ["小微企业"] for link in links)
    assert re.search(r'<span class="count"><span class="visually-hidden">，</span>\d+<', page)


def test_selecting_facet_values_narrows_shows_chips_and_keeps_the_rest_of_the_state(client, archive):
    data = client.get("/api/search?q=高新区&sort=newest").get_json()
    place = next(value for value in data["facets"]["place"] if value["value"] != "高新区")
    narrowed = client.get(place["toggle_url"]).get_json()
    assert narrowed["total"] == place["count"] < data["total"]
    assert narrowed["sort"] == "newest"
    assert all(place["value"] in row["places"] for row in narrowed["results"])
    selected = [value for value in narrowed["facets"]["place"] if value["selected"]]
    assert [value["value"] for value in selected] == [place["value"]]
    # the chip removes the filter again
    [chip] = narrowed["active_filters"]
    assert (chip["param"], chip["value"]) == ("place", place["value"])
    assert client.get(chip["remove_url"]).get_json()["total"] == data["total"]
    # and the HTML page shows the same chip as a link
    page = html(client.get(narrowed["html_url"]))
    assert 'class="chip"' in page and f"移除筛选：地点 {place['value']}" in page


def test_several_values_of_one_facet_combine_with_or(client, archive):
    years = [value["value"] for value in client.get("/api/search?q=高新区").get_json()["facets"]["year"]]
    assert len(years) >= 2
    one = client.get(f"/api/search?q=高新区&year={years[0]}").get_json()["total"]
    two = client.get(f"/api/search?q=高新区&year={years[0]}&year={years[1]}").get_json()
    assert two["total"] > one
    assert sorted(two["filters"]["year"]) == sorted(years[:2])
    assert archive.search("高新区", filters={"year": years[:2]}).total == two["total"]


def test_facet_counts_change_when_another_facet_is_selected(client):
    everything = client.get("/api/search?q=高新区").get_json()
    narrowed = client.get("/api/search?q=高新区&year=2023").get_json()
    counts = lambda data, name: {value["value"]: value["count"] for value in data["facets"][name]}  # noqa: E731
    assert counts(everything, "place") != counts(narrowed, "place")
    # a facet's own filter does not narrow its own counts: 2024 still shows so it can be added
    assert "2024" in counts(narrowed, "year")


def test_sort_orders(client):
    newest = [row["date"] for row in client.get("/api/search?q=高新区&sort=newest&limit=50").get_json()["results"] if row["date"]]
    oldest = [row["date"] for row in client.get("/api/search?q=高新区&sort=oldest&limit=50").get_json()["results"] if row["date"]]
    assert newest == sorted(newest, reverse=True)
    assert oldest == sorted(oldest)
    page = html(client.get("/search?q=高新区&sort=oldest"))
    assert 'aria-current="true" class="is-current"><span class="visually-hidden">当前排序：</span>最早' in page


def test_pagination_links_and_a_page_past_the_end(client):
    first = client.get("/api/search?q=高新区&limit=2").get_json()
    assert first["pages"] > 2 and first["pagination"]["prev_url"] is None
    second = client.get(first["pagination"]["next_url"]).get_json()
    assert second["page"] == 2 and query_of(first["pagination"]["next_url"])["limit"] == ["2"]
    assert {row["id"] for row in first["results"]}.isdisjoint(row["id"] for row in second["results"])
    page = html(client.get("/search?q=高新区&limit=2&page=2"))
    assert 'aria-label="分页"' in page and 'rel="prev"' in page and 'aria-current="page"' in page
    past = client.get("/search?q=高新区&page=999")
    assert past.status_code == 200 and "没有第 999 页" in html(past)


def test_date_range_filters_inclusively(client):
    data = client.get("/api/search?q=高新区&from=2024-01&to=2024-12-31").get_json()
    assert data["total"] >= 1
    assert all(row["date"] and row["date"].startswith("2024") for row in data["results"])
    assert data["date_range"] == {"from": "2024-01", "to": "2024-12-31"}
    assert {chip["param"] for chip in data["active_filters"]} == {"from", "to"}
    page = html(client.get("/search?q=高新区&from=2024"))
    assert 'id="date-from" name="from"' in page and 'value="2024"' in page


def test_no_results_suggests_dropping_a_filter_or_a_shorter_query(client):
    data = client.get("/api/search?q=小微企业&place=登封市").get_json()
    assert data["total"] == 0
    drop = [alt for alt in data["alternatives"] if alt["kind"] == "drop_filter"]
    assert drop and drop[0]["total"] >= 1 and "place" not in query_of(drop[0]["url"])
    page = html(client.get("/search?q=小微企业&place=登封市"))
    assert "没有找到与“小微企业”相符的文章" in page and "去掉筛选“地点：登封市”" in page
    # Quoted, the exact characters occur nowhere: the page offers the same words spaced.
    quoted = client.get('/api/search?q="高新区小微企业融资"').get_json()
    assert quoted["total"] == 0
    spaced = [alt for alt in quoted["alternatives"] if alt["kind"] == "spaced_query"]
    assert spaced and spaced[0]["q"] == "高新区 小微 企业 融资" and spaced[0]["total"] >= 1
    assert client.get(spaced[0]["url"]).get_json()["total"] >= 1
    assert "分开检索“高新区 小微 企业 融资”" in html(client.get('/search?q="高新区小微企业融资"'))
    nothing = html(client.get("/search?q=锟斤拷烫烫烫"))  # no word of it occurs anywhere
    assert "没有找到与“锟斤拷烫烫烫”相符的文章" in nothing and "换一个更短的词" in nothing


def test_unspaced_words_a_bare_name_and_a_typed_date_find_their_articles(client):
    for q, title in (("高新区小微企业融资", "政银企协同解决小微企业融资难题"), ("登封氢能源汽车", "现代汽车集团来登封 洽谈氢能源产业项目"),
                     ("高新区怎么解决小微企业融资难", "政银企协同解决小微企业融资难题"), ("金水区招商引资", "金水区吹响奋进「冲锋号」")):  # fmt: skip
        data = client.get("/api/search", query_string={"q": q}).get_json()
        assert data["results"] and data["results"][0]["title"] == title, q
        assert "relaxed" not in data
    byline = client.get("/api/search?q=孙庆辉&limit=50").get_json()  # bylines are not body text
    assert byline["total"] >= 9 and all("孙庆辉" in row["reporters"] for row in byline["results"][:9])
    dated = client.get("/api/search?q=2024年11月22日").get_json()
    assert dated["dates"] == [{"text": "2024年11月22日", "date": "2024-11-22"}]
    assert dated["total"] == 5 and {row["date"] for row in dated["results"]} == {"2024-11-22"}
    assert "按日期检索" in html(client.get("/search?q=2024年11月22日"))


def test_words_no_article_holds_together_are_dropped_and_named(client):
    data = client.get("/api/search?q=小微企业 量子计算机").get_json()
    assert data["total"] >= 1
    assert "计算机" in data["relaxed"]["dropped"] and data["relaxed"]["required"]
    assert set(data["relaxed"]["required"]) | set(data["relaxed"]["dropped"]) == {"小微", "企业", "量子", "计算机"}
    page = html(client.get("/search?q=小微企业 量子计算机"))
    assert "以下结果不含：" in page and '<s class="missing-word">计算机</s>' in page
    link = re.search(r'<a href="([^"]+)">只看包含全部检索词的结果</a>', page)
    assert link
    strict = client.get(link.group(1).replace("&amp;", "&"))
    assert strict.status_code == 200 and "没有找到与" in html(strict)  # every word required: none holds them all


def test_ignored_syntax_is_said_and_never_lists_the_archive(client):
    everything = client.get("/api/search?q=").get_json()["total"]
    for q, piece in (("(((", "((("), ("title:", "title:"), ("-", "-"), ("OR", "OR"), ("AND OR NOT", "AND")):
        data = client.get("/api/search", query_string={"q": q}).get_json()
        assert data["total"] == 0, q
        assert piece in [item["text"] for item in data["ignored"]], q
    page = html(client.get("/search?q=((("))
    assert "已忽略：<code>(((</code>（括号不能给词语分组，已略去）" in page and "没有可以检索的词语" in page
    data = client.get("/api/search", query_string={"q": "小微 AND 融资 ((("}).get_json()
    assert 0 < data["total"] < everything and [item["text"] for item in data["ignored"]] == ["((("]


# ---------------------------------------------------------------------------------------------
# JSON twins


def test_api_search_has_the_design_shape_and_matches_the_archive(client, archive):
    response = client.get("/api/search?q=小微企业&limit=5")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert SEARCH_KEYS <= set(data)
    assert (data["query"], data["page"], data["limit"], data["sort"]) == ("小微企业", 1, 5, "relevance")
    expected = archive.search("小微企业", limit=5).to_dict()
    assert data["total"] == expected["total"]
    assert [row["id"] for row in data["results"]] == [row["id"] for row in expected["results"]]
    for row in data["results"]:
        assert ROW_KEYS <= set(row)
        assert row["url"].startswith(f"/article/{row['id']}?q=")
    for name, values in data["facets"].items():
        for value in values:
            assert {"value", "count", "selected", "toggle_url"} <= set(value)
            assert isinstance(value["count"], int)
            assert value["toggle_url"].startswith("/api/search?")
    assert data["html_url"] == "/search?q=%E5%B0%8F%E5%BE%AE%E4%BC%81%E4%B8%9A&limit=5"
    assert "小微企业" in response.get_data(as_text=True)  # readable UTF-8, not \\u escapes


def test_html_and_json_come_from_the_same_view(client):
    data = client.get("/api/search?q=融资&sort=newest").get_json()
    page = html(client.get("/search?q=融资&sort=newest"))
    assert f"找到 <strong>{data['total']}</strong> 篇文章" in page
    for row in data["results"]:
        assert f'href="/article/{row["id"]}?q=%E8%9E%8D%E8%B5%84&amp;sort=newest"' in page
    assert 'href="/api/search?q=%E8%9E%8D%E8%B5%84&amp;sort=newest">本页 JSON' in page


def test_api_browse_without_a_query(client, archive):
    data = client.get("/api/search?place=高新区").get_json()
    assert data["total"] == archive.search("", filters={"place": ["高新区"]}).total > 0


# ---------------------------------------------------------------------------------------------
# Article page and its twin


def test_article_page_from_a_search_marks_the_terms_and_links_back(client, archive):
    article_id = archive.search("小微企业").results[0].id
    article = archive.article(article_id)
    response = client.get(f"/article/{article_id}?q=小微企业&place=高新区")
    assert response.status_code == 200
    page = html(response)
    assert "<mark>小微企业</mark>" in page
    assert article.kicker in page and article.subtitle.replace("小微企业", "<mark>小微企业</mark>") in page
    assert 'href="/search?q=%E5%B0%8F%E5%BE%AE%E4%BC%81%E4%B8%9A&amp;place=%E9%AB%98%E6%96%B0%E5%8C%BA" class="back-link"' in page
    assert page.count("<p>") >= 3  # the body in paragraphs
    assert "2024年11月22日" in page and article.source in page
    assert "孙庆辉" in page and 'href="/search?reporter=' in page
    assert 'id="related-title"' in page and re.search(r'href="/article/[0-9a-f]+\?q=', page)


def test_a_malformed_carried_over_parameter_does_not_block_an_article(client, archive):
    article_id = archive.search("小微企业").results[0].id
    page = client.get(f"/article/{article_id}?q=小微企业&page=abc&sort=bogus")
    assert page.status_code == 200 and "<mark>小微企业</mark>" in html(page)
    assert client.get(f"/api/article/{article_id}?from=never").status_code == 200


def test_article_page_without_a_search_has_no_marks(client, archive):
    article_id = archive.search("小微企业").results[0].id
    page = html(client.get(f"/article/{article_id}"))
    body = page.split('class="article-body"', 1)[1]
    assert "<mark>" not in body
    assert "检索首页" in page


def test_api_article_has_every_field_paragraphs_and_related(client, archive):
    article_id = archive.search("小微企业").results[0].id
    response = client.get(f"/api/article/{article_id}?q=小微企业")
    assert response.status_code == 200
    data = response.get_json()
    assert ARTICLE_KEYS <= set(data)
    assert data["id"] == article_id and data["body"] == archive.article(article_id).body
    assert data["highlight_terms"] == ["小微企业", "小微", "企业"]  # the run as typed, then its words
    marked = [seg["text"] for para in data["paragraphs"] for seg in para["segments"] if seg["mark"]]
    assert "小微企业" in marked and set(marked) <= {"小微企业", "小微", "企业"}
    assert all(ROW_KEYS <= set(row) for row in data["related"])
    assert data["back_url"].startswith("/search?q=")


def test_photo_news_without_a_title_gets_a_readable_heading(client, archive):
    photo = archive.search("", filters={"kind": ["photo"]}).results[0]
    page = html(client.get(photo_url := f"/article/{photo.id}"))
    assert "<title>" in page and "图片新闻" in page, photo_url


# ---------------------------------------------------------------------------------------------
# Suggestions and health


def test_api_suggest(client):
    data = client.get("/api/suggest?q=高新").get_json()
    assert data["query"] == "高新"
    assert data["suggestions"] and all({"text", "type", "url"} <= set(item) for item in data["suggestions"])
    assert any(item["text"] == "高新区" for item in data["suggestions"])
    assert client.get("/api/suggest?q=").get_json() == {"query": "", "suggestions": []}
    assert client.get("/api/suggest").status_code == 200


def test_healthz(client, missing_client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert missing_client.get("/healthz").status_code == 503


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=x&page=abc", "页码"),
        ("q=x&page=0", "页码"),
        ("q=x&page=-1", "页码"),
        ("q=x&page=1.5", "页码"),
        ("q=x&limit=1000", "每页条数"),
        ("q=x&sort=popular", "排序"),
        ("q=x&from=2024-13", "起始日期"),
        ("q=x&to=yesterday", "截止日期"),
        ("q=x&from=2024-02-30", "不是有效的日期"),
        ("q=x&from=2024-06&to=2024-01", "晚于"),
        ("q=" + "长" * 300, "太长"),
    ],
)
def test_malformed_parameters_are_a_friendly_400(client, query, message):
    page = client.get(f"/search?{query}")
    assert page.status_code == 400
    assert message in html(page) and "检索参数有误" in html(page)
    api = client.get(f"/api/search?{query}")
    assert api.status_code == 400
    assert api.get_json()["error"] == "bad_request" and message in api.get_json()["message"]


def test_bad_facet_values_rejected_by_the_engine_are_a_400_with_a_way_out(client):
    api = client.get("/api/search?q=高新区&year=abcd&kind=news")
    # One language per interface: the message is Chinese, the code and the parameter stable English.
    body = api.get_json()
    assert api.status_code == 400 and body["error"] == "bad_request" and body["param"] == "year"
    assert "年份" in body["message"] and "abcd" in body["message"] and not re.search(r"[A-Za-z]{3,}", body["message"].replace("abcd", ""))
    assert api.get_json()["retry_url"] == "/api/search?q=%E9%AB%98%E6%96%B0%E5%8C%BA&kind=news"
    page = client.get("/search?q=高新区&kind=essay")
    assert page.status_code == 400 and "去掉这个参数再检索" in html(page)


def test_unknown_article_and_path_are_404(client):
    page = client.get("/article/0000000000000000")
    assert page.status_code == 404 and "没有编号为“0000000000000000”的文章" in html(page)
    assert client.get("/no/such/page").status_code == 404
    assert "页面不存在" in html(client.get("/no/such/page"))
    api = client.get("/api/article/0000000000000000")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
    assert client.get("/api/nothing").get_json()["status"] == 404
    assert client.get("/article/" + "x" * 500).status_code == 404


def test_post_is_405(client):
    assert client.post("/search").status_code == 405
    assert client.post("/api/search").get_json()["error"] == "method_not_allowed"


def test_missing_index_is_a_503_that_explains_newsearch_index(missing_client):
    for url in ("/", "/search?q=小微企业", "/article/abc"):
        response = missing_client.get(url)
        assert response.status_code == 503, url
        assert "newsearch index" in html(response) and "索引尚未建立" in html(response)
    api = missing_client.get("/api/search?q=x")
    assert api.status_code == 503 and api.get_json()["error"] == "index_missing"


@pytest.mark.parametrize(
    "query",
    [
        'q="unclosed', "q=title:", "q=reporter:", "q=-", "q=--x", "q=OR", "q=OR OR", "q=*", "q=?", "q=((",
        "q=)", "q=a AND", "q=%00", "q=%ff%fe", "q=%E5%B0", "q=\\", "q=title:(x", "q=''", "q=NOT",
        "q=x&place=", "q=x&place=%00", "q=x&year=abcd", "q=x&month=13", "q=x&kind=<b>", "q=x&source=../../etc/passwd",
        "q=x&" + "&".join(f"place={n}" for n in range(25)), "q=x&place=" + "长" * 150, "sort=&page=&limit=",
        "q=%20%20%20", "q=<script>alert(1)</script>&place=<script>", "q=x&unknown=1", "q=小微企业&page=1000",
    ],
)
def test_no_input_gives_a_500(client, query):
    for path in ("/search", "/api/search", "/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 302, 400), (path, query, response.status_code)
    assert client.get(f"/api/suggest?{query}").status_code == 200


# ---------------------------------------------------------------------------------------------
# Hostile input stays escaped


def test_a_script_in_the_query_is_escaped_everywhere(client):
    hostile = '<script>alert("q")</script>'
    page = html(client.get("/search", query_string={"q": hostile, "place": "<b>x</b>"}))
    assert "<script>alert" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt;" in page
    empty = html(client.get("/", query_string={"q": ""}))
    assert "<script>alert" not in empty


def test_hostile_article_text_stays_escaped_through_the_snippet_and_the_article_page(client, archive):
    article_id = hostile_id(archive)
    results = html(client.get("/search?q=龙虾"))
    for raw in ('<script>alert("title")', '<script>alert("body")', "<img src=x", "<b>带动"):
        assert raw not in results
    assert "<mark>龙虾</mark>" in results  # the snippet's own markup survives
    assert "&lt;img src=x onerror=alert(1)&gt;" in results  # escaped in the snippet
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in results  # escaped in the title
    article = html(client.get(f"/article/{article_id}?q=龙虾"))
    for raw in ('<script>alert("title")', '<script>alert("body")', "<img src=x", "<b>带动"):
        assert raw not in article
    assert "&lt;script&gt;alert(&#34;body&#34;)&lt;/script&gt;" in article
    assert "<mark>龙虾</mark>" in article and "A&amp;B" in article
    # JSON carries the plain text (the browser never renders it as HTML: JSON mimetype + nosniff)
    data = client.get(f"/api/article/{article_id}").get_json()
    assert '<script>alert("body")</script>' in data["body"]


def test_searching_for_markup_in_the_text_marks_it_without_unescaping(client):
    page = html(client.get("/search?q=onerror"))
    assert "<img" not in page.split('class="results"', 1)[1]


def test_safe_snippet_lets_only_mark_through():
    assert str(safe_snippet('<mark>a</mark><img src=x onerror=alert(1)>&amp;&lt;')) == (
        "<mark>a</mark>&lt;img src=x onerror=alert(1)&gt;&amp;&lt;"
    )
    assert str(safe_snippet("<mark>open")) == "<mark>open</mark>"
    assert str(safe_snippet("</mark>x & y")) == "x &amp; y"
    assert str(safe_snippet(None)) == ""


def test_mark_segments_escape_nothing_themselves():
    assert mark_segments("<b>融资</b>", ["融资"]) == [
        {"text": "<b>", "mark": False},
        {"text": "融资", "mark": True},
        {"text": "</b>", "mark": False},
    ]


# ---------------------------------------------------------------------------------------------
# Security headers, static assets, no inline script or style


def _assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_security_headers_on_every_kind_of_response(client, missing_client, archive):
    for url in ("/", "/search?q=小微企业", f"/article/{hostile_id(archive)}", "/api/search?q=x", "/api/suggest?q=高",
                "/healthz", "/static/style.css", "/static/search.js", "/nope", "/search?page=x", "/api/article/zz"):
        with client.get(url) as response:  # closes static file responses
            _assert_security_headers(response)
    _assert_security_headers(missing_client.get("/"))
    _assert_security_headers(client.post("/search"))


def test_pages_have_no_inline_script_or_style(client, archive):
    for url in ("/", "/search?q=小微企业&place=高新区", f"/article/{hostile_id(archive)}?q=龙虾", "/nope", "/search?page=x"):
        page = html(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert "<style" not in page and " style=" not in page, url
        assert re.search(r"\son[a-z]+=", page.replace("onerror=alert", "")) is None, url  # no event-handler attributes


def test_static_assets_are_local(client):
    page = html(client.get("/search?q=小微企业"))
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for asset in ("/static/style.css", "/static/search.js", "/static/favicon.svg"):
        with client.get(asset) as response:
            assert response.status_code == 200
    assert client.get("/favicon.ico").status_code == 301


# ---------------------------------------------------------------------------------------------
# The factory and the URL state


def test_create_app_reads_the_index_dir_from_the_environment(monkeypatch, index_dir):
    monkeypatch.setenv("NEWSEARCH_INDEX", str(index_dir))
    app = create_app({"TESTING": True})
    assert app.config["INDEX_DIR"] == str(index_dir)
    assert app.test_client().get("/healthz").status_code == 200


def test_search_state_round_trips_through_the_url():
    state = SearchState(q="小微企业 融资", filters={"year": ["2024"], "place": ["高新区", "金水区"]},
                        date_from="2024-01", sort="newest", page=3)
    query = state.query_string()
    assert query.startswith("q=") and "place=%E9%AB%98%E6%96%B0%E5%8C%BA&place=" in query
    from werkzeug.datastructures import MultiDict

    from web.params import parse_state

    assert parse_state(MultiDict(parse_qs(query))) == state
    toggled = state.toggled("place", "高新区")
    assert toggled.filters == {"year": ["2024"], "place": ["金水区"]} and toggled.page == 1
    assert state.filters["place"] == ["高新区", "金水区"]  # the original is untouched

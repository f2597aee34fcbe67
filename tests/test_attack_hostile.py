"""Hostile text everywhere it can travel (issue 7): headlines, bodies, facet values, queries, and the
saved-query output of the CLI.

The index holds the real seed pages plus a page whose headline and body carry ``<script>``,
``<img onerror>``, ``javascript:`` links and literal HTML entities (``&lt;`` ``&amp;``), a catalog entry
giving that page a section, paper and page number made of markup, and a ``.jsonl`` export whose
reporters, places, people, organisations, section, kicker and subtitle are markup (on enough records
to make them top facet values on the landing page). Every HTML page is parsed: no element may carry
an event-handler attribute, no link may use ``javascript:``, the only script is /static/search.js, and
the hostile strings must be present as *text* (escaped once, so a reader sees them literally).
Every response carries a Content-Security-Policy that forbids inline script anyway.
tests/test_web.py already checks a script in the query and in article text; this covers the rest.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from search.api import Archive, rebuild
from tests.attack_helpers import REPO_ROOT, newsearch
from web import create_app

SCRIPT = '<script>alert("t")</script>'
HEADLINE = f"龙虾节开幕{SCRIPT}R&amp;D&lt;新&gt;"  # entity semicolons are not clause punctuation
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = '<a href="javascript:alert(2)">详情</a>'
SVG = "<svg onload=alert(4)>"
ENTITIES = "&lt;b&gt;粗体&lt;/b&gt; R&amp;D"  # literally in the page text: must be shown as written

HOSTILE_PAGE = f"""{HEADLINE}

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节{IMG}，吸引市民三千余人参加。
活动现场设置美食、非遗和文创展区，{JS_LINK}，主办方表示{ENTITIES}会继续办下去。
"""
CATALOG = """["900_hostile.txt"]
date = "2024-11-23"
section = "\\"><script>alert(5)</script>"
paper = "<iframe src=javascript:alert(6)>"
page = "<b>A1</b>"
"""
HOSTILE_REPORTER = "<script>alert(8)</script>"
HOSTILE_PLACE = IMG
HOSTILE_SECTION = SVG
HOSTILE_PERSON = "javascript:alert(9)"
HOSTILE_ORG = '"><img src=x onerror=alert(10)>'


def hostile_records(count: int = 12) -> list[dict]:
    return [
        {
            "id": f"hostile-{n}",
            "title": f"{SCRIPT}金水区举办美食节{n}号 &lt;i&gt;",
            "kicker": JS_LINK,
            "subtitle": IMG,
            "body": f"本报讯 金水区美食节第{n}场活动吸引市民参加。{IMG}{ENTITIES}",
            "reporters": [HOSTILE_REPORTER],
            "places": [HOSTILE_PLACE],
            "people": [HOSTILE_PERSON],
            "orgs": [HOSTILE_ORG],
            "section": HOSTILE_SECTION,
            "date": "2024-11-22",
        }
        for n in range(count)
    ]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    seeds = root / "seeds"
    shutil.copytree(REPO_ROOT / "seeds", seeds)
    (seeds / "900_hostile.txt").write_text(HOSTILE_PAGE, encoding="utf-8")
    (seeds / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    lines = [json.dumps(record, ensure_ascii=False) for record in hostile_records()]
    (seeds / "901_hostile.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = rebuild(seeds, root / "index")
    assert not report.skipped and "900_hostile.txt" in report.added and "901_hostile.jsonl" in report.added
    return root / "index"


@pytest.fixture(scope="module")
def client(index_dir: Path):
    return create_app({"TESTING": True}, index_dir=index_dir).test_client()


@pytest.fixture(scope="module")
def page_article(index_dir: Path) -> str:
    with Archive.open(index_dir) as archive:
        (hit,) = [hit for hit in archive.search("龙虾音乐节").results if hit.source == "900_hostile.txt"]
        return hit.id


# ---------------------------------------------------------------------------------------------
# What a page may contain


class Page(HTMLParser):
    """The real elements of a page (what a browser would build), and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        # attribute values are text a reader may see (title=, value=, aria-label=)
        self.chunks.extend(value or "" for _name, value in attrs)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)  # marked words split a title into several chunks: join them as read


def assert_inert(html: str, where: str) -> Page:
    """No markup from the data is live: no handler attributes, no javascript: URLs, no inline script."""
    page = Page(html)
    for tag, attrs in page.tags:
        if tag == "svg":  # the one SVG a page draws itself: the results' timeline (server-side bars)
            assert attrs.get("class") == "timeline-chart", (where, tag, attrs)
            continue
        assert tag not in ("img", "iframe", "object", "embed", "b", "i"), (where, tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name)
            if name in ("href", "src", "action", "formaction"):
                assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), (where, tag, name, value)
        if tag == "script":
            assert attrs == {"src": "/static/search.js", "defer": ""}, (where, attrs)
    # The same on the raw HTML, without a parser: an unescaped "<" opens every real tag, so hostile
    # text shows up only escaped (&lt;script, onerror= inside text or a quoted value, never in a tag).
    assert len(re.findall(r"<script", html, re.I)) == 1, where
    for tag in REAL_TAG.finditer(html):
        outside_values = re.sub(r'"[^"]*"|\'[^\']*\'', '""', tag.group())
        assert not re.search(r"\son[a-z]+\s*=", outside_values, re.I), (where, tag.group())
        assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", tag.group(), re.I), (where, tag.group())
    assert "Traceback" not in html, where
    return page


REAL_TAG = re.compile(r"""<[a-zA-Z][\w-]*(?:[^<>"']|"[^"]*"|'[^']*')*>""")


def assert_csp_forbids_inline_script(response) -> None:
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None
    assert scripts == ["'self'"], scripts  # no 'unsafe-inline', no 'unsafe-eval', no hosts, no data:
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def get(client, url: str, status: int = 200, **kwargs) -> Page:
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code)
    assert_csp_forbids_inline_script(response)
    return assert_inert(response.get_data(as_text=True), url)


# ---------------------------------------------------------------------------------------------
# Pages


def test_hostile_headlines_and_bodies_are_shown_as_text_on_the_results_page(client):
    page = get(client, "/search", query_string={"q": "龙虾音乐节"})
    assert HEADLINE in page.text  # the headline, character for character
    assert IMG in page.text  # in the snippet
    page = get(client, "/search", query_string={"q": "美食节"})
    assert JS_LINK in page.text and IMG in page.text  # kicker and subtitle
    assert f"{SCRIPT}金水区举办美食节0号 &lt;i&gt;" in page.text


def test_hostile_facet_values_are_text_in_the_sidebar_the_chips_and_the_form(client):
    page = get(client, "/search", query_string={"q": "美食节"})
    for value in (HOSTILE_REPORTER, HOSTILE_PLACE, HOSTILE_SECTION, HOSTILE_PERSON, HOSTILE_ORG):
        assert value in page.text, value  # listed in the facet sidebar
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("data-facet") == "reporter"]
    assert any("reporter=%3Cscript%3Ealert%288%29%3C%2Fscript%3E" in link for link in links)
    selected = {"q": "美食节", "reporter": HOSTILE_REPORTER, "place": HOSTILE_PLACE, "section": HOSTILE_SECTION,
                "person": HOSTILE_PERSON, "org": HOSTILE_ORG}  # fmt: skip
    page = get(client, "/search", query_string=selected)
    chips = [attrs for tag, attrs in page.tags if tag == "a" and "chip" in attrs.get("class", "").split()]
    assert len(chips) == 5 and all(attrs["aria-label"].startswith("移除筛选") for attrs in chips)
    assert HOSTILE_ORG in page.text
    hidden = {attrs["value"] for tag, attrs in page.tags if tag == "input" and attrs.get("type") == "hidden"}
    assert {HOSTILE_REPORTER, HOSTILE_PLACE, HOSTILE_SECTION, HOSTILE_PERSON, HOSTILE_ORG} <= hidden


def test_hostile_facet_values_from_the_url_alone_stay_text(client):
    values = {"place": SCRIPT, "reporter": '"><svg onload=alert(11)>', "section": "javascript:alert(12)", "org": IMG}
    page = get(client, "/search", query_string={"q": "高新区", **values})
    for value in values.values():
        assert value in page.text
    get(client, "/search", query_string={"q": "高新区", "kind": SCRIPT}, status=400)  # rejected by the engine: a 400 page


def test_hostile_values_on_the_landing_page_browse_links(client):
    page = get(client, "/")
    assert HOSTILE_REPORTER in page.text and HOSTILE_PLACE in page.text  # the most common reporter and place


def test_hostile_article_pages_from_a_page_and_from_a_jsonl_record(client, page_article):
    page = get(client, f"/article/{page_article}", query_string={"q": "龙虾 <script>"})
    assert IMG in page.text and JS_LINK in page.text and ENTITIES in page.text
    assert '"><script>alert(5)</script>' in page.text  # catalog section
    assert "<iframe src=javascript:alert(6)>" in page.text and "<b>A1</b>" in page.text  # catalog paper and page
    page = get(client, "/article/hostile-3", query_string={"q": "美食节"})
    for value in (HOSTILE_REPORTER, HOSTILE_PLACE, HOSTILE_SECTION, HOSTILE_PERSON, HOSTILE_ORG, JS_LINK, IMG):
        assert value in page.text, value
    related = [attrs["href"] for tag, attrs in page.tags if tag == "a" and "related-title" in attrs.get("class", "")]
    assert related and all(href.startswith("/article/") for href in related)


def test_hostile_queries_on_every_page_that_shows_them(client, page_article):
    q = '<script>alert(7)</script> 龙虾 javascript:alert(13) &lt;'
    page = get(client, "/search", query_string={"q": q})
    assert q in page.text  # the search box, the title, the headings
    page = get(client, "/search", query_string={"q": SCRIPT + " 不存在的词语组合"})
    assert "没有找到与“" + SCRIPT + " 不存在的词语组合”相符的文章" in page.text
    get(client, f"/article/{page_article}", query_string={"q": q})
    get(client, "/search", query_string={"q": q, "from": SCRIPT}, status=400)
    page = get(client, "/article/" + SCRIPT.replace("/", "%2F"), status=404)
    get(client, "/search", query_string={"q": "x" * 300 + SCRIPT}, status=400)


def test_suggestions_and_api_answers_are_json_never_html(client):
    for url, params in (("/api/suggest", {"q": "<scr"}), ("/api/suggest", {"q": SCRIPT}), ("/api/search", {"q": "美食节"}),
                        ("/api/article/hostile-1", {"q": SCRIPT})):  # fmt: skip
        response = client.get(url, query_string=params)
        assert response.status_code == 200 and response.mimetype == "application/json", url
        assert_csp_forbids_inline_script(response)
        json.loads(response.get_data(as_text=True))
    data = client.get("/api/search", query_string={"q": "美食节"}).get_json()
    row = data["results"][0]
    assert row["title"].startswith(SCRIPT)  # data stays data in JSON ...
    assert "<img" not in row["snippet"] and "&lt;img src=x onerror=alert(1)&gt;" in row["snippet"]  # ... snippets are HTML-safe
    assert "&amp;lt;b&amp;gt;" in row["snippet"]  # entity text in the page is escaped once more


def test_every_response_has_a_csp_that_forbids_inline_script(client, page_article, tmp_path):
    missing = create_app({"TESTING": True}, index_dir=tmp_path / "none").test_client()
    for test_client, url in [(client, "/"), (client, "/search?q=%3Cscript%3E"), (client, f"/article/{page_article}"),
                             (client, "/nope"), (client, "/search?page=x"), (client, "/api/search?q=x"),
                             (client, "/static/search.js"), (client, "/healthz"), (missing, "/search?q=x")]:  # fmt: skip
        with test_client.get(url) as response:
            assert_csp_forbids_inline_script(response)


# ---------------------------------------------------------------------------------------------
# The command line: saved-query output


SAVED = f"""\
[queries.hostile]
q = "美食节"
filters = {{ reporter = "{HOSTILE_REPORTER}" }}
limit = 3

[queries.festival]
q = "龙虾音乐节"
limit = 3
"""


@pytest.fixture(scope="module")
def saved_file(index_dir: Path) -> Path:
    path = index_dir.parent / "saved.toml"
    path.write_text(SAVED, encoding="utf-8")
    return path


def saved(saved_file: Path, index_dir: Path, fmt: str) -> str:
    result = newsearch("saved", "run", "--all", "--file", str(saved_file), "--index", str(index_dir), "--format", fmt)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stdout)  # no terminal control sequences
    return result.stdout


@pytest.mark.slow
def test_saved_query_json_carries_the_text_as_data_and_html_safe_snippets(saved_file, index_dir):
    data = json.loads(saved(saved_file, index_dir, "json"))
    hostile, festival = data
    assert hostile["filters"] == {"reporter": [HOSTILE_REPORTER]} and hostile["total"] == 12
    assert all(row["title"].startswith(SCRIPT) and row["reporters"] == [HOSTILE_REPORTER] for row in hostile["results"])
    (row,) = [row for row in festival["results"] if row["source"] == "900_hostile.txt"]
    assert row["title"] == HEADLINE
    assert "<img" not in row["snippet"] and "&lt;img src=x onerror=alert(1)&gt;" in row["snippet"]
    for line in saved(saved_file, index_dir, "jsonl").splitlines():
        json.loads(line)


@pytest.mark.slow
def test_saved_query_csv_and_table_show_the_text_exactly_as_written(saved_file, index_dir):
    rows = list(csv.DictReader(io.StringIO(saved(saved_file, index_dir, "csv"))))
    (row,) = [row for row in rows if row["source"] == "900_hostile.txt"]
    assert row["query"] == "festival" and row["title"] == HEADLINE and IMG in row["snippet"]
    hostile = [r for r in rows if r["query"] == "hostile"]
    assert [r["reporters"] for r in hostile] == [HOSTILE_REPORTER] * 3
    assert all(r["title"].startswith(SCRIPT) for r in hostile)
    # Plain text: the snippet's HTML is unescaped exactly once, so markup reads as written and so
    # does entity text in the article ("&lt;b&gt;", not "<b>").
    assert all(r["snippet"].endswith(IMG + ENTITIES) for r in hostile), [r["snippet"] for r in hostile]
    table = saved(saved_file, index_dir, "table")
    assert f"== hostile: 美食节 reporter={HOSTILE_REPORTER}" in table
    assert "12 results" in table and IMG in table and "&lt;b&gt;粗体" in table

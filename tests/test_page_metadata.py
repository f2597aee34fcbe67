"""Paper, page, section and credit from the page header, through the whole product.

A real index built from the pages of ``tests/data/pages`` (other papers, with headers and reprints):
the new fields are facets and filters in the API, the CLI and the web pages, a reprint's source finds
it in a plain search, and export and ``Archive.article`` carry every field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.api import Archive, rebuild
from search.cli import main
from web import create_app

PAGES = Path(__file__).resolve().parent / "data" / "pages"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("papers")
    seeds = root / "seeds"
    seeds.mkdir()
    for page in PAGES.iterdir():
        if page.suffix in (".txt", ".md"):
            shutil.copy(page, seeds / page.name)
    report = rebuild(seeds, root / "index", full=True)
    assert not report.skipped
    return root / "index"


@pytest.fixture(scope="module")
def archive(index_dir: Path):
    with Archive.open(index_dir) as opened:
        yield opened


def test_paper_page_section_and_credit_are_facets(archive):
    response = archive.search("")
    facets = {name: {v.value: v.count for v in values} for name, values in response.facets.items()}
    assert facets["paper"]["河南日报"] == 5 and facets["paper"]["人民日报"] == 4
    assert facets["page"]["05"] == 5 and facets["page"]["A07"] == 5
    assert facets["credit"]["新华社"] == 6  # three dispatches, a photo and two reprints
    assert facets["section"]["要闻"] == 9  # 人民日报 04 and 河南日报 05
    assert "source" in facets  # the file stays a facet, as a detail


def test_filters_combine_paper_and_page_and_count_the_others(archive):
    response = archive.search("", filters={"paper": ["河南日报"], "page": ["05"]})
    assert response.total == 5 and {hit.paper for hit in response.results} == {"河南日报"}
    response = archive.search("", filters={"paper": ["河南日报"]})
    assert {v.value: v.count for v in response.facets["page"]} == {"05": 5}
    assert {v.value for v in response.facets["paper"]} >= {"河南日报", "人民日报"}  # widen as well as narrow
    assert archive.search("", filters={"credit": ["渤海早报"]}).total == 1


def test_a_plain_search_for_a_source_finds_its_reprints(archive):
    response = archive.search("渤海早报")
    (hit,) = response.results
    assert hit.title == "天津多家银行收紧首套房贷优惠" and hit.credit == "渤海早报"
    article = archive.article(hit.id)
    assert "渤海早报" not in article.body  # the credit closes the article; it is not its text


def test_result_rows_and_articles_carry_the_page_metadata(archive):
    (hit,) = archive.search("武大伟启程访问俄美日韩").results
    assert (hit.paper, hit.page, hit.section, hit.credit, hit.date) == ("人民日报", "04", "要闻", None, "2009-06-11")
    row = hit.to_dict()
    assert {"paper", "page", "section", "credit"} <= set(row)
    article = archive.article(hit.id)
    assert (article.paper, article.page, article.reporters) == ("人民日报", "04", ["徐春柳", "李晓宏"])


def test_cli_filters_and_export(index_dir: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["search", "", "--index", str(index_dir), "--filter", "paper=大河报", "--filter", "page=A07", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 5 and all(row["paper"] == "大河报" for row in data["results"])
    exported = [json.loads(line) for line in runner.invoke(main, ["export", "--index", str(index_dir)]).output.splitlines()]
    assert {"paper", "page", "section", "credit"} <= set(exported[0])
    assert {a["credit"] for a in exported if a["title"] == "住建部：完善持有环节税收防止房价过快增长"} == {"新快报"}
    csv = runner.invoke(main, ["search", "渤海早报", "--index", str(index_dir), "--format", "csv"]).output
    assert csv.splitlines()[0].endswith("paper,page,section,credit") and "渤海早报" in csv.splitlines()[1]


def test_web_pages_show_and_filter_by_paper_page_and_credit(index_dir: Path):
    client = create_app({"TESTING": True}, index_dir=index_dir).test_client()
    # The 版面 facet travels as paper_page=: page= stays the number of the results page.
    api = client.get("/api/search?q=&paper=河南日报&paper_page=05&page=1").get_json()
    assert api["total"] == 5 and {row["page"] for row in api["results"]} == {"05"}
    html = client.get("/search?q=&paper=河南日报&paper_page=05").get_data(as_text=True)
    assert "报纸" in html and "稿源" in html and "05版" in html
    assert 'name="paper_page" value="05"' in html or "paper_page=05" in html
    (hit,) = client.get("/api/search?q=渤海早报").get_json()["results"]
    page = client.get(f"/article/{hit['id']}").get_data(as_text=True)
    assert "稿源" in page and "渤海早报" in page and "河南日报" in page
    assert client.get("/search?q=&paper_page=" + "0" * 300).status_code == 400  # an oversized value is a 400, not a 500

"""Pages of other papers: the conventions of the Chinese press, read as general rules.

``tests/data/pages/`` holds nine pages laid out as national dailies, provincial and city papers,
evening papers, a column page, a finance page, a scan (hard-wrapped columns, no date at all), a
GB18030 file with CRLF, a markdown export and a page with full-width indents, each of 3–6 articles of
real text from ``thucnews-1000.jsonl``. ``expected.toml`` says what a reader sees on each: every
article's boundaries, headline parts, bylines, credit, kind and date, and the page's paper, page
and section. The unit tests below pin the conventions one by one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from search.ingest.bylines import parse_byline, split_trailing_byline
from search.ingest.credits import parse_credit, split_trailing_credit
from search.ingest.dates import page_date, present_years
from search.ingest.datelines import parse_dateline
from search.ingest.extract import cut_page, headline_roles
from search.ingest.furniture import banner, is_editor_line, lone_page, parse_page_header
from search.ingest.pages import Page, normalise_newlines
from search.ingest.sources import articles_from_page, read_seed_file
from page_check import check_page, load_expected, page_text, scan_columns

DATA = Path(__file__).resolve().parent / "data"
PAGES = DATA / "pages"
EXPECTED = load_expected(PAGES)
# Pages written after the rules passed tests/data/pages, in conventions they were not tuned for
# (other papers' headers and bylines); checked before any rule changed, then kept as tests.
UNSEEN = DATA / "pages_unseen"
# Pages of four more papers, written blind (before the rules were read) and measured before any rule
# changed: a national daily, an evening paper, a county paper and a PDF export.
BLIND = DATA / "pages_blind"
ALL_PAGES = [(PAGES, page) for page in EXPECTED] + [(folder, page) for folder in (UNSEEN, BLIND) for page in load_expected(folder)]
ALL_IDS = [f"{folder.name}/{page['file']}" for folder, page in ALL_PAGES]
# Re-wrapped as a scan of 13–14 character columns, three blind pages stay ambiguous: a headline that
# stands directly over its text (no blank line between) and is as wide as a column reads like the
# first column line of a paragraph; and a page already hard-wrapped at 22 characters (the PDF export)
# re-wrapped at 13 leaves short fragments that read like headlines, a layout no page has. Telling a
# column-wide headline from a paragraph's first line by its words was measured and rejected: on the
# 1,000 corpus articles it split 81 of 623 paragraph openings (13%).
_SCAN_AMBIGUOUS = {"b1_economic_daily.txt", "b3_county_paper.txt", "b4_pdf_export.txt"}
SCAN_PAGES = [
    pytest.param(folder, page, id=f"{folder.name}/{page['file']}", marks=pytest.mark.xfail(strict=True, reason="column-wide headline over its text"))
    if folder == BLIND and page["file"] in _SCAN_AMBIGUOUS
    else pytest.param(folder, page, id=f"{folder.name}/{page['file']}")
    for folder, page in ALL_PAGES
]


@pytest.mark.parametrize("folder, page", ALL_PAGES, ids=ALL_IDS)
def test_every_article_of_the_page_comes_out_as_a_reader_sees_it(folder, page):
    result = check_page(folder, page)
    assert not result.page_problems, result.page_problems
    assert not result.article_problems, result.article_problems
    assert result.whole == len(page["articles"])


@pytest.mark.parametrize("width", [26, 28])
@pytest.mark.parametrize("folder, page", SCAN_PAGES)
def test_the_same_articles_from_the_page_as_a_scan_of_narrow_columns(folder, page, width):
    """Every page hard-wrapped at 13 and 14 characters a line, as a scanned column prints it, with
    blank lines falling mid-sentence: the same articles, headlines, bylines and dates."""
    text = scan_columns(page_text(folder, page["file"]), width)
    result = check_page(folder, page, articles_from_page(Page(page["file"], text, "utf-8"), metadata=False))
    assert not result.page_problems and not result.article_problems, (result.page_problems, result.article_problems)


def test_the_pages_cover_every_layout_the_issue_names():
    files = {page["file"] for page in EXPECTED}
    assert len(files) >= 8 and all(3 <= len(page["articles"]) <= 7 for page in EXPECTED)
    raw = {name: (PAGES / name).read_bytes() for name in files}
    assert any(b"\r\n" in data and not _is_utf8(data) for data in raw.values())  # GB18030 with CRLF
    assert any(name.endswith(".md") for name in files)
    assert any("\u3000\u3000" in _text(data) for data in raw.values())  # full-width indents
    assert any(page.get("date") is None for page in EXPECTED)  # a page without any date
    wrapped = [name for name, data in raw.items() if _median_line(_text(data)) <= 16]
    assert wrapped  # an OCR page hard-wrapped in narrow columns


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(data: bytes) -> str:
    return data.decode("utf-8") if _is_utf8(data) else data.decode("gb18030")


def _median_line(text: str) -> int:
    lengths = sorted(len(line) for line in text.splitlines() if len(line) > 4)
    return lengths[len(lengths) // 2]


def test_editor_lines_give_no_bylines_and_no_articles():
    for page in EXPECTED:
        articles = read_seed_file(PAGES / page["file"]).articles
        names = {name for a in articles for name in a.reporters + a.correspondents + a.photographers}
        text = _text((PAGES / page["file"]).read_bytes())
        for line in text.splitlines():
            if is_editor_line(line):
                editors = set(re.findall(r"[\u4e00-\u9fff]{2,3}", re.sub(r"[\u3000 ]", "", line)))
                assert not editors & names, (page["file"], line)
                assert not any(line.strip() in a.body for a in articles)


# --- the page header and other furniture -------------------------------------------------------------


@pytest.mark.parametrize(
    "line, paper, date, page, section",
    [
        ("河南日报 2023年6月12日 星期一 第05版 要闻", "河南日报", "2023-06-12", "05", "要闻"),
        ("大河报｜2022年3月8日｜星期二｜A07：郑州新闻", "大河报", "2022-03-08", "A07", "郑州新闻"),
        ("人民日报 2023年06月12日 星期一 第 01 版", "人民日报", "2023-06-12", "01", None),
        ("2024年11月22日 星期五 郑州日报 高新 3", "郑州日报", "2024-11-22", "3", "高新"),
        ("南方都市报 2010.08.24 星期二 AA12 时事", "南方都市报", "2010-08-24", "AA12", "时事"),
        ("第06版　观察　　经济日报　2009年6月25日　星期四", "经济日报", "2009-06-25", "06", "观察"),
        ("河南日报 2023年6月12日 星期一 第05版 要闻 责编 张三", "河南日报", "2023-06-12", "05", "要闻"),
        # The page's makers in the header line, a role this list did not know (视觉设计).
        ("新民晚报　A12　要闻·综合　2009年2月25日/星期三　本版编辑：沈　敏　视觉设计：戚黎明", "新民晚报", "2009-02-25", "A12", "要闻·综合"),
        # A bare page number inside the header, not at its end.
        ("2008年10月15日 星期三　　中国教育报　　02 新闻·综合", "中国教育报", "2008-10-15", "02", "新闻·综合"),
    ],
)
def test_page_headers_in_any_order_and_separators(line, paper, date, page, section):
    header = parse_page_header(line)
    assert header is not None
    assert (header.paper, header.date, header.page, header.section) == (paper, date, page, section)


@pytest.mark.parametrize("line", ["高新区召开党史学习教育推进会", "郑州市城市更新项目", "2024年11月22日，高新区召开会议。", "本报讯 近日"])
def test_headlines_and_sentences_are_no_page_header(line):
    assert parse_page_header(line) is None


def test_furniture_lines():
    assert lone_page("第A3版") == "A3" and lone_page("A07") == "A07" and lone_page("- 5 -") == "5"
    assert lone_page("精准养护 守护安全") is None
    assert banner("本地新闻") == "本地新闻" and banner("简　讯") == "简讯" and banner("【要闻】") == "要闻"
    assert banner("图灵小镇签约") is None and banner("有需要找它") is None
    for line in ("本版责编：刘　勇　美编：张　婷　校对：赵　雪", "责任编辑：张三", "本版编辑：王五", "编辑 赵晓　校对 孙伟"):
        assert is_editor_line(line), line
    assert not is_editor_line("编辑部主任参加碰头会，商定编前会的主要内容")


def test_the_catalog_wins_over_the_header_and_the_header_over_body_dates(tmp_path):
    text = "大河报｜2022年3月8日｜星期二｜A07：郑州新闻\n\n郑州举办春季招聘会\n\n本报讯（记者 王鸿）5月12日，郑州举办春季招聘会，到2035年……"
    path = tmp_path / "p.txt"
    path.write_text(text, encoding="utf-8")
    (article,) = read_seed_file(path).articles
    assert (article.paper, article.page, article.section, article.date) == ("大河报", "A07", "郑州新闻", "2022-03-08")
    entry = {"date": "2022-03-09", "paper": "大河报（数字版）", "page": "A7", "section": "郑州"}
    (article,) = read_seed_file(path, entry).articles
    assert (article.paper, article.page, article.section, article.date) == ("大河报（数字版）", "A7", "郑州", "2022-03-09")


# --- datelines, bylines, credits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, source, month_day, reporters, correspondents, rest",
    [
        ("本报上海3月2日电（记者 张三、李四）上海今天", None, (3, 2), ["张三", "李四"], [], "上海今天"),
        ("新华社郑州11月29日电（记者 王五）河南省", "新华社", (11, 29), ["王五"], [], "河南省"),
        ("本报广州9月18日电（特派记者 刘江）广交会", None, (9, 18), ["刘江"], [], "广交会"),
        ("本报记者王静6月24日北京报道 随着近年来", None, (6, 24), ["王静"], [], "随着近年来"),
        ("本报讯 记者 张三 通讯员 李四 近日，郑州", None, (None, None), ["张三"], ["李四"], "近日，郑州"),
        ("本报讯（记者 张三，李四）昨日", None, (None, None), ["张三", "李四"], [], "昨日"),
        ("中新社北京六月二十五日电 明天是", "中新社", (6, 25), [], [], "明天是"),
        ("据新华社电 昨天，国家禁毒委", "新华社", (None, None), [], [], "昨天，国家禁毒委"),
        ("新快报讯(钟欣)住房和城乡建设部", "新快报", (None, None), ["钟欣"], [], "住房和城乡建设部"),
        ("本報訊（記者 孫慶輝）高新區", None, (None, None), ["孙庆辉"], [], "高新區"),
    ],
)
def test_datelines_that_open_an_article(text, source, month_day, reporters, correspondents, rest):
    dateline = parse_dateline(text)
    assert dateline is not None
    assert (dateline.source, (dateline.month, dateline.day), dateline.rest) == (source, month_day, rest)
    byline = dateline.byline
    assert (byline.reporters if byline else [], byline.correspondents if byline else []) == (reporters, correspondents)


@pytest.mark.parametrize("text", ["记者从2月12日召开的会议上获悉", "会议决定6月10日电告各地", "据了解，目前", "本报记者昨日获悉，"])
def test_sentences_are_no_datelines(text):
    dateline = parse_dateline(text)
    assert dateline is None or dateline.byline is None and dateline.source is None and "记者" not in text[:4]


@pytest.mark.parametrize(
    "text, reporters, correspondents, photographers",
    [
        ("■本报记者 王　芳 文/图", ["王芳"], [], ["王芳"]),
        ("□ 记者 马力 通讯员 王国海", ["马力"], ["王国海"], []),
        ("（本报记者 吴迪）", ["吴迪"], [], []),
        ("见习记者 陈静 首席记者 郭峰 全媒体记者 李丹", ["陈静", "郭峰", "李丹"], [], []),
        ("新华社记者 李学仁 摄", [], [], ["李学仁"]),
        ("本报记者欧阳晓菲摄", [], [], ["欧阳晓菲"]),
        ("本报记者 李刚/摄", [], [], ["李刚"]),
        ("⊙本报记者 安仲文，黄金滔", ["安仲文", "黄金滔"], [], []),
        ("胡继权/文", ["胡继权"], [], []),
    ],
)
def test_bylines(text, reporters, correspondents, photographers):
    byline = parse_byline(text)
    assert byline is not None
    assert (byline.reporters, byline.correspondents, byline.photographers) == (reporters, correspondents, photographers)


def test_closing_bylines_and_credits():
    assert split_trailing_byline("……空运回美国。（记者 徐啸寒 通讯员 蔡　敏）")[1].correspondents == ["蔡敏"]
    assert split_trailing_byline("……注销。(叶洲)")[1].reporters == ["叶洲"]
    assert split_trailing_byline("……佐证材料（仅接收短信）") is None
    assert split_trailing_credit("……刑事责任。（据新华社）") == ("……刑事责任。", "新华社")
    assert parse_credit("（来源：大河报）") == "大河报" and parse_credit("据《人民日报》报道") == "人民日报"
    assert parse_credit("（综合新华社电）") == "新华社"
    assert parse_credit("据英国《金融时报》报道，金正云曾访问中国") is None and parse_credit("据了解") is None
    # A medium's name alone in brackets is a credit; a person's name alone is a byline, 本报 no credit.
    assert split_trailing_credit("……约达一成。(南方都市报)") == ("……约达一成。", "南方都市报")
    assert parse_credit("（中国日报）") == "中国日报" and parse_credit("（《证券时报》）") == "证券时报"
    assert split_trailing_credit("……提供强大支持。(张伟建)") is None and parse_credit("（本报）") is None
    assert parse_credit("（完）") is None and parse_credit("（下转第3版）") is None


def test_a_photo_caption_in_a_column_of_short_items_is_photo_news():
    page = "快　讯\n\n【长盛基金在工行上线】近日，长盛基金公告称全线基金上线。\n\n在这张剧照中，杨紫琼坐在石窟下面。（图片新闻）"
    item, photo = articles_from_page(Page("p.txt", normalise_newlines(page), "utf-8"), metadata=False)
    assert (item.kind, item.title) == ("news", "长盛基金在工行上线")
    assert (photo.kind, photo.title, photo.body) == ("photo", "", "在这张剧照中，杨紫琼坐在石窟下面。")


def test_a_credit_ends_its_article_and_names_no_reporter():
    page = "禁毒委部署专项行动\n\n国家禁毒委员会日前发布消息称，将开展专项治理行动。（据新华社）\n\n郑州新增公交线路\n\n本报讯（记者 王鸿）郑州今日新增三条公交线路。"
    first, second = articles_from_page(Page("p.txt", normalise_newlines(page), "utf-8"), metadata=False)
    assert (first.credit, first.reporters, first.body.endswith("治理行动。")) == ("新华社", [], True)
    assert (second.credit, second.reporters) == (None, ["王鸿"])


# --- headlines ---------------------------------------------------------------------------------------


def test_headline_roles_of_the_press():
    assert headline_roles(["就朝核问题交换意见", "武大伟启程访问俄美日韩", "——中方希望有关举动有利于地区稳定"]) == (
        "就朝核问题交换意见", "武大伟启程访问俄美日韩", "中方希望有关举动有利于地区稳定")
    assert headline_roles(["全国劳模张三", "——记郑州公交司机张三"]) == ("", "全国劳模张三", "记郑州公交司机张三")
    assert headline_roles(["保障购房者合法权益", "郑州商品房预售款将由银行监管"])[:2] == ("保障购房者合法权益", "郑州商品房预售款将由银行监管")
    assert headline_roles(["没有最好只有更好", "18岁女孩四战美国高考"])[0] == "没有最好只有更好"


# --- dates: never invent a year ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, year",
    [
        ("1998年以来，郑州……8月26日", None),
        ("到2035年基本实现……8月26日", None),
        ("投资2000万元建设……8月26日", None),
        ("2010-11赛季常规赛……1969年东部半决赛……4月20日", None),
        ("2023年上半年，投资促进中心……", 2023),
        ("2023年开年以来，新密市……2月14日", 2023),
        ("在8月21日高新区召开的2024年高质量发展推进会上", 2024),
        ("2024河南（郑州）—东盟粮农合作大会在郑州举办", 2024),
        ("二〇〇九年上半年，全市……", 2009),
    ],
)
def test_a_year_comes_from_a_statement_of_the_present_never_from_a_passing_mention(text, year):
    assert page_date(text)[1] == year


def test_a_month_from_a_body_never_wins_over_the_page_header(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("郑州晚报 2009年6月19日 星期五 A05\n\n台湾南投县发生地震\n\n新华社北京6月18日电 北京时间2009年7月26日09时，7月26日，台湾南投县发生地震。", encoding="utf-8")
    (article,) = read_seed_file(path).articles
    assert (article.date, article.month) == ("2009-06-19", 6)


def test_a_dateline_gives_its_article_the_month_and_day_when_the_page_has_no_header():
    text = "郑州新增公交线路\n\n本报郑州6月11日电（记者 王鸿）郑州新增三条公交线路，6月20日开通。2023年上半年，全市……"
    (article,) = articles_from_page(Page("p.txt", normalise_newlines(text), "utf-8"), metadata=False)
    assert (article.date, article.year, article.month) == ("2023-06-11", 2023, 6)
    assert present_years("投资2000万元，1998年以来") == {}


# --- hostile input stays linear -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "本报" + "北京" * 20_000,
        "记者" + " 王" * 20_000,
        "新华社" + "6月" * 20_000 + "电",
        "2024" + "河南（郑州）—" * 20_000,
        "（据" + "新华社、" * 20_000 + "）",
        "编辑 " + "张三 " * 20_000,
        "第" + "A" * 20_000 + "版",
        "【" + "标题" * 20_000,
        "高新区召开会议研究部署工作" * 20_000,
    ],
    ids=["opener", "byline", "dateline", "year", "credit", "editor", "page", "lead", "no-punctuation"],
)
def test_the_convention_rules_never_hang_on_hostile_lines(line):
    """Every rule of this module on a 40,000+ character line: linear patterns take well under a second
    (a pattern that rescans from every start would take minutes). The lead sentence (``lead_of``) is
    left out: its pattern is being made linear with the per-file time budget of issue 12."""
    started = time.perf_counter()
    cut_page(Page("hostile.txt", line, "utf-8"))
    page_date(line)
    for rule in (parse_dateline, parse_byline, split_trailing_byline, parse_credit, split_trailing_credit, parse_page_header, is_editor_line):
        rule(line)
    assert time.perf_counter() - started < 10

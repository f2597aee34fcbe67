"""Article extraction: the 21 seed articles, and the same articles from pages laid out differently.

Variants are generated here from the seed pages: narrow hard-wrapped columns with blank lines falling
mid-sentence, markdown marks removed, traditional characters, GB18030 / UTF-16+CRLF / UTF-8 BOM
encodings, full-width punctuation, and combinations. Each must give the same articles.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import opencc
import pytest

from search.ingest.chinese import to_simplified
from search.ingest.pages import Page, decode_bytes, normalise_newlines
from search.ingest.sources import articles_from_page, list_seed_files, read_seed_file

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_NAMES = [path.name for path in list_seed_files(REPO_SEEDS)]

# The articles a reader sees on the five pages: (file prefix, kind, kicker, title, subtitle,
# reporters, correspondents, photographers, first words of body, last words of body, year, month).
EXPECTED = [
    ("000", "news", "", "高新区一项目拟入库", "郑州市城市更新项目", ["孙庆辉"], [], [], "近期", "材料产业园。", 2024, 11),
    ("000", "news", "供需两端发力 精准政策滴灌", "政银企协同解决小微企业融资难题", "高新区召开支持小微企业融资协调工作专题研究会议", ["孙庆辉"], [], [], "近日", "促就业的目标。", 2024, 11),
    ("000", "feature", "", "高新区“书记亲商助企服务热线”上线", "有需要找它", [], [], [], "“领导带队", "佐证材料）", 2024, 11),
    ("000", "news", "拿出“看家”本领 吸引各路客商", "高新区8家企业亮相2024河南（郑州）—东盟粮农合作大会", "", ["孙庆辉"], [], ["孙庆辉"], "11月21日上午", "共赢未来。", 2024, 11),
    ("000", "news", "砥砺前行 荣光有我", "高新区纪检监察工委举办主题演讲比赛", "", ["孙庆辉"], ["孙雯钰"], [], "11月22日", "更大贡献。", 2024, 11),
    ("001", "feature", "", "高新区召开“万人助万企”企业家座谈会 共同实现区域和企业高质量发展", "", ["孙庆辉"], ["冯亚旭"], ["孙庆辉", "冯亚旭"], "为推进", "扶到位。", None, 8),
    ("001", "news", "", "高新区召开安委会全体(扩大)会议 压实责任,确保安全生产工作落实到位", "", ["孙庆辉"], ["马云静"], [], "8月24日晚", "事故发生。", None, 8),
    ("001", "news", "", "高新区召开党史学习教育推进会", "", ["孙庆辉"], ["王玉丰"], [], "8月23日", "参加会议。", None, 8),
    ("002", "news", "稳经济 促发展 强信心", "金水区吹响奋进「冲锋号」", "当好高质量发展「火车头」", ["党贺喜"], [], [], "记者从2月12日", "外企敢投。", 2023, 2),
    ("002", "news", "", "二七区破题开局换挡转型", "「双轮驱动」做好「两篇文章」", ["刘伟平"], ["张一弛"], [], "记者从2月14日", "责任意识。", 2023, 2),
    ("002", "news", "", "现代汽车集团来登封 洽谈氢能源产业项目", "", ["李晓光"], ["宋跃伟", "何源"], [], "2月13日", "蓄势储能。", 2023, 2),
    ("002", "photo", "", "", "", [], [], ["王恩俊"], "近日,管城区", "文化魅力。", 2023, 2),
    ("002", "news", "", "助企业解困 为发展赋能", "", ["王世瑾"], ["王欣"], [], "记者昨日获悉", "快速发展。", 2023, 2),
    ("002", "news", "", "政府牵线银企“联姻” 为实体经济送“春雨”", "", ["杨丽萍"], ["曹韵凯"], [], "为进一步促进", "贷款服务。", 2023, 2),
    ("002", "news", "", "党建引领提质效 产业赋能促发展", "", ["卢文军"], ["张保真"], ["卢文军", "张保真"], "春节过后", "徐徐展开。", 2023, 2),
    ("002", "news", "", "民警担任法治校长 助力创建平安校园", "", ["李晓光"], ["刘庆晓", "钟莹莹"], [], "为进一步加强", "重要贡献。", 2023, 2),
    ("002", "news", "", "精准养护 守护安全", "", ["覃岩峰"], ["王菁"], [], "春节过后", "3月份完成。", 2023, 2),
    ("002", "photo", "", "", "", [], [], ["孙志刚"], "2月14日", "消防知识。", 2023, 2),
    ("002", "news", "", "新密市全力冲刺工业经济“开门红”", "", ["郭涛"], ["李晓娟"], [], "近日,记者来到", "坚实的基础。", 2023, 2),
    ("003", "feature", "", "多措并举 “建设千亿级世界一流高科技园区”", "", ["孙庆辉"], [], [], "枫杨园区运营中心", "刷脸办事。", 2023, None),
    ("004", "feature", "在九个“要”字上下足功夫 念好“强、增、提、稳、保”五字诀", "高新区全力以赴高质量完成全年目标任务", "", ["孙庆辉"], ["方宝岭"], ["孙庆辉", "方宝岭"], "“我们必须增强", "“六个不发生”。", 2024, 8),
]

# Places each article must name (a subset check: the extractor may find more).
EXPECTED_PLACES = {
    ("000", 1): {"高新区", "中原区", "金水区"},
    ("002", 1): {"金水区"},
    ("002", 2): {"二七区"},
    ("002", 3): {"登封市"},
    ("002", 4): {"管城区"},
    ("002", 6): {"惠济区"},
    ("002", 7): {"中牟县", "狼城岗镇"},
    ("002", 9): {"郑东新区"},
    ("002", 11): {"新密市"},
}


def squash(text: str) -> str:
    """Compare text across variants: NFKC, simplified, no whitespace."""
    return re.sub(r"\s+", "", to_simplified(unicodedata.normalize("NFKC", text)))


def signature(article) -> tuple:
    body = squash(article.body)
    return (
        article.kind,
        squash(article.kicker),
        squash(article.title),
        squash(article.subtitle),
        article.reporters,
        article.correspondents,
        article.photographers,
        body[:12],
        body[-12:],
        article.year,
        article.month,
    )


def matches(article, row: tuple) -> bool:
    """Does the extracted article match the expected row (body checked by its first and last words)?"""
    _, kind, kicker, title, subtitle, reporters, correspondents, photographers, first, last, year, month = row
    got = signature(article)
    body = squash(article.body)
    return got[:7] + got[9:] == (kind, squash(kicker), squash(title), squash(subtitle), reporters, correspondents,
                                 photographers, year, month) and body.startswith(squash(first)) and body.endswith(squash(last))


def extract_text(text: str, name: str) -> list:
    return articles_from_page(Page(source=name, text=normalise_newlines(text), encoding="utf-8"))


def seed_text(name: str) -> str:
    return (REPO_SEEDS / name).read_text(encoding="utf-8")


def all_articles(transform=lambda text: text) -> list:
    articles = []
    for name in SEED_NAMES:
        articles.extend(extract_text(transform(seed_text(name)), name))
    return articles


# --- the seed pages as they are ---------------------------------------------------------------------


def test_seed_pages_give_21_articles_in_file_order():
    counts = [len(read_seed_file(REPO_SEEDS / name).articles) for name in SEED_NAMES]
    assert counts == [5, 3, 11, 1, 1]


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_each_seed_article_comes_out_whole_with_its_headline_and_bylines(index):
    articles = all_articles()
    assert matches(articles[index], EXPECTED[index]), signature(articles[index])
    assert articles[index].source.startswith(EXPECTED[index][0])


def test_every_field_of_the_article_contract_is_present():
    article = read_seed_file(REPO_SEEDS / SEED_NAMES[0]).articles[0].to_dict()
    for name in ("id", "source", "position", "title", "kicker", "subtitle", "body", "lead", "reporters",
                 "correspondents", "photographers", "places", "people", "orgs", "keywords", "kind", "date",
                 "year", "month", "section", "chars"):
        assert name in article
    assert article["chars"] == len(article["body"])
    assert article["lead"] and article["body"].startswith(article["lead"][:10])


def test_bodies_hold_no_opener_and_no_byline():
    for article in all_articles():
        assert not article.body.startswith("本报讯")
        assert not re.search(r"记者 ?[\u4e00-\u9fff]{2,3}$", article.body)
        assert "摄" != article.body[-1]


def test_neighbouring_articles_do_not_share_text():
    articles = all_articles()
    for left, right in zip(articles, articles[1:]):
        assert right.body[:20] not in left.body
        assert left.body[-20:] not in right.body


def test_places_named_in_articles():
    articles = {(a.source[:3], a.position): a for a in all_articles()}
    for key, places in EXPECTED_PLACES.items():
        assert places <= set(articles[key].places), (key, articles[key].places)


def test_dates_are_never_invented():
    articles = all_articles()
    undated = [a for a in articles if a.source.startswith("001")]
    assert all(a.year is None and a.date is None and a.month == 8 for a in undated)
    assert {a.date for a in articles if a.source.startswith("000")} == {"2024-11-22"}
    assert {a.date for a in articles if a.source.startswith("003")} == {"2023"}


def test_ids_are_stable_and_unique():
    first = [a.id for a in all_articles()]
    assert first == [a.id for a in all_articles()]
    assert len(set(first)) == len(first)


def test_section_heads_and_captions_inside_long_articles_do_not_start_articles():
    page_004 = extract_text(seed_text(SEED_NAMES[4]), SEED_NAMES[4])
    assert len(page_004) == 1
    assert "图灵小镇签约" in page_004[0].body
    page_001 = extract_text(seed_text(SEED_NAMES[1]), SEED_NAMES[1])
    assert "关注企业受灾情况" in page_001[0].body


def test_column_breaks_mid_sentence_are_joined_without_spaces():
    first = extract_text(seed_text(SEED_NAMES[0]), SEED_NAMES[0])[1]
    assert "运用市场化机制和法治化办法，推动有为政府" in first.body
    assert "打通金融惠企利民的“最后一公里”" in first.body
    assert "\n" not in first.body.split("郭程明指出")[1].split("郭程明强调")[0].strip()


# --- the same articles from pages in other shapes -------------------------------------------------


def wrap_columns(text: str, width: int) -> str:
    """Hard-wrap running text at ``width`` characters, with a blank line at every 9th line (a column
    break falling mid-sentence). Headlines, bylines and headings stay as they are (they span columns)."""
    out: list[str] = []
    count = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if len(stripped) <= 24 or stripped.startswith("#") or not re.search(r"[，,。：:；;！？]", stripped):
            out.append(stripped)
            continue
        for start in range(0, len(stripped), width):
            out.append(stripped[start : start + width])
            count += 1
            if count % 9 == 0 and start + width < len(stripped):
                out.append("")
    return "\n".join(out)


def strip_markdown(text: str) -> str:
    return re.sub(r"(?m)^#+\s*", "", text)


_S2T = opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return _S2T.convert(text)


def full_width_punctuation(text: str) -> str:
    return text.translate(str.maketrans({",": "，", "(": "（", ")": "）", "?": "？", ":": "：", ";": "；", "!": "！"}))


VARIANTS = {
    "wrapped-10": lambda t: wrap_columns(strip_markdown(t), 10),
    "wrapped-13": lambda t: wrap_columns(t, 13),
    "no-markdown": strip_markdown,
    "traditional": traditional,
    "full-width-punctuation": full_width_punctuation,
    "traditional-wrapped-fullwidth": lambda t: wrap_columns(full_width_punctuation(traditional(t)), 12),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_same_articles_from_pages_in_other_shapes(variant):
    transform = VARIANTS[variant]
    articles = all_articles(transform)
    assert len(articles) == len(EXPECTED)
    for index, (article, row) in enumerate(zip(articles, EXPECTED)):
        assert matches(article, row), (variant, index, signature(article))


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("gb18030"), id="gb18030-no-bom"),
        pytest.param(lambda t: t.encode("gbk", errors="replace"), id="gbk"),
        pytest.param(lambda t: "\ufeff".encode("utf-16-le") + t.replace("\n", "\r\n").encode("utf-16-le"), id="utf16le-bom-crlf"),
        pytest.param(lambda t: t.replace("\n", "\r\n").encode("utf-16"), id="utf16-bom-crlf"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), id="utf8-bom"),
    ],
)
def test_same_articles_from_other_encodings(tmp_path, encode):
    for name in SEED_NAMES:
        path = tmp_path / name
        path.write_bytes(encode(seed_text(name)))
        got = [signature(a) for a in read_seed_file(path).articles]
        want = [signature(a) for a in extract_text(seed_text(name), name)]
        assert got == want, name


def test_undecodable_bytes_are_reported_and_the_rest_kept(tmp_path):
    text = seed_text(SEED_NAMES[2])
    data = text.encode("utf-8")
    middle = len(data) // 2
    middle = data.index("。".encode(), middle) + 3
    path = tmp_path / "damaged.txt"
    path.write_bytes(data[:middle] + b"\xff\xfe\xfa" + data[middle:])
    result = read_seed_file(path)
    assert len(result.articles) == 11
    assert any("byte" in problem and str(middle) in problem for problem in result.problems)


def test_decoding_order_prefers_utf8_then_gb18030():
    assert decode_bytes("高新区".encode("utf-8"))[1] == "utf-8"
    assert decode_bytes("高新区召开会议".encode("gb18030"))[1] == "gb18030"
    assert decode_bytes(codecs_bom_utf16("本报讯"))[0] == "本报讯"


def codecs_bom_utf16(text: str) -> bytes:
    return text.encode("utf-16")


# --- bylines, openers, headline roles -----------------------------------------------------------------

from search.ingest.bylines import parse_byline, split_opener, split_trailing_byline  # noqa: E402
from search.ingest.extract import headline_roles  # noqa: E402
from search.ingest.metadata import find_places, page_date  # noqa: E402


@pytest.mark.parametrize(
    "text, reporters, correspondents, photographers",
    [
        ("记者 孙庆辉", ["孙庆辉"], [], []),
        ("记者 孙庆辉 通讯员 冯亚旭 文/图", ["孙庆辉"], ["冯亚旭"], ["孙庆辉", "冯亚旭"]),
        ("记者 孙庆辉 整理", ["孙庆辉"], [], []),
        ("本报记者 王恩俊 摄", [], [], ["王恩俊"]),
        ("郑报全媒体记者 王世瑾 通讯员 王欣", ["王世瑾"], ["王欣"], []),
        ("记者 李晓光 通讯员 宋跃伟 何源", ["李晓光"], ["宋跃伟", "何源"], []),
        ("記者 孫慶輝　通訊員 馮亞旭", ["孙庆辉"], ["冯亚旭"], []),
        ("记者孙庆辉", ["孙庆辉"], [], []),
    ],
)
def test_bylines_are_parsed_by_role(text, reporters, correspondents, photographers):
    byline = parse_byline(text)
    assert byline is not None
    assert (byline.reporters, byline.correspondents, byline.photographers) == (reporters, correspondents, photographers)


@pytest.mark.parametrize("text", ["记者从2月12日召开的会议上获悉", "记者昨日获悉", "高新区召开党史学习教育推进会", "图灵小镇签约", ""])
def test_sentences_are_not_bylines(text):
    assert parse_byline(text) is None


def test_opener_with_bracketed_byline_is_split_off():
    opener, byline, rest = split_opener("本报讯（郑报全媒体记者 王世瑾 通讯员 王欣）记者昨日获悉")
    assert rest == "记者昨日获悉"
    assert byline.reporters == ["王世瑾"] and byline.correspondents == ["王欣"]
    assert split_opener("本报讯 近日，高新区")[2] == "近日，高新区"


def test_trailing_byline_is_split_from_the_last_paragraph():
    text, byline = split_trailing_byline("实现稳经济、促就业的目标。记者 孙庆辉")
    assert text == "实现稳经济、促就业的目标。" and byline.reporters == ["孙庆辉"]
    assert split_trailing_byline("记者从会上获悉，会议召开。") is None


def test_headline_roles():
    assert headline_roles(["稳经济 促发展 强信心", "金水区吹响奋进「冲锋号」", "当好高质量发展「火车头」"]) == (
        "稳经济 促发展 强信心", "金水区吹响奋进「冲锋号」", "当好高质量发展「火车头」")
    assert headline_roles(["砥砺前行 荣光有我", "高新区纪检监察工委举办主题演讲比赛"])[0] == "砥砺前行 荣光有我"
    assert headline_roles(["高新区“书记亲商助企服务热线”上线", "有需要找它"])[2] == "有需要找它"
    assert headline_roles(["精准养护 守护安全"]) == ("", "精准养护 守护安全", "")


def test_places_from_gazetteer_and_patterns():
    assert find_places("中牟县狼城岗镇、郑州高新区与登封、管城回族区") == ["中牟县", "狼城岗镇", "高新区", "登封市", "管城区"]
    assert "美丽乡" not in find_places("郑州市美丽乡村精品村")


def test_page_date_uses_the_year_the_page_states():
    assert page_date("11 月 22 日，2023年") == ("2023-11-22", 2023, 11)
    assert page_date("１１月２１日上午") == (None, None, 11)
    assert page_date("没有日期") == (None, None, None)


OTHER_PAPER = """【要闻】

郑州东站枢纽客流创新高
春运首日发送旅客逾十万人次

本报郑州1月26日讯（记者：王小明　通讯员：李华）1月26日，春运首日，郑州东站迎来客流高峰，全天发送旅客十万余人次。
车站增开临时窗口，引导旅客错峰出行，秩序井然。

图为旅客在郑州东站候车。本报记者 赵刚/摄

荥阳市举办非遗展演
本报讯 近日，荥阳市在文化广场举办非遗展演活动，吸引市民数千人观看。活动展示了剪纸、泥塑等传统技艺。（记者 陈静）

上街区：老旧小区换新颜
今年以来，上街区改造老旧小区十二个，惠及居民三千余户。居民纷纷表示，住得更舒心了。
记者 周涛 通讯员 吴敏
"""


def test_a_page_of_another_paper_with_other_conventions():
    """Dated openers, colons in bylines, bracketed closing bylines, a page-section label, /摄."""
    articles = extract_text(OTHER_PAPER, "other.txt")
    assert [(a.kind, a.title, a.subtitle) for a in articles] == [
        ("news", "郑州东站枢纽客流创新高", "春运首日发送旅客逾十万人次"),
        ("news", "荥阳市举办非遗展演", ""),
        ("feature", "上街区：老旧小区换新颜", ""),
    ]
    assert [(a.reporters, a.correspondents) for a in articles] == [(["王小明"], ["李华"]), (["陈静"], []), (["周涛"], ["吴敏"])]
    assert articles[0].photographers == ["赵刚"] and "候车" in articles[0].body
    assert {a.section for a in articles} == {"要闻"}
    assert articles[1].places == ["荥阳市"] and articles[2].places == ["上街区"]

"""Queries on real Whoosh indexes built from hand-made articles: syntax, recall, facets, snippets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index

from search.engines.embedded.schema import add_articles, build_schema
from search.engines.embedded.search import get_article, iter_articles, related_articles, run_search, suggest
from search.model import Article
from search.query.filters import FACETS, QueryError
from search.query.analyze import analyze, highlight_terms
from search.query.snippets import make_snippet


def art(aid: str, title: str, body: str, **kw: Any) -> Article:
    """A test article; ``chars`` and ``lead`` follow the body."""
    kw.setdefault("source", "p1.txt")
    kw.setdefault("position", int(re.sub(r"\D", "", aid) or 0))
    return Article(id=aid, title=title, body=body, lead=body[:30], chars=len(body), **kw)


ARTICLES = [
    art("a1", "政银企协同解决小微企业融资难题", "高新区召开支持小微企业融资协调工作专题研究会议。银行要加大贷款支持。",
        places=["高新区"], reporters=["孙庆辉"], people=["郭程明"], orgs=["高新区党工委"], kind="news",
        date="2024-11-22", year=2024, month=11, source="000.txt"),
    art("a2", "新密市全力冲刺工业经济开门红", "新密市力促工业经济实现开门红。小微企业 融资 也有进展。",
        places=["新密市"], reporters=["郭涛"], kind="news", date="2023-02-14", year=2023, month=2, source="002.txt"),
    art("a3", "党建引领提质效", "中牟县狼城岗镇努力实现全年工作开门红。郑州客运西站TOD综合提升项目。",
        places=["中牟县", "狼城岗镇"], reporters=["卢文军"], kind="news", date="2023-02-14", year=2023, month=2,
        source="002.txt"),
    art("a4", "高新区召开党史学习教育推进会", "郑州市委召开党史学习教育推进工作电视电话会。高新区设分会场。",
        places=["高新区", "郑州市"], reporters=["孙庆辉"], people=["张良才"], kind="news", source="001.txt"),
    art("a5", "", "管城区东关小学学生开展非遗研学活动,体验木版年画。", places=["管城区"], photographers=["王恩俊"],
        kind="photo", date="2023-02", year=2023, month=2, source="002.txt"),
    art("a6", "高新区全力以赴完成全年目标任务", "高新区要优化营商环境 <b>R&D</b> 投入,把思想和行动统一到要求上来。" + "发展" * 80
        + "半导体材料产业园建设加快。", places=["高新区"], reporters=["孙庆辉", "方宝岭"], kind="feature",
        date="2024-08-21", year=2024, month=8, section="要闻", source="004.txt"),
]  # fmt: skip


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("index")
    ix = index.create_in(str(directory), build_schema())
    with ix.writer() as writer:
        assert add_articles(writer, ARTICLES) == len(ARTICLES)
    with ix.searcher() as s:
        yield s


def ids(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["results"]]


# -- recall and the query language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("微企", {"a1", "a2"}),  # inside 小微/企业: a fragment the segmenter never cut out
        ("融资协调工作专题", {"a1"}),
        ("狼城岗", {"a3"}),  # part of the dictionary word 狼城岗镇
        ("东关小", {"a5"}),
        ("党史学习教育", {"a4"}),
        ("黨史學習教育", {"a4"}),
        ("ＴＯＤ", {"a3"}),
        ("TOD", {"a3"}),
        ("tod", {"a3"}),
        ("开门红 -新密", {"a3"}),
        ("开门红", {"a2", "a3"}),
        ("高新区 OR 狼城岗", {"a1", "a3", "a4", "a6"}),
        ("reporter:孙庆辉", {"a1", "a4", "a6"}),
        ("reporter:王恩俊", {"a5"}),
        ("place:管城区", {"a5"}),
        ("title:开门红", {"a2"}),
        ("r&d", {"a6"}),
    ],
)
def test_queries_find_what_they_should(searcher: Any, q: str, expected: set[str]) -> None:
    result = run_search(searcher, q, limit=50)
    assert set(ids(result)) == expected
    assert result["total"] == len(expected)


def test_exact_phrase_over_multi_character_words(searcher: Any) -> None:
    # 小微企业融资 is contiguous in a1; in a2 the words are separated by spaces -> still a phrase
    assert set(ids(run_search(searcher, '"小微企业 融资"'))) == {"a1", "a2"}
    # in order only: reversed words are not the phrase
    assert ids(run_search(searcher, '"融资 小微企业"')) == []
    # a phrase of three words that all occur, but not together
    assert ids(run_search(searcher, '"银行 小微企业 开门红"')) == []
    assert ids(run_search(searcher, '"工业经济 开门红"')) == ["a2"]


def test_and_is_the_default_and_exclusion_removes(searcher: Any) -> None:
    assert ids(run_search(searcher, "高新区 党史")) == ["a4"]
    assert set(ids(run_search(searcher, "高新区 -党史"))) == {"a1", "a6"}
    assert set(ids(run_search(searcher, "-高新区"))) == {"a2", "a3", "a5"}


def test_title_matches_rank_above_body_matches(searcher: Any) -> None:
    # 开门红 is in a2's title and a3's body only
    assert ids(run_search(searcher, "开门红"))[0] == "a2"


def test_word_matches_rank_above_fragment_matches(tmp_path: Path) -> None:
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [
            art("w1", "园区", "这里是枫杨园区。"),  # 枫杨园区 is one dictionary word: 园区 only as a fragment
            art("w2", "园区", "这里是园区。"),  # 园区 as a word
        ])  # fmt: skip
    with ix.searcher() as s:
        assert ids(run_search(s, "园区")) == ["w2", "w1"]


def test_ties_are_broken_by_date(tmp_path: Path) -> None:
    ix = index.create_in(str(tmp_path), build_schema())
    same = "高新区召开会议。"
    with ix.writer() as writer:
        add_articles(writer, [art("t1", "会议", same, date="2023-01-01"), art("t2", "会议", same, date="2024-05-01"),
                              art("t3", "会议", same)])  # fmt: skip
    with ix.searcher() as s:
        assert ids(run_search(s, "会议")) == ["t2", "t1", "t3"]


@pytest.mark.parametrize(
    "q",
    ['"unbalanced 高新区', "高新区\"", "-", "- -", "title:", "title: 高新区", "OR", "OR OR", "高新区 OR", "OR 高新区",
     "\x00\x01\x7f高新区\u200b", "((高新区))", "reporter:", "place:\"", "-\"\"", "“高新区", "高新区:", ":::",
     "\ud800高新区", "x" * 10_000, "高" * 10_000, "*?~^", "title:\"开门红", "AND OR NOT"],
)  # fmt: skip
def test_malformed_queries_never_raise(searcher: Any, q: str) -> None:
    result = run_search(searcher, q)
    assert result["total"] >= 0


def test_malformed_syntax_degrades_to_plain_words(searcher: Any) -> None:
    assert ids(run_search(searcher, '"狼城岗')) == ["a3"]
    assert ids(run_search(searcher, "title: 狼城岗")) == ["a3"]
    assert ids(run_search(searcher, "OR OR 狼城岗 OR")) == ["a3"]
    assert ids(run_search(searcher, "- 狼城岗")) == ["a3"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('高新区开门红 "-:OR()titlepace孙\x00\u3000ＴＯＤ')), max_size=40))
def test_any_query_string_runs(searcher: Any, q: str) -> None:
    result = run_search(searcher, q, limit=3)
    assert 0 <= len(result["results"]) <= 3


def test_plan_structure() -> None:
    plan = analyze('小微企业 OR 融资 -新密 title:"开门红" reporter:孙庆辉')
    assert [[(t.text, t.scope, t.words) for t in c.options] for c in plan.clauses] == [
        [("小微企业", "all", ("小微", "企业")), ("融资", "all", ())],  # OR offers each side with all its words
        [("开门红", "title", ())],
        [("孙庆辉", "reporter", ())],
    ]
    assert [t.text for t in plan.excluded] == ["新密"]
    assert [c.text for c in analyze("高新区 or 金水区").clauses] == ["高新区", "or", "金水区"]  # lowercase "or" is a word


# -- filters, facets, sorting, pagination --------------------------------------------------------


def facet(result: dict[str, Any], name: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in result["facets"][name]}


def test_facets_are_counted_over_the_matches(searcher: Any) -> None:
    result = run_search(searcher, "")
    assert result["total"] == 6
    assert set(result["facets"]) == set(FACETS)
    assert facet(result, "place")["高新区"] == 3
    assert facet(result, "year") == {"2023": 3, "2024": 2}
    assert facet(result, "kind") == {"news": 4, "photo": 1, "feature": 1}
    assert facet(result, "section") == {"要闻": 1}


def test_values_of_one_facet_or_and_different_facets_and(searcher: Any) -> None:
    either = run_search(searcher, "", filters={"place": ["新密市", "管城区"]})
    assert set(ids(either)) == {"a2", "a5"}
    both = run_search(searcher, "", filters={"place": ["新密市", "管城区"], "kind": ["photo"]})
    assert ids(both) == ["a5"]


def test_each_facet_is_counted_without_its_own_filter(searcher: Any) -> None:
    result = run_search(searcher, "", filters={"place": ["新密市"], "year": ["2023"]})
    assert ids(result) == ["a2"]
    # place counts: every 2023 article (year filter applies, place filter does not)
    assert facet(result, "place") == {"新密市": 1, "中牟县": 1, "狼城岗镇": 1, "管城区": 1}
    # year counts: every 新密市 article whatever its year
    assert facet(result, "year") == {"2023": 1}
    # other facets: both filters apply
    assert facet(result, "kind") == {"news": 1}


def test_filters_are_normalised_and_validated(searcher: Any) -> None:
    assert ids(run_search(searcher, "", filters={"place": ["新密市"]})) == ["a2"]
    assert set(ids(run_search(searcher, "", filters={"reporter": ["孫慶輝"]}))) == {"a1", "a4", "a6"}
    assert ids(run_search(searcher, "", filters={"month": ["08"]})) == ["a6"]
    assert ids(run_search(searcher, "", filters={"source": ["001.txt"]})) == ["a4"]
    assert ids(run_search(searcher, "", filters={"person": ["郭程明"]})) == ["a1"]
    assert ids(run_search(searcher, "", filters={"org": ["高新区党工委"]})) == ["a1"]
    assert ids(run_search(searcher, "", filters={"section": ["要闻"]})) == ["a6"]
    for bad in ({"year": ["24"]}, {"month": ["13"]}, {"kind": ["essay"]}, {"colour": ["red"]},
                {"from": ["2024-13"]}, {"to": ["yesterday"]}, {"from": ["2024-02-30"]},
                {"from": ["2024"], "to": ["2023"]}):  # fmt: skip
        with pytest.raises(QueryError):
            run_search(searcher, "", filters=bad)


def test_date_range_is_inclusive_and_partial_dates_must_fit(searcher: Any) -> None:
    assert set(ids(run_search(searcher, "", filters={"from": ["2023-02-14"], "to": ["2023-02-14"]}))) == {"a2", "a3"}
    # a5 is dated only 2023-02: inside February, not inside one day of it
    assert set(ids(run_search(searcher, "", filters={"from": ["2023-02"], "to": ["2023-02"]}))) == {"a2", "a3", "a5"}
    assert set(ids(run_search(searcher, "", filters={"from": ["2024"]}))) == {"a1", "a6"}
    assert set(ids(run_search(searcher, "", filters={"to": ["2023-12-31"]}))) == {"a2", "a3", "a5"}


def test_sorting_and_bad_parameters(searcher: Any) -> None:
    newest, oldest = ids(run_search(searcher, "", sort="newest")), ids(run_search(searcher, "", sort="oldest"))
    assert newest[:2] == ["a1", "a6"]
    # a5 is dated "2023-02" (from Feb 1st), a2/a3 2023-02-14; the undated a4 comes last either way
    assert oldest[:3] == ["a5", "a2", "a3"]
    assert newest[-1] == oldest[-1] == "a4"
    for kwargs in ({"sort": "best"}, {"page": 0}, {"limit": 0}, {"limit": "ten"}, {"page": "x"}):
        with pytest.raises(QueryError):
            run_search(searcher, "高新区", **kwargs)


def test_pagination_keeps_the_exact_total(searcher: Any) -> None:
    pages = [run_search(searcher, "", page=p, limit=4, sort="newest") for p in (1, 2, 3)]
    assert [p["total"] for p in pages] == [6, 6, 6]
    assert [len(p["results"]) for p in pages] == [4, 2, 0]
    assert len(set(ids(pages[0])) | set(ids(pages[1]))) == 6
    assert pages[1]["page"] == 2 and pages[1]["limit"] == 4


def test_result_shape(searcher: Any) -> None:
    result = run_search(searcher, "党史")
    assert set(result) >= {"query", "total", "page", "limit", "sort", "filters", "took_ms", "results", "facets"}
    row = result["results"][0]
    # The contract's keys, plus the lead (a stand-in headline for articles printed without one) and
    # what the page header says (paper, page, section) and a reprint's source (credit).
    assert set(row) == {"id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind",
                        "score", "snippet", "lead", "paper", "page", "section", "credit"}  # fmt: skip
    assert row["title"] == "高新区召开党史学习教育推进会" and row["reporters"] == ["孙庆辉"]


# -- snippets --------------------------------------------------------------------------------------


def test_snippet_marks_every_match_and_escapes_the_rest(searcher: Any) -> None:
    row = run_search(searcher, "营商环境 r&d")["results"][0]
    snippet = row["snippet"]
    assert "<mark>营商环境</mark>" in snippet
    assert "&lt;b&gt;<mark>R&amp;D</mark>&lt;/b&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_snippet_marks_fragments_and_traditional_queries(searcher: Any) -> None:
    assert "小<mark>微企</mark>业" in run_search(searcher, "微企")["results"][0]["snippet"]
    assert "<mark>党史学习教育</mark>" in run_search(searcher, "黨史學習教育")["results"][0]["snippet"]


def test_snippet_joins_distant_passages(searcher: Any) -> None:
    snippet = run_search(searcher, "营商环境 半导体")["results"][0]["snippet"]
    assert "<mark>营商环境</mark>" in snippet and "<mark>半导体</mark>" in snippet
    assert "…" in snippet.strip("…")
    assert len(re.sub(r"</?mark>", "", snippet)) <= 200


def test_make_snippet_spans_are_exact() -> None:
    pattern = re.compile("融资|小微企业")
    # Words that touch are one mark (two marks side by side read as a gap between them).
    assert make_snippet("支持小微企业融资。", pattern) == "支持<mark>小微企业融资</mark>。"
    assert make_snippet("小微企业的融资", pattern) == "<mark>小微企业</mark>的<mark>融资</mark>"
    assert make_snippet("a<b", None) == "a&lt;b"
    assert make_snippet("", pattern) == ""


def test_traditional_text_is_marked_in_its_own_characters(tmp_path: Path) -> None:
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [art("t1", "黨史學習", "本區開展黨史學習教育。")])
    with ix.searcher() as s:
        result = run_search(s, "党史学习教育")
        assert result["results"][0]["snippet"] == "本區開展<mark>黨史學習教育</mark>。"


# -- articles, related, suggestions, highlight terms -----------------------------------------------


def test_get_article_round_trips(searcher: Any) -> None:
    article = get_article(searcher, "a6")
    assert article == ARTICLES[5]
    assert get_article(searcher, "missing") is None
    assert get_article(searcher, "") is None


def test_iter_articles_yields_every_article(searcher: Any) -> None:
    assert sorted(a.id for a in iter_articles(searcher)) == sorted(a.id for a in ARTICLES)


def test_related_articles_share_words(searcher: Any) -> None:
    related = related_articles(searcher, "a1", limit=3)
    assert related and "a1" not in [r["id"] for r in related]
    assert related_articles(searcher, "missing") == []


def test_suggest_completes_places_people_titles_and_words(searcher: Any) -> None:
    got = suggest(searcher, "高新")
    assert {"text": "高新区", "type": "place"} in got
    assert any(s["type"] == "title" and s["text"].startswith("高新区") for s in got)
    assert {"text": "孙庆辉", "type": "reporter"} in suggest(searcher, "孙")
    assert suggest(searcher, "") == []
    assert len(suggest(searcher, "高", limit=2)) <= 2


def test_highlight_terms(searcher: Any) -> None:
    assert highlight_terms('小微企业 "融资 难题" -新密 ＴＯＤ') == ["小微企业", "tod", "小微", "企业", "融资", "难题"]
    assert highlight_terms("") == []


def test_a_fragment_never_matches_across_two_articles(tmp_path: Path) -> None:
    """Articles' texts lie end to end in the scanned buffer: a match must not run from one into the next."""
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [art("x1", "第一篇", "这里说的是高新"), art("x2", "区域发展", "正文没有那两个字。")])
    with ix.searcher() as s:
        assert ids(run_search(s, "新区")) == []
        assert ids(run_search(s, "高新")) == ["x1"] and ids(run_search(s, "区域")) == ["x2"]


def test_words_standing_together_rank_above_the_same_words_far_apart(tmp_path: Path) -> None:
    filler = "会议还研究了其他事项。" * 8
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [
            art("far", "会议纪要", f"银行支持。{filler}园区企业发展。", date="2024-05-01"),
            art("near", "会议纪要", f"银行支持园区企业发展。{filler}。", date="2024-01-01"),  # same length
        ])  # fmt: skip
    with ix.searcher() as s:
        result = run_search(s, "银行 园区")
        assert ids(result) == ["near", "far"]  # the older article wins on proximity, not on date
        assert result["results"][0]["score"] > result["results"][1]["score"]


def test_repeating_a_query_gives_the_same_scores_whatever_ran_before(searcher: Any) -> None:
    """Whole-archive unit matches are kept per searcher; scores must not depend on what was cached."""
    first = run_search(searcher, "高新区 发展", limit=20)["results"]
    for other in ("发展", "高新区", "高新区 -发展", "发展 OR 开门红"):
        run_search(searcher, other)
    assert run_search(searcher, "高新区 发展", limit=20)["results"] == first


# -- queries as people type them -------------------------------------------------------------------


def test_unspaced_words_match_anywhere_and_the_run_as_typed_ranks_first(tmp_path: Path) -> None:
    filler = "会议还研究了其他事项。" * 8
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [
            art("scattered", "会议纪要", f"园区建设。{filler}企业座谈。{filler}发展规划。", date="2024-05-03"),
            art("close", "会议纪要", f"园区的企业谋发展。{filler}{filler}", date="2024-05-02"),
            art("typed", "会议纪要", f"推动园区企业发展。{filler}{filler}", date="2024-05-01"),
            art("lacking", "会议纪要", f"园区企业很多。{filler}{filler}", date="2024-05-04"),  # no 发展
        ])  # fmt: skip
    with ix.searcher() as s:
        result = run_search(s, "园区企业发展")
        assert ids(result) == ["typed", "close", "scattered"]  # contiguous, then close together, then apart
        assert "relaxed" not in result
        assert result["results"][0]["score"] > result["results"][1]["score"] > result["results"][2]["score"]


def test_a_bare_name_finds_the_articles_it_is_a_byline_person_or_place_of(searcher: Any) -> None:
    assert set(ids(run_search(searcher, "孙庆辉"))) == {"a1", "a4", "a6"}  # reporter: not body text
    assert ids(run_search(searcher, "王恩俊")) == ["a5"]  # photographer
    assert ids(run_search(searcher, "郭程明")) == ["a1"]  # a person of the article
    assert ids(run_search(searcher, "孙庆辉党史")) == ["a4"]  # a reporter beside a topic, unspaced
    assert ids(run_search(searcher, "方宝岭营商环境")) == ["a6"]  # a second reporter, a name the segmenter splits


def test_dates_typed_as_text_match_the_articles_of_that_date(searcher: Any) -> None:
    assert ids(run_search(searcher, "2024年11月22日")) == ["a1"]
    assert set(ids(run_search(searcher, "2023年2月"))) == {"a2", "a3", "a5"}
    assert set(ids(run_search(searcher, "2月14日"))) == {"a2", "a3"}  # a day of any year; a5 is only "2023-02"
    assert ids(run_search(searcher, "2024-08")) == ["a6"]
    assert ids(run_search(searcher, "2023年2月狼城岗")) == ["a3"]
    result = run_search(searcher, "2024年11月22日")
    assert result["dates"] == [{"text": "2024年11月22日", "date": "2024-11-22"}]


def test_the_operators_people_type(searcher: Any) -> None:
    assert set(ids(run_search(searcher, "小微 AND 融资"))) == {"a1", "a2"}
    assert set(ids(run_search(searcher, "小微&&融资"))) == {"a1", "a2"}
    assert ids(run_search(searcher, "开门红 NOT 新密")) == ["a3"]
    assert set(ids(run_search(searcher, "开门红 || 党史"))) == {"a2", "a3", "a4"}
    assert set(ids(run_search(searcher, "开门红|党史"))) == {"a2", "a3", "a4"}
    assert set(ids(run_search(searcher, "+开门红 工业"))) == {"a2"}


def test_broken_syntax_alone_lists_nothing_and_says_what_was_ignored(searcher: Any) -> None:
    assert run_search(searcher, "")["total"] == len(ARTICLES)  # nothing typed: every article (filters alone)
    for q in ("(((", "title:", "-", "OR", "AND OR NOT", "*?~^", "+"):
        result = run_search(searcher, q)
        assert result["total"] == 0 and result["ignored"], q
    result = run_search(searcher, "((( 狼城岗")
    assert ids(result) == ["a3"] and result["ignored"] == [{"text": "(((", "reason": "parenthesis"}]


def test_when_no_article_holds_every_word_the_most_frequent_are_dropped_and_named(searcher: Any) -> None:
    # 高新区 (3 articles) and 开门红 (2) never meet: the more frequent word goes
    result = run_search(searcher, "高新区开门红")
    assert set(ids(result)) == {"a2", "a3"}
    assert result["relaxed"] == {"required": ["开门红"], "dropped": ["高新区"], "all_words_query": '"高新区" "开门红"'}
    # a word that occurs nowhere goes first, and the rest still must all match
    result = run_search(searcher, "党史学习锟斤拷")
    assert ids(result) == ["a4"] and set(result["relaxed"]["dropped"]) == {"锟", "斤", "拷"}
    # quoted words are never dropped; nothing found when no word occurs anywhere
    assert run_search(searcher, '"高新区" "开门红"')["total"] == 0
    assert "relaxed" not in run_search(searcher, '"高新区" "开门红"')
    assert run_search(searcher, "锟斤拷")["total"] == 0
    assert "relaxed" not in run_search(searcher, "高新区 党史")  # nothing dropped: the key is absent


def test_a_word_found_nowhere_is_cut_again_where_the_articles_have_it(tmp_path: Path) -> None:
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, [art("b1", "线路调整", "北京的地铁与公交接驳。"), art("b2", "地铁", "上海地铁。")])
    with ix.searcher() as s:
        result = run_search(s, "北京公交")  # one dictionary word the page never writes as such
        assert ids(result) == ["b1"] and "relaxed" not in result
        assert result["resegmented"] == [{"text": "北京公交", "words": ["北京", "公交"]}]


def test_the_rarest_word_is_scanned_once_and_the_others_only_inside_its_articles(
    searcher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.engines.embedded.doctable import TextBuffer

    scans: list[bytes] = []
    original = TextBuffer.occurrence_counts

    def counting(self: TextBuffer, needle: bytes, docnums: Any, title_only: bool, confirm: Any, edges: Any = (False, False), screen: Any = None) -> Any:
        if docnums is None:
            scans.append(needle)
        return original(self, needle, docnums, title_only, confirm, edges, screen)

    # The whole-archive lookups (through the fragment postings): one, for the rarest word.
    monkeypatch.setattr(TextBuffer, "occurrence_counts", counting)
    result = run_search(searcher, "狼城岗镇党建工作项目")  # five words, never searched before on this searcher
    assert ids(result) == ["a3"] or result["total"] >= 0
    assert len(scans) == 1, scans  # one scan of all text; the other words counted inside its articles


def test_suggestions_keep_the_whole_query_and_complete_its_last_word(searcher: Any) -> None:
    assert {"text": "高新区 孙庆辉", "type": "reporter"} in suggest(searcher, "高新区 孙")
    assert {"text": "党史 高新区", "type": "place"} in suggest(searcher, "党史 高新")
    unspaced = [s["text"] for s in suggest(searcher, "开门红狼城")]
    assert "开门红狼城岗镇" in unspaced
    for item in suggest(searcher, "高新区 孙"):
        assert item["text"].startswith("高新区 ")
        assert run_search(searcher, item["text"])["total"] >= 1  # picking a completion finds something


def test_a_run_with_digit_or_latin_edges_is_not_found_inside_a_longer_number_or_word(tmp_path: Path) -> None:
    # 2009年 must not match inside 12009年 (a file number), nor tod inside method; the same run
    # standing alone, or after a Chinese character, matches.
    articles = [
        art("d1", "文件编号", "第12009年度文件已下发。method 课程。", kind="news", source="d1.txt"),
        art("d2", "基金收益", "2009年8月基金收益上涨。客运站TOD项目。", kind="news", source="d2.txt"),
        art("d3", "年报", "截至去年2009年底，规模扩大。", kind="news", source="d3.txt"),
    ]
    ix = index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        add_articles(writer, articles)
    with ix.searcher() as s:
        assert set(ids(run_search(s, "2009年", limit=10))) == {"d2", "d3"}
        assert set(ids(run_search(s, "tod", limit=10))) == {"d2"}
        assert set(ids(run_search(s, "2009年8月", limit=10))) == {"d2"}

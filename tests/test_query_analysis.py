"""Query analysis as plain data: syntax, unspaced Chinese cut into words, function words, dates,
operators people type, broken syntax reported, completions and the queries offered after a zero.

No index here: these are the engine-agnostic steps every backend shares (the real segmenter and
dictionary, as the index uses them). Matching them against real indexes is in test_query.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.query.alternatives import alternative_queries
from search.query.analyze import analyze, cut_words, function_words, highlight_terms
from search.query.dates import find_dates
from search.query.plan import DateSpec
from search.query.relax import all_words_query
from search.query.suggest import completion_targets


def texts(q: str) -> list[str]:
    return [clause.text for clause in analyze(q).clauses]


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("高新区小微企业融资", ["高新区", "小微", "企业", "融资"]),
        ("郑州高新区企业座谈会", ["郑州", "高新区", "企业", "座谈会"]),
        ("金水区招商引资", ["金水区", "招商引资"]),
        ("湖人拜纳姆", ["湖人", "拜纳姆"]),
        ("高新区 小微企业 融资", ["高新区", "小微", "企业", "融资"]),  # spaces change nothing
        ("高新区，融资", ["高新区", "融资"]),  # nor does punctuation
        ("黨史學習教育", ["党史", "学习", "教育"]),  # normalised first: traditional script
        ("ＴＯＤ项目", ["tod", "项目"]),  # full width
        ("万人助万企", ["万人助万企"]),  # the domain dictionary is the index's
    ],
)
def test_unspaced_chinese_is_cut_into_the_index_words(q: str, words: list[str]) -> None:
    assert texts(q) == words


def test_a_run_cut_into_several_words_is_kept_for_ranking() -> None:
    plan = analyze("高新区小微企业融资 湖人")
    assert [(run.text, run.words) for run in plan.runs] == [("高新区小微企业融资", ("高新区", "小微", "企业", "融资"))]


def test_function_words_are_dropped_only_when_other_words_remain() -> None:
    plan = analyze("高新区怎么解决小微企业融资难")
    assert [c.text for c in plan.clauses] == ["高新区", "解决", "小微", "企业", "融资难"]
    assert plan.function_words == ["怎么"]
    assert texts("关于拜纳姆的伤情") == ["拜纳姆", "伤情"]
    assert texts("的") == ["的"]  # nothing else to search: the word itself
    assert texts('"的" 高新区') == ["的", "高新区"]  # a quoted word is never dropped
    assert {"的", "怎么", "如何", "关于", "什么"} <= function_words()


def test_quotes_keep_the_exact_characters_and_are_strict() -> None:
    plan = analyze('"小微企业 融资" 高新区')
    phrase = plan.clauses[0]
    assert phrase.strict and phrase.options[0].phrase and phrase.options[0].text == "小微企业 融资"
    assert not plan.clauses[1].strict
    assert analyze("“高新区融资”").clauses[0].options[0].phrase  # Chinese quotation marks too


@pytest.mark.parametrize(
    ("q", "clauses", "excluded"),
    [
        ("小微 AND 融资", ["小微", "融资"], []),
        ("小微 && 融资", ["小微", "融资"], []),
        ("小微&&融资", ["小微", "融资"], []),
        ("+小微 融资", ["小微", "融资"], []),
        ("小微 OR 融资", ["小微 OR 融资"], []),
        ("小微 | 融资", ["小微 OR 融资"], []),
        ("小微||融资", ["小微 OR 融资"], []),
        ("开门红 NOT 新密", ["开门红"], ["新密"]),
        ("开门红 -新密", ["开门红"], ["新密"]),
        ("小微 or 融资", ["小微", "or", "融资"], []),  # lower case: a word
    ],
)
def test_operators_people_type_are_operators_not_words(q: str, clauses: list[str], excluded: list[str]) -> None:
    plan = analyze(q)
    assert [c.text for c in plan.clauses] == clauses
    assert [t.text for t in plan.excluded] == excluded
    assert not plan.ignored


def test_plus_marks_a_word_that_relaxation_never_drops() -> None:
    plan = analyze("+登封 民警")
    assert [(c.text, c.strict) for c in plan.clauses] == [("登封", True), ("民警", False)]


def test_or_between_unspaced_runs_offers_each_run_with_all_its_words() -> None:
    (clause,) = analyze("桥梁检测 OR 消防开学第一课").clauses
    assert [(t.text, t.words) for t in clause.options] == [("桥梁检测", ("桥梁", "检测")), ("消防开学第一课", ("消防", "开学", "第一课"))]


@pytest.mark.parametrize(
    ("q", "ignored"),
    [
        ("(((", [("(((", "parenthesis")]),
        ("title:", [("title:", "empty_field")]),
        ("-", [("-", "dangling_operator")]),
        ("OR", [("OR", "dangling_operator")]),
        ("AND OR NOT", [("NOT", "dangling_operator"), ("AND", "dangling_operator"), ("OR", "dangling_operator")]),
        ("*?~^", [("*?~^", "no_word")]),
        ('"', [('"', "unbalanced_quote")]),
    ],
)
def test_broken_syntax_alone_is_reported_and_matches_nothing(q: str, ignored: list[tuple[str, str]]) -> None:
    plan = analyze(q)
    assert [(item.text, item.reason) for item in plan.ignored] == ignored
    assert plan.match_none and not plan.match_all  # never the whole archive by accident


def test_broken_syntax_beside_words_is_left_out_and_the_words_searched() -> None:
    plan = analyze("(小微 OR 融资) 高新区 title: 小微 AND")
    assert [c.text for c in plan.clauses] == ["小微 OR 融资", "高新区", "小微"]
    assert [(i.text, i.reason) for i in plan.ignored] == [("(", "parenthesis"), (")", "parenthesis"), ("title:", "empty_field"), ("AND", "dangling_operator")]
    assert analyze("").match_all and analyze("   ").match_all  # nothing typed: filters alone


def test_field_prefixes_restrict_a_word() -> None:
    plan = analyze("title:开门红 reporter:孙庆辉 place：高新区 记者:李晓光")
    assert [(c.text, c.options[0].scope) for c in plan.clauses] == [
        ("开门红", "title"), ("孙庆辉", "reporter"), ("高新区", "place"), ("李晓光", "reporter")]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("2024年11月22日", [("2024年11月22日", DateSpec(2024, 11, 22))]),
        ("2024-11-22", [("2024-11-22", DateSpec(2024, 11, 22))]),
        ("2024/1/5", [("2024/1/5", DateSpec(2024, 1, 5))]),
        ("2024年11月", [("2024年11月", DateSpec(2024, 11))]),
        ("2024-11", [("2024-11", DateSpec(2024, 11))]),
        ("11月22日", [("11月22日", DateSpec(None, 11, 22))]),
        ("11 月 22 日", [("11 月 22 日", DateSpec(None, 11, 22))]),  # as scanned pages write it
        ("2023年", [("2023年", DateSpec(2023))]),
        ("2024", []),  # a number, not a date
        ("2245点", []),
        ("13月1日 2月30日 1850年", []),  # no such month, day or year in an archive
        ("2024年2月29日", [("2024年2月29日", DateSpec(2024, 2, 29))]),
    ],
)
def test_dates_typed_as_text(text: str, found: list[tuple[str, DateSpec]]) -> None:
    assert [(m.text, m.date) for m in find_dates(text)] == found


def test_a_date_clause_matches_the_date_or_the_text_that_writes_it() -> None:
    plan = analyze("2024年11月22日高新区")
    date, place = plan.clauses
    assert place.text == "高新区"
    assert date.text == "2024年11月22日" and date.options[0].date == DateSpec(2024, 11, 22)
    assert {t.text for t in date.options[1:]} == {"2024年11月22日", "11 月 22 日"}  # with or without the year


def test_names_the_archive_knows_are_kept_whole() -> None:
    class Names:
        def known_names(self, candidates):
            return {name for name in ("刘云华", "钟莹莹") if name in candidates}

    assert cut_words("刘云华小微企业") == ["刘云华小微", "企业"]  # the segmenter's guess glues the name
    assert cut_words("刘云华小微企业", Names()) == ["刘云华", "小微", "企业"]
    assert texts("钟莹莹") == ["钟", "莹莹"] and [c.text for c in analyze("钟莹莹", Names()).clauses] == ["钟莹莹"]


def test_highlight_terms_hold_the_words_and_the_run() -> None:
    assert highlight_terms("高新区小微企业融资") == ["高新区小微企业融资", "高新区", "小微", "企业", "融资"]
    assert highlight_terms("((( -新密") == []


def test_all_words_query_quotes_each_word_and_marks_dates_plus() -> None:
    plan = analyze("高新区小微企业融资 2024年11月 title:开门红")
    assert all_words_query(plan.clauses) == '"高新区" "小微" "企业" "融资" +2024年11月 +title:开门红'
    again = analyze(all_words_query(plan.clauses))
    assert all(clause.strict for clause in again.clauses) and len(again.clauses) == len(plan.clauses)


def test_completions_keep_the_typed_query_and_extend_its_last_word() -> None:
    assert [(t.kept, t.fragment, t.whole) for t in completion_targets("高新区 孙")] == [("高新区 ", "孙", False)]
    assert [(t.kept, t.fragment) for t in completion_targets("高新区小微")] == [("", "高新区小微"), ("高新区", "小微")]
    assert [(t.kept, t.fragment) for t in completion_targets("reporter:孙")] == [("reporter:", "孙")]
    assert [(t.kept, t.fragment) for t in completion_targets("黨史")] == [("", "党史")]  # completed in simplified script
    assert completion_targets("") == [] and completion_targets('"高新区"') == []


def test_alternatives_after_a_zero_offer_the_words_spaced_and_fewer() -> None:
    assert alternative_queries(analyze('"高新区小微企业融资"'))[0] == ("spaced_query", "高新区 小微 企业 融资")
    offered = alternative_queries(analyze("锟斤拷烫烫"))  # 锟 / 斤 / 拷 / 烫烫: one word at a time
    assert ("shorter_query", "锟") in offered and ("shorter_query", "烫烫") in offered
    assert ("shorter_query", "纪检监") in alternative_queries(analyze("纪检监察"))  # one word: a shorter fragment
    assert ("without_exclusions", "开门红") in alternative_queries(analyze("开门红 -新密"))
    assert alternative_queries(analyze("(((")) == [] and alternative_queries(analyze("")) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('高新区融资年月日0123456789-/ "“”():|&+ORANDNOTtitle孙庆辉\u3000ＴＯＤ')), max_size=40))
def test_analysis_never_raises_and_its_output_is_plain_data(q: str) -> None:
    plan = analyze(q)
    data = plan.to_dict()
    assert set(data) == {"query", "clauses", "excluded", "runs", "ignored", "function_words"}
    assert plan.match_all == (not q.strip()) or plan.clauses or plan.excluded or plan.ignored
    for clause in plan.clauses:
        assert clause.options and clause.text

"""Search quality floors on real text: the judged queries, the natural queries against the plain
approach, and random-fragment recall."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from search.evaluation import (
    NaturalReport,
    Report,
    evaluate,
    evaluate_natural,
    expected_id,
    load_corpus_articles,
    load_judged,
    load_seed_articles,
    resolve,
    sample_fragments,
)

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CORPUS = Path(__file__).resolve().parent / "data" / "thucnews-1000.jsonl"


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(REPO_SEEDS, fragments=500, rng_seed=20240101)


# jieba.analyse (the plain approach's ChineseAnalyzer) leaves its idf.txt open when imported.
@pytest.fixture(scope="module")
def natural() -> NaturalReport:
    return evaluate_natural(REPO_SEEDS, CORPUS)


def test_the_judged_set_is_broad_and_resolves_to_single_articles() -> None:
    judged = load_judged()
    assert len(judged) >= 40
    kinds = {item["kind"] for item in judged}
    assert kinds >= {"word", "fragment", "phrase", "name", "place", "traditional", "fullwidth", "exclusion", "filtered"}
    articles = load_seed_articles(REPO_SEEDS)
    assert len(articles) == 21
    for item in judged:
        for expected in item["expect"] + item.get("absent", []):
            resolve(articles, expected["source"], expected["text"])  # raises unless exactly one


def test_mrr_at_10(report: Report) -> None:
    assert report.mrr == 1.0, "\n".join(report.lines())


def test_every_expected_article_is_in_the_top_3(report: Report) -> None:
    failures = [o for o in report.outcomes if not o.all_in_top3]
    assert not failures, "\n".join(report.lines())


def test_fragment_recall_is_complete(report: Report) -> None:
    assert report.fragments_total == 500
    assert report.fragment_recall == 1.0, "\n".join(report.lines())


def test_fragments_are_reproducible_chinese_strings_of_2_to_8_characters() -> None:
    articles = load_seed_articles(REPO_SEEDS)
    first = sample_fragments(articles, 50, rng_seed=7)
    assert first == sample_fragments(articles, 50, rng_seed=7)
    assert all(2 <= len(fragment) <= 8 for fragment, _id in first)


# -- natural queries ---------------------------------------------------------------------------------


def test_the_natural_set_is_typed_as_people_type_over_both_archives() -> None:
    judged = load_judged(name="natural_queries.toml")
    assert len(judged) >= 120
    kinds = Counter(item["kind"] for item in judged)
    assert set(kinds) >= {"unspaced", "name_topic", "place_topic", "question", "function_words", "date", "traditional",
                          "fullwidth", "operator"}  # fmt: skip
    assert kinds["unspaced"] >= 40 and kinds["question"] >= 10 and kinds["date"] >= 5
    on_seeds = [item for item in judged if any("source" in e for e in item["expect"])]
    on_corpus = [item for item in judged if any("id" in e for e in item["expect"])]
    assert len(on_seeds) >= 40 and len(on_corpus) >= 40
    spaced = re.compile(r"[\u4e00-\u9fff]\s|\s[\u4e00-\u9fff]")  # a space beside a Chinese character
    assert not any(spaced.search(item["q"]) for item in judged if item["kind"] == "unspaced")
    articles = load_seed_articles(REPO_SEEDS) + load_corpus_articles(CORPUS)
    for item in judged:
        for expected in item["expect"]:
            expected_id(articles, expected)  # every expected article exists, once


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_every_natural_query_has_its_articles_in_our_top_3(natural: NaturalReport) -> None:
    failures = [o for o in natural.ours if not o.all_in_top3]
    assert not failures, "\n".join(natural.lines())


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_natural_top_1_is_at_least_90_percent(natural: NaturalReport) -> None:
    top1, _top3, _mrr = NaturalReport.figures(natural.ours)
    assert top1 >= 0.9, "\n".join(natural.lines())


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_we_are_never_below_the_plain_approach(natural: NaturalReport) -> None:
    ours, plain = NaturalReport.figures(natural.ours), NaturalReport.figures(natural.plain)
    assert all(a >= b for a, b in zip(ours, plain)), "\n".join(natural.lines())
    worse = [(o.q, o.ranks, p.ranks) for o, p in zip(natural.ours, natural.plain) if o.reciprocal_rank < p.reciprocal_rank]
    assert not worse, worse  # not on any single query either

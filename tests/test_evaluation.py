"""Search quality floors on the real seed pages: judged queries and random-fragment recall."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.evaluation import Report, evaluate, load_judged, load_seed_articles, resolve, sample_fragments

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(REPO_SEEDS, fragments=500, rng_seed=20240101)


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
    assert report.mrr >= 0.95, "\n".join(report.lines())


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

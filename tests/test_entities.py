"""People and organisations (the 人物 / 机构 facets) are real names: precision on the seed articles
against a gold list judged by reading them (``search/data/entities_gold.toml``), and the rules behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.evaluation import entity_scores, load_entity_gold, load_seed_articles, resolve
from search.ingest.metadata import describe

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def articles():
    return load_seed_articles(REPO_SEEDS)


def test_the_gold_list_covers_every_seed_article(articles):
    gold = load_entity_gold()
    assert sorted(resolve(articles, item["source"], item["text"]) for item in gold) == sorted(a.id for a in articles)


def test_people_and_organisation_precision_is_at_least_0_9(articles):
    scores = entity_scores(articles)
    for score in scores.values():
        assert score.precision >= 0.9, (score.kind, score.precision, score.wrong)
        assert score.recall >= 0.8, (score.kind, score.recall)


def test_the_names_the_issue_saw_are_fixed(articles):
    people = {name for a in articles for name in a.people}
    orgs = {name for a in articles for name in a.orgs}
    assert "辖区企业中原粮食集团" not in orgs and "中原粮食集团" in orgs
    assert "丰德康" not in people  # the brand of 河南丰德康种业有限公司
    assert not {"区党工委", "郑州中心", "纪检监察工委", "红军参观企业研发中心"} & orgs
    assert "河南省煤气(集团)有限责任公司" in orgs and "河南省煤气(集团" not in orgs


def test_a_sports_report_has_players_not_the_playoffs():
    found = describe("火箭晋级", "火箭队在季后赛中击败湖人。季后赛首轮，姚明表示很满意。季后赛次轮将在周日开打。")
    assert "季后赛" not in found["people"] and "姚明" in found["people"]


def test_a_place_with_a_bare_suffix_is_not_an_organisation():
    found = describe("", "加快推进国家超算郑州中心提质扩容，更好为郑州国家中心城市建设增添力量。")
    assert "郑州中心" not in found["orgs"] and "郑州国家中心" not in found["orgs"]

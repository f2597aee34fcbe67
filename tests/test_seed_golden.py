"""The 21 seed articles keep every field they had before the press conventions of issue 13.

``tests/data/seed_articles.golden.json`` is the extraction of ``seeds/`` as it was frozen before the
rules for page headers, datelines, editor lines, reprint credits and columns of short items were
added: every article's id, boundaries (body, lead, chars), headline parts, bylines, kind, places,
date, year, month, section, paper and page. The seed pages print no page header, so ``paper``,
``page`` and ``section`` stay null and no field changes on purpose. People, organisations and
keywords are left out: they belong to the metadata rules (issue 15), not to cutting pages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.ingest.sources import list_seed_files, read_seed_file

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "data" / "seed_articles.golden.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_articles() -> list[dict]:
    articles = []
    for path in list_seed_files(ROOT / "seeds"):
        articles.extend(article.to_dict() for article in read_seed_file(path).articles)
    return articles


def test_the_seed_pages_still_give_21_articles(seed_articles):
    assert [(a["source"], a["position"]) for a in seed_articles] == [(g["source"], g["position"]) for g in GOLDEN]


@pytest.mark.parametrize("index", range(len(GOLDEN)), ids=[f"{g['source'][:3]}-{g['position']}" for g in GOLDEN])
def test_each_seed_article_keeps_every_field(seed_articles, index):
    want = GOLDEN[index]
    got = {name: seed_articles[index].get(name) for name in want}
    assert got == want


def test_seed_articles_are_no_reprints(seed_articles):
    """The new field: the seed pages are the paper's own reporting, so nothing is credited."""
    assert {a["credit"] for a in seed_articles} == {None}

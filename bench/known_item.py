"""Known-item benchmark: can a reader find the article they remember from two or three of its words?

For each of N articles of a corpus (seeded random choice), two or three of its keywords — jieba's
own TF-IDF ``extract_tags``, independent of our engine — are typed together without spaces, the way
people type Chinese (``湖人拜纳姆季后赛``). The query is run against our engine (an index of the whole
corpus) and against the plain approach (:mod:`search.plain`: jieba's ChineseAnalyzer + Whoosh's
QueryParser) on the same articles, in the same run. Reported: the share of queries whose article is
in the top 10, top 1, and MRR@10, for both.

Usage::

    python -m bench.known_item                                   # tests/data/thucnews-1000.jsonl, 200 queries
    python -m bench.known_item --corpus tests/data/thucnews-1000.jsonl --queries 300 --rng-seed 7
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from search.analysis import CJK_RUN
from search.model import Article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "tests" / "data" / "thucnews-1000.jsonl"
TOP_KEYWORDS = 8  # the keywords a query's words are drawn from


@dataclass
class KnownItem:
    """One query and the article it should find."""

    q: str
    article_id: str


def keywords(article: Article, count: int = TOP_KEYWORDS) -> list[str]:
    """The article's top TF-IDF keywords by jieba (Chinese words of two characters or more)."""
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    tags = jieba.analyse.extract_tags(f"{article.title}\n{article.body}", topK=count * 2)
    return [tag for tag in tags if len(tag) >= 2 and CJK_RUN.fullmatch(tag)][:count]


def make_queries(articles: list[Article], count: int, rng_seed: int) -> list[KnownItem]:
    """``count`` known-item queries: 2 or 3 keywords of one article each, run together, no spaces."""
    rng = random.Random(rng_seed)
    chosen = rng.sample(articles, min(count, len(articles)))
    items = []
    for article in chosen:
        words = keywords(article)
        if len(words) < 3:
            continue
        picked = rng.sample(words, rng.choice((2, 3)))
        items.append(KnownItem("".join(picked), article.id))
    return items


def reciprocal_rank(ids: list[str], wanted: str) -> float:
    """1 / rank of ``wanted`` in the top 10 ``ids`` (0 if absent)."""
    return 1.0 / (ids.index(wanted) + 1) if wanted in ids[:10] else 0.0


def measure(articles: list[Article], items: list[KnownItem]) -> dict[str, dict[str, float]]:
    """Top-10, top-1 and MRR@10 of our engine and of the plain approach on the same queries."""
    from search.engines.embedded.search import run_search
    from search.evaluation import temporary_index
    from search.plain import PlainSearcher, build_plain_index

    ranks: dict[str, list[float]] = {"newsearch": [], "plain": []}
    misses: list[str] = []
    with temporary_index(articles) as searcher:
        for item in items:
            ids = [row["id"] for row in run_search(searcher, item.q, limit=10, facet_size=0)["results"]]
            ranks["newsearch"].append(reciprocal_rank(ids, item.article_id))
            if item.article_id not in ids:
                misses.append(f"{item.q} -> {item.article_id}")
    with tempfile.TemporaryDirectory(prefix="newsearch-plain-") as tmp:
        build_plain_index(articles, Path(tmp))
        with PlainSearcher(Path(tmp)) as plain:
            for item in items:
                ranks["plain"].append(reciprocal_rank(plain.search(item.q, limit=10), item.article_id))
    figures: dict[str, dict[str, float]] = {}
    for name, values in ranks.items():
        n = max(1, len(values))
        figures[name] = {
            "top10": sum(v > 0 for v in values) / n,
            "top1": sum(v == 1.0 for v in values) / n,
            "mrr10": sum(values) / n,
        }
    figures["queries"] = {"n": len(items)}
    figures["newsearch_misses"] = {"list": misses}  # type: ignore[dict-item]
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Command line: build both indexes, run the queries, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="a .jsonl corpus")
    parser.add_argument("--queries", type=int, default=200, help="known-item queries to make (default 200)")
    parser.add_argument("--rng-seed", type=int, default=20240101, help="seed of the article and keyword choice")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    from search.evaluation import load_corpus_articles

    articles = load_corpus_articles(args.corpus)
    items = make_queries(articles, args.queries, args.rng_seed)
    figures = measure(articles, items)
    print(f"known-item queries: {len(items)} over {len(articles)} articles of {args.corpus}")
    print(f"  {'':<20}{'top-10':>8}{'top-1':>8}{'MRR@10':>8}")
    for name in ("newsearch", "plain"):
        got = figures[name]
        print(f"  {name:<20}{got['top10']:>8.3f}{got['top1']:>8.3f}{got['mrr10']:>8.3f}")
    for miss in figures["newsearch_misses"]["list"]:  # type: ignore[index]
        print(f"  not in our top 10: {miss}")
    print("  examples: " + ", ".join(item.q for item in items[:8]))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()

"""Search-quality evaluation: judged queries, natural queries against the plain approach, fragments.

``python -m search.evaluation [--seeds DIR] [--corpus FILE] [--fragments N] [--rng-seed S] [--grid]``
prints, in one run:

- **the 67 judged queries** (``search/data/judged_queries.toml``) over a temporary index of the seed
  pages: MRR@10, top-1, top-3 and every failure (expected articles are named by seed file + a
  substring of their text, since ids are content hashes);
- **fragment recall**: the share of N random 2–8 character fragments of Chinese text, cut from the
  seed articles' headlines and bodies with a seeded RNG, whose article is among the results;
- **the natural queries** (``search/data/natural_queries.toml``: unspaced runs, names beside topics,
  questions, dates, traditional and full-width variants, operators) over the seed articles *and*
  the 1,000 THUCNews articles (``--corpus``, default ``tests/data/thucnews-1000.jsonl``) in one
  index: top-1, top-3, MRR@10 for our engine and, on the same articles and queries in the same
  run, for the plain approach (:mod:`search.plain`: jieba's ChineseAnalyzer + Whoosh's
  QueryParser), overall and per kind of query.

- **people and organisation precision** (and recall) of the extracted ``people`` / ``orgs``
  against ``search/data/entities_gold.toml``, names judged by reading each seed article.

``--grid`` also scores a few weight settings on both query sets, the measurement behind
``matching.WEIGHTS``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from search.analysis import CJK_RUN
from search.model import Article

DEFAULT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "thucnews-1000.jsonl"


@dataclass
class QueryOutcome:
    """How one judged query fared: the 1-based ranks of its expected articles (None = not in top 10)."""

    q: str
    kind: str
    ranks: list[int | None]
    leaked: list[str] = field(default_factory=list)  # ``absent`` articles that were returned

    @property
    def reciprocal_rank(self) -> float:
        """1 / rank of the best-ranked expected article within the top 10 (0 if none, or if any leaked)."""
        found = [r for r in self.ranks if r is not None]
        return 0.0 if self.leaked or not found else 1.0 / min(found)

    @property
    def mean_reciprocal_all(self) -> float:
        """Mean of 1/rank over every expected article (finer than MRR when several are expected)."""
        if self.leaked:
            return 0.0
        return sum(1.0 / r for r in self.ranks if r is not None) / max(1, len(self.ranks))

    @property
    def all_in_top3(self) -> bool:
        """Every expected article is in the top 3 and nothing that must be absent was returned."""
        return not self.leaked and all(r is not None and r <= 3 for r in self.ranks)


@dataclass
class Report:
    """Evaluation figures (see the module docstring)."""

    outcomes: list[QueryOutcome]
    fragments_total: int
    fragments_missed: list[tuple[str, str]]  # (fragment, article id)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank at 10 over the judged queries."""
        return sum(o.reciprocal_rank for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def top1(self) -> float:
        """Share of judged queries whose first result is an expected article."""
        return sum(o.reciprocal_rank == 1.0 for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def map_all(self) -> float:
        """Mean over queries of the mean reciprocal rank of all their expected articles."""
        return sum(o.mean_reciprocal_all for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def top3(self) -> float:
        """Share of judged queries with every expected article in the top 3."""
        return sum(o.all_in_top3 for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def fragment_recall(self) -> float:
        """Share of random fragments whose article was found."""
        return 1.0 - len(self.fragments_missed) / max(1, self.fragments_total)

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [
            f"judged queries: {len(self.outcomes)}",
            f"MRR@10: {self.mrr:.3f}",
            f"top-1: {self.top1:.3f}",
            f"top-3 (every expected article): {self.top3:.3f}",
            f"mean 1/rank of every expected article: {self.map_all:.3f}",
            f"fragment recall: {self.fragment_recall:.4f} ({self.fragments_total - len(self.fragments_missed)}"
            f"/{self.fragments_total})",
        ]
        for o in self.outcomes:
            if not o.all_in_top3 or o.reciprocal_rank < 1.0:
                out.append(f"  {o.kind:<11} {o.q!r}: ranks {o.ranks}" + (f", leaked {o.leaked}" if o.leaked else ""))
        for fragment, article_id in self.fragments_missed[:20]:
            out.append(f"  missed fragment {fragment!r} of {article_id}")
        return out


def load_judged(path: Path | None = None, name: str = "judged_queries.toml") -> list[dict[str, Any]]:
    """The judged queries of ``search/data/NAME`` (``judged_queries.toml``; ``natural_queries.toml``
    for the natural set) unless ``path`` is given."""
    if path is None:
        text = resources.files("search").joinpath(f"data/{name}").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return list(tomllib.loads(text)["query"])


@dataclass
class EntityScore:
    """Precision and recall of one kind of extracted name (people or orgs) against the gold list."""

    kind: str
    found: int
    correct: int
    gold: int
    recalled: int
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (article, name) found but not gold

    @property
    def precision(self) -> float:
        """Found names that are real names / all found names (1.0 when nothing was found)."""
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        """Gold names that were found / all gold names."""
        return self.recalled / self.gold if self.gold else 1.0


def load_entity_gold() -> list[dict[str, Any]]:
    """The judged people and organisations of the seed articles (``search/data/entities_gold.toml``)."""
    text = resources.files("search").joinpath("data/entities_gold.toml").read_text(encoding="utf-8")
    return list(tomllib.loads(text)["article"])


def entity_scores(articles: list[Article], gold: list[dict[str, Any]] | None = None) -> dict[str, EntityScore]:
    """People and organisation precision/recall of ``articles`` (extracted) against the gold list."""
    gold = gold if gold is not None else load_entity_gold()
    by_id = {a.id: a for a in articles}
    scores = {kind: EntityScore(kind, 0, 0, 0, 0) for kind in ("people", "orgs")}
    for item in gold:
        article = by_id[resolve(articles, item["source"], item["text"])]
        for kind, score in scores.items():
            expected, found = set(item.get(kind, [])), list(dict.fromkeys(getattr(article, kind)))
            score.found += len(found)
            score.correct += sum(name in expected for name in found)
            score.gold += len(expected)
            score.recalled += sum(name in found for name in expected)
            score.wrong += [(f"{item['source'][:3]}/{item['text'][:10]}", name) for name in found if name not in expected]
    return scores


def load_seed_articles(seeds_dir: Path) -> list[Article]:
    """Every article of the seed pages, through the extraction pipeline."""
    from search.ingest.sources import list_seed_files, load_catalog, read_seed_file

    catalog, _problems = load_catalog(seeds_dir)
    articles: list[Article] = []
    for path in list_seed_files(seeds_dir):
        articles += read_seed_file(path, catalog.get(path.name)).articles
    return articles


@contextmanager
def temporary_index(articles: list[Article]) -> Iterator[Any]:
    """A Whoosh index of ``articles`` in a temporary directory; yields an open searcher."""
    from whoosh import index

    from search.engines.embedded.schema import add_articles, build_schema
    from search.engines.embedded.writer import ArticleWriter

    with tempfile.TemporaryDirectory(prefix="newsearch-eval-") as tmp:
        ix = index.create_in(tmp, build_schema())
        writer = ArticleWriter(ix)
        add_articles(writer, articles)
        writer.commit()
        searcher = ix.searcher()
        try:
            yield searcher
        finally:
            searcher.close()
            ix.close()


def resolve(articles: list[Article], source: str, text: str) -> str:
    """The id of the article from seed file ``source`` whose headline or body contains ``text``."""
    hits = [
        a.id
        for a in articles
        if a.source == source and (text in a.body or text in a.title or text in a.kicker or text in a.subtitle)
    ]
    if len(hits) != 1:
        raise ValueError(f"judged article {source} / {text!r} matches {len(hits)} articles, not 1")
    return hits[0]


def expected_id(articles: list[Article], entry: Mapping[str, str]) -> str:
    """A judged article: ``{"id"}`` as given (it must exist), or ``{"source", "text"}`` resolved."""
    if "id" in entry:
        if not any(a.id == entry["id"] for a in articles):
            raise ValueError(f"judged article {entry['id']!r} is not among the articles")
        return entry["id"]
    return resolve(articles, entry["source"], entry["text"])


def judge(searcher: Any, articles: list[Article], judged: list[dict[str, Any]]) -> list[QueryOutcome]:
    """Run each judged query and record where its expected articles landed."""
    from search.engines.embedded.search import run_search

    outcomes = []
    for item in judged:
        expected = [expected_id(articles, e) for e in item["expect"]]
        absent = [expected_id(articles, e) for e in item.get("absent", [])]
        data = run_search(searcher, item["q"], filters=item.get("filters"), limit=10)
        ids = [row["id"] for row in data["results"]]
        leaked = []
        if absent:
            everything = {row["id"] for row in run_search(searcher, item["q"], filters=item.get("filters"), limit=1000)["results"]}
            leaked = [a for a in absent if a in everything]
        ranks = [ids.index(e) + 1 if e in ids else None for e in expected]
        outcomes.append(QueryOutcome(item["q"], item.get("kind", ""), ranks, leaked))
    return outcomes


def judge_plain(plain: Any, articles: list[Article], judged: list[dict[str, Any]]) -> list[QueryOutcome]:
    """The same judgement for the plain approach (a :class:`search.plain.PlainSearcher`)."""
    outcomes = []
    for item in judged:
        expected = [expected_id(articles, e) for e in item["expect"]]
        ids = plain.search(item["q"], limit=10)
        outcomes.append(QueryOutcome(item["q"], item.get("kind", ""), [ids.index(e) + 1 if e in ids else None for e in expected]))
    return outcomes


def sample_fragments(articles: list[Article], count: int, rng_seed: int) -> list[tuple[str, str]]:
    """``count`` random ``(fragment, article id)`` pairs: 2–8 consecutive Chinese characters."""
    rng = random.Random(rng_seed)
    texts = [(a.id, t) for a in articles for t in (a.title, a.kicker, a.subtitle, a.body) if CJK_RUN.search(t or "")]
    weights = [len(t) for _id, t in texts]
    fragments: list[tuple[str, str]] = []
    while len(fragments) < count:
        article_id, text = rng.choices(texts, weights=weights)[0]
        size = rng.randint(2, 8)
        if len(text) < size:
            continue
        start = rng.randrange(0, len(text) - size + 1)
        fragment = text[start : start + size]
        if CJK_RUN.fullmatch(fragment):
            fragments.append((fragment, article_id))
    return fragments


def fragment_misses(searcher: Any, fragments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The fragments whose article is not among the query's matches."""
    from search.engines.embedded.search import run_search

    missed = []
    for fragment, article_id in fragments:
        ids = {row["id"] for row in run_search(searcher, fragment, limit=1000, facet_size=0)["results"]}
        if article_id not in ids:
            missed.append((fragment, article_id))
    return missed


def evaluate(
    seeds_dir: Path = DEFAULT_SEEDS,
    fragments: int = 500,
    rng_seed: int = 20240101,
    weights: Mapping[str, float] | None = None,
    articles: list[Article] | None = None,
) -> Report:
    """Build a temporary index from ``seeds_dir`` and measure it (optionally with other ``weights``)."""
    from search.engines.embedded import matching

    articles = articles if articles is not None else load_seed_articles(seeds_dir)
    saved = dict(matching.WEIGHTS)
    matching.WEIGHTS.update(weights or {})
    try:
        with temporary_index(articles) as searcher:
            outcomes = judge(searcher, articles, load_judged())
            sample = sample_fragments(articles, fragments, rng_seed) if fragments else []
            missed = fragment_misses(searcher, sample)
    finally:
        matching.WEIGHTS.clear()
        matching.WEIGHTS.update(saved)
    return Report(outcomes, len(sample), missed)


def plain_outcomes(articles: list[Article], judged: list[dict[str, Any]]) -> list[QueryOutcome]:
    """The judged queries ranked by the plain approach (jieba's ChineseAnalyzer + Whoosh's QueryParser)
    over the same articles."""
    from search.plain import PlainSearcher, build_plain_index

    with tempfile.TemporaryDirectory(prefix="newsearch-plain-") as tmp:
        build_plain_index(articles, Path(tmp))
        with PlainSearcher(Path(tmp)) as searcher:
            return judge_plain(searcher, articles, judged)


def load_corpus_articles(corpus: Path) -> list[Article]:
    """The articles of a ``.jsonl`` corpus, through the same reading as a seed file."""
    from search.ingest.sources import read_seed_file

    return read_seed_file(corpus).articles


@dataclass
class NaturalReport:
    """The natural queries, ranked by our engine and by the plain approach on the same articles."""

    ours: list[QueryOutcome]
    plain: list[QueryOutcome]
    articles: int

    @staticmethod
    def figures(outcomes: list[QueryOutcome]) -> tuple[float, float, float]:
        """top-1, top-3 (every expected article), MRR@10."""
        report = Report(outcomes, 0, [])
        return report.top1, report.top3, report.mrr

    def lines(self) -> list[str]:
        """The human-readable comparison, overall and per kind, then our failures."""
        out = [f"natural queries: {len(self.ours)} over {self.articles} articles (seed pages + corpus)",
               f"  {'':<22}{'top-1':>7}{'top-3':>7}{'MRR@10':>8}"]  # fmt: skip
        for name, outcomes in (("newsearch", self.ours), ("plain jieba+Whoosh", self.plain)):
            top1, top3, mrr = self.figures(outcomes)
            out.append(f"  {name:<22}{top1:>7.3f}{top3:>7.3f}{mrr:>8.3f}")
        out.append("  by kind (newsearch top-1 / top-3 | plain top-1 / top-3):")
        kinds = sorted({o.kind for o in self.ours})
        for kind in kinds:
            ours = [o for o in self.ours if o.kind == kind]
            plain = [o for o in self.plain if o.kind == kind]
            a, b = self.figures(ours), self.figures(plain)
            out.append(f"    {kind:<15} {len(ours):>3}  {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f}")
        for o in self.ours:
            if not o.all_in_top3 or o.reciprocal_rank < 1.0:
                out.append(f"  newsearch {o.kind:<14} {o.q!r}: ranks {o.ranks}")
        return out


def evaluate_natural(
    seeds_dir: Path = DEFAULT_SEEDS,
    corpus: Path = DEFAULT_CORPUS,
    weights: Mapping[str, float] | None = None,
    articles: list[Article] | None = None,
    plain: bool = True,
) -> NaturalReport:
    """Rank the natural queries over the seed articles and the corpus, ours and (``plain``) the plain way."""
    from search.engines.embedded import matching

    articles = articles if articles is not None else load_seed_articles(seeds_dir) + load_corpus_articles(corpus)
    judged = load_judged(name="natural_queries.toml")
    saved = dict(matching.WEIGHTS)
    matching.WEIGHTS.update(weights or {})
    try:
        with temporary_index(articles) as searcher:
            ours = judge(searcher, articles, judged)
    finally:
        matching.WEIGHTS.clear()
        matching.WEIGHTS.update(saved)
    return NaturalReport(ours, plain_outcomes(articles, judged) if plain else [], len(articles))


# Measured on the seeds with a lead field as well (title, lead, body, fragment -> mean 1/rank):
# 3/1.5/1/0.5 and 3/0/1/0.5 both 0.959, so the lead field was dropped; body-heavy 1/0/3 fell to 0.950.
GRID = (
    {"title": 1.0, "body": 1.0, "fragment": 0.5},
    {"title": 2.0, "body": 1.0, "fragment": 0.5},
    {"title": 3.0, "body": 1.0, "fragment": 0.5},
    {"title": 5.0, "body": 1.0, "fragment": 0.5},
    {"title": 3.0, "body": 1.0, "fragment": 0.2},
    {"title": 3.0, "body": 1.0, "fragment": 1.0},
    {"run": 0.0}, {"run": 0.5}, {"run": 2.0}, {"run": 4.0},
    {"proximity": 0.0}, {"proximity": 3.0}, {"proximity": 6.0},
)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the reports (and the weight grid with ``--grid``)."""
    parser = argparse.ArgumentParser(prog="python -m search.evaluation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="seed pages directory")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the .jsonl corpus beside the seeds")
    parser.add_argument("--fragments", type=int, default=500, help="random fragments to test (default 500)")
    parser.add_argument("--rng-seed", type=int, default=20240101, help="seed of the fragment sampler")
    parser.add_argument("--grid", action="store_true", help="also compare weight settings")
    args = parser.parse_args(argv)
    articles = load_seed_articles(args.seeds)
    print(f"articles: {len(articles)} from {args.seeds}")
    report = evaluate(args.seeds, args.fragments, args.rng_seed, articles=articles)
    print("\n".join(report.lines()))
    plain = Report(plain_outcomes(articles, load_judged()), 0, [])
    print(f"plain jieba+Whoosh on the same {len(plain.outcomes)} queries: MRR@10 {plain.mrr:.3f}, "
          f"top-1 {plain.top1:.3f}, top-3 {plain.top3:.3f}")
    if args.seeds.resolve() == DEFAULT_SEEDS.resolve():  # the gold list judges the repository's seed articles
        for score in entity_scores(articles).values():
            print(f"{score.kind} precision: {score.precision:.3f} ({score.correct}/{score.found}), "
                  f"recall: {score.recall:.3f} ({score.recalled}/{score.gold})")  # fmt: skip
            for where, name in score.wrong:
                print(f"  not a {'person' if score.kind == 'people' else 'organisation'}: {name!r} in {where}")
    combined = articles + load_corpus_articles(args.corpus)
    natural = evaluate_natural(args.seeds, args.corpus, articles=combined)
    print()
    print("\n".join(natural.lines()))
    if args.grid:
        print("\nweights -> judged MRR@10 top-1 top-3 | natural top-1 top-3 MRR@10")
        for weights in GRID:
            r = evaluate(args.seeds, 0, args.rng_seed, weights=weights, articles=articles)
            n = NaturalReport.figures(evaluate_natural(args.seeds, args.corpus, weights=weights, articles=combined, plain=False).ours)
            print(f"  {weights} -> {r.mrr:.3f} {r.top1:.3f} {r.top3:.3f} | {n[0]:.3f} {n[1]:.3f} {n[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

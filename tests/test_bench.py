"""The benchmark runs end to end on the seed pages (its figures are for people; none is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import UNSPACED, main, searches
from bench.scale import query_list


# jieba.analyse (the baseline's ChineseAnalyzer) leaves its idf.txt open when imported.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_benchmark_measures_every_figure_on_the_seeds(tmp_path: Path, capsys) -> None:
    out = tmp_path / "figures.json"
    figures = main(["--rounds", "1", "--no-http", "--json", str(out)])
    assert figures["articles"] == 21
    assert figures["plain_build_s"] > 0 and figures["build_speedup"] > 0  # the baseline ran on the same articles
    for key in ("engine_build_s", "unchanged_run_s", "unchanged_cli_run_s", "add_one_page_s", "cold_cli_search_s", "index_mb"):
        assert figures[key] > 0, key
    assert figures["api_search"]["n"] == len(searches()) == 38 + len(UNSPACED) and figures["api_search"]["new_p95_ms"] > 0
    assert figures["api_search"]["new_unspaced_p95_ms"] > 0 and figures["api_search"]["new_original_p95_ms"] > 0
    assert figures["add_dictionary_word_s"] > 0 and figures["dictionary_word_articles"] >= 1  # a seed article holds it (and the copy the benchmark adds)
    assert figures["did_you_mean"]["offered"] >= 3 and figures["did_you_mean"]["plain_p95_ms"] > 0
    assert json.loads(out.read_text(encoding="utf-8"))["articles"] == 21
    assert "full build, plain ChineseAnalyzer" in capsys.readouterr().out


@pytest.mark.solr
def test_benchmark_measures_solr_beside_the_embedded_engine(solr_cluster, capsys) -> None:
    figures = main(["--rounds", "1", "--no-http", "--no-baseline", "--solr", solr_cluster.url])
    assert figures["solr_articles"] == figures["articles"] == 21
    assert figures["solr_build_s"] > 0 and figures["solr_api_search"]["n"] == 38
    assert "first-time p50 / p95, Solr" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_known_item_benchmark_runs_on_the_corpus_and_reports_both_approaches(tmp_path: Path, capsys) -> None:
    from bench.known_item import DEFAULT_CORPUS
    from bench.known_item import main as known_item

    corpus = tmp_path / "corpus.jsonl"  # 150 of the 1,000 articles: the plain build is the slow part
    corpus.write_text("".join(DEFAULT_CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)[:150]), encoding="utf-8")
    figures = known_item(["--queries", "20", "--corpus", str(corpus)])
    assert figures["queries"]["n"] == 20
    for name in ("newsearch", "plain"):
        assert 0 <= figures[name]["mrr10"] <= figures[name]["top10"] <= 1
    assert "plain" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_benchmark_at_scale_measures_a_size_with_tantivy_and_the_unspaced_queries(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join((Path(__file__).parent / "data" / "thucnews-1000.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:60]), encoding="utf-8")
    figures = main(["--corpus", str(corpus), "--sizes", "120", "--rounds", "1", "--no-baseline", "--work", str(tmp_path / "work")])
    got = figures["120"]
    assert got["articles"] == 120 and got["engine_build_s"] > 0 and got["index_mb"] > 0
    assert got["http_search"]["n"] == len(query_list()) and all(q in {text for text, _ in query_list()} for q in UNSPACED)
    assert got["http_search"]["one_client"]["rps"] > 0 and got["http_search"]["eight_clients"]["rps"] > 0
    assert got["tantivy"]["new_p95_ms"] > 0

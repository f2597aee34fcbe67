"""The benchmark runs end to end on the seed pages (its figures are for people; none is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main, query_list


# jieba.analyse (the baseline's ChineseAnalyzer) leaves its idf.txt open when imported.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_benchmark_measures_every_figure_on_the_seeds(tmp_path: Path, capsys) -> None:
    out = tmp_path / "figures.json"
    figures = main(["--rounds", "1", "--no-http", "--json", str(out)])
    assert figures["articles"] == 21
    assert figures["plain_build_s"] > 0 and figures["build_speedup"] > 0  # the baseline ran on the same articles
    for key in ("engine_build_s", "unchanged_run_s", "unchanged_cli_run_s", "add_one_page_s", "cold_cli_search_s", "index_mb"):
        assert figures[key] > 0, key
    assert figures["api_search"]["n"] == len(query_list()) and figures["api_search"]["new_p95_ms"] > 0
    assert json.loads(out.read_text(encoding="utf-8"))["articles"] == 21
    assert "full build, plain ChineseAnalyzer" in capsys.readouterr().out

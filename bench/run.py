"""Benchmark: our engine against the plain approach, and the speed targets of the README ("Speed").

Measured in one run, on one corpus (default: the seed pages; ``--corpus FILE.jsonl --repeat N`` gives
N copies of a .jsonl corpus with distinct ids):

* full index build: our engine (``rebuild(full=True)`` from seed files: extraction, metadata,
  analysis, Whoosh) against the plain approach (jieba's ChineseAnalyzer on one field) on the same
  articles, and their ratio;
* search latency p50/p95 over a fixed list of queries, through the Python API and over HTTP
  ``/api/search`` (facets and snippets included), with the server's peak memory;
* adding one new page to the large index, an unchanged index run, a cold ``newsearch search``;
* adding one word to the archive's dictionary (against the full build); searches for typos and pinyin
  with did-you-mean against the same searches without it;
* index size on disk;
* with ``--solr local`` (a 2-node SolrCloud started here by ``solr/``'s launcher, as the tests do)
  or ``--solr URL``: the same articles built into a Solr collection (2 shards × 2 replicas) and the
  same queries through the Python API, beside the embedded engine's figures.

At archive scale (``--sizes``, or any of ``--workers``, ``--no-tantivy``, ``--work``, ``--keep``,
``--reuse-index``) the run is :mod:`bench.scale`'s: archives of the given sizes made from
``--corpus``, the build and the server as processes, 1 and 8 concurrent clients, memory, and tantivy
on the same articles in the same run (the practical limit). Its query list holds this module's
queries and :data:`UNSPACED`.

Usage::

    python -m bench.run                                   # the seed pages
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --sizes 1000,50000 --no-baseline   # at scale
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --repeat 5
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --repeat 50 --no-baseline
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --repeat 50 --no-baseline --solr local
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.baseline import build_plain_index
from bench.corpus import load_articles, write_corpus_seeds

REPO = Path(__file__).resolve().parent.parent
QUERIES = [
    "高新区", "小微企业 融资", "微企", "融资协调工作专题", "狼城岗", "开门红 -新密", "\"城市更新\"", "黨史學習教育",
    "ＴＯＤ", "氢能", "金水区 招商", "title:高新区", "place:登封市", "reporter:孙庆辉", "万人助万企", "营商环境",
    "篮球", "湖人 季后赛", "股市", "房价 上涨", "高考", "游戏", "手机", "电影 票房", "基金", "装修", "时尚 春季",
    "科比", "央行 利率", "教育部", "房地产 调控", "足球 OR 篮球", "新浪 体育讯", "\"北京时间\"", "投资者",
]
FILTERED = [("高新区", {"year": ["2024"]}), ("企业", {"kind": ["news"]}), ("发展", {"place": ["金水区"]})]
#: Queries as people type them: words run together, a name or place beside a topic, questions, a
#: date, one that no article answers in full (relaxed). Timed with the others; reported apart too.
UNSPACED = [
    "高新区小微企业融资", "郑州高新区企业座谈会", "湖人拜纳姆季后赛", "房价上涨调控政策", "央行降息股市反弹",
    "北京二手房价格", "佳能单反相机降价", "温家宝会见马来西亚总理", "火箭还能进季后赛吗", "如何快速记住英语单词",
    "孙庆辉小微企业", "2009年8月基金收益", "新能源汽车补贴政策", "高考志愿填报技巧",
]
#: Typos and pinyin that find little or nothing, so the search looks for a did-you-mean correction.
TYPOS = ["郑洲", "高薪区", "gaoxinqu", "gxq", "篮球必赛", "zhengzhou", "汤姆斯", "fangjia", "guping", "腾讯公斯"]
#: A word the archive's dictionary gains (cut 政银企 / 协同 without it; one seed article holds it).
DICTIONARY_WORD = "政银企协同"


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0–1) of ``values``, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    """CPU model, cores, memory and Python version of this machine (for the figures' record)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f" · {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model} · {os.cpu_count()} cores{memory} · Python {platform.python_version()}"


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


WARM_UP = "天气"  # shares no word with QUERIES: their first round meets an empty match cache


def searches() -> list[tuple[str, dict[str, list[str]] | None]]:
    """The timed searches, in order: the query list, the filtered searches, the unspaced queries."""
    return [(q, None) for q in QUERIES] + FILTERED + [(q, None) for q in UNSPACED]


def latency(rounds: list[list[float]]) -> dict[str, float]:
    """p50/p95 (ms) over all rounds, over the first (queries the searcher has not seen: no cached
    matches) and over the repeats (pagination, facet clicks and the like reuse matches); the first
    round also apart for the original list (queries and filtered searches, as measured before the
    unspaced queries were added) and for the unspaced queries."""
    everything = [t for times in rounds for t in times]
    figures = {"p50_ms": percentile(everything, 0.5) * 1000, "p95_ms": percentile(everything, 0.95) * 1000, "n": len(everything)}
    figures["new_p50_ms"] = percentile(rounds[0], 0.5) * 1000
    figures["new_p95_ms"] = percentile(rounds[0], 0.95) * 1000
    figures["new_max_ms"] = max(rounds[0]) * 1000
    original = len(QUERIES) + len(FILTERED)
    figures["new_original_p95_ms"] = percentile(rounds[0][:original], 0.95) * 1000
    if rounds[0][original:]:
        figures["new_unspaced_p50_ms"] = percentile(rounds[0][original:], 0.5) * 1000
        figures["new_unspaced_p95_ms"] = percentile(rounds[0][original:], 0.95) * 1000
    if len(rounds) > 1:
        repeats = [t for times in rounds[1:] for t in times]
        figures["repeat_p50_ms"] = percentile(repeats, 0.5) * 1000
        figures["repeat_p95_ms"] = percentile(repeats, 0.95) * 1000
    return figures


def forget_answers(index_dir: Path) -> None:
    """Remove the answers kept on disk for the index (``search.engines.embedded.answers``), so that
    a measurement of first-time searches sees none of an earlier measurement's answers."""
    from search.engines.embedded.answers import forget

    forget(index_dir)


def time_searches(
    index_dir: Path, rounds: int, queries: list[tuple[str, dict[str, list[str]] | None]], clock: Any = time.perf_counter
) -> dict[str, float]:
    """Latency of ``queries`` through the Python API (one warm Archive, as a server holds it), by
    ``clock``: wall time, or ``time.process_time`` for what a search costs a core."""
    from search.api import Archive

    forget_answers(index_dir)
    archive = Archive.open(index_dir)
    # As `newsearch serve` does before its first request: open the searcher, load the segmenter and
    # read the archive's names, so that the first timed query pays none of that one-time work.
    archive.warm_up()
    archive.search(WARM_UP)
    times: list[list[float]] = []
    for _ in range(rounds):
        times.append([])
        for q, filters in queries:
            started = clock()
            archive.search(q, filters=filters, limit=10)
            times[-1].append(clock() - started)
    archive.close()
    return latency(times)


def time_api(index_dir: Path, rounds: int) -> dict[str, float]:
    """Search latency of :func:`searches` through the Python API."""
    return time_searches(index_dir, rounds, searches())


def time_did_you_mean(index_dir: Path, rounds: int) -> dict[str, float]:
    """Searches for typos and pinyin: with did-you-mean against the same searches without it, in the
    same run; and the time to open the pinyin index of the archive's names and headline words (its
    segments' tables; an index written before store format 3 spells them then)."""
    from search.api import Archive

    archive = Archive.open(index_dir)
    archive.search(WARM_UP, did_you_mean=False)
    started = time.perf_counter()
    archive.pinyin_index()
    first = time.perf_counter() - started
    timed: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        for wanted in (False, True):
            for q in TYPOS:
                started = time.perf_counter()
                archive.search(q, limit=10, did_you_mean=wanted)
                timed[wanted].append(time.perf_counter() - started)
    offered = sum(1 for q in TYPOS if archive.search(q).extra.get("did_you_mean"))
    archive.close()
    return {
        "pinyin_index_s": first,
        "p50_ms": percentile(timed[True], 0.5) * 1000,
        "p95_ms": percentile(timed[True], 0.95) * 1000,
        "plain_p50_ms": percentile(timed[False], 0.5) * 1000,
        "plain_p95_ms": percentile(timed[False], 0.95) * 1000,
        "offered": offered,
        "queries": len(TYPOS),
    }


def time_solr(seeds_dir: Path, state_dir: Path, solr: str, rounds: int, work: Path) -> dict:
    """Full build into a Solr collection and search latency through the Python API (``solr`` is a
    node URL, or ``local``: start the 2-node test cluster here)."""
    from search.api import Archive

    cluster = None
    if solr == "local":
        sys.path.insert(0, str(REPO))
        from tests.solr_cluster import start_cluster

        cluster = start_cluster(work / "solr", nodes=2, heap="3g")
        solr = cluster.url
    try:
        archive = Archive(state_dir, backend="solr", solr=solr, collection="newsearch_bench")
        started = time.perf_counter()
        report = archive.rebuild(seeds_dir, full=True)
        figures: dict = {"solr_build_s": time.perf_counter() - started, "solr_articles": report.articles_total}
        stats = archive.stats()
        figures["solr_index_mb"] = stats["index_bytes"] / 1e6
        figures["solr_shards"] = stats["shards"]
        archive.search(WARM_UP)
        times: list[list[float]] = []
        for _ in range(rounds):
            times.append([])
            for q, filters in [(q, None) for q in QUERIES] + FILTERED:
                started = time.perf_counter()
                archive.search(q, filters=filters, limit=10)
                times[-1].append(time.perf_counter() - started)
        figures["solr_api_search"] = latency(times)
        archive.close()
        return figures
    finally:
        if cluster is not None:
            cluster.shutdown()


def time_http(index_dir: Path, seeds_dir: Path, rounds: int) -> dict[str, float]:
    """Search latency over HTTP /api/search against `newsearch serve`, and the server's peak memory."""
    forget_answers(index_dir)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--seeds", str(seeds_dir), "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        def get(q: str, filters: dict[str, list[str]] | None = None) -> float:
            params = [("q", q)] + [(k, v) for k, values in (filters or {}).items() for v in values]
            started = time.perf_counter()
            with urllib.request.urlopen(f"{base}/api/search?{urllib.parse.urlencode(params)}", timeout=30) as response:
                body = json.loads(response.read())
            assert "facets" in body and "results" in body
            return time.perf_counter() - started
        get(WARM_UP)
        times = [[get(q, f) for q, f in searches()] for _ in range(rounds)]
        from bench.scale import _memory, _server_pids

        # The server is a supervisor and its worker processes: the largest one's peak RSS, and the
        # PSS of all (the memory-mapped index they share counted once).
        memory = [_memory(pid) for pid in _server_pids(server.pid)]
        return {**latency(times), "server_peak_mb": max(peak for peak, _, _ in memory), "server_pss_mb": sum(pss for _, pss, _ in memory)}
    finally:
        server.terminate()
        server.wait(timeout=20)


def time_cold_cli(index_dir: Path, runs: int = 3) -> float:
    """Median wall time of a fresh `newsearch search` process (interpreter start included)."""
    times = []
    for _ in range(runs):
        forget_answers(index_dir)  # cold: a new process and a query not answered before
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "search", "search", "小微企业 融资", "--index", str(index_dir), "--format", "json"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_cli_unchanged(seeds_dir: Path, index_dir: Path, runs: int = 3) -> float:
    """Median wall time of a `newsearch index` process that finds nothing to do."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "search", "index", "--seeds", str(seeds_dir), "--index", str(index_dir)],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


#: Options of the run at archive scale (:mod:`bench.scale`); any of them selects it.
SCALE_OPTIONS = ("--sizes", "--workers", "--no-tantivy", "--work", "--keep", "--reuse-index")


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark (at archive scale, :func:`bench.scale.main`, when a scale option is given)."""
    given = sys.argv[1:] if argv is None else argv
    if any(arg.split("=", 1)[0] in SCALE_OPTIONS for arg in given):
        from bench.scale import main as scale_main

        return scale_main(given)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a .jsonl corpus (default: the seed pages)")
    parser.add_argument("--repeat", type=int, default=1, help="copies of the corpus, with distinct ids")
    parser.add_argument("--with-seeds", action="store_true", help="index the seed pages beside the corpus")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain approach (slow on large corpora)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--solr", metavar="local|URL", help="also build and search the same articles on SolrCloud")
    args = parser.parse_args(argv)

    from search.engines.embedded.indexer import rebuild

    work = Path(tempfile.mkdtemp(prefix="newsearch-bench-"))
    try:
        seeds_dir, index_dir = work / "seeds", work / "index"
        write_corpus_seeds(seeds_dir, args.corpus, args.repeat, REPO / "seeds", args.with_seeds)
        corpus_name = str(args.corpus or "seeds") + (" + seeds" if args.corpus and args.with_seeds else "")
        figures: dict = {"machine": machine(),
                         "corpus": corpus_name, "repeat": args.repeat}

        started = time.perf_counter()
        report = rebuild(seeds_dir, index_dir, full=True)
        figures["engine_build_s"] = time.perf_counter() - started
        from search.api import Archive

        with Archive.open(index_dir) as archive:
            figures["articles"] = archive.stats().get("articles")
        figures["index_mb"] = dir_size(index_dir) / 1e6

        if not args.no_baseline:
            articles = load_articles(seeds_dir)
            figures["plain_build_s"] = build_plain_index(articles, work / "plain")
            figures["build_speedup"] = figures["plain_build_s"] / figures["engine_build_s"]
            figures["plain_index_mb"] = dir_size(work / "plain") / 1e6

        started = time.perf_counter()
        rebuild(seeds_dir, index_dir)
        figures["unchanged_run_s"] = time.perf_counter() - started

        shutil.copy(REPO / "seeds" / "000_60733420360c6775.txt", seeds_dir / "zz_new_page.txt")
        started = time.perf_counter()
        rebuild(seeds_dir, index_dir)
        figures["add_one_page_s"] = time.perf_counter() - started

        # One word added to the archive's dictionary: only the articles holding it are segmented again.
        (seeds_dir / "dictionary.toml").write_text(f'words = ["{DICTIONARY_WORD}"]\n', encoding="utf-8")
        started = time.perf_counter()
        word_report = rebuild(seeds_dir, index_dir)
        figures["add_dictionary_word_s"] = time.perf_counter() - started
        figures["dictionary_word_articles"] = word_report.articles_reindexed

        figures["api_search"] = time_api(index_dir, args.rounds)
        figures["did_you_mean"] = time_did_you_mean(index_dir, args.rounds)
        if not args.no_http:
            figures["http_search"] = time_http(index_dir, seeds_dir, args.rounds)
        figures["cold_cli_search_s"] = time_cold_cli(index_dir)
        figures["unchanged_cli_run_s"] = time_cli_unchanged(seeds_dir, index_dir)
        if args.solr:
            (seeds_dir / "zz_new_page.txt").unlink()
            figures.update(time_solr(seeds_dir, work / "solr-state", args.solr, args.rounds, work))
        del report
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False))
    return figures


def print_table(figures: dict) -> None:
    """Print the figures as a readable table."""
    rows = [("machine", figures["machine"]), ("corpus", f"{figures['corpus']} ×{figures['repeat']} = {figures.get('articles')} articles")]
    rows.append(("full build, engine", f"{figures['engine_build_s']:.2f} s"))
    if "plain_build_s" in figures:
        rows.append(("full build, plain ChineseAnalyzer", f"{figures['plain_build_s']:.2f} s"))
        rows.append(("speed-up", f"{figures['build_speedup']:.1f}×"))
    rows.append(("unchanged index run, in process", f"{figures['unchanged_run_s']:.3f} s"))
    if "unchanged_cli_run_s" in figures:
        rows.append(("unchanged `newsearch index`", f"{figures['unchanged_cli_run_s']:.2f} s"))
    rows.append(("add one page", f"{figures['add_one_page_s']:.2f} s"))
    if "add_dictionary_word_s" in figures:
        rows.append(("add one dictionary word", f"{figures['add_dictionary_word_s']:.2f} s "
                     f"({figures['dictionary_word_articles']} articles re-segmented; full build {figures['engine_build_s']:.2f} s)"))  # fmt: skip
    if "did_you_mean" in figures:
        got = figures["did_you_mean"]
        rows.append(("typo searches p50 / p95, with did-you-mean", f"{got['p50_ms']:.1f} / {got['p95_ms']:.1f} ms "
                     f"({got['offered']}/{got['queries']} offered a correction)"))  # fmt: skip
        rows.append(("typo searches p50 / p95, without", f"{got['plain_p50_ms']:.1f} / {got['plain_p95_ms']:.1f} ms"))
        rows.append(("pinyin index, first did-you-mean", f"{got['pinyin_index_s']:.2f} s"))
    for key, label in (("api_search", "search via API"), ("http_search", "/api/search")):
        if key not in figures:
            continue
        got = figures[key]
        rows.append((f"{label} p50 / p95, first time", f"{got['new_p50_ms']:.1f} / {got['new_p95_ms']:.1f} ms"))
        rows.append((f"{label} p95, first time, original list", f"{got['new_original_p95_ms']:.1f} ms"))
        if "new_unspaced_p95_ms" in got:
            rows.append((f"{label} p50 / p95, first time, unspaced", f"{got['new_unspaced_p50_ms']:.1f} / {got['new_unspaced_p95_ms']:.1f} ms"))
        if "repeat_p50_ms" in got:
            rows.append((f"{label} p50 / p95, repeated", f"{got['repeat_p50_ms']:.1f} / {got['repeat_p95_ms']:.1f} ms"))
        rows.append((f"{label} p50 / p95, all", f"{got['p50_ms']:.1f} / {got['p95_ms']:.1f} ms ({got['n']} searches)"))
    if "http_search" in figures:
        http = figures["http_search"]
        rows.append(("server memory: largest process's peak RSS / PSS of all", f"{http['server_peak_mb']:.0f} / {http.get('server_pss_mb', 0):.0f} MB"))
    rows.append(("cold `newsearch search`", f"{figures['cold_cli_search_s']:.2f} s"))
    rows.append(("index size", f"{figures['index_mb']:.1f} MB"))
    if "solr_build_s" in figures:
        articles = figures.get("articles") or 0
        rows.append(("full build, embedded / Solr", f"{figures['engine_build_s']:.1f} s / {figures['solr_build_s']:.1f} s"))
        rows.append(("build throughput, embedded / Solr",
                     f"{articles / figures['engine_build_s']:.0f} / {figures['solr_articles'] / figures['solr_build_s']:.0f} articles/s"))
        api, solr = figures["api_search"], figures["solr_api_search"]
        rows.append(("first-time p50 / p95, embedded", f"{api['new_p50_ms']:.1f} / {api['new_p95_ms']:.1f} ms"))
        rows.append(("first-time p50 / p95, Solr", f"{solr['new_p50_ms']:.1f} / {solr['new_p95_ms']:.1f} ms"))
        if "repeat_p50_ms" in solr:
            rows.append(("repeated p50 / p95, Solr", f"{solr['repeat_p50_ms']:.1f} / {solr['repeat_p95_ms']:.1f} ms"))
        rows.append(("Solr index size (one copy of each shard)", f"{figures['solr_index_mb']:.1f} MB"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()

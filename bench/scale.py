"""Benchmark at archive scale (``python -m bench.run --sizes ...``): our engine against tantivy and the
plain approach, in one run.

Measured per size, on one corpus (the seed pages by default; ``--corpus FILE.jsonl`` with ``--sizes``
makes archives of those sizes from it, copies with distinct ids and words swapped between articles,
see :mod:`bench.corpus`):

* full index build (``newsearch index --full``, a process: extraction, metadata, analysis, Whoosh,
  segment stores), its peak memory, and the index size;
* ``/api/search`` over HTTP against ``newsearch serve`` (facets and snippets included): p50/p95 of
  queries the server sees the first time, and of repeats (pagination, facet clicks reuse matches);
  requests/s and p95 with 1 and with 8 concurrent clients; the server's memory (peak RSS per
  process, and PSS summed over its processes: shared pages of the memory-mapped index counted once);
* one new page into the index and an unchanged ``newsearch index`` (processes), a cold
  ``newsearch search`` (process start to JSON);
* tantivy (:mod:`bench.tantivy_ref`) on the same articles: build, size, p50/p95 of the same queries
  (top 10 + exact count, in process) — the practical limit, reported as a ratio;
* optionally the plain jieba ``ChineseAnalyzer`` + Whoosh build (slow: small sizes only).

Usage::

    python -m bench.run                                   # the seed pages, with the plain baseline
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --sizes 1000,50000,200000,1000000 \\
        --no-baseline --work /tmp/nsbench --keep            # the README's table
    python -m bench.run --corpus tests/data/thucnews-1000.jsonl --sizes 50000 --no-tantivy --work /tmp/nsbench
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.baseline import build_plain_index
from bench import run as run_queries
from bench.run import UNSPACED, dir_size, forget_answers, free_port, machine, percentile, time_searches
from bench.corpus import load_articles, write_corpus_seeds, write_scaled_corpus

REPO = Path(__file__).resolve().parent.parent
#: Queries as people type them, over the seed pages and the THUCNews corpus: :mod:`bench.run`'s words,
#: unspaced runs, names and fragments, plus more unspaced runs of several words, fragments, one
#: character, phrases and exclusions.
QUERIES = [
    *run_queries.QUERIES,
    # unspaced runs of several words
    "湖人季后赛", "房价上涨", "央行加息", "电影票房", "高考志愿填报", "基金经理", "手机游戏", "北京房价",
    # fragments and single characters
    "育讯", "季后", "价上", "篮", "股", "房",
    # phrases and exclusions
    "\"国家队\"", "\"新赛季\"", "篮球 -湖人", "房价 -北京", "比赛 -足球 -篮球",
]
FILTERED = [
    ("高新区", {"year": ["2024"]}), ("企业", {"kind": ["news"]}), ("发展", {"place": ["金水区"]}),
    ("比赛", {"section": ["体育"]}), ("市场", {"section": ["财经", "房产"]}),
]
QUERIES += UNSPACED  # queries as people type them: words run together, names beside topics, questions
WARM_UP = "天气"  # shares no word with QUERIES: their first round meets an empty match cache
CONCURRENCY_SECONDS = 10.0


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def latency(rounds: list[list[float]]) -> dict[str, float]:
    """p50/p95 (ms) over the first round (queries the server has not seen: no cached matches), over
    the repeats (pagination, facet clicks and the like reuse matches), and over all."""
    everything = [t for times in rounds for t in times]
    figures = {"p50_ms": percentile(everything, 0.5) * 1000, "p95_ms": percentile(everything, 0.95) * 1000, "n": len(everything)}
    figures["new_p50_ms"] = percentile(rounds[0], 0.5) * 1000
    figures["new_p95_ms"] = percentile(rounds[0], 0.95) * 1000
    figures["new_max_ms"] = max(rounds[0]) * 1000
    if len(rounds) > 1:
        repeats = [t for times in rounds[1:] for t in times]
        figures["repeat_p50_ms"] = percentile(repeats, 0.5) * 1000
        figures["repeat_p95_ms"] = percentile(repeats, 0.95) * 1000
    return figures


def query_list() -> list[tuple[str, dict[str, list[str]] | None]]:
    return [(q, None) for q in QUERIES] + FILTERED


def run(args: list[str], **kwargs: Any) -> float:
    """Wall seconds of a ``python -m search ...`` process (which must succeed)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "search", *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def median_run(args: list[str], runs: int = 3, index_dir: Path | None = None) -> float:
    """Median wall time of ``newsearch args``; with ``index_dir``, each run without the answers
    kept by the one before (a cold search is a new process and a query not answered before)."""
    times = []
    for _ in range(runs):
        if index_dir is not None:
            forget_answers(index_dir)
        times.append(run(args))
    return statistics.median(times)


# -- the API in process (the seed-page mode) --------------------------------------------------------


def cpu_api(index_dir: Path, rounds: int) -> dict[str, float]:
    """CPU seconds per search through the Python API (``time.process_time``): what a search costs a
    core, whatever else the machine runs (wall times on a loaded machine are mostly waiting)."""
    return time_searches(index_dir, rounds, query_list(), time.process_time)


def time_api(index_dir: Path, rounds: int) -> dict[str, float]:
    """Search latency through the Python API (one warm Archive, as a server holds it)."""
    return time_searches(index_dir, rounds, query_list())


# -- HTTP ------------------------------------------------------------------------------------------


def _memory(pid: int) -> tuple[float, float, float]:
    """(peak RSS, current PSS, current anonymous RSS) of one process, in MB. RSS counts the pages of
    the memory-mapped index a process has touched (page cache the kernel may reclaim); the anonymous
    part is the memory the process itself holds."""
    peak = pss = anon = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return peak, pss, anon


def _server_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [pid, *map(int, children.read_text().split())]
    except OSError:
        return [pid]


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, q: str, filters: dict[str, list[str]] | None = None, parse: bool = True) -> float:
        """Seconds to the whole answer, parsed (``parse``) or only checked for its keys: the
        throughput runs skip parsing, because on a 2-core machine the load generator's own CPU
        (json.loads under one GIL for eight client threads) would cap what the server is shown to do."""
        params = [("q", q)] + [(k, v) for k, values in (filters or {}).items() for v in values]
        started = time.perf_counter()
        self.connection.request("GET", "/api/search?" + urllib.parse.urlencode(params))
        response = self.connection.getresponse()
        raw = response.read()
        if parse:
            body = json.loads(raw)
            ok = "facets" in body and "results" in body
        else:
            ok = b'"facets"' in raw and b'"results"' in raw
        elapsed = time.perf_counter() - started
        assert response.status == 200 and ok, (q, response.status)
        return elapsed


def _throughput(port: int, clients: int, seconds: float) -> dict[str, float]:
    """Requests/s and p95 with ``clients`` concurrent clients cycling through the query list."""
    queries = query_list()
    times: list[list[float]] = [[] for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    def work(k: int) -> None:
        client = Client(port)
        i = k * 7
        while time.perf_counter() < deadline:
            q, filters = queries[i % len(queries)]
            times[k].append(client.get(q, filters, parse=False))
            i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = [t for ts in times for t in ts]
    return {"clients": clients, "requests": len(done), "rps": len(done) / elapsed, "p50_ms": percentile(done, 0.5) * 1000,
            "p95_ms": percentile(done, 0.95) * 1000}  # fmt: skip


def time_http(index_dir: Path, seeds_dir: Path, rounds: int, workers: int | None, concurrency: bool) -> dict[str, Any]:
    """Search latency over HTTP /api/search against `newsearch serve`, throughput, server memory."""
    forget_answers(index_dir)
    port = free_port()
    command = [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--seeds", str(seeds_dir), "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                Client(port).get(WARM_UP)
                break
            except (OSError, http.client.HTTPException, AssertionError):
                time.sleep(0.2)
        pids = _server_pids(server.pid)
        # Every worker opens its searcher and tables on its first request: warm them all.
        warm = [threading.Thread(target=lambda: Client(port).get(WARM_UP)) for _ in range(4 * len(pids))]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        client = Client(port)
        times = [[client.get(q, f) for q, f in query_list()] for _ in range(rounds)]
        figures: dict[str, Any] = {**latency(times), "workers": max(1, len(pids) - 1)}
        if concurrency:
            figures["one_client"] = _throughput(port, 1, CONCURRENCY_SECONDS)
            figures["eight_clients"] = _throughput(port, 8, CONCURRENCY_SECONDS)
            figures["scaling"] = figures["eight_clients"]["rps"] / figures["one_client"]["rps"]
        memory = [_memory(pid) for pid in _server_pids(server.pid)]
        figures["server_peak_rss_mb"] = max(peak for peak, _, _ in memory)
        figures["server_rss_sum_mb"] = sum(peak for peak, _, _ in memory)
        figures["server_pss_mb"] = sum(pss for _, pss, _ in memory)
        figures["server_anon_mb"] = sum(anon for _, _, anon in memory)
        return figures
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- one size --------------------------------------------------------------------------------------


def time_tantivy(corpus_dir: Path, index_dir: Path, rounds: int, reuse: bool) -> dict[str, Any]:
    """tantivy's build and query latency on the same articles."""
    from bench import tantivy_ref

    figures: dict[str, Any] = {}
    if not (reuse and (index_dir / "meta.json").exists()):
        shutil.rmtree(index_dir, ignore_errors=True)
        figures.update(tantivy_ref.build(corpus_dir, index_dir))
    figures["index_mb"] = dir_size(index_dir) / 1e6
    reference = tantivy_ref.Reference(index_dir)
    reference.search(WARM_UP)
    times = []
    for _ in range(rounds):
        times.append([])
        for q, filters in query_list():
            started = time.perf_counter()
            reference.search(q, filters)
            times[-1].append(time.perf_counter() - started)
    figures.update(latency(times))
    return figures


def measure(args: argparse.Namespace, work: Path, size: int | None) -> dict[str, Any]:
    """Every figure for one archive (``size`` articles made from ``--corpus``, or the seed pages)."""
    label = f"{size}" if size else f"seeds-x{args.repeat}"
    seeds_dir, index_dir = work / f"corpus-{label}", work / f"index-{label}"
    figures: dict[str, Any] = {"machine": machine(), "load_before": load_average(), "size": size}
    if not (args.keep and (seeds_dir / ".complete").exists()):
        shutil.rmtree(seeds_dir, ignore_errors=True)
        if size:
            write_scaled_corpus(seeds_dir, args.corpus, size)
        else:
            write_corpus_seeds(seeds_dir, args.corpus, args.repeat, REPO / "seeds", args.with_seeds)
        (seeds_dir / ".complete").write_text("")
    figures["corpus"] = str(args.corpus or "seeds") + (" + seeds" if args.corpus and args.with_seeds and not size else "")

    if not (args.keep and args.reuse_index and (index_dir / "current.json").exists()):
        shutil.rmtree(index_dir, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures["engine_build_s"] = run(["index", "--full", "--seeds", str(seeds_dir), "--index", str(index_dir)])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures["build_peak_rss_mb"] = after.ru_maxrss / 1024  # the largest process of the build
        # CPU seconds of the build's processes: what the machine's other load does not change much.
        figures["engine_build_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    from search.api import Archive

    with Archive.open(index_dir) as archive:
        figures["articles"] = archive.stats().get("articles")
    figures["index_mb"] = dir_size(index_dir) / 1e6

    if not args.no_baseline:
        articles = load_articles(seeds_dir)
        plain = work / f"plain-{label}"
        figures["plain_build_s"] = build_plain_index(articles, plain)
        figures["plain_index_mb"] = dir_size(plain) / 1e6
        if "engine_build_s" in figures:
            figures["build_speedup"] = figures["plain_build_s"] / figures["engine_build_s"]
        shutil.rmtree(plain, ignore_errors=True)

    from search.engines.embedded.indexer import rebuild

    started = time.perf_counter()
    rebuild(seeds_dir, index_dir)
    figures["unchanged_run_s"] = time.perf_counter() - started
    figures["unchanged_cli_run_s"] = median_run(["index", "--seeds", str(seeds_dir), "--index", str(index_dir)])
    new_page = seeds_dir / "zz_new_page.txt"
    shutil.copy(REPO / "seeds" / "000_60733420360c6775.txt", new_page)
    try:
        figures["add_one_page_s"] = run(["index", "--seeds", str(seeds_dir), "--index", str(index_dir)])
        figures["api_search"] = time_api(index_dir, args.rounds) if not size else None
        figures["api_cpu"] = cpu_api(index_dir, max(2, args.rounds))
        if not args.no_http:
            figures["http_search"] = time_http(index_dir, seeds_dir, args.rounds, args.workers, concurrency=bool(size))
        figures["cold_cli_search_s"] = median_run(["search", "湖人 季后赛", "--index", str(index_dir), "--format", "json"], index_dir=index_dir)
        # Pinyin typed for 姚明: nothing found, so the search also corrects it and counts alternatives.
        figures["cold_cli_typo_s"] = median_run(["search", "yaoming", "--index", str(index_dir), "--format", "json"], index_dir=index_dir)
    finally:
        new_page.unlink(missing_ok=True)
        rebuild(seeds_dir, index_dir)  # back to the corpus alone, for a later run with --keep
    if not args.no_tantivy and size:
        figures["tantivy"] = time_tantivy(seeds_dir, work / f"tantivy-{label}", args.rounds, args.keep)
        if "http_search" in figures:
            ours, theirs = figures["http_search"]["new_p95_ms"], figures["tantivy"]["new_p95_ms"]
            figures["tantivy_p95_ratio"] = ours / max(theirs, 1e-6)
    figures["load_after"] = load_average()
    if not args.keep:
        shutil.rmtree(index_dir, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a .jsonl corpus (default: the seed pages)")
    parser.add_argument("--sizes", help="comma-separated archive sizes made from --corpus, e.g. 1000,50000,200000,1000000")
    parser.add_argument("--repeat", type=int, default=1, help="copies of the corpus (or of the seed pages), without --sizes")
    parser.add_argument("--with-seeds", action="store_true", help="index the seed pages beside the corpus (with --repeat)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list")
    parser.add_argument("--workers", type=int, help="server worker processes (default: newsearch serve's)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain approach (slow on large corpora)")
    parser.add_argument("--no-tantivy", action="store_true", help="skip tantivy")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--work", type=Path, help="directory for corpora and indexes (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep corpora and indexes in --work, and reuse the corpora")
    parser.add_argument("--reuse-index", action="store_true", help="with --keep: reuse an index already built (no build figures)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.sizes and args.corpus is None:
        parser.error("--sizes needs --corpus")

    work = args.work or Path(tempfile.mkdtemp(prefix="newsearch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else []
    if not sizes and args.corpus is not None:
        sizes = []  # --repeat over a corpus: the classic mode below
    results: dict[str, Any] = {}
    try:
        for size in sizes or [None]:
            figures = measure(args, work, size)
            results[str(size or "seeds")] = figures
            print_table(figures)
            if args.json:
                args.json.write_text(json.dumps(results if sizes else figures, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if len(results) > 1:
        print_summary(results)
    out = results if sizes else next(iter(results.values()))
    print(json.dumps(out, ensure_ascii=False))
    return out


def print_table(figures: dict[str, Any]) -> None:
    """Print one size's figures as a readable table."""
    rows = [("machine", figures["machine"]), ("load average before / after", f"{figures['load_before']} / {figures.get('load_after', '?')}")]
    rows.append(("corpus", f"{figures['corpus']} = {figures.get('articles')} articles"))
    if "engine_build_s" in figures:
        rows.append(("full build, engine", f"{figures['engine_build_s']:.2f} s, {figures['engine_build_cpu_s']:.0f} CPU s (peak {figures['build_peak_rss_mb']:.0f} MB)"))
    if "plain_build_s" in figures:
        rows.append(("full build, plain ChineseAnalyzer", f"{figures['plain_build_s']:.2f} s"))
        if "build_speedup" in figures:
            rows.append(("speed-up", f"{figures['build_speedup']:.1f}×"))
    rows.append(("unchanged index run, in process", f"{figures['unchanged_run_s']:.3f} s"))
    rows.append(("unchanged `newsearch index`", f"{figures['unchanged_cli_run_s']:.2f} s"))
    rows.append(("add one page (`newsearch index`)", f"{figures['add_one_page_s']:.2f} s"))
    for key, label in (("api_search", "search via API"), ("api_cpu", "CPU per search (API)"), ("http_search", "/api/search")):
        got = figures.get(key)
        if not got:
            continue
        rows.append((f"{label} p50 / p95, first time", f"{got['new_p50_ms']:.1f} / {got['new_p95_ms']:.1f} ms (max {got['new_max_ms']:.0f})"))
        if "repeat_p50_ms" in got:
            rows.append((f"{label} p50 / p95, repeated", f"{got['repeat_p50_ms']:.1f} / {got['repeat_p95_ms']:.1f} ms"))
    http = figures.get("http_search") or {}
    if "one_client" in http:
        for key in ("one_client", "eight_clients"):
            got = http[key]
            rows.append((f"{got['clients']} client(s): requests/s, p95", f"{got['rps']:.1f}/s, {got['p95_ms']:.1f} ms"))
        rows.append(("8 clients / 1 client throughput", f"{http['scaling']:.2f}× ({http['workers']} workers)"))
    if http:
        rows.append(("server memory: peak RSS (largest process) / PSS (all)", f"{http['server_peak_rss_mb']:.0f} / {http['server_pss_mb']:.0f} MB"))
        if "server_anon_mb" in http:
            rows.append(("server memory: anonymous (all processes, not the mapped index)", f"{http['server_anon_mb']:.0f} MB"))
    rows.append(("cold `newsearch search`", f"{figures['cold_cli_search_s']:.2f} s"))
    if "cold_cli_typo_s" in figures:
        rows.append(("cold `newsearch search yaoming` (did-you-mean)", f"{figures['cold_cli_typo_s']:.2f} s"))
    rows.append(("index size", f"{figures['index_mb']:.1f} MB"))
    tv = figures.get("tantivy")
    if tv:
        if "build_s" in tv:
            rows.append(("tantivy build", f"{tv['build_s']:.1f} s, {tv['build_cpu_s']:.0f} CPU s"))
        rows.append(("tantivy p50 / p95, first time", f"{tv['new_p50_ms']:.2f} / {tv['new_p95_ms']:.2f} ms"))
        rows.append(("tantivy index size", f"{tv['index_mb']:.1f} MB"))
        if "tantivy_p95_ratio" in figures:
            rows.append(("our first-time p95 / tantivy's", f"{figures['tantivy_p95_ratio']:.1f}×"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(flush=True)


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    """One markdown table with a column per size (what the README shows)."""
    sizes = list(results)

    def cell(figures: dict[str, Any], key: str) -> str:
        http, tv = figures.get("http_search") or {}, figures.get("tantivy") or {}
        try:
            return {
                "build": lambda: f"{figures['engine_build_s']:.0f} s ({figures['engine_build_cpu_s']:.0f} CPU s)",
                "first": lambda: f"{http['new_p50_ms']:.1f} / {http['new_p95_ms']:.1f} ms",
                "cpu": lambda: f"{figures['api_cpu']['new_p50_ms']:.1f} / {figures['api_cpu']['new_p95_ms']:.1f} ms",
                "repeat": lambda: f"{http['repeat_p50_ms']:.1f} / {http['repeat_p95_ms']:.1f} ms",
                "one": lambda: f"{http['one_client']['rps']:.0f}/s, {http['one_client']['p95_ms']:.0f} ms",
                "eight": lambda: f"{http['eight_clients']['rps']:.0f}/s, {http['eight_clients']['p95_ms']:.0f} ms ({http['scaling']:.2f}×)",
                "memory": lambda: f"{http['server_peak_rss_mb']:.0f} / {http['server_pss_mb']:.0f} MB",
                "size": lambda: f"{figures['index_mb']:.0f} MB",
                "cold": lambda: f"{figures['cold_cli_search_s']:.2f} s",
                "typo": lambda: f"{figures['cold_cli_typo_s']:.2f} s",
                "add": lambda: f"{figures['add_one_page_s']:.2f} s",
                "unchanged": lambda: f"{figures['unchanged_cli_run_s']:.2f} s",
                "tv_build": lambda: f"{tv['build_s']:.0f} s ({tv['build_cpu_s']:.0f} CPU s)",
                "tv_first": lambda: f"{tv['new_p50_ms']:.1f} / {tv['new_p95_ms']:.1f} ms",
                "tv_size": lambda: f"{tv['index_mb']:.0f} MB",
                "ratio": lambda: f"{figures['tantivy_p95_ratio']:.0f}×",
            }[key]()
        except (KeyError, TypeError):
            return "—"

    labels = [
        ("build", "full build (`newsearch index --full`)"), ("cpu", "CPU per search p50 / p95, first time"),
        ("first", "`/api/search` p50 / p95, first time"),
        ("repeat", "`/api/search` p50 / p95, repeated"), ("one", "1 client: requests/s, p95"),
        ("eight", "8 clients: requests/s, p95 (× 1 client)"), ("memory", "server peak RSS / PSS"),
        ("size", "index size"), ("cold", "cold `newsearch search`"),
        ("typo", "cold `newsearch search yaoming` (did-you-mean)"), ("add", "add one page"),
        ("unchanged", "unchanged `newsearch index`"), ("tv_build", "tantivy build"),
        ("tv_first", "tantivy p50 / p95, first time"), ("tv_size", "tantivy index size"),
        ("ratio", "our p95 / tantivy's"),
    ]  # fmt: skip
    print("| | " + " | ".join(f"{int(s):,}" if s.isdigit() else s for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for key, label in labels:
        print(f"| {label} | " + " | ".join(cell(results[s], key) for s in sizes) + " |")
    print(flush=True)


if __name__ == "__main__":
    main()

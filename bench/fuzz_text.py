"""Long fuzzing of every text-processing step on pathological input: is each one linear?

Each *shape* is a long run of one character class (CJK without punctuation, only punctuation,
spaces, digits, ``#``, brackets, byline words, openers, short lines, column-wrapped lines…). Each
*step* is one piece of the pipeline that sees page or query text: decoding, paragraphs, extraction
(the regexes of openers, bylines, headlines, leads), dates, metadata, the whole seed-file read,
normalisation, segmentation, snippets, article-page highlighting, the snippet filter, query parsing.

For every (shape, step) the step runs on texts of growing size, each in a forked process killed at
``--limit`` seconds, and the growth from one size to the next is reported: about 2× per doubling is
linear, 4× quadratic. The same run indexes the 1.2-million-character page of issue 12 with the
plain approach (jieba's ``ChineseAnalyzer`` into Whoosh, :mod:`bench.baseline`) and with ours, for
comparison. ``tests/test_reliability_text.py`` runs the same shapes and steps once, at one size, in
the normal suite.

Usage::

    python -m bench.fuzz_text                          # sizes 75k, 150k, 300k, 600k, 1.2M characters
    python -m bench.fuzz_text --sizes 20000,40000 --shapes cjk,hash_spaces --limit 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Long runs of one character class each (``n`` is the length in characters, about).
SHAPES: dict[str, Callable[[int], str]] = {
    "cjk": lambda n: "超长行" * (n // 3),
    "comma": lambda n: "，" * n,
    "period": lambda n: "。" * n,
    "cjk_comma": lambda n: "超长，" * (n // 3),
    "mixed_punct": lambda n: "，。！？；：、“”（）《》…—" * (n // 15),
    "spaces_mid": lambda n: "超" + " " * n + "长",
    "hash_spaces": lambda n: "# a" + " " * n + "b",
    "hashes": lambda n: "#" * n,
    "digits": lambda n: "1" * n,
    "latin": lambda n: "a" * n,
    "latin_words": lambda n: "ab " * (n // 3),
    "entities": lambda n: "&amp" * (n // 4),
    "open_brackets": lambda n: "（" * n,
    "quotes": lambda n: "“" * n,
    "section_labels": lambda n: "【" * n,
    "village": lambda n: "村" * n,
    "dates": lambda n: "1月" * (n // 2),
    "years": lambda n: "2024" * (n // 4),
    "byline_words": lambda n: "记者 王小明 " * (n // 7),
    "openers": lambda n: "本报讯" * (n // 3),
    "opener_bracket": lambda n: "本报讯（" + "记者" * (n // 2),
    "wrapped": lambda n: "超长行超长行超长行超长\n" * (n // 12),
    "wrapped_blocks": lambda n: "超长行超长行超长行超长\n超长行超长行超长行超长\n超长行超长行超长行超长\n\n" * (n // 36),
    "wrapped_bylines": lambda n: "记者 王小明 通讯员\n" * (n // 11),
    "short_lines": lambda n: "超长\n" * (n // 3),
    "blank_lines": lambda n: "超长行，超长行\n\n" * (n // 9),
    "headline_lines": lambda n: "高新区召开会议\n" * (n // 8),
    "list_items": lambda n: "1.超长行超长行\n" * (n // 9),
    "markup": lambda n: "<mark>" * (n // 6),
    "bad_bytes": lambda n: "超\udc80" * (n // 2),
}


def _read_file(text: str) -> Any:
    from search.ingest.sources import read_seed_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.txt"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        return read_seed_file(path)


def _decode(text: str) -> Any:
    from search.ingest.pages import decode_bytes

    return decode_bytes(text.encode("utf-8", "surrogateescape"))


def _paragraphs(text: str) -> Any:
    from search.ingest.pages import normalise_newlines, paragraphs

    return paragraphs(normalise_newlines(text))


def _extract(text: str) -> Any:
    from search.ingest.extract import extract_articles
    from search.ingest.pages import Page, normalise_newlines

    return extract_articles(Page("page.txt", normalise_newlines(text), "utf-8"))


def _snippet(text: str) -> Any:
    from search.query.analyze import analyze
    from search.query.snippets import highlight_pattern, make_snippet

    plan = analyze("超长 记者 a 1")
    return make_snippet(text, highlight_pattern([*plan.terms, *plan.runs]))


def _highlight(text: str) -> Any:
    from web.highlight import paragraphs

    return paragraphs(text, ["超长", "记者", "a", "1", "#"])


def _safe_snippet(text: str) -> Any:
    from web.highlight import safe_snippet

    return safe_snippet(text)


def _query(text: str) -> Any:
    from search.query.analyze import analyze

    return analyze(text)


def _lead(text: str) -> Any:
    from search.ingest.extract import lead_of

    return lead_of(text)


def _date(text: str) -> Any:
    from search.ingest.metadata import page_date

    return page_date(text)


def _describe(text: str) -> Any:
    from search.ingest.metadata import describe

    return describe("", text)


def _normalize(text: str) -> Any:
    from search.analysis import normalize

    return normalize(text)


def _words(text: str) -> Any:
    from search.analysis import words

    return list(words(text))


def _record(text: str) -> Any:
    from search.ingest.sources import article_from_record

    return article_from_record({"id": "x", "title": text[:200], "body": text, "reporters": text[:500]}, "x.jsonl", 1)


#: Steps of the pipeline that see page or query text.
STEPS: dict[str, Callable[[str], Any]] = {
    "decode": _decode,
    "paragraphs": _paragraphs,
    "extract": _extract,
    "lead": _lead,
    "page_date": _date,
    "metadata": _describe,
    "seed_file": _read_file,
    "jsonl_record": _record,
    "normalize": _normalize,
    "segment": _words,
    "snippet": _snippet,
    "article_page": _highlight,
    "snippet_filter": _safe_snippet,
    "query": _query,
}


def warm_up() -> None:
    """Load dictionaries and tables once, before forking (the measurements leave loading out)."""
    for step in STEPS.values():
        step("高新区召开会议，记者 王小明。")


#: Steps that take bytes (their text is encoded first, surrogates as the bytes they stand for).
BYTE_STEPS = ("decode", "seed_file")


def _child(step: str, text: str, out: Any) -> None:
    if step not in BYTE_STEPS:  # decoded text never holds lone surrogates: they become U+FFFD
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    started = time.perf_counter()
    try:
        STEPS[step](text)
    except Exception as error:  # noqa: BLE001 - a crash is a finding too: reported as such
        out.send(repr(error))
        return
    out.send(time.perf_counter() - started)


def timed(step: str, text: str, limit: float) -> float:
    """Seconds ``step`` takes on ``text`` in a forked process (``inf`` if killed at ``limit``;
    RuntimeError if the step raised)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(step, text, send))
    process.start()
    send.close()
    answer: Any = receive.recv() if receive.poll(limit) else float("inf")
    process.kill()
    process.join()
    receive.close()
    if isinstance(answer, str):
        raise RuntimeError(f"{step} failed: {answer}")
    return float(answer)


def pathological_page_figures() -> dict[str, float]:
    """The issue's page (``"超长行" * 400000``, one line) indexed by the plain approach and by ours."""
    from bench.baseline import build_plain_index
    from search.api import rebuild
    from search.ingest.sources import read_seed_file

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        (seeds / "long.txt").write_text("超长行" * 400_000, encoding="utf-8")
        started = time.perf_counter()
        report = rebuild(seeds, Path(tmp) / "index", full=True)
        figures["newsearch_index_s"] = time.perf_counter() - started
        figures["newsearch_articles"] = report.articles_total
        articles = read_seed_file(seeds / "long.txt").articles
        figures["plain_index_s"] = build_plain_index(articles, Path(tmp) / "plain")
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the fuzzing, print a table, return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="75000,150000,300000,600000,1200000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a measurement is killed")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-page", action="store_true", help="skip indexing the pathological page")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    warm_up()
    results: dict[str, Any] = {"sizes": sizes, "limit_s": args.limit, "runs": {}}
    worst = (0.0, "")
    print(f"{'shape':16} {'step':14} " + " ".join(f"{size:>9,}" for size in sizes) + "  growth/doubling")
    for shape in args.shapes.split(","):
        for step in args.steps.split(","):
            times: list[float] = []
            for size in sizes:
                seconds = timed(step, SHAPES[shape](size), args.limit)
                times.append(seconds)
                if seconds == float("inf"):
                    break
            pairs = [(a, b) for a, b in itertools.pairwise(times) if a >= 0.02]
            growth = max((b / a for a, b in pairs), default=0.0)
            results["runs"][f"{shape}/{step}"] = {"seconds": times, "growth": growth}
            if growth > worst[0]:
                worst = (growth, f"{shape}/{step}")
            flag = "  <-- not linear" if growth > 3.0 else ""
            print(f"{shape:16} {step:14} " + " ".join(f"{t:9.3f}" for t in times) + f"  {growth:5.2f}{flag}", flush=True)
    results["worst_growth"] = {"growth": worst[0], "where": worst[1]}
    print(f"worst growth per doubling: {worst[0]:.2f} ({worst[1]})")
    if not args.no_page:
        page = pathological_page_figures()
        results["pathological_page"] = page
        print(f"the 1,200,000-character page: newsearch indexes it in {page['newsearch_index_s']:.2f} s, "
              f"the plain ChineseAnalyzer + Whoosh in {page['plain_index_s']:.2f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

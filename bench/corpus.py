"""Benchmark corpora: the seed pages, or a .jsonl corpus repeated N times with distinct ids."""

from __future__ import annotations

import json
from pathlib import Path

from search.model import Article
from search.ingest.sources import list_seed_files, read_seed_file


def write_corpus_seeds(target: Path, corpus: Path | None, repeat: int, seeds: Path, with_seeds: bool = False) -> int:
    """Fill ``target`` with seed files for the benchmark; return the number of source records.

    Without a corpus the seed pages are copied ``repeat`` times (renamed so each copy is a new page).
    With a .jsonl corpus, ``repeat`` copies are written as .jsonl seed files of 1,000 records each, ids
    suffixed ``-rN`` so that every copy is a distinct article; ``with_seeds`` adds the seed pages.
    """
    target.mkdir(parents=True, exist_ok=True)
    if corpus is not None and with_seeds:
        for page in list_seed_files(seeds):
            (target / page.name).write_bytes(page.read_bytes())
    if corpus is None:
        count = 0
        for copy in range(repeat):
            for page in list_seed_files(seeds):
                (target / f"r{copy:03d}_{page.name}").write_bytes(page.read_bytes())
                count += 1
        return count
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    for copy in range(repeat):
        with (target / f"corpus_r{copy:03d}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps({**record, "id": f"{record['id']}-r{copy}"}, ensure_ascii=False) + "\n")
    return len(records) * repeat


def load_articles(seeds_dir: Path) -> list[Article]:
    """Every article the engine would extract from ``seeds_dir`` (used to feed the plain baseline)."""
    articles: list[Article] = []
    for path in list_seed_files(seeds_dir):
        articles.extend(read_seed_file(path).articles)
    return articles

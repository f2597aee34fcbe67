"""Benchmark corpora: the seed pages, or a .jsonl corpus scaled to any size.

:func:`write_scaled_corpus` makes an archive of N articles from a real corpus: the first copy is the
corpus itself, every later copy has distinct ids and *words swapped between articles* — a fifth of
each article's words replaced by the words at the same relative place of another article of the
same section — so that the copies' postings are not identical lists (which would flatter
compression and caches) while the text stays real Chinese with the corpus's word statistics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from search.ingest.sources import list_seed_files, read_seed_file
from search.model import Article

SWAP_SHARE = 0.2
RECORDS_PER_FILE = 1000


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


def write_scaled_corpus(target: Path, corpus: Path, size: int, per_file: int = RECORDS_PER_FILE, seed: int = 14) -> int:
    """Write ``size`` articles made from ``corpus`` into ``target`` as .jsonl files of ``per_file``
    records (see the module docstring); returns the number written."""
    import rjieba

    target.mkdir(parents=True, exist_ok=True)
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    vocabulary: dict[str, int] = {}
    words = [np.array([vocabulary.setdefault(w, len(vocabulary)) for w in rjieba.cut(r["body"])], dtype=np.int64) for r in records]
    spelled = np.array(list(vocabulary), dtype=object)
    sections: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        sections.setdefault(record.get("section") or "", []).append(i)
    rng = np.random.default_rng(seed)
    written = 0
    out = None
    try:
        for n in range(size):
            copy, i = divmod(n, len(records))
            if n % per_file == 0:
                if out is not None:
                    out.close()
                out = (target / f"corpus_{n // per_file:05d}.jsonl").open("w", encoding="utf-8")
            record = records[i]
            if copy == 0:
                body = record["body"]
            else:
                mine = words[i].copy()
                peers = sections[record.get("section") or ""]
                other = words[peers[int(rng.integers(len(peers)))]]
                swap = np.flatnonzero(rng.random(len(mine)) < SWAP_SHARE)
                if len(other) and len(swap):
                    mine[swap] = other[(swap * len(other)) // max(1, len(mine))]
                body = "".join(spelled[mine].tolist())
            assert out is not None
            out.write(json.dumps({**record, "id": f"{record['id']}-s{copy}", "body": body}, ensure_ascii=False) + "\n")
            written += 1
    finally:
        if out is not None:
            out.close()
    return written


def load_articles(seeds_dir: Path) -> list[Article]:
    """Every article the engine would extract from ``seeds_dir`` (used to feed the plain baseline)."""
    articles: list[Article] = []
    for path in list_seed_files(seeds_dir):
        articles.extend(read_seed_file(path).articles)
    return articles

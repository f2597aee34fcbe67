"""The fragment index finds exactly what a full scan of the text finds.

Random fragments of 1-8 characters, taken from the indexed articles' normalised headlines and bodies
(plus strings found nowhere and strings with punctuation), are looked up through the segments'
n-gram postings (:meth:`TextBuffer.occurrence_counts`) and compared, document by document and count
by count, with a plain scan of every article the index holds (``bytes.count`` on the normalised
text of the exported articles, which come from Whoosh's stored fields, not from our store). Checked
after a full build on two processes, after an incremental run that adds, changes and deletes
files, after small runs that make the commit merge segments, and around a SIGKILL in the middle of
a commit (segment and store files written, the TOC not yet).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search.analysis import normalize
from search.api import Archive
from search.engines.embedded.doctable import SegmentText, TextBuffer, doc_table
from search.engines.embedded.indexer import current_generation_dir, rebuild
from search.engines.embedded.schema import FULLTEXT_SEPARATOR, headline_text
from search.engines.embedded.segstore import SegmentStore, store_arrays
from tests.attack_helpers import env

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "thucnews-1000.jsonl"


def corpus_records(start: int, stop: int) -> list[dict]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[start:stop]
    return [json.loads(line) for line in lines]


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def indexed_texts(index_dir: Path) -> list[tuple[str, bytes, bytes]]:
    """``(id, normalised headline, normalised body)`` of every article the index holds, UTF-8."""
    with Archive.open(index_dir) as archive:
        return [
            (a.id, normalize(headline_text(a)).encode("utf-8"), normalize(a.body).encode("utf-8")) for a in archive.export()
        ]


def scan(texts: list[tuple[str, bytes, bytes]], needle: str, title_only: bool) -> dict[str, tuple[int, int]]:
    """``{id: (headline count, body count)}`` by scanning every text."""
    raw = needle.encode("utf-8")
    found = {}
    for article_id, head_text, body_text in texts:
        head = head_text.count(raw)
        body = 0 if title_only else body_text.count(raw)
        if head or body:
            found[article_id] = (head, body)
    return found


class Lookup:
    """The fragment index of an index directory's current generation."""

    def __init__(self, index_dir: Path) -> None:
        gen_dir = current_generation_dir(index_dir)
        assert gen_dir is not None
        self.searcher = whoosh_index.open_dir(str(gen_dir)).searcher()
        self.table = doc_table(self.searcher)

    def counts(self, needle: str, title_only: bool, docnums: np.ndarray | None = None) -> dict[str, tuple[int, int]]:
        docs, head, body = self.table.text.occurrence_counts(needle.encode("utf-8"), docnums, title_only, None)
        live = self.table.row_of[docs] >= 0
        return {
            self.searcher.stored_fields(int(d))["id"]: (int(h), int(b)) for d, h, b in zip(docs[live], head[live], body[live])
        }

    def close(self) -> None:
        self.searcher.close()


def fragments(texts: list[tuple[str, bytes, bytes]], count: int, seed: int) -> list[str]:
    """Random 1-8 character pieces of the indexed texts, and a few strings found nowhere."""
    rng = random.Random(seed)
    pieces = [t.decode("utf-8") for _id, head, body in texts for t in (head, body) if t.strip()]
    out = []
    while len(out) < count:
        text = rng.choice(pieces)
        size = rng.randint(1, 8)
        start = rng.randrange(max(1, len(text) - size + 1))
        piece = text[start : start + size]
        if piece.strip():
            out.append(piece)
    return out + ["龘靐齉", "哈哈哈", "的的", "，", "2024年", "xyz不存在"]


def assert_exact(index_dir: Path, count: int = 120, seed: int = 0) -> int:
    """Every sampled fragment: the index's answer equals the scan's (whole archive, headlines only,
    and restricted to a random third of the documents). Returns how many fragments matched something."""
    texts = indexed_texts(index_dir)
    lookup = Lookup(index_dir)
    rng = np.random.default_rng(seed)
    try:
        some = lookup.table.docnums[rng.random(lookup.table.size) < 0.33]
        ids = {lookup.searcher.stored_fields(int(d))["id"] for d in some}
        nonempty = 0
        for needle in fragments(texts, count, seed):
            expected = scan(texts, needle, False)
            assert lookup.counts(needle, False) == expected, needle
            assert lookup.counts(needle, True) == scan(texts, needle, True), needle
            assert lookup.counts(needle, False, some) == {k: v for k, v in expected.items() if k in ids}, needle
            nonempty += bool(expected)
        return nonempty
    finally:
        lookup.close()


@pytest.fixture()
def archive_seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    for number in range(3):
        write_jsonl(seeds / f"corpus_{number}.jsonl", corpus_records(100 * number, 100 * number + 100))
    return seeds


def segment_count(index_dir: Path) -> int:
    gen_dir = current_generation_dir(index_dir)
    assert gen_dir is not None
    ix = whoosh_index.open_dir(str(gen_dir))
    try:
        return len(ix._segments())
    finally:
        ix.close()


def test_fragment_index_equals_a_full_scan_after_builds_changes_and_merges(archive_seeds: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuild(archive_seeds, index_dir, full=True, jobs=2)
    assert segment_count(index_dir) >= 2  # written by two processes
    assert assert_exact(index_dir, seed=1) > 100

    # An incremental run: a file deleted, a page changed, a file added.
    (archive_seeds / "corpus_1.jsonl").unlink()
    page = archive_seeds / "000_60733420360c6775.txt"
    page.write_text(page.read_text(encoding="utf-8") + "\n本报讯 修订稿：二七区举办灯会，市民赏灯。\n", encoding="utf-8")
    write_jsonl(archive_seeds / "corpus_9.jsonl", corpus_records(500, 550))
    report = rebuild(archive_seeds, index_dir)
    assert not report.full and report.removed == ["corpus_1.jsonl"] and report.added == ["corpus_9.jsonl"]
    assert assert_exact(index_dir, seed=2) > 100

    # Small runs, one file each: the commits merge the small segments into one.
    before = segment_count(index_dir)
    for number in range(11):
        write_jsonl(archive_seeds / f"small_{number:02d}.jsonl", corpus_records(600 + 5 * number, 605 + 5 * number))
        rebuild(archive_seeds, index_dir)
    assert segment_count(index_dir) < before + 11  # a merge happened
    assert assert_exact(index_dir, seed=3) > 100


_KILL_BEFORE_TOC = """
import os, signal, sys
from pathlib import Path
from whoosh import index
from search.engines.embedded.indexer import rebuild

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # the segment and store files are written, the TOC is not

index.TOC.write = die
rebuild(Path(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.slow
def test_fragment_index_equals_a_full_scan_around_a_kill_mid_commit(archive_seeds: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuild(archive_seeds, index_dir, full=True, jobs=2)
    (archive_seeds / "corpus_0.jsonl").unlink()
    write_jsonl(archive_seeds / "corpus_7.jsonl", corpus_records(700, 760))
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILL_BEFORE_TOC), str(archive_seeds), str(index_dir)],
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    gen_dir = current_generation_dir(index_dir)
    assert gen_dir is not None and list(gen_dir.glob("*.nsx"))  # stores of the uncommitted segment are there too
    assert assert_exact(index_dir, count=60, seed=4) > 50  # the previous index, still exact

    report = rebuild(archive_seeds, index_dir)  # completes the work
    assert "corpus_7.jsonl" in report.added and "corpus_0.jsonl" in report.removed
    assert assert_exact(index_dir, count=60, seed=5) > 50
    clean = tmp_path / "clean"
    rebuild(archive_seeds, clean, full=True)
    with Archive.open(index_dir) as ours, Archive.open(clean) as theirs:
        assert sorted(a.id for a in ours.export()) == sorted(a.id for a in theirs.export())


def _store_counts(buffer: TextBuffer, needle: str, title_only: bool) -> dict[int, tuple[int, int]]:
    docs, head, body = buffer.occurrence_counts(needle.encode("utf-8"), None, title_only, None)
    return {int(d): (int(h), int(b)) for d, h, b in zip(docs, head, body)}


def test_bigram_positions_count_every_fragment_as_the_text_does() -> None:
    """Repeated and overlapping characters (哈哈哈, abab), a word split by a line break, astral
    characters and long bodies: every piece of 2-7 characters counts as ``bytes.count`` counts it,
    from a store with bigram positions and from one without (an index written before them)."""
    heads = ["哈哈哈大笑", "abab\n中国", "", "𠀀中国𠀀", "长文"]
    bodies = ["哈哈哈哈哈，哈哈", "ababab abab 中国中国中", "中\n国 中国", "𠀀𠀀中国", "中国人民" * 5000 + "中国"]
    texts = [normalize(h).encode("utf-8") + FULLTEXT_SEPARATOR + normalize(b).encode("utf-8") for h, b in zip(heads, bodies)]
    with_positions = TextBuffer([SegmentText(0, SegmentStore.in_memory(texts, [()] * len(texts), {}))])
    arrays, extra = store_arrays(texts, [()] * len(texts))
    older = {name: array for name, array in arrays.items() if ".pos" not in name}  # a format-1 store
    without = TextBuffer([SegmentText(0, SegmentStore(len(texts), older, extra))])
    pieces = {t[i : i + n] for t in heads + bodies for n in range(2, 8) for i in range(min(len(t), 60)) if len(t[i : i + n]) == n}
    for needle in sorted(pieces) + ["国人民中国人民中", "不在"]:
        raw = normalize(needle).encode("utf-8")
        if not raw.strip() or raw != needle.encode("utf-8"):
            continue
        expected = {}
        for doc, text in enumerate(texts):
            head, _sep, body = text.partition(FULLTEXT_SEPARATOR)
            if head.count(raw) or body.count(raw):
                expected[doc] = (head.count(raw), body.count(raw))
        assert _store_counts(with_positions, needle, False) == expected, needle
        assert _store_counts(without, needle, False) == expected, needle
        assert _store_counts(with_positions, needle, True) == {d: (h, 0) for d, (h, _b) in expected.items() if h}, needle


def test_a_phrase_with_separators_finds_what_its_regex_finds() -> None:
    """A phrase typed with spaces (``2009 年 8 月``) finds its runs with any punctuation between them:
    the bytes screen that spares decoding a candidate never turns away a text the phrase's regex
    counts, whatever separators (CJK punctuation, full-width forms, emoji, Latin with accents) and
    whatever ideographs (rare extensions included) stand around the runs."""
    from search.query.language import term_pattern, term_screen
    from search.query.plan import Term

    rng = random.Random(7)
    around = list("2009年8月基金收益ab1 ,.-_·—、，。：（）《》“”") + [chr(c) for c in (0x3000, 0x30FB, 0xFF0C, 0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0xE9, 0x1F600, 0x20000, 0x3400)]
    for _ in range(5000):
        runs = ["".join(rng.choice("2009年8月基金ab") for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(2, 4))]
        term = Term(" ".join(runs), phrase=True)
        pattern, screen = term_pattern(term), term_screen(term)
        assert pattern is not None and screen is not None
        gaps = ["".join(rng.choice(around) for _ in range(rng.randint(0, 3))) for _ in runs]
        text = "".join(rng.choice(around) for _ in range(rng.randint(0, 5))) + "".join(run + gap for run, gap in zip(runs, gaps))
        if pattern.findall(text):
            assert screen.search(text.encode("utf-8")) is not None, (text, runs)

"""The practical limit: tantivy (Rust) on the same articles, as a Lucene-family engine would index them.

Each article's normalised text (our :func:`search.analysis.normalize`) is indexed into three fields:
``words`` (rjieba precise-mode words, whitespace-separated), ``bigrams`` (every pair of adjacent word
characters, with positions, so that a phrase of bigrams finds any fragment exactly) and ``unigrams``
(for one-character queries), plus ``section`` for filters. A query is read the way our engine reads
it — units separated by spaces, ``-`` exclusions, ``"…"`` phrases, ``OR`` — and every rjieba word of
a unit must match, as a word or as its characters (a phrase of bigrams); the answer is the top 10
(stored ids fetched) with the exact count. No facets, no snippets, in process: a lower bound.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_WORD = re.compile(r"\w")
_BIGRAM = re.compile(r"(?=(\w\w))")


def _analysed(line: str) -> tuple[str, str, str, str, str] | None:
    from search.analysis import normalize, segmenter

    try:
        record = json.loads(line)
    except ValueError:
        return None
    text = normalize(((record.get("title") or "") + "\n" + (record.get("body") or "")).strip())
    words = " ".join(w for w in segmenter().cut(text) if _WORD.search(w))
    bigrams = " ".join(_BIGRAM.findall(text))  # every pair of adjacent word characters (overlapping)
    unigrams = " ".join(_WORD.findall(text))
    return str(record.get("id")), words, bigrams, unigrams, normalize(record.get("section") or "")


def _lines(corpus_dir: Path) -> Iterator[str]:
    for path in sorted(corpus_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            yield from handle


def build(corpus_dir: Path, index_dir: Path, jobs: int = 2) -> dict[str, float]:
    """Index every .jsonl record of ``corpus_dir`` into a new tantivy index; seconds and documents."""
    import tantivy

    index_dir.mkdir(parents=True, exist_ok=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("bigrams", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("unigrams", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("section", tokenizer_name="raw")
    index = tantivy.Index(builder.build(), path=str(index_dir))
    started = time.perf_counter()
    cpu_before = _cpu_seconds()
    writer = index.writer(heap_size=512 * 1024 * 1024, num_threads=jobs)
    count = 0
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for item in pool.imap(_analysed, _lines(corpus_dir), chunksize=256):
            if item is None:
                continue
            doc_id, words, bigrams, unigrams, section = item
            writer.add_document(tantivy.Document(id=doc_id, words=words, bigrams=bigrams, unigrams=unigrams, section=section))
            count += 1
    writer.commit()
    writer.wait_merging_threads()
    return {"build_s": time.perf_counter() - started, "build_cpu_s": _cpu_seconds() - cpu_before, "documents": count}


def _cpu_seconds() -> float:
    """CPU seconds of this process (tantivy's threads) and its reaped children (the analysis pool)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Reference:
    """An open tantivy index answering our benchmark's queries."""

    def __init__(self, index_dir: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        self.index = tantivy.Index.open(str(index_dir))
        self.index.reload()
        self.searcher = self.index.searcher()

    def _unit(self, text: str, phrase: bool) -> Any:
        """A query matching ``text``: every word as a word or as characters (phrase: contiguous)."""
        from search.analysis import segmenter

        t = self.tantivy
        schema = self.index.schema

        def chars(piece: str) -> Any:
            if len(piece) == 1:
                return t.Query.term_query(schema, "unigrams", piece)
            grams = [piece[i : i + 2] for i in range(len(piece) - 1)]
            if len(grams) == 1:
                return t.Query.term_query(schema, "bigrams", grams[0])
            return t.Query.phrase_query(schema, "bigrams", grams)

        pieces = re.findall(r"\w+", text)
        if phrase or len(pieces) != 1:
            return t.Query.boolean_query([(t.Occur.Must, chars(p)) for p in pieces])
        words = [w for w in segmenter().cut(pieces[0]) if _WORD.search(w)] or [pieces[0]]
        clauses = []
        for word in words:
            either = t.Query.boolean_query(
                [(t.Occur.Should, t.Query.term_query(schema, "words", word)), (t.Occur.Should, chars(word))]
            )
            clauses.append((t.Occur.Must, either))
        return t.Query.boolean_query(clauses)

    def query(self, q: str, filters: dict[str, list[str]] | None = None) -> Any:
        """The tantivy query for one of our query strings."""
        from search.analysis import normalize

        t = self.tantivy
        groups: list[list[Any]] = []
        excluded: list[Any] = []
        pending_or = False
        for match in re.finditer(r'(-?)"([^"]*)"|(\S+)', normalize(q.replace("OR", "\ue000"))):
            negated, quoted, plain = match.group(1), match.group(2), match.group(3)
            if plain == "\ue000":
                pending_or = bool(groups)
                continue
            if plain is not None:
                negated = "-" if plain.startswith("-") and len(plain) > 1 else ""
                plain = plain[1:] if negated else plain
                plain = plain.split(":", 1)[1] if ":" in plain else plain
            text = quoted if quoted is not None else plain
            if not re.search(r"\w", text or ""):
                continue
            unit = self._unit(text, quoted is not None)
            if negated:
                excluded.append(unit)
            elif pending_or:
                groups[-1].append(unit)
            else:
                groups.append([unit])
            pending_or = False
        clauses = []
        for group in groups:
            clauses.append((t.Occur.Must, group[0] if len(group) == 1 else t.Query.boolean_query([(t.Occur.Should, u) for u in group])))
        clauses += [(t.Occur.MustNot, unit) for unit in excluded]
        for value in (filters or {}).get("section", []):
            clauses.append((t.Occur.Must, t.Query.term_query(self.index.schema, "section", normalize(value))))
        if not any(occur == t.Occur.Must for occur, _ in clauses):
            clauses.append((t.Occur.Must, t.Query.all_query()))
        return t.Query.boolean_query(clauses)

    def search(self, q: str, filters: dict[str, list[str]] | None = None) -> tuple[int, list[str]]:
        """Exact count and the top 10 ids."""
        result = self.searcher.search(self.query(q, filters), 10, count=True)
        ids = [self.searcher.doc(address)["id"][0] for _score, address in result.hits]
        return result.count, ids

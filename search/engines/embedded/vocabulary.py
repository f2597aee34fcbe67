"""The embedded engine's vocabulary: names and headline words with their document counts, and the
pinyin index did-you-mean and pinyin completions read.

Each segment's store keeps its words already spelled (a :class:`~search.query.pinyin_index.PinyinTable`
written with the segment, see :mod:`search.engines.embedded.segstore`), so the pinyin index of an
open searcher is its segments' tables, memory-mapped: nothing is read or spelled until a word is
looked up, and a new segment (one page added) spells only its own words. A segment whose store
predates the tables (or has no file) has its table spelled from its Whoosh terms on first use.
"""

from __future__ import annotations

from typing import Any

from search.analysis import CJK_RUN
from search.engines.embedded.doctable import PerSearcher, segment_store
from search.engines.embedded.schema import VOCABULARY_FIELDS
from search.query.pinyin_index import KINDS, MAX_CHARS, MIN_CHARS, PinyinIndex, PinyinTable


def segment_vocabulary(leaf: Any) -> dict[str, dict[str, int]]:
    """One segment's names and headline words: ``{kind: {text: documents}}`` (kinds of
    :data:`~search.query.pinyin_index.KINDS`; deleted documents counted, as Whoosh's own
    document frequencies count them)."""
    counts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for fieldname, kind in VOCABULARY_FIELDS.items():
        if fieldname not in leaf.schema:
            continue
        field_counts = counts[kind]
        # The segment's own terms: a MultiReader merges every term's infos across segments in
        # Python, which cost 150 µs a term against 18 µs here.
        for term, info in leaf.iter_field(fieldname):
            text = term.decode("utf-8") if isinstance(term, bytes) else str(term)
            if MIN_CHARS <= len(text) <= MAX_CHARS and CJK_RUN.fullmatch(text):
                field_counts[text] = field_counts.get(text, 0) + info.doc_frequency()
    return counts


def _vocabulary(searcher: Any) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}  # summed over segments
    for leaf, _offset in searcher.reader().leaf_readers():
        for kind, found in segment_vocabulary(leaf).items():
            kind_totals = totals[kind]
            for text, count in found.items():
                kind_totals[text] = kind_totals.get(text, 0) + count
    entries: dict[str, list[Any]] = {}
    for kind in KINDS:  # a name's kind wins over "word"; the count is the largest
        for text, count in totals[kind].items():
            entry = entries.get(text)
            if entry is None:
                entries[text] = [count, kind]
            else:
                entry[0] = max(entry[0], count)
    return [{"text": text, "count": count, "type": kind} for text, (count, kind) in entries.items()]


_vocabularies = PerSearcher(_vocabulary)


def vocabulary(searcher: Any) -> list[dict[str, Any]]:
    """Chinese names and headline words of 2–12 characters in the index: ``[{"text", "count", "type"}]``
    (``count``: articles holding it in that field; ``type``: word, place, person, org, reporter).
    Cached per searcher."""
    return _vocabularies(searcher)


def pinyin_table(leaf: Any) -> PinyinTable:
    """The pinyin table of one segment: its store's, or spelled from its terms (kept with the store)."""
    store = segment_store(leaf)
    table = store.pinyin
    if table is None:
        table = store.pinyin = PinyinTable.build(segment_vocabulary(leaf))
    return table


_indexes = PerSearcher(lambda searcher: PinyinIndex([pinyin_table(leaf) for leaf, _offset in searcher.reader().leaf_readers()]))


def pinyin_index(searcher: Any) -> PinyinIndex:
    """The pinyin index of every segment a searcher reads (cached per searcher)."""
    return _indexes(searcher)

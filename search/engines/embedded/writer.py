"""A Whoosh segment writer for bulk article postings: postings grouped by term in memory.

Whoosh's ``SegmentWriter`` sends every posting through a ``PostingPool`` (a size estimate, type
asserts and one tuple per posting), sorts all postings at commit, and while writing them looks up
each posting's document length in the length column it just wrote. Profiled on 2,500 real articles
that bookkeeping took about a third of the writing time. :class:`ArticleWriter` keeps Whoosh's
document and segment handling as it is and changes only that:

* :class:`TermPool` groups postings by ``(field, term)`` as they arrive, in compact arrays. Documents
  are added in increasing number, so each term's postings are already in order; only the terms are
  sorted at commit.
* The postings are written term by term through the codec's documented ``FieldWriter`` calls
  (``start_field``/``start_term``/``add``/``finish_term``), with document lengths read once per
  field instead of once per posting.

The files written are the same Whoosh 2.7 segment files (``test_writer.py`` compares the two writers'
indexes posting by posting). Memory: about 30 bytes a posting, held until the segment is written;
:mod:`search.engines.embedded.bulk` caps the articles per segment to bound it.

Beside the Whoosh files, the writer writes the segment's store (:mod:`search.engines.embedded.segstore`):
the normalised text and facet values of every document it holds — those added, and those a merge
copies from older segments (:meth:`ArticleWriter.add_reader`) — with the fragment postings built
from that text, the word postings of ``title`` and ``body``, and the pinyin table of the segment's
names and headline words (did-you-mean's, :mod:`search.query.pinyin_index`). It is written once the segment's
Whoosh files are complete and before the commit lists the segment, so a reader never sees one
without the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from search.engines.embedded import segstore
from search.engines.embedded.schema import VOCABULARY_FIELDS

_EMPTY = b""
_PACKED = [pack_uint(n) for n in range(256)]  # Frequency values of small counts, shared


class TermPool:
    """Drop-in for Whoosh's ``PostingPool`` in a :class:`SegmentWriter`: postings grouped by term.

    Pre-analysed postings (:meth:`add_given`) are kept per field as ``{word: [docnum, freq or
    positions, docnum, ...]}`` — one flat list a term, keyed by the word itself, which measured three
    times faster to fill than tuples keyed by ``(field, bytes)``. Postings from anywhere else
    (:meth:`add`: other field types, segments merged at commit) keep Whoosh's tuple form.
    """

    def __init__(self) -> None:
        self.fieldnames: set[str] = set()
        self._given: dict[str, tuple[Any, dict[str, list[Any]]]] = {}  # field -> (field object, terms)
        self._other: dict[tuple[str, bytes], list[tuple[int, float, bytes]]] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Add one ``(fieldname, term bytes, docnum, weight, value bytes)`` posting."""
        fieldname, tbytes, docnum, weight, vbytes = item
        self.fieldnames.add(fieldname)
        self._other.setdefault((fieldname, tbytes), []).append((docnum, weight, vbytes or _EMPTY))

    def add_given(self, fieldname: str, field: Any, docnum: int, terms: dict[str, Any]) -> int:
        """Add one document's pre-analysed terms for ``field`` (``{word: [positions]}`` for a
        positional format, ``{word: count}`` otherwise); return the field length to record."""
        entry = self._given.get(fieldname)
        if entry is None:
            entry = self._given[fieldname] = (field, {})
            self.fieldnames.add(fieldname)
        table = entry[1]
        get = table.get
        for word, given in terms.items():
            postings = get(word)
            if postings is None:
                table[word] = [docnum, given]
            else:
                postings.append(docnum)
                postings.append(given)
        if not field.scorable:
            return 0
        if field.format.supports("positions"):
            return sum(map(len, terms.values()))
        return sum(terms.values())

    def field_terms(self, fieldname: str) -> Iterator[tuple[bytes, list[tuple[int, float, bytes]] | Iterator[Any]]]:
        """``(term bytes, postings)`` of one field in term order; postings as ``(docnum, weight, value)``."""
        given_field, given = self._given.get(fieldname, (None, {}))
        keys: dict[bytes, str | None] = {word.encode("utf-8"): word for word in given}
        for key_field, tbytes in self._other:
            if key_field == fieldname:
                keys.setdefault(tbytes, None)
        for tbytes in sorted(keys):
            word = keys[tbytes]
            postings = list(_expand(given_field, given[word])) if word is not None else []
            other = self._other.get((fieldname, tbytes))
            if other:
                postings = sorted(postings + other, key=lambda posting: posting[0]) if postings else other
            yield tbytes, postings

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """Every posting in ``(field, term, docnum)`` order (the ``PostingPool`` interface)."""
        for fieldname in sorted(self.fieldnames):
            for tbytes, postings in self.field_terms(fieldname):
                for docnum, weight, vbytes in postings:
                    yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        """Forget every posting."""
        self._given = {}
        self._other = {}


def _expand(field: Any, flat: list[Any]) -> Iterator[tuple[int, float, bytes]]:
    """``(docnum, weight, value bytes)`` from a flat ``[docnum, freq or positions, ...]`` list."""
    boost = field.format.field_boost
    docnums, givens = flat[0::2], flat[1::2]
    if field.format.supports("positions"):
        encode = field.format.encode
        for docnum, positions in zip(docnums, givens):
            yield docnum, len(positions) * boost, encode(positions)
    else:
        for docnum, count in zip(docnums, givens):
            yield docnum, count * boost, _PACKED[count] if count < 256 else pack_uint(count)


class ArticleWriter(SegmentWriter):
    """``SegmentWriter`` with a :class:`TermPool` and term-by-term posting writing.

    Takes the same arguments as ``SegmentWriter`` (``limitmb`` is accepted and unused: the pool is
    not spilled to disk).
    """

    takes_extras = True  # add_document takes ``_extras`` (see search.engines.embedded.schema)

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool.cleanup()  # Whoosh's own pool has written nothing yet
        self.pool = TermPool()
        self._fulltexts: list[bytes] = []  # per document of the new segment, in order
        self._facet_rows: list[tuple[Any, ...]] = []
        self._words: dict[str, segstore.WordPostings] = {}
        self._vocabulary: dict[str, dict[str, int]] = {}  # kind -> {text: documents}, for the pinyin table

    @staticmethod
    def _extras(fields: dict[str, Any]) -> tuple[bytes, tuple[Any, ...]]:
        """A new document's store values: ``_extras`` (popped), or derived from its fields."""
        extras = fields.pop("_extras", None)
        if extras is None:
            from search.engines.embedded.schema import article_extras, document_to_article

            given = {name: value for name, value in fields.items() if not name.startswith("_") and isinstance(value, (str, int, list, tuple))}
            for name in ("title", "body"):
                if isinstance(fields.get(f"_stored_{name}"), str):
                    given[name] = fields[f"_stored_{name}"]
            extras = article_extras(document_to_article(given))
        return extras

    def add_reader(self, reader: Any) -> None:
        """Copy a segment's live documents into this one (a merge), with their store values."""
        from search.engines.embedded.doctable import segment_store

        store = segment_store(reader)
        for local in reader.all_doc_ids():
            self._fulltexts.append(store.fulltext(local))
            self._facet_rows.append(store.facet_row(local))
        super().add_reader(reader)

    def add_document(self, **fields: Any) -> None:
        """Whoosh's ``add_document``, with pre-analysed fields going straight into the pool.

        Documents using features our schema does not (boosts, term vectors, spelling fields) take
        Whoosh's own path.
        """
        from search.engines.embedded.schema import PostingsGiven

        schema = self.schema
        self._check_state()
        fulltext, facets = self._extras(fields)
        names = sorted(name for name in fields if not name.startswith("_"))
        if any(name.startswith("_") and not name.startswith("_stored_") for name in fields) or any(
            name in schema and (schema[name].vector or schema[name].separate_spelling()) for name in names
        ):
            super().add_document(**fields)
            self._fulltexts.append(fulltext)
            self._facet_rows.append(facets)
            return
        self._check_fields(schema, names)
        docnum = self.docnum
        perdoc = self.perdocwriter
        pool = self.pool
        perdoc.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                if isinstance(value, PostingsGiven):
                    length = pool.add_given(name, field, docnum, value.terms)
                else:
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if scorable:
                            length += freq
                        pool.add((name, tbytes, docnum, weight, vbytes))
            stored = fields.get(f"_stored_{name}", value)
            perdoc.add_field(name, field, stored if field.stored else None, length)
            if field.column_type and stored is not None:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(stored))
        perdoc.finish_doc()
        self._fulltexts.append(fulltext)
        self._facet_rows.append(facets)
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        try:
            self._write_postings(reader)
        finally:
            self.fieldwriter.close()
            if reader is not None:
                reader.close()

    def _write_postings(self, reader: Any) -> None:
        """Write every term's postings through the codec's FieldWriter interface (and keep the word
        fields' postings for the segment store)."""
        writer = self.fieldwriter
        for fieldname in sorted(self.pool.fieldnames):
            if fieldname not in self.schema:
                continue
            writer.start_field(fieldname, self.schema[fieldname])
            lengths = _field_lengths(reader, fieldname, self.docnum)
            add = writer.add
            kept = segstore.WordPostings([], [], [], []) if fieldname in segstore.WORD_FIELDS else None
            vocabulary_kind = VOCABULARY_FIELDS.get(fieldname)
            counted = self._vocabulary.setdefault(vocabulary_kind, {}) if vocabulary_kind else None
            for tbytes, postings in self.pool.field_terms(fieldname):
                writer.start_term(tbytes)
                for docnum, weight, vbytes in postings:
                    add(docnum, weight, vbytes, lengths[docnum])
                writer.finish_term()
                if counted is not None:
                    counted[tbytes.decode("utf-8")] = len(postings)
                if kept is not None:
                    kept.terms.append(tbytes.decode("utf-8"))
                    kept.sizes.append(len(postings))
                    kept.docs.extend([posting[0] for posting in postings])
                    kept.counts.extend([int(posting[1]) for posting in postings])
            writer.finish_field()
            if kept is not None:
                self._words[fieldname] = kept

    def _assemble_segment(self) -> None:
        """Whoosh's compound file, moving the segment's files in rather than copying them, so a
        segment being finished never takes its size twice on disk (:mod:`.compound`); then the
        segment's store beside it (not inside it: written after the compound file is assembled, so
        the assembly, which takes every file named after the segment, never sees it)."""
        if self.compound:
            from search.engines.embedded.compound import assemble_by_moving

            segment = self.get_segment()
            assemble_by_moving(segment, self.storage)
            segment.compound = True
        folder = getattr(self.storage, "folder", None)
        if folder is None or not self._fulltexts:
            return  # a storage without a directory: readers build the store in memory
        if len(self._fulltexts) != self.docnum:
            raise RuntimeError(f"segment store out of step: {len(self._fulltexts)} texts for {self.docnum} documents")
        arrays, extra = segstore.store_arrays(self._fulltexts, self._facet_rows, self._words, self._vocabulary)
        segstore.write_store(segstore.store_path(folder, self.get_segment().segment_id()), self.docnum, arrays, extra)
        self._fulltexts, self._facet_rows, self._words, self._vocabulary = [], [], {}, {}


def _field_lengths(reader: Any, fieldname: str, doccount: int) -> list[int]:
    """Every document's length in ``fieldname`` (0 where not stored), read once."""
    if reader is None:
        return [0] * doccount
    length = reader.doc_field_length
    return [length(docnum, fieldname, 0) or 0 for docnum in range(doccount)]


#: Incremental commits merge small segments once there are this many of them.
MERGE_FACTOR = 10
#: What one incremental commit may copy at most, in live documents.
MERGE_LIMIT = 20_000
#: Segments below this many live documents count as small. A full build writes segments of up to
#: 20,000 articles (19,231 each at 1,000,000): they must never count as small, or adding one page
#: to a large archive would copy one of them whole (measured: 18,342 articles rewritten, 6 s).
SMALL_SEGMENT = MERGE_LIMIT // 4


def segments_to_merge(live_counts: list[int]) -> list[int]:
    """Which segments (positions in ``live_counts``) an incremental commit merges: none until
    :data:`MERGE_FACTOR` segments are below :data:`SMALL_SEGMENT` live documents, then the
    smallest of them, as many as fit together under :data:`MERGE_LIMIT` (at least two)."""
    small = sorted((count, position) for position, count in enumerate(live_counts) if count < SMALL_SEGMENT)
    if len(small) < MERGE_FACTOR:
        return []
    chosen, total = [], 0
    for count, position in small:
        if total + count > MERGE_LIMIT:
            break
        chosen.append(position)
        total += count
    return chosen if len(chosen) >= 2 else []


def merge_small_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh ``mergetype`` for incremental commits: merge what :func:`segments_to_merge` picks
    into the new segment.

    Whoosh's default policy (``MERGE_SMALL``) merges by a Fibonacci rule over the sorted segment
    sizes; over the fifty equal segments of a million-article build it picks half the archive, so
    adding one page would rewrite 500,000 articles. This policy bounds what a commit copies.
    """
    from whoosh.reading import SegmentReader

    live = [segment.doc_count_all() - segment.deleted_count() for segment in segments]
    # A segment whose every document was deleted (a page added, then removed) is dropped at once:
    # there is nothing to copy, and each one left costs every search and every commit a reader.
    empty = {id(segment) for segment, count in zip(segments, live) if count == 0}
    rest = [(segment, count) for segment, count in zip(segments, live) if count > 0]
    chosen = [rest[position][0] for position in segments_to_merge([count for _, count in rest])]
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    gone = empty | {id(segment) for segment in chosen}
    return [segment for segment in segments if id(segment) not in gone]

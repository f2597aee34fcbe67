"""Whoosh's compound segments read in place: the same bytes as Whoosh's own copying reader, no copy."""

from __future__ import annotations

import io
import pickle
import tracemalloc
from pathlib import Path

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile

from search.api import Archive, rebuild
from search.engines.embedded import inplace
from search.engines.embedded.indexer import current_generation_dir


def compound_parts(index_dir: Path) -> list[tuple[CompoundStorage, str]]:
    gen_dir = current_generation_dir(index_dir)
    storage = FileStorage(str(gen_dir))
    found = []
    for seg in sorted(gen_dir.glob("*.seg")):
        compound = CompoundStorage(storage.open_file(seg.name), use_mmap=True)
        found += [(compound, name) for name in compound.list()]
    return found


def test_every_part_of_a_segment_reads_the_same_in_place(seeds_dir: Path, tmp_path: Path) -> None:
    rebuild(seeds_dir, tmp_path / "index")
    parts = compound_parts(tmp_path / "index")
    assert parts, "a full build writes compound segments"
    inplace.install()
    for compound, name in parts:
        part = compound.open_file(name)
        assert isinstance(part, inplace.InPlaceBufferFile)
        copy = BufferFile.__new__(BufferFile)
        BufferFile.__init__(copy, part._buf, name=name)  # Whoosh's reader: a BytesIO copy of the part
        length = compound.file_length(name)
        # Sequential reads of every size, seeks from each end, lines, random gets, a subset.
        for position in sorted({0, 1, length // 3, length // 2, max(0, length - 5)}):
            for f in (part, copy):
                f.seek(position)
            assert part.read(7) == copy.read(7) and part.tell() == copy.tell()
            assert part.readline() == copy.readline()
            assert part.get(position, 11) == copy.get(position, 11)
        part.seek(-3, io.SEEK_END), copy.seek(-3, io.SEEK_END)
        assert part.read() == copy.read() and part.read(5) == b""
        assert part.subset(0, min(length, 16)).read() == copy.subset(0, min(length, 16)).read()
        part.close()
        copy.close()


def test_pickles_in_a_part_load_through_the_in_place_reader() -> None:
    data = pickle.dumps({"terms": list(range(50)), "name": "高新区"}) + b"tail"
    part = inplace.InPlaceBufferFile(memoryview(data), name="part")
    assert part.read_pickle() == {"terms": list(range(50)), "name": "高新区"}
    assert part.read() == b"tail"


def copied_bytes(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated by Whoosh's file wrappers (where its BufferFile copied a part into BytesIO)."""
    wrappers = snapshot.filter_traces([tracemalloc.Filter(True, "*whoosh/filedb/structfile.py")])
    return sum(stat.size for stat in wrappers.statistics("filename"))


def test_searching_keeps_no_private_copy_of_the_segments(seeds_dir: Path, tmp_path: Path) -> None:
    # A server worker's private memory must not hold a copy of every segment it reads: with Whoosh's
    # own reader, opening a searcher copied the postings, terms and stored fields of each segment.
    rebuild(seeds_dir, tmp_path / "index")
    segment_bytes = sum(p.stat().st_size for p in current_generation_dir(tmp_path / "index").glob("*.seg"))
    tracemalloc.start()
    try:
        archive = Archive.open(tmp_path / "index")
        for q in ("高新区", "小微企业 融资", "孙庆辉", "营商环境"):
            assert archive.search(q).total > 0
        assert archive.article(archive.search("高新区").results[0].id) is not None  # stored fields read too
        held = copied_bytes(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    archive.close()
    assert segment_bytes > 100_000 and held < segment_bytes / 20

"""A Whoosh compound segment file assembled by moving its parts in, not copying them.

Whoosh writes a segment as several files, then copies them into one compound ``.seg`` file and
deletes them (``CompoundStorage.assemble``): for a moment the segment takes its size twice. For a
full build of one segment that made the new generation need twice its size on top of the current
one — three generations of space. :func:`assemble_by_moving` writes the same file (the same layout:
a header with the directory's position and length, the parts one after the other, the pickled
directory and options) but moves each part in from its end, a megabyte at a time, truncating the
part as it goes, so the segment never takes more than its size plus a megabyte.

A run killed in the middle leaves a segment no TOC lists (the next full run deletes the generation;
an incremental run's next commit deletes the segment's files), so moving is as safe as copying.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import StructFile
from whoosh.system import _INT_SIZE, _LONG_SIZE

_CHUNK = 1 << 20


def _move_in(part: Path, target: int, offset: int, length: int) -> None:
    """Move the ``length`` bytes of ``part`` to ``offset`` in the open file ``target``, from the end."""
    fd = os.open(part, os.O_RDWR)
    try:
        end = length
        while end > 0:
            start = max(0, end - _CHUNK)
            data = os.pread(fd, end - start, start)
            written = 0
            while written < len(data):
                written += os.pwrite(target, data[written:], offset + start + written)
            os.ftruncate(fd, start)
            end = start
    finally:
        os.close(fd)


def assemble_by_moving(segment: Any, storage: Any) -> None:
    """Assemble ``segment``'s files in ``storage`` (a Whoosh ``FileStorage``) into its compound file,
    as ``segment.create_compound_file(storage)`` does, without ever holding two copies."""
    names = segment.list_files(storage)
    assert names and not any(name.endswith(segment.COMPOUND_EXT) for name in names), names
    folder = Path(storage.folder)
    directory: dict[str, dict[str, Any]] = {}
    position = _LONG_SIZE + _INT_SIZE  # the header: where the directory is, and its length
    for name in names:
        length = storage.file_length(name)
        directory[name] = {"offset": position, "length": length, "modified": storage.file_modified(name)}
        position += length
    fd = os.open(folder / segment.make_filename(segment.COMPOUND_EXT), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    handle = os.fdopen(fd, "r+b")
    try:
        os.ftruncate(fd, position)  # sparse until the parts arrive
        for name in names:
            _move_in(folder / name, fd, directory[name]["offset"], directory[name]["length"])
            storage.delete_file(name)
        dbfile = StructFile(handle)
        dbfile.seek(position)
        CompoundStorage.write_dir(dbfile, 0, directory, {})  # closes the file
    except BaseException:
        handle.close()
        raise

"""Whoosh's compound segment files read in place, not copied into each process's memory.

Whoosh 2.7 memory-maps a compound segment file (``.seg``) and hands each of its parts (postings,
terms, stored fields, lengths) to the codec as a ``BufferFile`` over a view of the map. But a
``BufferFile`` also wraps that view in ``io.BytesIO(view)``, and ``BytesIO`` copies what it is given:
every part a searcher opens is duplicated into the process's private memory. At 50,000 articles that
was 190 MB in each server worker (3.8 KB an article, growing with the archive), on top of the pages of
the map itself.

:func:`open_dir` (Whoosh's ``open_dir``, which every index opening here goes through) first
replaces the ``BufferFile`` the compound storage builds with one whose sequential reads go through a small buffered reader over the same view: the parts stay in the page cache, shared
by every worker and reclaimable, and random reads (``get``, most of what the codec does) were already
slices of the view. Whoosh is pinned to 2.7.x, its last line, so the class replaced will not move.
"""

from __future__ import annotations

import io
from typing import Any

from whoosh.filedb.structfile import BufferFile

#: Bytes a part's reader copies out of the map at a time (block headers and pickles are small).
READ_BUFFER = 4096


class _ViewReader(io.RawIOBase):
    """A read-only, seekable raw file over a memoryview (no copy of the view)."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        size = max(0, min(len(target), len(self._view) - self._position))
        target[:size] = self._view[self._position : self._position + size]
        self._position += size
        return size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._position = offset
        elif whence == io.SEEK_CUR:
            self._position += offset
        else:
            self._position = len(self._view) + offset
        if self._position < 0:
            raise ValueError("negative seek position")
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._view.release()  # this reader's own view: the map can be closed once Whoosh is done
        super().close()


class InPlaceBufferFile(BufferFile):
    """Whoosh's ``BufferFile`` with its file interface read from the view instead of a copy of it."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        self._buf = buf
        self._name = name
        self.file = io.BufferedReader(_ViewReader(memoryview(buf)), buffer_size=READ_BUFFER)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def subset(self, position: int, length: int, name: str | None = None) -> "InPlaceBufferFile":
        return InPlaceBufferFile(self._buf[position : position + length], name=name or self._name)


def install() -> None:
    """Make Whoosh's compound storage open its parts as :class:`InPlaceBufferFile` (idempotent)."""
    from whoosh.filedb import compound

    compound.BufferFile = InPlaceBufferFile


def open_dir(path: str) -> Any:
    """``whoosh.index.open_dir(path)``, its compound segments read in place (:func:`install`)."""
    from whoosh import index as whoosh_index

    install()
    return whoosh_index.open_dir(path)

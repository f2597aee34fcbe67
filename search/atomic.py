"""Files that readers may see at any moment: JSON written atomically, and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


#: JSON this short is written indented, for people; longer JSON on one line, for speed.
READABLE_BYTES = 1 << 20


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` via a temporary file, fsync and ``os.replace``: readers see old or new."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # The C encoder (json.dumps without indent) is 3x faster than json.dump's pure-Python one: it
    # matters for an index manifest (22 MB at a million articles, written twice per run). Files
    # people may open (saved-query state, small manifests) are written again indented.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if len(text) < READABLE_BYTES:
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """fsync a directory, so a rename inside it survives a crash (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_json(path: Path) -> Any | None:
    """Parsed JSON at ``path``, or None if it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



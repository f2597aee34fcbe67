"""Files that readers may see at any moment: JSON written atomically, and content hashes."""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
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


#: Below this size :func:`read_json_without` parses the whole file (it is quick).
_PARTIAL_FROM = 1 << 20
_SPACE = re.compile(r"[ \t\n\r]*")


def read_json_without(path: Path, key: str, next_key: str) -> Any | None:
    """The JSON object at ``path`` without its member ``key``, or None if it is missing or unreadable.

    For a file written by :func:`write_json_atomic` (keys sorted), whose member ``key`` is most of
    its bytes (an index manifest's ``files``: every article id, 18 MB at a million articles), the
    members around it are read without parsing it: those before it one by one up to it, those after
    it from the last ``"next_key": `` (the key that sorts after ``key``) to the end, which must parse
    as the rest of the object. Anything else (a small file, another layout) is parsed whole. Unlike
    :func:`read_json`, a large file whose skipped member alone is damaged still reads.
    """
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size >= _PARTIAL_FROM:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    found = _members_around(data, key, next_key)
                if found is not None:
                    return found
    except OSError:
        return None
    whole = read_json(path)
    if isinstance(whole, dict):
        whole.pop(key, None)
    return whole


def _members_around(data: Any, key: str, next_key: str) -> dict[str, Any] | None:
    """:func:`read_json_without` of a large file's bytes, or None if they are not laid out so."""
    try:
        return _split_members(data, key, next_key)
    except ValueError:  # not JSON where it should be: the whole file is parsed (and judged) instead
        return None


def _split_members(data: Any, key: str, next_key: str) -> dict[str, Any] | None:
    marker = json.dumps(key).encode() + b":"
    cut = data.find(marker)
    after = data.rfind(json.dumps(next_key).encode() + b":")
    if cut < 0 or after <= cut:
        return None
    head = data[: cut + len(marker)].decode("utf-8")  # both cuts are at an ASCII quote
    decoder = json.JSONDecoder()
    members: dict[str, Any] = {}
    at = _SPACE.match(head, 0).end()  # type: ignore[union-attr]
    if head[at : at + 1] != "{":
        return None
    at += 1
    while True:  # the members before ``key``, one by one: ``key`` must be one of them, not nested
        at = _SPACE.match(head, at).end()  # type: ignore[union-attr]
        if head[at : at + 1] != '"':
            return None
        name, at = json.decoder.scanstring(head, at + 1)  # type: ignore[attr-defined]
        at = _SPACE.match(head, at).end()  # type: ignore[union-attr]
        if head[at : at + 1] != ":":
            return None
        if name == key:
            if at + 1 != len(head):
                return None  # the first ``"key":`` seen was inside another member
            break
        value, at = decoder.raw_decode(head, _SPACE.match(head, at + 1).end())  # type: ignore[union-attr]
        members[name] = value
        at = _SPACE.match(head, at).end()  # type: ignore[union-attr]
        if head[at : at + 1] != ",":
            return None
        at += 1
    tail = "{" + data[after:].decode("utf-8")
    rest, end = decoder.raw_decode(tail)
    if tail[end:].strip() or not isinstance(rest, dict):
        return None  # ``"next_key":`` was inside a member: the object did not end with it
    members.update(rest)
    return members


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



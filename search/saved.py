"""Saved queries: the TOML file, the runner, and ``--new-only`` state.

The file (default ``./saved_queries.toml``)::

    [queries.xiaowei]
    q = "小微企业 融资"
    filters = { place = "高新区", year = "2024" }
    sort = "newest"
    limit = 20

``--new-only`` state lives beside the index (``index_data/saved_state.json``): for each query name, the
ids that earlier ``--new-only`` runs returned. Those are never returned again by a ``--new-only`` run.
Rendering (table/json/jsonl/csv) is the CLI's job; this module returns plain data.
"""

from __future__ import annotations

import fcntl
import os
import re
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from search.api import Archive, SearchResponse
from search.atomic import read_json, write_json_atomic

DEFAULT_FILE = "saved_queries.toml"
STATE_NAME = "saved_state.json"
_STATE_LOCK = ".saved_state.lock"
_KEYS = {"q", "filters", "sort", "limit", "page"}
_MAX_LIMIT = 1000
MAX_FILE_BYTES = 1024 * 1024  # a saved-queries file is a few KiB
_SCAN_PAGE = 200  # page size used to look past already-seen hits in --new-only mode


class SavedQueryError(ValueError):
    """A problem with the saved-queries file or a requested name (a one-line message)."""


@dataclass(frozen=True)
class SavedQuery:
    """One named query from the file."""

    name: str
    q: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 10
    page: int = 1


@dataclass
class SavedResult:
    """The outcome of running one saved query."""

    query: SavedQuery
    response: SearchResponse
    new_only: bool = False
    previous_run: str | None = None  # when the last --new-only run of this query was (UTC, ISO)

    def to_dict(self) -> dict[str, Any]:
        """``{"name", ...the search JSON}`` (one line of ``--format jsonl``)."""
        data = {"name": self.query.name, **self.response.to_dict()}
        if self.new_only:
            data["new_only"] = True
            data["since"] = self.previous_run
        return data


# ---------------------------------------------------------------------------------------------
# The file


def _line_of(text: str, name: str) -> int | None:
    pattern = re.compile(r"^\s*\[\s*queries\s*\.\s*(\"|')?" + re.escape(name) + r"(\"|')?\s*\]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _key_line(text: str, name: str, key: str) -> int | None:
    """The line of ``key = …`` inside the table ``[queries.NAME]`` (or inside its ``filters``), so an
    error points at the bad key, not at the table's header."""
    header = _line_of(text, name)
    if header is None:
        return None
    lines = text.splitlines()
    pattern = re.compile(r"(?:^|[{,\s])[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number in range(header, len(lines)):
        line = lines[number]
        if re.match(r"\s*\[", line):
            break  # the next table
        if pattern.search(line.split("#", 1)[0]):
            return number + 1
    return None


def _filter_values(value: Any) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in items):
        return None
    return [str(item) for item in items]


def _parse_query(name: str, table: Any, where: str, text: str = "", path: str = "") -> SavedQuery:
    from search.query.filters import FACETS, SORTS

    def at(key: str) -> str:
        """``where`` moved to the line of ``key`` when it can be found."""
        line = _key_line(text, name, key) if text else None
        return f"{path}, line {line}" if line and path else where

    if not isinstance(table, dict):
        raise SavedQueryError(f"{where}: query {name!r} must be a table like [queries.{name}]")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SavedQueryError(f"{at(unknown[0])}: query {name!r} has unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})")
    q = table.get("q", "")
    if not isinstance(q, str):
        raise SavedQueryError(f"{at('q')}: query {name!r}: q must be a string")
    raw_filters = table.get("filters", {})
    if not isinstance(raw_filters, dict):
        raise SavedQueryError(f"{at('filters')}: query {name!r}: filters must be a table, e.g. {{ year = \"2024\" }}")
    filters: dict[str, list[str]] = {}
    allowed = tuple(FACETS) + ("from", "to")
    for key, value in raw_filters.items():
        if key not in allowed:
            raise SavedQueryError(f"{at(key)}: query {name!r}: unknown filter {key!r} (allowed: {', '.join(allowed)})")
        values = _filter_values(value)
        if values is None:
            raise SavedQueryError(f"{at(key)}: query {name!r}: filter {key!r} must be a string or a list of strings")
        filters[key] = values
    if not q.strip() and not filters:
        raise SavedQueryError(f"{where}: query {name!r} has neither q nor filters")
    sort = table.get("sort", "relevance")
    if sort not in SORTS:
        raise SavedQueryError(f"{at('sort')}: query {name!r}: sort must be one of {', '.join(SORTS)}, not {sort!r}")
    limit = table.get("limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise SavedQueryError(f"{at('limit')}: query {name!r}: limit must be a whole number from 1 to {_MAX_LIMIT}")
    page = table.get("page", 1)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise SavedQueryError(f"{at('page')}: query {name!r}: page must be a whole number from 1")
    return SavedQuery(name=name, q=q, filters=filters, sort=sort, limit=limit, page=page)


def load_saved_queries(path: str | Path) -> dict[str, SavedQuery]:
    """Read and validate a saved-queries file; raises :class:`SavedQueryError` with a one-line message."""
    path = Path(path)
    try:
        if path.exists() and not path.is_file():  # a directory, a device (/dev/zero), a pipe
            raise SavedQueryError(f"saved queries file {path} is not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SavedQueryError(f"saved queries file {path} is larger than {MAX_FILE_BYTES // 1024} KiB; not a saved-queries file")
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise SavedQueryError(f"saved queries file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SavedQueryError(f"cannot read saved queries file {path}: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already ends with "(at line N, column M)".
        raise SavedQueryError(f"{path}: invalid TOML: {error}") from None
    tables = data.get("queries")
    if tables is None:
        raise SavedQueryError(f"{path}: no [queries.NAME] tables found")
    if not isinstance(tables, dict):
        raise SavedQueryError(f"{path}: 'queries' must be a table of [queries.NAME] tables")
    queries = {}
    for name, table in tables.items():
        line = _line_of(text, name)
        where = f"{path}, line {line}" if line else str(path)
        queries[name] = _parse_query(name, table, where, text, str(path))
    return queries


def select_queries(queries: dict[str, SavedQuery], names: Sequence[str], run_all: bool = False) -> list[SavedQuery]:
    """The queries to run, in the order asked (all, in file order, with ``run_all``)."""
    if run_all:
        if names:
            raise SavedQueryError("give query names or --all, not both")
        if not queries:
            raise SavedQueryError("the saved queries file defines no queries")
        return list(queries.values())
    if not names:
        raise SavedQueryError("name at least one saved query, or use --all")
    unknown = [name for name in names if name not in queries]
    if unknown:
        known = ", ".join(queries) or "none"
        raise SavedQueryError(f"unknown saved query {unknown[0]!r} (defined: {known})")
    return [queries[name] for name in names]


# ---------------------------------------------------------------------------------------------
# Running


@contextmanager
def _state_lock(index_dir: Path) -> Iterator[None]:
    # Two cron jobs running --new-only at once must not both return (or both lose) the same ids.
    fd = os.open(index_dir / _STATE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _load_state(path: Path) -> dict[str, Any]:
    state = read_json(path)
    if not isinstance(state, dict) or not isinstance(state.get("queries"), dict):
        return {"format": 1, "queries": {}}
    return state


def _new_hits(archive: Archive, query: SavedQuery, seen: set[str]) -> SearchResponse:
    """The first ``limit`` hits not in ``seen``, looking past seen ones page by page."""
    first = archive.search(query.q, filters=query.filters, sort=query.sort, page=1, limit=_SCAN_PAGE)
    fresh = [hit for hit in first.results if hit.id not in seen]
    unseen_total = len(fresh)
    page = 1
    while page * _SCAN_PAGE < first.total:
        page += 1
        more = archive.search(query.q, filters=query.filters, sort=query.sort, page=page, limit=_SCAN_PAGE)
        batch = [hit for hit in more.results if hit.id not in seen]
        unseen_total += len(batch)
        fresh.extend(batch)
        if not more.results:
            break
    first.results = fresh[: query.limit]
    first.total = unseen_total  # in --new-only mode, total counts the matches not returned before
    first.page, first.limit = 1, query.limit
    return first


def run_saved(archive: Archive, queries: Sequence[SavedQuery], new_only: bool = False) -> list[SavedResult]:
    """Run saved queries against ``archive``; with ``new_only`` skip and then remember returned ids."""
    if not new_only:
        return [
            SavedResult(q, archive.search(q.q, filters=q.filters, sort=q.sort, page=q.page, limit=q.limit)) for q in queries
        ]
    state_path = archive.index_dir / STATE_NAME
    with _state_lock(archive.index_dir):
        state = _load_state(state_path)
        results = []
        for query in queries:
            record = state["queries"].setdefault(query.name, {"seen": []})
            seen = set(record.get("seen", []))
            previous = record.get("last_run") if isinstance(record.get("last_run"), str) else None
            response = _new_hits(archive, query, seen)
            record["seen"] = sorted(seen | {hit.id for hit in response.results})
            record["last_run"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            results.append(SavedResult(query, response, new_only=True, previous_run=previous))
        write_json_atomic(state_path, state)
    return results

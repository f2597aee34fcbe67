"""Downloads of a whole result set (every article the search finds, not one page) as CSV or JSON Lines.

``GET /export.csv?q=…&place=…`` and ``GET /export.jsonl?…`` take the parameters of ``/search``. The
body is streamed a row at a time from one snapshot of the index; at most
:data:`web.views.EXPORT_MAX_ROWS` articles are sent (the page says so, and ``newsearch export`` has no
cap). Parameters are checked before the first byte is sent, so a bad one is a 400, never a broken file.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, request, stream_with_context
from werkzeug.exceptions import ServiceUnavailable

from search.exporting import csv_lines, jsonl_lines
from web.archive import get_archive, query_error_types
from web.params import ParamError, SearchState, parse_state
from web.views import EXPORT_MAX_ROWS, chinese_query_error

bp = Blueprint("export", __name__)

#: Downloads streaming at once. A download holds a server thread until its client has read it; more
#: at once would let a few clients that never read take every thread (they are dropped after the
#: server's stalled-response timeout, see web/server.py).
MAX_CONCURRENT_DOWNLOADS = 2
_downloads = threading.BoundedSemaphore(MAX_CONCURRENT_DOWNLOADS)


def _articles(state: SearchState) -> Iterator[object]:
    try:
        found = get_archive().export(q=state.q, filters=state.engine_filters(), sort=state.sort)
    except query_error_types() as error:
        message, param = chinese_query_error(str(error))
        raise ParamError(message, param) from error
    # Open the snapshot now (a missing index is a 503 page, not a download cut short).
    first = list(itertools.islice(found, 1))
    return itertools.chain(first, itertools.islice(found, EXPORT_MAX_ROWS - 1))


def _filename(state: SearchState, suffix: str) -> str:
    return f"newsearch-export.{suffix}"


def _download(make_lines: Callable[[Iterator[object]], Iterator[str]], state: SearchState, mimetype: str, suffix: str) -> Response:
    """Stream the result set of ``state`` as ``make_lines`` writes it, holding one of the download
    slots (503 when none is free) until the stream ends, however it ends."""
    if not _downloads.acquire(blocking=False):
        raise ServiceUnavailable(description=f"服务器正在生成其他下载（最多同时 {MAX_CONCURRENT_DOWNLOADS} 个），请稍后再试。")
    try:
        lines = make_lines(_articles(state))
    except BaseException:
        _downloads.release()
        raise

    def held() -> Iterator[bytes]:
        try:
            for line in lines:
                yield line.encode("utf-8")
        finally:
            _downloads.release()

    response = Response(stream_with_context(held()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(state, suffix)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.csv")
def results_csv() -> Response:
    """The result set as CSV with a UTF-8 byte-order mark (Excel reads it as UTF-8)."""
    state = parse_state(request.args)
    return _download(csv_lines, state, "text/csv; charset=utf-8", "csv")  # type: ignore[arg-type]


@bp.get("/export.jsonl")
def results_jsonl() -> Response:
    """The result set as JSON Lines: every field of each article."""
    state = parse_state(request.args)
    return _download(jsonl_lines, state, "application/x-ndjson; charset=utf-8", "jsonl")  # type: ignore[arg-type]

"""Error handlers: friendly pages (or JSON under /api) for 400, 404, 405, 503 and anything unexpected.

No input may produce a bare 500: every exception is caught here, logged, and answered with a page
that says what happened and what to do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.api import IndexDamaged, IndexMissing
from web.params import ParamError

TITLES: dict[int, str] = {
    400: "检索参数有误",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "请求内容太大",
    414: "请求地址太长",
    503: "索引尚未建立",
    500: "服务器出了点问题",
}

ERROR_NAMES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    503: "index_missing",
    500: "internal_error",
}


def wants_json() -> bool:
    """True for the JSON API (and the health check), whose errors are JSON too."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(
    status: int, message: str, *, error: str | None = None, title: str | None = None, **extra: Any
) -> Response | tuple[Any, int]:
    """An error as JSON ``{"error", "status", "message"}`` under /api, else the error page.

    ``error`` and ``title`` replace the status's usual error name and page title."""
    if wants_json():
        name = error or ERROR_NAMES.get(status, "error")
        return jsonify({"error": name, "status": status, "message": message, **extra}), status
    title = title or TITLES.get(status, "出错了")
    try:
        return render_template("error.html", status=status, title=title, message=message, state=_state_or_none(), **extra), status
    except Exception:  # noqa: BLE001 - a broken template must not turn an error page into a traceback
        current_app.logger.exception("error page failed to render")
        return Response(f"{status} {title}\n{message}\n", status=status, mimetype="text/plain")


def _state_or_none() -> Any:
    """The search state of the failed request (to refill the search box), if it parses."""
    from web.params import MAX_QUERY_CHARS, SearchState, parse_state

    try:
        return parse_state(request.args)
    except Exception:  # noqa: BLE001 - the error may be about these very parameters
        q = (request.args.get("q") or "").strip()
        return SearchState(q=q) if len(q) <= MAX_QUERY_CHARS else None


def _retry_url(error: ParamError) -> str | None:
    """This request without the offending parameter (``None`` if that leaves nothing to retry)."""
    if not error.param:
        return None
    kept = [(name, value) for name, value in request.args.items(multi=True) if name not in (error.param, "page")]
    if not kept:
        return None
    return request.path + "?" + urlencode(kept)


def handle_http_exception(error: HTTPException) -> Response | tuple[Any, int]:
    """400/404/405/… with a message (ParamError carries a Chinese description)."""
    status = error.code or 500
    if status == 404:
        custom = error.description != type(error).description
        message = error.description if custom else "没有找到这个页面。检查一下链接，或者从检索页重新开始。"
    elif status == 400:
        message = error.description or "请求参数有误。"
        if isinstance(error, ParamError):
            return error_response(400, message, param=error.param, retry_url=_retry_url(error))
    elif status == 405:
        message = "这个地址只支持 GET 请求。"
    elif status == 503:  # not the index (IndexMissing has its own handler): the server is busy
        return error_response(503, error.description or "服务器繁忙，请稍后再试。", error="busy", title="服务器繁忙")
    else:
        message = error.description or TITLES.get(status, "")
    return error_response(status, message)


def handle_index_missing(error: IndexMissing) -> Response | tuple[Any, int]:
    """503 while there is no index (or only a damaged one), explaining how to build one."""
    if isinstance(error, IndexDamaged):
        logged = current_app.extensions.setdefault("newsearch.damage_logged", set())
        if str(error) not in logged:  # once per distinct damage, not once per request
            if len(logged) > 100:
                logged.clear()
            logged.add(str(error))
            current_app.logger.error("index damaged, refusing to serve it: %s", error)
        return error_response(
            503,
            "索引文件已损坏，或在服务期间被改动，暂时无法检索。请在服务器上运行下面的命令，它会从 seeds/ "
            "目录中的版面文件重建索引；完成后刷新本页即可，无需重启服务。",
            error="index_damaged",
            title="索引暂不可用",
            command="newsearch index",
            problems=error.problems[:5],
        )
    current_app.logger.warning("no index: %s", error)
    return error_response(
        503,
        "还没有可检索的索引。请在服务器上运行下面的命令，从 seeds/ 目录中的版面文件建立索引；完成后刷新本页即可，无需重启服务。",
        command="newsearch index",
    )


def handle_unexpected(error: Exception) -> Response | tuple[Any, int]:
    """Log the traceback and answer with a calm 500 page."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.full_path)
    return error_response(500, "处理这个请求时发生了意外错误，已记录在服务器日志中。请稍后再试，或换个检索词。")


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IndexMissing, handle_index_missing)
    app.register_error_handler(Exception, handle_unexpected)

"""HTTP to a SolrCloud cluster: failover between nodes, credentials from the environment.

Any node of a SolrCloud cluster answers for every collection (it forwards to the replicas that hold
the shards), so newsearch is given one or more node URLs (``NEWSEARCH_SOLR`` or ``--solr``, several
separated by commas). A request that cannot reach a node — refused, reset, timed out, or answered
503 while the node starts or stops — is retried on the next node; requests are idempotent (searches,
and updates keyed by id), so a retry never doubles anything.

Credentials (Solr's BasicAuthPlugin) come from the environment, never from a command line that
``ps`` would show: ``NEWSEARCH_SOLR_USER`` and ``NEWSEARCH_SOLR_PASSWORD``. ``NEWSEARCH_SOLR_CA``
names a CA bundle for a cluster served over TLS with a private CA.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

#: Seconds to wait for a node to answer (a search; collection admin calls get longer).
DEFAULT_TIMEOUT = float(os.environ.get("NEWSEARCH_SOLR_TIMEOUT", "30"))
ADMIN_TIMEOUT = 180.0
_RETRY_STATUS = {502, 503, 504}
_ROUNDS = 3  # passes over the node list before giving up (a node may be restarting)


class SolrError(RuntimeError):
    """Solr answered with an error (``status`` is the HTTP status; 0 if no node could be reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SolrUnreachable(SolrError):
    """No node of the cluster could be reached."""


def parse_urls(urls: str | Sequence[str]) -> list[str]:
    """``"http://a:8983/solr, http://b:8983/solr"`` -> the node base URLs, without trailing slashes."""
    items = urls.split(",") if isinstance(urls, str) else list(urls)
    found = [item.strip().rstrip("/") for item in items if item and item.strip()]
    for url in found:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"bad Solr URL {url!r}: expected http://host:port/solr")
    if not found:
        raise ValueError("no Solr URL given: use --solr URL or NEWSEARCH_SOLR")
    return found


class SolrClient:
    """A small, thread-safe Solr client over ``requests`` (one pooled session)."""

    def __init__(self, urls: str | Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.urls = parse_urls(urls)
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=len(self.urls), pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        user, password = os.environ.get("NEWSEARCH_SOLR_USER"), os.environ.get("NEWSEARCH_SOLR_PASSWORD")
        if user:
            self.session.auth = (user, password or "")
        if os.environ.get("NEWSEARCH_SOLR_CA"):
            self.session.verify = os.environ["NEWSEARCH_SOLR_CA"]
        self._preferred = 0
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        """The node URLs, for messages."""
        return ", ".join(self.urls)

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        data: Any = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a request to ``{node}/{path}`` (failing over between nodes); the parsed JSON answer.

        Raises :class:`SolrError` for an error answer and :class:`SolrUnreachable` when no node answers.
        """
        with self._lock:
            start = self._preferred
        last: Exception | None = None
        for attempt in range(_ROUNDS * len(self.urls)):
            index = (start + attempt) % len(self.urls)
            url = f"{self.urls[index]}/{path.lstrip('/')}"
            try:
                response = self.session.request(
                    method, url, params=params, data=data, json=json_body, headers=headers,
                    timeout=timeout or self.timeout,
                )  # fmt: skip
            except (requests.ConnectionError, requests.Timeout) as error:
                last = error
                self._avoid(index)
                if attempt + 1 >= len(self.urls):
                    time.sleep(min(2.0, 0.2 * (attempt + 1)))
                continue
            if response.status_code in _RETRY_STATUS:
                last = SolrError(_message(response), response.status_code)
                self._avoid(index)
                if attempt + 1 >= len(self.urls):
                    time.sleep(min(2.0, 0.2 * (attempt + 1)))
                continue
            if response.status_code == 401 or response.status_code == 403:
                raise SolrError(
                    f"Solr refused newsearch ({response.status_code}): set NEWSEARCH_SOLR_USER and "
                    "NEWSEARCH_SOLR_PASSWORD to a user allowed to read (and, to index, to update) the collection",
                    response.status_code,
                )
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code >= 400 or not isinstance(body, dict):
                raise SolrError(_message(response, body), response.status_code)
            return body
        if isinstance(last, SolrError):
            raise last
        raise SolrUnreachable(f"cannot reach Solr at {self.where}: {last}")

    def at_node(self, base_url: str, path: str, params: Mapping[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """GET from one given node (a core's own handlers, such as ``/admin/luke``): no failover."""
        try:
            response = self.session.get(f"{base_url.rstrip('/')}/{path.lstrip('/')}", params=params, timeout=timeout or self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise SolrUnreachable(f"cannot reach Solr at {base_url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            raise SolrError(_message(response, body), response.status_code)
        return body

    def _avoid(self, index: int) -> None:
        """Prefer the node after ``index`` from now on (the failed one is tried last)."""
        with self._lock:
            if self._preferred == index:
                self._preferred = (index + 1) % len(self.urls)

    # -- shortcuts ----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None, **kwargs: Any) -> dict[str, Any]:
        """GET ``path`` with query parameters."""
        return self.request("GET", path, params=params, **kwargs)

    def post_form(self, path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]], **kwargs: Any) -> dict[str, Any]:
        """POST parameters as a form (no URL length limit for long queries)."""
        return self.request("POST", path, data=params, **kwargs)

    def post_json(self, path: str, body: Any, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """POST a JSON body (updates)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return self.request("POST", path, params=params, data=data, headers=headers, **kwargs)

    def admin(self, action: str, timeout: float = ADMIN_TIMEOUT, **params: Any) -> dict[str, Any]:
        """A Collections API call: ``admin("CREATE", name=..., numShards=...)``."""
        return self.get("admin/collections", {"action": action, "wt": "json", **params}, timeout=timeout)


def _message(response: requests.Response, body: Any = None) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("msg"):
            return f"Solr error {response.status_code}: {str(error['msg']).splitlines()[0][:300]}"
    text = " ".join((response.text or "").split())[:200]
    return f"Solr error {response.status_code} from {response.url.split('?')[0]}: {text or response.reason}"

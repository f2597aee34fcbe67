"""Which backend an archive lives in: command-line options, environment variables, a config file.

Precedence, highest first: ``--backend`` / ``--solr`` / ``--collection`` on the command line, then
``NEWSEARCH_BACKEND`` / ``NEWSEARCH_SOLR`` / ``NEWSEARCH_COLLECTION``, then a config file
(``$NEWSEARCH_CONFIG``, else ``./newsearch.toml`` if it exists), then the default: the embedded
index. The config file::

    [backend]
    name = "solr"                                  # or "embedded"
    solr = "http://solr1:8983/solr,http://solr2:8983/solr"
    collection = "news"                            # the alias newsearch reads and rebuilds

Credentials never go in this file or on the command line: ``NEWSEARCH_SOLR_USER`` and
``NEWSEARCH_SOLR_PASSWORD`` (see :mod:`search.engines.solr.client`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKENDS = ("embedded", "solr")
DEFAULT_COLLECTION = "news"
CONFIG_NAME = "newsearch.toml"


class SettingsError(ValueError):
    """A bad backend setting or config file (a one-line message)."""


@dataclass(frozen=True)
class BackendSettings:
    """The backend to open: ``embedded`` (an index directory) or ``solr`` (a cluster and an alias)."""

    backend: str = "embedded"
    solr: str | None = None
    collection: str = DEFAULT_COLLECTION

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`search.engines.open_engine` (besides ``index_dir``)."""
        if self.backend == "solr":
            return {"backend": "solr", "solr": self.solr, "collection": self.collection}
        return {"backend": "embedded"}

    def describe(self, index_dir: str | Path) -> str:
        """Where the archive is, for messages."""
        if self.backend == "solr":
            return f"Solr collection {self.collection!r} at {self.solr}"
        return str(index_dir)


def read_config_file(path: str | Path | None = None) -> dict[str, Any]:
    """The ``[backend]`` table of the config file (``{}`` if there is none); SettingsError if it is bad."""
    explicit = path is not None or bool(os.environ.get("NEWSEARCH_CONFIG"))
    target = Path(path or os.environ.get("NEWSEARCH_CONFIG") or CONFIG_NAME)
    if not target.is_file():
        if explicit:
            raise SettingsError(f"config file not found: {target}")
        return {}
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read config file {target}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{target}: invalid TOML: {error}") from None
    table = data.get("backend", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{target}: [backend] must be a table")
    unknown = sorted(set(table) - {"name", "solr", "collection"})
    if unknown:
        raise SettingsError(f"{target}: unknown key {unknown[0]!r} in [backend] (allowed: name, solr, collection)")
    for key, value in table.items():
        if not isinstance(value, str):
            raise SettingsError(f"{target}: [backend] {key} must be a string")
    return table


def resolve(
    backend: str | None = None, solr: str | None = None, collection: str | None = None, config_file: str | Path | None = None
) -> BackendSettings:
    """Settings from explicit values (options or environment, already merged by the caller), else
    the config file, else the defaults. ``solr`` without ``backend`` means the solr backend."""
    table = read_config_file(config_file)
    name = backend or table.get("name") or ("solr" if (solr or table.get("solr")) and not table.get("name") else "embedded")
    if name not in BACKENDS:
        raise SettingsError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    url = solr or table.get("solr") or None
    if name == "solr" and not url:
        raise SettingsError("the solr backend needs the cluster's URL: --solr URL, NEWSEARCH_SOLR or [backend] solr = ... in newsearch.toml")
    name_of_collection = collection or table.get("collection") or DEFAULT_COLLECTION
    if not all(ch.isalnum() or ch in "_-" for ch in name_of_collection):
        raise SettingsError(f"bad collection name {name_of_collection!r}: use letters, digits, _ and -")
    return BackendSettings(backend=name, solr=url, collection=name_of_collection)


def from_environment() -> BackendSettings:
    """Settings from ``NEWSEARCH_BACKEND`` / ``NEWSEARCH_SOLR`` / ``NEWSEARCH_COLLECTION`` and the config file."""
    return resolve(
        os.environ.get("NEWSEARCH_BACKEND") or None,
        os.environ.get("NEWSEARCH_SOLR") or None,
        os.environ.get("NEWSEARCH_COLLECTION") or None,
    )

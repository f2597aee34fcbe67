"""newsearch's configset (``configset/schema.xml``, ``configset/solrconfig.xml``), uploaded by newsearch.

The configset's name carries a digest of its files (``newsearch-<digest>``), so a changed schema is
uploaded under a new name and used by the next full rebuild, while the collection in service keeps
the configset it was built with.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from importlib import resources

from search.engines.solr.client import SolrClient

FILES = ("schema.xml", "solrconfig.xml")


def configset_files() -> dict[str, bytes]:
    """The configset's files by name."""
    folder = resources.files("search.engines.solr").joinpath("configset")
    return {name: folder.joinpath(name).read_bytes() for name in FILES}


def configset_name() -> str:
    """``newsearch-<12 hex digits of the files' sha256>``."""
    digest = hashlib.sha256()
    for name, data in sorted(configset_files().items()):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return f"newsearch-{digest.hexdigest()[:12]}"


def configset_zip() -> bytes:
    """The configset as the zip file Solr's configset API takes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in configset_files().items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ensure_configset(client: SolrClient) -> str:
    """Upload the configset unless the cluster has it already; returns its name."""
    name = configset_name()
    listed = client.get("admin/configs", {"action": "LIST", "wt": "json"}).get("configSets") or []
    if name not in listed:
        client.request(
            "POST", "admin/configs", params={"action": "UPLOAD", "name": name, "wt": "json"}, data=configset_zip(),
            headers={"Content-Type": "application/octet-stream"}, timeout=120,
        )  # fmt: skip
    return name

"""A real SolrCloud cluster for the tests: Solr's MiniSolrCloudCluster, started through ``solr/``.

:func:`start_cluster` builds the launcher with Maven (once: ``solr/target/`` is reused while the pom
and the launcher are unchanged), starts it with plain ``java`` and reads the node URLs it prints. The
cluster stops with :meth:`SolrCluster.shutdown`, or by itself when its stdin closes (the test process
died). Java 17 and Maven must be installed; without them the Solr tests fail, unless
``NEWSEARCH_SKIP_SOLR=1`` says to skip them on purpose.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLR_MODULE = REPO_ROOT / "solr"
TARGET = SOLR_MODULE / "target"
START_TIMEOUT = 300.0


class ClusterUnavailable(RuntimeError):
    """Java or Maven is missing, the build failed, or the cluster did not start."""


def skip_requested() -> bool:
    """True when ``NEWSEARCH_SKIP_SOLR=1`` asks to skip the Solr tests on purpose."""
    return os.environ.get("NEWSEARCH_SKIP_SOLR", "").strip() in ("1", "true", "yes")


def _built() -> bool:
    classpath = TARGET / "classpath.txt"
    launcher = TARGET / "classes" / "newsearch" / "solr" / "ClusterLauncher.class"
    if not classpath.is_file() or not launcher.is_file():
        return False
    sources = [SOLR_MODULE / "pom.xml", *SOLR_MODULE.glob("src/**/*.java")]
    return all(path.stat().st_mtime <= launcher.stat().st_mtime for path in sources)


def build_launcher() -> list[str]:
    """Build ``solr/`` with Maven if needed; the launcher's Java classpath."""
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ClusterUnavailable(
                f"{tool} not found: the Solr tests need Java 17 and Maven (apt: openjdk-17-jdk-headless maven); "
                "set NEWSEARCH_SKIP_SOLR=1 to skip them on purpose"
            )
    if not _built():
        done = subprocess.run(
            ["mvn", "-B", "-q", "-f", str(SOLR_MODULE / "pom.xml"), "package", "-DskipTests"],
            capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterUnavailable(f"mvn package failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    classpath = (TARGET / "classpath.txt").read_text().strip()
    return [str(TARGET / "classes"), *classpath.split(os.pathsep)]


@dataclass
class SolrCluster:
    """A running MiniSolrCloudCluster: its node URLs and the launcher process."""

    process: subprocess.Popen
    nodes: list[str]
    zk: str
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)
    log: Path | None = None
    log_file: Any = None

    @property
    def url(self) -> str:
        """Every node, comma-separated (what ``--solr`` / ``NEWSEARCH_SOLR`` take)."""
        return ",".join(self.nodes)

    def _command(self, text: str, expect: str, timeout: float = 180.0) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith(expect):
                return line
            if line.startswith("ERROR"):
                raise ClusterUnavailable(line)
        raise ClusterUnavailable(f"no {expect!r} answer to {text!r}")

    def stop_node(self, index: int) -> None:
        """Stop node ``index`` (its Jetty; ZooKeeper sees it leave)."""
        self._command(f"stop {index}", f"STOPPED {index}")

    def start_node(self, index: int) -> None:
        """Start node ``index`` again on its port and wait until it has joined."""
        self._command(f"start {index}", f"STARTED {index}")

    def set_security(self, path: Path) -> None:
        """Install ``path`` as the cluster's security.json (``{}`` turns authentication off again)."""
        self._command(f"security {path}", "SECURITY")

    def shutdown(self) -> None:
        """Stop the cluster (close stdin; kill it if it does not stop in time)."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
            except (OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.log_file):
            if stream is not None:
                stream.close()


def start_cluster(base_dir: Path, nodes: int = 2, heap: str = "1g") -> SolrCluster:
    """Build (if needed) and start a cluster of ``nodes`` Solr nodes with data under ``base_dir``
    (one JVM holds every node, with ``heap`` of memory)."""
    classpath = build_launcher()
    base_dir.mkdir(parents=True, exist_ok=True)
    log = base_dir / "solr.log"
    err = open(log, "w", encoding="utf-8")  # noqa: SIM115 - kept open while the cluster runs
    java = [
        "java", "-Xms256m", f"-Xmx{heap}", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
        "-cp", os.pathsep.join(classpath), "newsearch.solr.ClusterLauncher",
        "--nodes", str(nodes), "--dir", str(base_dir / "cluster"),
    ]  # fmt: skip
    process = subprocess.Popen(java, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())

    threading.Thread(target=pump, name="solr-launcher-stdout", daemon=True).start()
    urls: dict[int, str] = {}
    zk = ""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith("NODE "):
            _word, index, url = line.split(maxsplit=2)
            urls[int(index)] = url
        elif line.startswith("ZK "):
            zk = line[3:]
        elif line == "READY":
            return SolrCluster(process, [urls[i] for i in sorted(urls)], zk, lines, log, err)
    process.kill()
    process.wait(timeout=30)
    err.close()
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise ClusterUnavailable(f"the Solr cluster did not start (exit {process.returncode}); log:\n{tail}")

"""The `newsearch` command line, run as a real process (`python -m search ...`)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ROW_KEYS = {"id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind", "score", "snippet"}
COMMANDS = [["index"], ["search"], ["show"], ["export"], ["stats"], ["serve"], ["saved"], ["saved", "list"], ["saved", "run"]]


def newsearch(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m search ARGS` in ``cwd`` (with NEWSEARCH_* cleared unless given)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    full_env["NEWSEARCH_SETTLE_SECONDS"] = "0"  # files a test just wrote are complete (see conftest)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "search", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    error_lines = [line for line in lines if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], result.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory laid out as a fresh clone (./seeds, ./index_data holding only the
    repository's .gitkeep placeholder), then indexed with the CLI defaults."""
    import shutil

    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    (root / "index_data").mkdir()
    (root / "index_data" / ".gitkeep").write_bytes(b"")
    result = newsearch("index", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_index_reports_each_file_and_exits_zero(seeds_dir, tmp_path):
    (seeds_dir / "notes.docx").write_bytes(b"PK\x03\x04")
    (seeds_dir / "blank.txt").write_text("", encoding="utf-8")
    first = newsearch("index", "--seeds", str(seeds_dir), "--index", str(tmp_path / "ix"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "full rebuild (no index yet)" in first.stdout
    assert "added 5:" in first.stdout
    assert "skipped notes.docx: not a seed file type (.docx)" in first.stdout
    assert "skipped blank.txt:" in first.stdout
    summary = first.stdout.strip().splitlines()[-1]
    assert summary.startswith("Indexed ") and "5 added" in summary and "2 skipped" in summary
    again = newsearch("index", "--seeds", str(seeds_dir), "--index", str(tmp_path / "ix"), cwd=tmp_path)
    assert again.returncode == 0 and "5 unchanged" in again.stdout
    assert "skipped notes.docx" in again.stdout  # still named on every run
    full = newsearch("index", "--seeds", str(seeds_dir), "--index", str(tmp_path / "ix"), "--full", cwd=tmp_path)
    assert full.returncode == 0 and "full rebuild (requested)" in full.stdout


def test_index_uses_environment_defaults(seeds_dir, tmp_path):
    env = {"NEWSEARCH_SEEDS": str(seeds_dir), "NEWSEARCH_INDEX": str(tmp_path / "env-index")}
    result = newsearch("index", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env-index" / "current.json").exists()
    assert newsearch("stats", cwd=tmp_path, env=env).returncode == 0


def test_index_errors_exit_non_zero(tmp_path):
    missing = newsearch("index", "--seeds", str(tmp_path / "nope"), "--index", str(tmp_path / "ix"), cwd=tmp_path)
    assert_one_line_error(missing, "seeds directory not found")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "blocker").write_text("a file where the index directory should be")
    unwritable = newsearch("index", "--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "blocker" / "ix"), cwd=tmp_path)
    assert_one_line_error(unwritable, "cannot create index directory")


def test_search_json_is_the_design_shape(workdir):
    result = newsearch("search", "高新区", "--format", "json", "--limit", "3", cwd=workdir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"query", "total", "page", "limit", "results", "facets"} <= set(data)
    assert data["query"] == "高新区" and data["limit"] == 3 and 1 <= len(data["results"]) <= 3
    assert all(ROW_KEYS <= set(row) for row in data["results"])
    assert "高新区" in result.stdout  # ensure_ascii=False


def test_search_table_and_paging(workdir):
    result = newsearch("search", "高新区", "--limit", "2", "--page", "2", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "date", "kind"]
    assert any(line.startswith("3  ") for line in lines)  # numbering continues on page 2
    assert "(page 2 of" in result.stdout
    none = newsearch("search", "锟斤拷烫烫烫", cwd=workdir)  # no word of it occurs anywhere
    assert none.returncode == 0 and "No results" in none.stdout


def test_the_table_says_which_words_the_results_lack_and_what_was_ignored(workdir):
    relaxed = newsearch("search", "小微企业 量子计算机", cwd=workdir)
    assert relaxed.returncode == 0, relaxed.stderr
    first = relaxed.stdout.splitlines()[0]
    assert first.startswith("以下结果不含：") and "计算机" in first
    assert "all words: newsearch search" in relaxed.stdout and '"计算机"' in relaxed.stdout
    broken = newsearch("search", "(((", cwd=workdir)
    assert broken.returncode == 0 and "ignored '((('" in broken.stdout and "No results" in broken.stdout
    quoted = newsearch("search", '"高新区小微企业融资"', cwd=workdir)
    assert "try: newsearch search '高新区 小微 企业 融资'" in quoted.stdout
    unspaced = json.loads(newsearch("search", "高新区小微企业融资", "--format", "json", cwd=workdir).stdout)
    assert unspaced["results"][0]["title"] == "政银企协同解决小微企业融资难题" and "relaxed" not in unspaced


def test_search_csv_has_a_header_and_one_row_per_hit(workdir):
    result = newsearch("search", "高新区", "--format", "csv", "--limit", "4", cwd=workdir)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and len(rows) <= 4 and ROW_KEYS <= set(rows[0])
    assert "<mark>" not in result.stdout


def test_search_filters_and_sorts(workdir):
    data = json.loads(newsearch("search", "高新区", "--format", "json", "--limit", "50", cwd=workdir).stdout)
    source = data["results"][0]["source"]
    narrowed = newsearch("search", "高新区", "--filter", f"source={source}", "--sort", "newest", "--format", "json", cwd=workdir)
    assert narrowed.returncode == 0, narrowed.stderr
    assert {row["source"] for row in json.loads(narrowed.stdout)["results"]} == {source}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--filter", "colour=red"], "unknown field 'colour'"),
        (["--filter", "place"], "is not FIELD=VALUE"),
        (["--sort", "sideways"], "sideways"),
        (["--limit", "0"], "0"),
    ],
)
def test_search_user_errors_are_one_line(workdir, args, fragment):
    result = newsearch("search", "高新区", *args, cwd=workdir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_engine_query_errors_are_one_line(workdir):
    result = newsearch("search", "高新区", "--filter", "from=not-a-date", cwd=workdir)
    assert_one_line_error(result)


def test_missing_index_is_a_one_line_error(tmp_path):
    for args in (["search", "高新区"], ["show", "x"], ["export"], ["stats"]):
        result = newsearch(*args, "--index", str(tmp_path / "none"), cwd=tmp_path)
        assert_one_line_error(result, "no index in", "newsearch index")


def test_show_text_json_and_unknown_id(workdir):
    first = json.loads(newsearch("search", "高新区", "--format", "json", cwd=workdir).stdout)["results"][0]
    as_json = newsearch("show", first["id"], "--format", "json", cwd=workdir)
    assert as_json.returncode == 0, as_json.stderr
    article = json.loads(as_json.stdout)
    assert article["id"] == first["id"] and article["body"] and "chars" in article
    as_text = newsearch("show", first["id"], cwd=workdir)
    assert as_text.returncode == 0 and article["body"].split("\n")[0] in as_text.stdout
    assert "id:" in as_text.stdout and first["id"] in as_text.stdout
    assert_one_line_error(newsearch("show", "no-such-id", cwd=workdir), "no article with id 'no-such-id'")


def test_export_prints_every_article_with_all_fields(workdir):
    result = newsearch("export", "--format", "jsonl", cwd=workdir)
    assert result.returncode == 0, result.stderr
    articles = [json.loads(line) for line in result.stdout.splitlines()]
    stats = json.loads(newsearch("stats", "--format", "json", cwd=workdir).stdout)
    assert len(articles) == stats["articles"] and len({a["id"] for a in articles}) == len(articles)
    assert {"id", "source", "position", "title", "body", "lead", "reporters", "places", "kind", "date", "chars"} <= set(articles[0])


def test_stats_text(workdir):
    result = newsearch("stats", cwd=workdir)
    assert result.returncode == 0, result.stderr
    for label in ("articles:", "pages:", "terms:", "index size:", "last build:"):
        assert label in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command, tmp_path):
    result = newsearch(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0 and "Example:" in result.stdout


def test_the_cli_sorts_agree_with_the_engine():
    from search import cli
    from search.query import filters

    assert tuple(cli.SORTS) == tuple(filters.SORTS)


def test_table_fits_cjk_text_in_columns():
    from search.cli import display_width, fit

    assert display_width("高新区ab") == 8
    assert display_width(fit("高新区召开企业家座谈会", 9)) == 9
    assert fit("高新区召开企业家座谈会", 9).rstrip().endswith("…")
    assert fit("ab", 4) == "ab  "


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_builds_a_missing_index_then_serves_with_waitress(seeds_dir, tmp_path):
    import time
    import urllib.request
    from urllib.parse import quote

    port = _free_port()
    index_dir = tmp_path / "served-index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--seeds", str(seeds_dir), "--index", str(index_dir), "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline, body = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q={quote('高新区')}", timeout=5) as response:
                    body = json.loads(response.read().decode("utf-8"))
                    server_header = response.headers.get("Server", "")
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None, server.stderr.read() if server.poll() is not None else "server did not answer"
        assert body["total"] > 0 and (index_dir / "current.json").exists()
        assert "waitress" in server_header.lower()
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "no index in" in err and "building it" in err


def test_a_fresh_clone_indexes_and_exports_the_21_seed_articles(workdir):
    exported = newsearch("export", "--format", "jsonl", cwd=workdir)
    assert exported.returncode == 0, exported.stderr
    articles = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(articles) == 21
    design_fields = {"id", "source", "position", "title", "kicker", "subtitle", "body", "lead", "reporters",
                     "correspondents", "photographers", "places", "people", "orgs", "keywords", "kind", "date",
                     "year", "month", "section", "chars"}  # fmt: skip
    assert all(design_fields <= article.keys() for article in articles)
    assert sorted(a["kind"] for a in articles).count("photo") == 2

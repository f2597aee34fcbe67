"""Path traversal and hostile paths (issue 7): web routes that take a name or id, and CLI paths.

Web: ``/article/<id>``, ``/api/article/<id>`` and ``/static/<file>`` with ``../``, ``%2e%2e%2f``,
encoded slashes and backslashes, double encoding, overlong UTF-8, NUL and absolute paths, through
Flask's test client *and* sent byte for byte to a real waitress server (which decodes ``%2F`` before
routing). Nothing outside the static folder or the index's articles may come back, and nothing may
fail with a 500.

CLI: ``newsearch show`` with traversal ids; ``--index`` and ``--file`` given a directory, a missing
path, a file instead of a directory (or a device instead of a file), a path through ``..``: one-line
errors, non-zero exits, no traceback, and nothing written anywhere.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from search.api import rebuild
from tests.attack_helpers import REPO_ROOT, Server, assert_one_line_error, newsearch
from web import create_app

TRAVERSALS = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e",
    "..",
    "..%5c..%5cetc%5cpasswd",
    "..\\..\\etc\\passwd",
    "%252e%252e%252fetc%252fpasswd",  # double encoding
    "%c0%ae%c0%ae%c0%afetc%c0%afpasswd",  # overlong UTF-8 for ../
    "....//....//etc/passwd",
    "%00",
    "abc%00def",
    "style.css%00.js",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "%2Fproc%2Fself%2Fenviron",
    "../index/current.json",
    "..%2findex%2fcurrent.json",
    "../../search/api.py",
    "..%2f..%2fsearch%2fapi.py",
    "..%2f..%2f..%2fseeds%2f000_60733420360c6775.txt",
    "C:%5cWindows%5cwin.ini",
    "current.json",
    "gen-000001",
    "%ed%a0%80",  # an encoded lone surrogate
]
ROUTES = ["/article/", "/api/article/", "/static/"]
# Text that would prove a file outside the allowed places was served.
LEAKS = ["root:x:0:", "class Archive", '"generation"', "PYTHONPATH", "高新区一项目拟入库", "[extensions]"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("paths")
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    rebuild(root / "seeds", root / "index")
    return {"root": root, "seeds": root / "seeds", "index": root / "index"}


def _assert_nothing_leaked(status: int, body: str, where: str) -> None:
    assert status in (308, 400, 404), (where, status)
    for leak in LEAKS:
        assert leak not in body, (where, leak)
    assert "Traceback" not in body, where


def test_traversal_on_every_route_through_the_test_client(site):
    client = create_app({"TESTING": True}, index_dir=site["index"]).test_client()
    checked = 0
    for route in ROUTES:
        for attack in TRAVERSALS:
            response = client.get(route + attack)
            _assert_nothing_leaked(response.status_code, response.get_data(as_text=True), route + attack)
            if response.status_code == 308:  # werkzeug merges slashes; the target must be a 404 too
                target = client.get(response.headers["Location"])
                _assert_nothing_leaked(target.status_code, target.get_data(as_text=True), response.headers["Location"])
            checked += 1
    assert checked == len(ROUTES) * len(TRAVERSALS)
    with client.get("/static/style.css") as response:  # the legitimate file is still served
        assert response.status_code == 200


@pytest.mark.slow
def test_traversal_on_every_route_of_the_real_server(site):
    with Server(site["index"], threads=2) as server:
        for route in ROUTES:
            for attack in TRAVERSALS:
                status, headers, body = server.request(route + attack)
                _assert_nothing_leaked(status, body, route + attack)
                if status == 308:
                    assert headers["location"].startswith(("/", f"http://127.0.0.1:{server.port}/")), headers["location"]
        # Raw paths that a browser would never send.
        for raw in ("/static/../../etc/passwd", "/static/./../search/api.py", "/article/../static/style.css/../../../etc/passwd",
                    "//etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"):
            status, _headers, body = server.request(raw)
            _assert_nothing_leaked(status, body, raw)
        status, _headers, body = server.request("/static/search.js")
        assert status == 200 and "setupCombobox" in body
    assert "Traceback" not in server.stop()


# ---------------------------------------------------------------------------------------------
# The command line


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: to prove a command wrote nothing."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


SHOW_IDS = ["../../etc/passwd", "../current.json", "/etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "gen-000001/_MAIN_1.toc",
            "..\\..\\etc\\passwd", "*", "?", "id:*", "x" * 5000, "<script>alert(1)</script>",
            os.fsdecode(b"..\xff/\xfe")]  # fmt: skip  (the last: bytes that are not UTF-8, as argv can carry)


@pytest.mark.slow
@pytest.mark.parametrize("article_id", SHOW_IDS, ids=range(len(SHOW_IDS)))
def test_show_with_a_traversal_id_is_a_one_line_not_found(site, article_id):
    before = snapshot(site["root"])
    result = newsearch("show", "--index", str(site["index"]), "--", article_id)
    assert_one_line_error(result, "no article with id")
    assert result.stdout == "" and "root:x:0" not in result.stderr
    assert snapshot(site["root"]) == before


@pytest.mark.slow
def test_a_filter_value_that_is_not_utf8_finds_nothing_without_a_traceback(site):
    value = os.fsdecode(b"\xff\xfe\xe9\xab\x98\xe6\x96\xb0\xe5\x8c\xba")  # two bad bytes, then 高新区
    result = newsearch("search", "高新区", "--filter", f"place={value}", "--format", "json", "--index", str(site["index"]))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert '"total": 0' in result.stdout


@pytest.mark.slow
def test_index_paths_that_are_not_an_index_are_one_line_errors_and_nothing_is_created(site, tmp_path):
    index = str(site["index"])
    missing = tmp_path / "missing" / "index"
    through_dotdot = f"{site['index']}/../seeds/../nowhere"
    a_file = site["seeds"] / "000_60733420360c6775.txt"
    before = snapshot(site["root"]), snapshot(tmp_path)
    for command in (["search", "高新区"], ["show", "abc"], ["stats"], ["export"]):
        assert_one_line_error(newsearch(*command, "--index", str(missing)), "no index in")
        assert_one_line_error(newsearch(*command, "--index", through_dotdot), "no index in")
        assert_one_line_error(newsearch(*command, "--index", str(site["seeds"])), "no index in")  # a directory, not an index
        assert_one_line_error(newsearch(*command, "--index", str(a_file)), "is a file")  # a file instead of a directory
    assert_one_line_error(newsearch("saved", "run", "--all", "--new-only", "--file", str(REPO_ROOT / "saved_queries.toml"),
                                    "--index", str(missing)), "no index in")  # fmt: skip
    assert not missing.parent.exists() and not (site["root"] / "nowhere").exists()
    assert (snapshot(site["root"]), snapshot(tmp_path)) == before
    assert newsearch("stats", "--index", index).returncode == 0  # the real index still answers


@pytest.mark.slow
def test_index_refuses_to_write_into_the_seeds_or_any_other_non_index_directory(site, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("私人笔记", encoding="utf-8")
    seeds = str(site["seeds"])
    before = snapshot(site["root"]), snapshot(tmp_path)
    assert_one_line_error(newsearch("index", "--seeds", seeds, "--index", seeds), "same directory")
    assert_one_line_error(newsearch("index", "--seeds", seeds, "--index", f"{site['index']}/../seeds"), "same directory")
    assert_one_line_error(newsearch("index", "--seeds", seeds, "--index", str(home)), "not an index directory", "notes.txt")
    assert_one_line_error(newsearch("index", "--seeds", seeds, "--index", str(site["seeds"] / "000_60733420360c6775.txt")),
                          "is a file")  # fmt: skip
    assert (snapshot(site["root"]), snapshot(tmp_path)) == before
    # A new directory reached through ".." is an ordinary target, and an existing index is updated.
    fresh = newsearch("index", "--seeds", seeds, "--index", f"{tmp_path}/sub/../fresh-index")
    assert fresh.returncode == 0 and (tmp_path / "fresh-index" / "current.json").is_file()
    assert newsearch("index", "--seeds", seeds, "--index", str(site["index"])).returncode == 0


@pytest.mark.slow
def test_saved_query_file_paths_are_one_line_errors_and_write_nothing(site, tmp_path):
    index = str(site["index"])
    big = tmp_path / "big.toml"
    big.write_text("# 注释\n" * 300_000, encoding="utf-8")
    junk = tmp_path / "junk.toml"
    junk.write_bytes(bytes(range(256)) * 64)
    cases = [
        (str(tmp_path), "is a directory"),
        (str(tmp_path / "missing.toml"), "not found"),
        (f"{site['seeds']}/../seeds/000_60733420360c6775.txt", "invalid TOML"),  # through "..", not TOML
        ("/dev/zero", "not a regular file"),  # would never finish reading
        (str(big), "larger than"),
        (str(junk), "cannot read saved queries file"),
    ]
    before = snapshot(site["root"]), snapshot(tmp_path)
    for path, message in cases:
        for command in (["saved", "list"], ["saved", "run", "--all", "--new-only", "--index", index]):
            assert_one_line_error(newsearch(*command, "--file", path, timeout=30), message)
    assert (snapshot(site["root"]), snapshot(tmp_path)) == before
    assert not (site["index"] / "saved_state.json").exists()

"""Saved queries: the TOML file, every error path, output formats and --new-only state."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.saved import SavedQueryError, load_saved_queries, select_queries

REPO_ROOT = Path(__file__).resolve().parent.parent
NEW_PAGE = """高新区举办龙虾音乐节

本报讯(记者 孙庆辉) 11月23日，高新区在梧桐园区举办首届龙虾音乐节，吸引市民三千余人参加。
活动现场设置美食、非遗和文创展区，带动周边商户营业额明显增长。
"""
QUERIES = """\
[queries.gaoxin]
q = "高新区"
limit = 3

[queries.festival]
q = "音乐节"
sort = "newest"
limit = 5

[queries.by_source]
q = "高新区"
filters = { kind = ["news", "feature", "photo"] }
limit = 2
"""


def newsearch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env["NEWSEARCH_SETTLE_SECONDS"] = "0"  # files a test just wrote are complete (see conftest)
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr


@pytest.fixture()
def work(seeds_dir: Path) -> Path:
    """A directory with ./seeds, ./index_data built from them, and ./saved_queries.toml."""
    root = seeds_dir.parent
    assert newsearch("index", cwd=root).returncode == 0
    (root / "saved_queries.toml").write_text(QUERIES, encoding="utf-8")
    return root


def test_the_example_file_in_the_repository_is_valid():
    queries = load_saved_queries(REPO_ROOT / "saved_queries.toml")
    assert "xiaowei" in queries
    assert queries["xiaowei"].filters == {"place": ["高新区"], "year": ["2024"]}
    assert (queries["xiaowei"].sort, queries["xiaowei"].limit) == ("newest", 20)


def test_list_shows_every_query(work):
    result = newsearch("saved", "list", cwd=work)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["gaoxin", "festival", "by_source"]
    as_json = json.loads(newsearch("saved", "list", "--format", "json", cwd=work).stdout)
    assert as_json[2]["filters"] == {"kind": ["news", "feature", "photo"]}


def test_run_by_name_in_every_format(work):
    jsonl = newsearch("saved", "run", "gaoxin", "festival", "--format", "jsonl", cwd=work)
    assert jsonl.returncode == 0, jsonl.stderr
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [line["name"] for line in lines] == ["gaoxin", "festival"]
    assert lines[0]["query"] == "高新区" and 1 <= len(lines[0]["results"]) <= 3 and "facets" in lines[0]

    as_json = json.loads(newsearch("saved", "run", "gaoxin", "--format", "json", cwd=work).stdout)
    assert as_json[0]["name"] == "gaoxin" and as_json[0]["total"] == lines[0]["total"]

    rows = list(csv.DictReader(io.StringIO(newsearch("saved", "run", "--all", "--format", "csv", cwd=work).stdout)))
    assert rows and rows[0]["query"] == "gaoxin" and {"id", "title", "snippet"} <= set(rows[0])
    assert {row["query"] for row in rows} <= {"gaoxin", "festival", "by_source"}

    table = newsearch("saved", "run", "--all", cwd=work)
    assert table.returncode == 0 and "== gaoxin: 高新区" in table.stdout and "== by_source" in table.stdout


def test_new_only_returns_each_hit_once(work):
    first = json.loads(newsearch("saved", "run", "gaoxin", "--new-only", "--format", "json", cwd=work).stdout)[0]
    assert len(first["results"]) == 3 and first["new_only"] is True
    second = json.loads(newsearch("saved", "run", "gaoxin", "--new-only", "--format", "json", cwd=work).stdout)[0]
    returned = {row["id"] for row in first["results"]}
    assert second["results"] and not returned & {row["id"] for row in second["results"]}
    assert (work / "index_data" / "saved_state.json").exists()
    # Drain the rest, then nothing is new ...
    while json.loads(newsearch("saved", "run", "gaoxin", "--new-only", "--format", "json", cwd=work).stdout)[0]["results"]:
        pass
    # ... until a new page brings a new match; plain runs are unaffected by the state.
    (work / "seeds" / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    assert newsearch("index", cwd=work).returncode == 0
    fresh = json.loads(newsearch("saved", "run", "gaoxin", "--new-only", "--format", "json", cwd=work).stdout)[0]
    assert fresh["results"] and all(row["source"] == "005_new.txt" for row in fresh["results"])
    plain = json.loads(newsearch("saved", "run", "gaoxin", "--format", "json", cwd=work).stdout)[0]
    assert len(plain["results"]) == 3


def test_new_only_twice_second_returns_nothing(work):
    first = newsearch("saved", "run", "festival", "--new-only", "--format", "jsonl", cwd=work)
    assert first.returncode == 0, first.stderr
    assert newsearch("index", cwd=work).returncode == 0  # nothing changed
    (work / "seeds" / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    assert newsearch("index", cwd=work).returncode == 0
    once = json.loads(newsearch("saved", "run", "festival", "--new-only", "--format", "jsonl", cwd=work).stdout)
    assert once["results"]
    twice = json.loads(newsearch("saved", "run", "festival", "--new-only", "--format", "jsonl", cwd=work).stdout)
    assert twice["results"] == [] and twice["total"] == 0


def test_new_only_records_relaxed_results_too(work):
    (work / "saved_queries.toml").write_text('[queries.lobster]\nq = "梧桐园区龙虾音乐节"\nlimit = 10\n', encoding="utf-8")
    # No seed page has 龙虾 or 音乐节: the results hold 梧桐园区 alone, and say so.
    first = json.loads(newsearch("saved", "run", "lobster", "--new-only", "--format", "jsonl", cwd=work).stdout)
    assert first["results"] and set(first["relaxed"]["dropped"]) == {"龙虾", "音乐节"}
    again = json.loads(newsearch("saved", "run", "lobster", "--new-only", "--format", "jsonl", cwd=work).stdout)
    assert again["results"] == [] and again["relaxed"]["dropped"]  # what it returned was recorded
    # A page with every word arrives: now nothing is dropped, and only that article is new.
    (work / "seeds" / "005_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    assert newsearch("index", cwd=work).returncode == 0
    fresh = json.loads(newsearch("saved", "run", "lobster", "--new-only", "--format", "jsonl", cwd=work).stdout)
    assert "relaxed" not in fresh and [row["source"] for row in fresh["results"]] == ["005_new.txt"]
    table = newsearch("saved", "run", "lobster", cwd=work)
    assert table.returncode == 0 and "以下结果不含" not in table.stdout


BAD_FILES = {
    "invalid TOML": ('[queries.a]\nq = "x"\nlimit = = 3\n', "line 3"),
    "no queries table": ('title = "x"\n', "no [queries.NAME] tables"),
    # Errors point at the line of the bad key, not at the table's header.
    "unknown key": ('[queries.a]\nq = "x"\ncolour = "red"\n', "line 3: query 'a' has unknown key 'colour'"),
    "unknown filter": ('\n[queries.a]\nq = "x"\nfilters = { colour = "red" }\n', "line 4: query 'a': unknown filter 'colour'"),
    "bad filter value": ('[queries.a]\nq = "x"\nfilters = { year = 2024.5 }\n', "filter 'year' must be a string"),
    "filters not a table": ('[queries.a]\nq = "x"\nfilters = "year=2024"\n', "filters must be a table"),
    "bad sort": ('[queries.a]\nq = "x"\nsort = "sideways"\n', "line 3: query 'a': sort must be one of"),
    "bad limit": ('[queries.a]\nq = "x"\n\n# how many\nlimit = 0\n[queries.b]\nlimit = 5\n', "line 5: query 'a': limit must be a whole number"),
    "q not a string": ("[queries.a]\nq = 3\n", "q must be a string"),
    "empty query": ('[queries.a]\nq = ""\n', "neither q nor filters"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_one_line_errors(work, case):
    text, fragment = BAD_FILES[case]
    (work / "bad.toml").write_text(text, encoding="utf-8")
    result = newsearch("saved", "run", "a", "--file", "bad.toml", cwd=work)
    assert_one_line_error(result, fragment)
    assert_one_line_error(newsearch("saved", "list", "--file", "bad.toml", cwd=work), fragment)


def test_missing_file_unknown_name_and_bad_arguments(work):
    assert_one_line_error(newsearch("saved", "list", "--file", "nope.toml", cwd=work), "saved queries file not found: nope.toml")
    assert_one_line_error(newsearch("saved", "run", "--all", "--file", "nope.toml", cwd=work), "not found")
    assert_one_line_error(newsearch("saved", "run", "nosuch", cwd=work), "unknown saved query 'nosuch'", "gaoxin")
    assert_one_line_error(newsearch("saved", "run", cwd=work), "name at least one saved query, or use --all")
    assert_one_line_error(newsearch("saved", "run", "gaoxin", "--all", cwd=work), "not both")
    assert_one_line_error(newsearch("saved", "run", "gaoxin", "--index", "no-index", cwd=work), "no index in")


def test_engine_rejections_of_a_saved_query_are_one_line_errors(work):
    (work / "bad.toml").write_text('[queries.a]\nq = "x"\nfilters = { from = "not-a-date" }\n', encoding="utf-8")
    assert_one_line_error(newsearch("saved", "run", "a", "--file", "bad.toml", cwd=work))


def test_select_queries_keeps_the_order_asked(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text(QUERIES, encoding="utf-8")
    queries = load_saved_queries(path)
    assert [q.name for q in select_queries(queries, ["festival", "gaoxin"])] == ["festival", "gaoxin"]
    assert [q.name for q in select_queries(queries, [], run_all=True)] == ["gaoxin", "festival", "by_source"]
    with pytest.raises(SavedQueryError):
        select_queries({}, [], run_all=True)


def test_state_survives_a_copy_of_the_index(work, tmp_path):
    newsearch("saved", "run", "gaoxin", "--new-only", cwd=work)
    shutil.copytree(work / "index_data", tmp_path / "copy")
    again = newsearch("saved", "run", "gaoxin", "--new-only", "--format", "json", "--index", str(tmp_path / "copy"), cwd=work)
    first_ids = json.loads((work / "index_data" / "saved_state.json").read_text())["queries"]["gaoxin"]["seen"]
    assert not set(first_ids) & {row["id"] for row in json.loads(again.stdout)[0]["results"]}

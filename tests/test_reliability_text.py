"""Issue 12, finding 1: no input can stall an index run.

* The page of the finding — one line of 1.2 million characters, no sentence end — went through
  ``lead_of``'s ``[^。！？!?]*[。！？!?]+`` retried from every character: more than ten minutes of
  CPU, holding the build lock. It is indexed through the real CLI here, with a hard 60 s bound.
* Every step that sees page or query text runs on long runs of each character class (the shapes of
  ``bench/fuzz_text.py``, at one size), each in a process killed at a bound far above what a linear
  step needs; ``python -m bench.fuzz_text`` measures the growth over sizes up to 1.2 M characters.
* A file whose extraction runs past the time budget is stopped and skipped by name, its neighbours
  indexed; a .jsonl record past it costs only its line; ``newsearch stats`` shows the run holding the
  lock, its pid and the file it is on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.fuzz_text import SHAPES, STEPS, timed, warm_up
from search.api import Archive, rebuild
from tests.attack_helpers import SEED_PAGES, newsearch
from tests.attack_helpers import env as child_env

PATHOLOGICAL = "超长行" * 400_000  # the page of finding 1: 1,200,000 characters, no line break, no sentence end
FUZZ_CHARS = 120_000
STEP_BOUND = 30.0  # seconds; the quadratic steps of finding 1 needed minutes to hours at this size, linear ones need seconds


def copy_seed_pages(seeds: Path) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for page in SEED_PAGES:
        (seeds / page.name).write_bytes(page.read_bytes())


def test_the_megabyte_line_without_punctuation_is_indexed_in_bounded_time(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    copy_seed_pages(seeds)
    (seeds / "999_long_line.txt").write_text(PATHOLOGICAL, encoding="utf-8")
    started = time.monotonic()
    result = newsearch("index", "--seeds", str(seeds), "--index", str(index), timeout=60)
    seconds = time.monotonic() - started
    print(f"\nthe 1,200,000-character page and the five seed pages indexed in {seconds:.1f} s")
    assert result.returncode == 0, result.stderr
    assert "added 6" in result.stdout and "999_long_line.txt" in result.stdout
    assert "line 1 is 1,200,000 characters long" in result.stdout
    search = newsearch("search", "长行超", "--index", str(index), "--format", "json", timeout=60)
    data = json.loads(search.stdout)
    assert data["total"] == 1 and data["results"][0]["source"] == "999_long_line.txt"
    assert len(data["results"][0]["snippet"]) < 2000  # a preview, not the megabyte


@pytest.fixture(scope="module")
def warmed() -> None:
    warm_up()  # dictionaries loaded once, before the measurements fork


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_text_step_is_linear_on_long_runs_of_each_character_class(warmed, shape):
    text = SHAPES[shape](FUZZ_CHARS)
    slow = {}
    for step in STEPS:
        seconds = timed(step, text, STEP_BOUND)
        if seconds == float("inf"):
            slow[step] = f"> {STEP_BOUND:g} s"
    assert slow == {}, f"{shape} ({len(text):,} characters): {slow}"


# ---------------------------------------------------------------------------------------------
# The time budget


def slow_page(lines: int = 120_000) -> str:
    """A page that is slow but linear to cut: many very short lines (each judged against its
    neighbours), about 2 s per 100,000 lines on an idle core."""
    return "超长\n" * lines


def test_a_page_past_the_time_budget_is_skipped_by_name_and_its_neighbours_indexed(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    copy_seed_pages(seeds)
    (seeds / "002a_slow.txt").write_text(slow_page(), encoding="utf-8")
    result = newsearch("index", "--seeds", str(seeds), "--index", str(index), "--file-timeout", "0.5", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipped 002a_slow.txt: extraction took longer than 0.5 s; stopped and skipped" in result.stdout
    assert "added 5" in result.stdout  # every neighbour, before and after it in name order
    with Archive.open(index) as archive:
        assert {article.source for article in archive.export()} == {page.name for page in SEED_PAGES}
    # The next run does not spend the budget on it again while it is unchanged, and still names it.
    again = newsearch("index", "--seeds", str(seeds), "--index", str(index), "--file-timeout", "0.5", timeout=120)
    assert "skipped 002a_slow.txt: extraction took longer" in again.stdout and "5 unchanged" in again.stdout


def test_a_jsonl_record_past_the_budget_costs_only_its_line(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = [json.dumps({"id": f"r{n}", "title": f"第{n}篇", "body": f"高新区第{n}篇稿件。"}, ensure_ascii=False) for n in range(1, 6)]
    # Line 3: a record that takes far longer than the budget to parse on any machine: 2,000,000
    # distinct keys (29 MB on one line) take 1-2 s, where the budget and its 0.25 s polling come to
    # at most 0.45 s. (500,000 keys took 0.18 s: a fast machine parsed them inside the budget.)
    padding = ",".join(f'"k{n}":0' for n in range(2_000_000))
    lines[2] = lines[2][:-1] + "," + padding + "}"
    (seeds / "cms.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    report = rebuild(seeds, tmp_path / "index", file_timeout=0.2)
    assert report.articles_total == 4
    assert any(problem.startswith("line 3: extraction of this record took longer than the time budget") for problem in report.problems["cms.jsonl"])
    with Archive.open(tmp_path / "index") as archive:
        assert sorted(article.id for article in archive.export()) == ["r1", "r2", "r4", "r5"]


def test_stats_shows_the_run_in_progress_its_pid_and_its_file(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    copy_seed_pages(seeds)
    assert newsearch("index", "--seeds", str(seeds), "--index", str(index)).returncode == 0
    (seeds / "900_slow.txt").write_text(slow_page(400_000), encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "search", "index", "--seeds", str(seeds), "--index", str(index), "--file-timeout", "120"],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen = ""
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and run.poll() is None:
            stats = newsearch("stats", "--index", str(index), "--format", "json", timeout=30)
            status = json.loads(stats.stdout).get("run") if stats.returncode == 0 else None
            if status and "900_slow.txt" in (status.get("current") or {}):
                seen = status["summary"]
                assert status["pid"] == run.pid
                text = newsearch("stats", "--index", str(index)).stdout
                assert f"index run in progress (pid {run.pid}; incremental, reading 0/1, on 900_slow.txt" in text
                break
            time.sleep(0.2)
        assert seen, "stats never showed the run"
        # A second run waiting for the lock names the holder and what it is doing.
        waiting = newsearch("index", "--seeds", str(seeds), "--index", str(index), extra_env={"NEWSEARCH_LOCK_TIMEOUT": "1"})
        assert waiting.returncode == 1 and f"pid {run.pid}, incremental, reading 0/1, on 900_slow.txt" in waiting.stderr
    finally:
        run.kill()
        run.communicate()
    # Once no run holds the lock, stats says nothing of one.
    assert "run:" not in newsearch("stats", "--index", str(index)).stdout
    assert os.path.exists(index / ".build.lock")

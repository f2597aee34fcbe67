"""End to end in headless Chromium (Playwright's sync API) against the real server.

Starts ``python -m search serve`` (waitress) on a free port over an index built from the seed pages in a
temporary directory, then uses the site as a person would: type a query (with suggestions), see
highlighted results, select a facet and watch counts and results change, remove the filter chip, open an
article, go back. Also: the page without JavaScript, the layout at 375 px, no CSP violations. Saves
screenshots (search-1280.png, search-375.png, article-1280.png) to tests/artifacts/screenshots/, or to
$NEWSEARCH_SCREENSHOT_DIR: ``NEWSEARCH_SCREENSHOT_DIR=docs/screenshots`` refreshes the README's.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.api import rebuild
from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("NEWSEARCH_SCREENSHOT_DIR") or REPO_ROOT / "tests" / "artifacts" / "screenshots")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A synonym group for the synonym test: 首季告捷 appears in no seed page, 开门红 in three articles.
BROWSER_SYNONYMS = 'groups = [["开门红", "首季告捷"]]\n'


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"server did not answer {url} within {timeout}s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``python -m search serve`` over a fresh index of the seed pages."""
    root = tmp_path_factory.mktemp("browser")
    seeds, index = root / "seeds", root / "index"
    import shutil

    shutil.copytree(REPO_ROOT / "seeds", seeds)
    (seeds / "synonyms.toml").write_text(BROWSER_SYNONYMS, encoding="utf-8")
    rebuild(seeds, index)
    port = _free_port()
    log = open(root / "server.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(index), "--seeds", str(seeds),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/healthz", process)
        # One search loads the segmenter's dictionary; do it here so pages show warm timings.
        with urllib.request.urlopen(base + "/api/search?q=%E9%AB%98%E6%96%B0%E5%8C%BA", timeout=60):
            pass
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _new_page(browser, width: int, height: int = 900, **options):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def _total(page) -> int:
    text = page.locator(".summary").inner_text()
    match = re.search(r"找到\s*(\d+)\s*篇", text)
    return int(match.group(1)) if match else 0


def _facet_counts(page, facet: str) -> dict[str, str]:
    links = page.locator(f'a.facet-value[data-facet="{facet}"]')
    return {
        links.nth(i).locator(".facet-label").inner_text(): links.nth(i).locator(".count").inner_text()
        for i in range(links.count())
    }


def test_search_facet_chip_article_and_back(server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _new_page(browser, 1280)
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    # Type a query: suggestions appear in a keyboard-navigable listbox.
    box = page.get_by_role("combobox", name="检索词")
    box.click()
    box.press_sequentially("小微", delay=40)
    listbox = page.get_by_role("listbox", name="检索建议")
    listbox.wait_for(state="visible")
    assert page.get_by_role("option").count() >= 1
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-expanded") == "true"
    box.press("Escape")
    assert listbox.is_hidden() and box.get_attribute("aria-expanded") == "false"

    box.press_sequentially("企业", delay=40)
    box.press("Enter")  # no option chosen: the form submits what was typed
    page.wait_for_url(re.compile(r"/search\?q=%E5%B0%8F%E5%BE%AE%E4%BC%81%E4%B8%9A$"))

    # Highlighted results.
    results = page.locator("li.result")
    assert results.count() >= 2
    total = _total(page)
    assert total == results.count()
    assert page.locator(".snippet mark").first.inner_text() == "小微企业"
    mark_bg = page.locator(".snippet mark").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert mark_bg not in ("rgba(0, 0, 0, 0)", "transparent")
    page.screenshot(path=str(SCREENSHOTS / "search-1280.png"), full_page=True)

    # Select a facet value: results and the other facets' counts change, a chip appears.
    years_before = _facet_counts(page, "year")
    places_before = _facet_counts(page, "place")
    place_link = page.locator('a.facet-value[data-facet="place"]').filter(has_text="高新区").first
    place_count = int(place_link.locator(".count").inner_text().replace("，", "").replace("篇", "").strip())
    place_link.click()
    page.wait_for_url(re.compile(r"place=%E9%AB%98%E6%96%B0%E5%8C%BA"))
    assert _total(page) == place_count < total
    assert page.locator("li.result").count() == place_count
    assert _facet_counts(page, "year") != years_before
    selected = page.locator('a.facet-value.is-selected[data-facet="place"]')
    assert selected.count() == 1 and "高新区" in selected.inner_text()
    chip = page.locator("a.chip")
    assert chip.count() == 1 and "高新区" in chip.inner_text()

    # Remove the filter with its chip: back to every result.
    chip.click()
    page.wait_for_url(re.compile(r"/search\?q=[^&]+$"))
    assert _total(page) == total and page.locator("a.chip").count() == 0
    assert _facet_counts(page, "place") == places_before

    # Open an article: terms marked, metadata, related, a link back.
    first_title = page.locator("li.result .result-title a").first
    title_text = first_title.inner_text()
    first_title.click()
    page.wait_for_url(re.compile(r"/article/[^?]+\?q="))
    assert page.locator("h1#article-title").inner_text() == title_text
    assert page.locator(".article-body mark").count() >= 1
    assert page.locator(".article-meta").inner_text().count("记者") == 1
    assert page.locator(".related li").count() >= 1
    assert page.locator("a.back-link").get_attribute("href").startswith("/search?q=")
    page.screenshot(path=str(SCREENSHOTS / "article-1280.png"), full_page=True)

    # The back button restores the results (the URL holds the whole state).
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert _total(page) == total

    # Keyboard: Tab reaches the skip link first, and focus is visible.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert focused == "skip-link"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert page.locator(".skip-link").is_visible() and outline != "none"

    assert errors == [], errors  # no script errors, no CSP violations
    context.close()


def test_narrow_screen_375(server, browser):
    context, page, errors = _new_page(browser, 375, 812, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(server + "/search?q=%E5%B0%8F%E5%BE%AE%E4%BC%81%E4%B8%9A")
    assert page.locator("li.result").count() >= 2
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the screen"
    # the facet panel starts collapsed on a phone and opens on demand
    panel = page.locator("details.facet-panel")
    assert panel.get_attribute("open") is None
    page.locator("details.facet-panel > summary").click()
    assert page.locator('a.facet-value[data-facet="place"]').first.is_visible()
    page.locator("details.facet-panel > summary").click()
    page.screenshot(path=str(SCREENSHOTS / "search-375.png"), full_page=True)
    page.goto(server + "/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert errors == [], errors
    context.close()


def test_the_page_works_without_javascript(server, browser):
    context, page, _ = _new_page(browser, 1024, java_script_enabled=False)
    page.goto(server + "/")
    page.get_by_label("检索词").fill("融资")
    page.get_by_role("button", name="检索").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("li.result").count() >= 1
    # facets are links: they work without script; the date form submits too
    page.locator('a.facet-value[data-facet="year"]').first.click()
    page.wait_for_url(re.compile(r"year="))
    assert page.locator("a.chip").count() == 1
    page.locator("#date-from").fill("2023")
    page.get_by_role("button", name="应用日期").click()
    page.wait_for_url(re.compile(r"from=2023"))
    assert page.locator("a.chip").count() == 2
    context.close()


# ---------------------------------------------------------------------------------------------
# Beyond the search box (issue 15): did-you-mean, pinyin, synonyms, timeline, 全部, export, browse


def test_did_you_mean_pinyin_and_synonyms(server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _new_page(browser, 1280)
    # A homophone typo: the page offers the word the archive holds, and the offer works.
    page.goto(server + "/search?q=%E9%83%91%E6%B4%B2")  # 郑洲
    offer = page.locator("a.did-you-mean-link")
    assert "您是不是要找" in page.locator(".did-you-mean").inner_text() and offer.inner_text() == "郑州"
    page.screenshot(path=str(SCREENSHOTS / "did-you-mean-1280.png"), full_page=True)
    offer.click()
    page.wait_for_url(re.compile(r"q=%E9%83%91%E5%B7%9E$"))
    assert _total(page) >= 5

    # Pinyin typed in Latin letters: the suggestions offer 高新区, and the results page does too.
    page.goto(server + "/")
    box = page.get_by_role("combobox", name="检索词")
    box.click()
    box.press_sequentially("gaoxinqu", delay=30)
    page.get_by_role("listbox", name="检索建议").wait_for(state="visible")
    assert "高新区" in [page.get_by_role("option").nth(i).locator(".suggestion-text").inner_text()
                       for i in range(page.get_by_role("option").count())]  # fmt: skip
    box.press("Escape")
    box.press("Enter")
    page.wait_for_url(re.compile(r"q=gaoxinqu"))
    page.locator("a.did-you-mean-link", has_text="高新区").click()
    page.wait_for_url(re.compile(r"q=%E9%AB%98%E6%96%B0%E5%8C%BA$"))
    assert _total(page) >= 10

    # A synonym: 首季告捷 is on no page, yet its group finds the 开门红 articles, and the page says so.
    page.goto(server + "/search?q=%E9%A6%96%E5%AD%A3%E5%91%8A%E6%8D%B7")  # 首季告捷
    assert "已包含同义词" in page.locator(".synonyms-note").inner_text() and "开门红" in page.locator(".synonyms-note").inner_text()
    assert _total(page) >= 3 and page.locator(".snippet mark", has_text="开门红").count() >= 1
    assert errors == [], errors
    context.close()


def test_timeline_click_facet_all_and_export(server, browser, tmp_path):
    context, page, errors = _new_page(browser, 1280, accept_downloads=True)
    page.goto(server + "/search?q=%E9%AB%98%E6%96%B0%E5%8C%BA")  # 高新区
    total = _total(page)
    bars = page.locator("a.timeline-bar")
    assert bars.count() >= 2
    page.screenshot(path=str(SCREENSHOTS / "timeline-1280.png"), full_page=True)
    # A click on the 2024 bar filters to that year; the chart then shows its months.
    bar = page.locator('a.timeline-bar[data-period="2024"]')
    label = bar.get_attribute("aria-label")
    count = int(re.search(r"(\d+) 篇", label).group(1))
    bar.click()
    page.wait_for_url(re.compile(r"year=2024"))
    assert _total(page) == count < total
    assert page.locator('a.timeline-bar[data-period^="2024-"]').count() >= 1
    assert all(d.startswith("2024") for d in page.locator(".result time").evaluate_all("els => els.map(e => e.dateTime)"))

    # A long facet: 全部 lists every value, and the filter box narrows the list as one types.
    page.goto(server + "/search?year=2024")
    orgs = page.locator('a.facet-value[data-facet="org"]')
    assert orgs.count() == 10
    page.locator("#facet-org ~ .facet-more a.facet-all-link").click()
    page.wait_for_url(re.compile(r"_facet_size=max"))
    every = page.locator('a.facet-value[data-facet="org"]').count()
    assert every > 10
    box = page.locator('input[data-facet-filter="org"]')
    box.fill("大学")
    visible = page.locator('ul[data-facet-list="org"] li:visible')
    assert 1 <= visible.count() < every and all("大学" in t for t in visible.all_inner_texts())

    # Export: the whole result set (not one page) downloads as CSV with a BOM.
    page.goto(server + "/search?q=%E5%8F%91%E5%B1%95&limit=10")  # 发展: more than one page of results
    total = _total(page)
    with page.expect_download() as info:
        page.locator("a.export-csv").click()
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    import csv as csv_module
    import io as io_module

    rows = list(csv_module.DictReader(io_module.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == total > 10 and all(row["id"] for row in rows)
    assert errors == [], errors
    context.close()


def test_browse_by_issue(server, browser):
    context, page, errors = _new_page(browser, 1280)
    page.goto(server + "/")
    page.get_by_role("link", name="按版面浏览").click()
    page.wait_for_url(re.compile(r"/browse$"))
    assert "2024年11月22日" in page.locator("main").inner_text()
    page.locator('a.page-link[href$="000_60733420360c6775.txt"]').click()
    page.wait_for_url(re.compile(r"/browse/000_60733420360c6775.txt$"))
    titles = page.locator(".page-article .result-title a").all_inner_texts()
    assert len(titles) == 5 and titles[0] == "高新区一项目拟入库" and titles[1] == "政银企协同解决小微企业融资难题"
    page.screenshot(path=str(SCREENSHOTS / "browse-page-1280.png"), full_page=True)
    page.locator(".page-article .result-title a").nth(1).click()
    page.wait_for_url(re.compile(r"/article/"))
    page.locator("a.page-link").click()  # the article page links back to its page, at the article
    page.wait_for_url(re.compile(r"/browse/000_60733420360c6775.txt#a-2$"))
    assert errors == [], errors
    context.close()


def test_new_features_at_375(server, browser):
    context, page, errors = _new_page(browser, 375, 812, device_scale_factor=2, is_mobile=True, has_touch=True)
    for path, name in (("/search?q=%E9%AB%98%E6%96%B0%E5%8C%BA", "timeline-375.png"), ("/browse", "browse-375.png"),
                       ("/search?q=%E9%83%91%E6%B4%B2", "did-you-mean-375.png")):  # fmt: skip
        page.goto(server + path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    # The placeholder fits the search box on a phone.
    page.goto(server + "/")
    fits = page.locator("#q").evaluate(
        "el => { const c = document.createElement('canvas').getContext('2d'); const s = getComputedStyle(el);"
        " c.font = s.fontSize + ' ' + s.fontFamily; const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);"
        " return c.measureText(el.placeholder).width <= el.clientWidth - pad; }"
    )
    assert fits
    assert errors == [], errors
    context.close()

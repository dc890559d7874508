"""The graph page in a real headless browser (Debian's Chromium, driven by Playwright).

`.ci/run` installs Chromium; on a machine without it the test is skipped, except under CI,
where a missing browser is a failure. The screenshot is kept in tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vaultgen.check.links import check_files
from vaultgen.views.graph import communities, typed_graph
from vaultgen.views.page import render_page

from .test_graph import many_papers

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail("CI needs Chromium for the page test: apt-get install chromium", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = many_papers(200, topics=5)
    texts["papers/P7.md"] = texts["papers/P7.md"].replace("title: P7", "title: Sparse Mixture P7")
    graph = typed_graph(check_files(texts).graph)
    path = tmp_path_factory.mktemp("page") / "graph.html"
    path.write_text(render_page(graph, communities(graph), "test vault"), encoding="utf-8")
    return path


def test_page_loads_searches_and_shows_details(page_file: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda route: route.abort()
                       if not route.request.url.startswith("file:") else route.continue_())
            page.goto(page_file.as_uri())
            page.wait_for_function("window.vaultgenReady === true")

            # The nodes are there and on screen.
            assert page.evaluate("cy.nodes().length") == 200
            on_screen = page.evaluate("""() => {
                const w = cy.width(), h = cy.height();
                return cy.nodes().filter(n => { const p = n.renderedPosition();
                  return n.visible() && p.x >= 0 && p.y >= 0 && p.x <= w && p.y <= h;
                }).length; }""")
            assert on_screen == 200
            assert "200 of 200 papers shown" in page.inner_text("#counts")

            # Search finds a paper by a word of its title; choosing it shows its details.
            page.fill("#search", "sparse mix")
            results = page.locator("#results li")
            assert results.count() == 1 and results.first.inner_text() == "Sparse Mixture P7"
            results.first.click()
            assert page.inner_text("#details h2") == "Sparse Mixture P7"
            details = page.text_content("#details") or ""
            assert "arXiv 2401." in details and "Cites (1)" in details and "Cited by (1)" in details

            # A click on a node shows that node's details (zoomed out again, as a user would).
            page.wait_for_function("!cy.animated()")
            page.evaluate("cy.fit(undefined, 30)")
            target = page.evaluate("""() => {
                const n = cy.nodes().filter(n => n.data('label') === 'P42')[0];
                const p = n.renderedPosition(); const r = cy.container().getBoundingClientRect();
                return {x: r.left + p.x, y: r.top + p.y}; }""")
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function("document.querySelector('#details h2') && "
                                   "document.querySelector('#details h2').textContent === 'P42'")
            assert "#topic2" in (page.text_content("#details") or "")

            # Filtering by tag hides the other papers.
            page.select_option("#tag-filter", "topic2")
            assert "40 of 200 papers shown" in page.inner_text("#counts")
            page.select_option("#tag-filter", "")
            page.select_option("#colour-by", "tag")
            assert page.locator("#legend li").count() >= 5

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "graph-page.png"))
        finally:
            browser.close()
    assert errors == []

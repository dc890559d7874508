"""The graph page in a real headless browser (Debian's Chromium, driven by Playwright).

`.ci/run` installs Chromium; on a machine without it the test is skipped, except under CI,
where a missing browser is a failure. The screenshot is kept in tests/artifacts/.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
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

# The label of every paper that shows one, in pixels of the page (Cytoscape's own box).
LABEL_BOXES = """() => cy.nodes('.labelled').filter(n => n.visible()).map(n => {
  const b = n.renderedBoundingBox({includeNodes: false, includeEdges: false,
                                   includeLabels: true, includeOverlays: false});
  return [b.x1, b.y1, b.x2, b.y2, n.data('label')]; })"""
SHOWN_BOX = """() => { const b = cy.nodes().not('.hidden').renderedBoundingBox(
  {includeLabels: false}); return [b.x1, b.y1, b.x2, b.y2, cy.width(), cy.height()]; }"""


def topic_vault(count: int = 200, topics: int = 5) -> dict[str, str]:
    """``many_papers``, each paper listing related papers: two of its topic, and one paper in
    ten one of the next topic."""
    texts = many_papers(count, topics)
    for i in range(count):
        related = [f"P{j}" for j in (i + topics, i - 2 * topics, i + 1 if i % 10 == 0 else -1)
                   if 0 <= j < count]
        texts[f"papers/P{i}.md"] = texts[f"papers/P{i}.md"].replace(
            "tags:", "related: [" + ", ".join(f"'[[{r}]]'" for r in related) + "]\ntags:")
    return texts


def write_page(folder: Path, texts: dict[str, str], **options: int) -> Path:
    graph = typed_graph(check_files(texts).graph)
    path = folder / "graph.html"
    path.write_text(render_page(graph, communities(graph, min_size=1), "test vault", **options),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = topic_vault()
    texts["papers/P7.md"] = texts["papers/P7.md"].replace("title: P7", "title: Sparse Mixture P7")
    return write_page(tmp_path_factory.mktemp("page"), texts)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser):  # type: ignore[no-untyped-def]
    """Open a page file offline; the errors it logged are checked when the test ends."""
    errors: list[str] = []
    pages = []

    def opener(path: Path, settled: bool = True):  # type: ignore[no-untyped-def]
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        pages.append(page)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda route: route.abort()
                   if not route.request.url.startswith(("file:", "blob:")) else route.continue_())
        page.goto(path.as_uri())
        page.wait_for_function("window.vaultgenReady === true")
        if settled:
            page.wait_for_function("window.vaultgenSettled === true", timeout=60_000)
            page.wait_for_function("window.vaultgenLabelled === true")
        return page

    yield opener
    for page in pages:
        page.close()
    assert errors == []


def labels_settled(page) -> list[list]:  # type: ignore[no-untyped-def]
    page.wait_for_function("!cy.animated() && window.vaultgenLabelled === true")
    return page.evaluate(LABEL_BOXES)


def overlaps(boxes: list[list]) -> list[tuple[str, str]]:
    return [(a[4], b[4]) for a, b in itertools.combinations(boxes, 2)
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def test_page_loads_searches_and_shows_details(page_file: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(page_file)
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
    assert "Related papers (1)" in details and "1. P12" in details

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

    page.select_option("#colour-by", "tag")
    assert page.locator("#legend li").count() >= 5
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graph-page.png"))


def test_a_filter_refits_the_view_and_updates_every_count(page_file: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(page_file)
    counts = page.inner_text("#counts")
    assert counts == "200 of 200 papers shown · 195 citations · 405 related links"
    legend = page.locator("#legend li").all_inner_texts()
    assert len(legend) == 5 and sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in legend) == 200
    colours = page.evaluate("""() => [...document.querySelectorAll('#legend .swatch')]
                               .map(s => s.style.background)""")
    assert len(set(colours)) == 5  # one colour for each community, none grey

    page.select_option("#tag-filter", "topic2")
    page.wait_for_function("window.vaultgenLabelled === true")
    # 40 papers, the 39 citations and the related links among them; each count follows.
    assert page.inner_text("#counts") == "40 of 200 papers shown · 39 citations · 77 related links"
    legend = page.locator("#legend li").all_inner_texts()
    assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in legend) == 40
    assert page.locator("#tag-filter option[value=topic2]").inner_text() == "#topic2 (40)"
    # The papers shown fill the view: none outside, and they span most of it.
    x1, y1, x2, y2, width, height = page.evaluate(SHOWN_BOX)
    assert x1 >= 0 and y1 >= 0 and x2 <= width and y2 <= height
    assert max((x2 - x1) / width, (y2 - y1) / height) > 0.7

    # The dates narrow the tag's papers again (a date range that holds none says so).
    page.fill("#date-from", "2024-06-01")
    page.dispatch_event("#date-from", "change")
    assert page.inner_text("#counts").startswith("23 of 200 papers shown")
    page.fill("#date-from", "2030-01-01")
    page.dispatch_event("#date-from", "change")
    assert page.inner_text("#counts").startswith("0 of 200 papers shown · 0 citations")
    assert page.is_visible("#none-shown")

    # Related links are a toggle.
    page.fill("#date-from", "")
    page.dispatch_event("#date-from", "change")
    page.select_option("#tag-filter", "")
    visible_related = "cy.edges('.related').filter(e => e.visible()).length"
    assert page.evaluate(visible_related) == 405
    page.uncheck("#show-related")
    page.wait_for_function(f"{visible_related} === 0")
    assert page.evaluate("cy.edges('.cites').filter(e => e.visible()).length") == 195


def test_labels_never_overlap_and_more_show_as_one_zooms_in(page_file: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(page_file)
    shown = []
    for factor in (1, 3, 8):  # towards a paper amid others
        page.evaluate("""(factor) => { cy.fit(undefined, 40);
            const at = cy.nodes().filter(n => n.data('label') === 'P102')[0];
            cy.zoom({level: cy.zoom() * factor, renderedPosition: at.renderedPosition()});
            cy.center(at); }""", factor)
        boxes = labels_settled(page)
        assert boxes, f"no label at {factor}×"
        assert overlaps(boxes) == [], f"labels overlap at {factor}×"
        width, height = page.evaluate("[cy.width(), cy.height()]")
        assert all(b[0] >= 0 and b[2] <= width and b[1] >= 0 and b[3] <= height for b in boxes)
        in_view = page.evaluate("""() => { const e = cy.extent(); return cy.nodes().filter(n => {
            const p = n.position(); return p.x > e.x1 && p.x < e.x2 && p.y > e.y1 && p.y < e.y2;
            }).length; }""")
        shown.append((len(boxes), in_view))
    # Zoomed in, a larger share of the papers in view has its label.
    shares = [labels / papers for labels, papers in shown]
    assert shares[0] < min(shares[1:]) and min(shares[1:]) > 0.5, shown
    # A paper pointed at shows its label, whatever else is shown.
    page.evaluate("cy.fit(undefined, 40)")
    labels_settled(page)
    hidden = page.evaluate("""() => { const w = cy.width(), h = cy.height();
        const n = cy.nodes().not('.labelled').filter(n => { const p = n.renderedPosition();
          return p.x > 200 && p.x < w - 200 && p.y > 100 && p.y < h - 100; })[0];
        return {label: n.data('label'), ...n.renderedPosition()}; }""")
    box = page.locator("#cy").bounding_box()
    page.mouse.move(box["x"] + hidden["x"], box["y"] + hidden["y"])
    page.wait_for_function("(label) => cy.nodes('.labelled').some(n => n.data('label') === "
                           "label)", arg=hidden["label"])
    assert overlaps(labels_settled(page)) == []


def test_an_empty_vault_says_so(tmp_path: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(write_page(tmp_path, {"Welcome.md": "Hello [[Welcome]]\n"}))
    assert page.is_visible("#empty")
    assert "No papers to draw" in page.inner_text("#empty")
    assert "vaultgen build" in page.inner_text("#empty")
    assert page.inner_text("#counts") == "0 of 0 papers shown · 0 citations · 0 related links"
    assert page.is_disabled("#search")


def test_a_vault_too_large_for_one_page_is_thinned_and_says_so(tmp_path: Path,
                                                                open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(write_page(tmp_path, topic_vault(), max_shown=60))
    assert page.evaluate("cy.nodes().length") == 60
    assert page.is_visible("#notice")
    assert page.inner_text("#notice").startswith(
        "This vault has 200 papers. To stay quick, this page shows the 60 most linked")
    assert page.inner_text("#counts").startswith("60 of 60 papers shown")

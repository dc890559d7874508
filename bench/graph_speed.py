"""The time of each `vaultgen graph` format, and of the page in Chromium, on the corpus vault.

    python bench/graph_speed.py [--corpus ../shared/corpus] [--vault DIR]

Builds the vault of the whole corpus (or takes ``--vault``), then times, in one run: reading
and checking the vault (what every format starts with), grouping into communities, and
rendering each format. Times are printed as ratios to the check. With Chromium installed
(and Playwright), it also loads the page headless and measures how long it takes to become
interactive and the mean frame time while zooming and panning (``--no-browser`` skips it).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from corpus_args import corpus_parser, corpus_vault

from vaultgen.check.links import check_vault
from vaultgen.views.canvas import render_canvases
from vaultgen.views.graph import EXPORTS, communities, paper_graph, typed_graph
from vaultgen.views.page import render_page

FRAME_PROBE = """async () => {
  const frames = [];
  let last = performance.now();
  for (let i = 0; i < 120; i++) {
    const z = cy.zoom() * (i % 40 < 20 ? 1.05 : 1 / 1.05);
    cy.viewport({zoom: z, pan: {x: cy.pan().x + (i % 2 ? 7 : -5), y: cy.pan().y + 3}});
    await new Promise(r => requestAnimationFrame(r));
    const now = performance.now(); frames.push(now - last); last = now;
  }
  frames.sort((a, b) => a - b);
  return {mean: frames.reduce((a, b) => a + b, 0) / frames.length,
          p95: frames[Math.floor(frames.length * 0.95)]};
}"""


def timed(action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def browser_figures(page_path: Path) -> dict[str, float] | None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_function("window.vaultgenReady === true")
        ready = time.perf_counter() - start
        frames = page.evaluate(FRAME_PROBE)
        browser.close()
    return {"ready_s": ready, "frame_mean_ms": frames["mean"], "frame_p95_ms": frames["p95"]}


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, help="an existing vault instead of the corpus")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = args.vault
        if vault is None:
            vault = Path(tmp) / "vault"
            corpus_vault(args.corpus, vault)
        report, check_s = timed(lambda: check_vault(vault))
        typed, typed_s = timed(lambda: typed_graph(report.graph))
        groups, groups_s = timed(lambda: communities(typed))
        papers = paper_graph(typed)
        print(f"{report.summary['notes']} notes, {len(papers)} papers, "
              f"{papers.number_of_edges()} citations, {len(groups)} communities")
        print(f"check (read + link graph): 1.00 (the unit); typed graph {typed_s / check_s:.2f}; "
              f"communities {groups_s / check_s:.2f}")
        renders = {"canvas": lambda: render_canvases(typed, groups),
                   "html": lambda: render_page(typed, groups, "corpus"),
                   **{fmt: (lambda f=f: f(typed)) for fmt, f in EXPORTS.items()}}
        page = Path(tmp) / "graph.html"
        for fmt, render in renders.items():
            output, seconds = timed(render)
            size = sum(len(t) for t in output.values()) if isinstance(output, dict) else len(output)
            print(f"  {fmt:8} {seconds / check_s:5.2f} × check, {size / 1e6:.1f} MB")
            if fmt == "html":
                page.write_text(output, encoding="utf-8")
        figures = None if args.no_browser else browser_figures(page)
        if figures:
            print(f"page in headless Chromium: interactive after {figures['ready_s']:.2f} s "
                  f"({figures['ready_s'] / check_s:.1f} × check); while zooming and panning "
                  f"mean frame {figures['frame_mean_ms']:.1f} ms, 95th percentile "
                  f"{figures['frame_p95_ms']:.1f} ms (software rendering, no GPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

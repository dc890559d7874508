"""The time of each `vaultgen graph` format, and how the page behaves in Chromium.

    python bench/graph_speed.py [--corpus ../shared/corpus]            # the corpus vault
    python bench/graph_speed.py --entries 5000 [--corpus DIR]          # a synthetic vault
    python bench/graph_speed.py --vault DIR                            # a vault of yours

Takes a vault: the one ``--vault`` names; else, with ``--entries N``, a synthetic corpus of N
entries (``synth_corpus.py``, kept under ``bench/out/synth-Nk/``) built offline with
``vaultgen build --related 5``;
else the vault of the whole real corpus. Then times, in one run: reading and checking the
vault (what every format starts with), grouping into communities, and rendering each format,
as ratios to the check.

With Chromium and Playwright (``--no-browser`` skips it), it opens the page headless at
1400×900 and reports: when it is interactive (drawn, with its controls working), when the
force layout has settled (the papers in their final places), and the frame times while a
person zooms with the mouse wheel and drags the view: every frame's time from
``requestAnimationFrame`` over 40 wheel steps and a 40-step drag, its mean and 95th
percentile, with the related links hidden (as the page opens a large vault) and shown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_args import ROOT, corpus_parser, corpus_vault, load_truth

from vaultgen.check.links import check_vault
from vaultgen.views.canvas import render_canvases
from vaultgen.views.graph import EXPORTS, communities, paper_graph, typed_graph
from vaultgen.views.page import render_page

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RECORD = """() => { window.benchFrames = []; window.benchRecording = true;
  let last = performance.now();
  const tick = (now) => { window.benchFrames.push(now - last); last = now;
    if (window.benchRecording) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
RESULT = """() => { window.benchRecording = false;
  const frames = window.benchFrames.slice(1).sort((a, b) => a - b);
  return {count: frames.length, mean: frames.reduce((a, b) => a + b, 0) / frames.length,
          p95: frames[Math.floor(frames.length * 0.95)], max: frames[frames.length - 1]}; }"""


def timed(action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def gesture_frames(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Frame times while the mouse wheel zooms in and out, then a drag pans the view."""
    box = page.locator("#cy").bounding_box()
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(centre_x, centre_y)
    page.evaluate(RECORD)
    for step in range(40):
        page.mouse.wheel(0, -60 if step % 20 < 10 else 60)
        page.wait_for_timeout(16)
    page.mouse.down()
    for step in range(40):
        page.mouse.move(centre_x + (step % 20) * 10, centre_y + (step % 10) * 6)
        page.wait_for_timeout(16)
    page.mouse.up()
    page.wait_for_timeout(400)
    return page.evaluate(RESULT)


def browser_figures(page_path: Path) -> dict[str, object] | None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_function("window.vaultgenReady === true", timeout=300_000)
        ready = time.perf_counter() - start
        page.wait_for_function("window.vaultgenSettled === true", timeout=300_000)
        settled = time.perf_counter() - start
        layout = page.evaluate("window.vaultgenLayout || {}")
        page.wait_for_timeout(1000)  # a person looks before they zoom
        related_shown = page.is_checked("#show-related")
        frames = {("shown" if related_shown else "hidden"): gesture_frames(page)}
        page.click("#show-related")
        page.evaluate("cy.fit(undefined, 40)")
        page.wait_for_timeout(500)
        frames["hidden" if related_shown else "shown"] = gesture_frames(page)
        shown_text = page.inner_text("#counts")
        notice = page.inner_text("#notice") if page.is_visible("#notice") else ""
        browser.close()
    return {"ready_s": ready, "settled_s": settled, "layout": layout, "frames": frames,
            "related_at_start": related_shown, "counts": shown_text, "notice": notice}


def synthetic_vault(corpus: Path, entries: int, folder: Path) -> Path:
    """A synthetic corpus of ``entries`` entries built into ``folder``, with related lists."""
    from synth_corpus import generate, profile

    posts = ROOT / "bench" / "out" / f"synth-{entries // 1000}k"
    if not (posts / "input" / "arxiv-cache.json").exists():
        known = {json.loads(line)["id"] for line in
                 (corpus / "arxiv-metadata.jsonl").read_text(encoding="utf-8").splitlines()}
        generate(profile(load_truth(corpus), known), entries, posts)
    subprocess.run([sys.executable, "-m", "vaultgen", "build", str(posts / "input"), "-o",
                    str(folder), "--offline", "--related", "5"], check=True, capture_output=True)
    print(f"synthetic vault of {entries} entries, built with --related 5")
    return folder


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, help="an existing vault instead of the corpus")
    parser.add_argument("--entries", type=int, help="a synthetic vault of this many entries")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = args.vault
        if vault is None and args.entries:
            vault = synthetic_vault(args.corpus, args.entries, Path(tmp) / "vault")
        elif vault is None:
            vault = Path(tmp) / "vault"
            corpus_vault(args.corpus, vault)
        report, check_s = timed(lambda: check_vault(vault))
        typed, typed_s = timed(lambda: typed_graph(report.graph))
        groups, groups_s = timed(lambda: communities(typed))
        papers = paper_graph(typed)
        related = paper_graph(typed, "related")
        print(f"{report.summary['notes']} notes, {len(papers)} papers, "
              f"{papers.number_of_edges()} citations, {related.number_of_edges()} related "
              f"links, {len(groups)} communities")
        print(f"check (read + link graph): {check_s:.2f} s, the unit; typed graph "
              f"{typed_s / check_s:.2f}; communities {groups_s / check_s:.2f}")
        renders = {"canvas": lambda: render_canvases(typed, groups),
                   "html": lambda: render_page(typed, communities(typed, min_size=1),
                                               "corpus"),
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
            print(f"page in headless Chromium (software rendering, no GPU): "
                  f"{figures['counts']}")
            if figures["notice"]:
                print(f"  notice: {figures['notice']}")
            layout = figures["layout"]
            print(f"  interactive after {figures['ready_s']:.1f} s; layout settled after "
                  f"{figures['settled_s']:.1f} s ({layout.get('iterations', 0)} ForceAtlas2 "
                  f"iterations, {layout.get('ms', 0) / 1000:.1f} s)")
            for state, frames in figures["frames"].items():
                start = " (as the page opens)" if (state == "shown") == \
                    figures["related_at_start"] else ""
                print(f"  related links {state}{start}: zoom and drag, {frames['count']} "
                      f"frames, mean {frames['mean']:.1f} ms, 95th percentile "
                      f"{frames['p95']:.1f} ms, longest {frames['max']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

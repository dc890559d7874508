"""A screenshot of the graph page of a vault, as a person sees it in Chromium.

    python bench/screenshot.py [--corpus ../shared/corpus] [--out docs/graph-page.png]
    python bench/screenshot.py --vault DIR [--out FILE.png]

Builds the vault of the whole corpus (or takes ``--vault``), makes its page with
``vaultgen graph VAULT --format html``, opens it in headless Chromium (Playwright; the
browser at ``--chromium``, default ``chromium`` on the PATH) at 1600×1000, waits until the
layout has settled and the labels are placed, and saves the screenshot.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus_args import ROOT, corpus_parser, corpus_vault

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def screenshot(page_file: Path, out: Path, chromium: str) -> str:
    """Save the page's screenshot to ``out``; the page's counts line."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(page_file.as_uri())
            page.wait_for_function("window.vaultgenSettled === true", timeout=300_000)
            page.wait_for_function("window.vaultgenLabelled === true")
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            return page.inner_text("#counts")
        finally:
            browser.close()


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, help="an existing vault instead of the corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "graph-page.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = args.vault
        if vault is None:
            vault = Path(tmp) / "corpus"
            corpus_vault(args.corpus, vault)
        page = Path(tmp) / "graph.html"
        subprocess.run([sys.executable, "-m", "vaultgen", "graph", str(vault), "--format",
                        "html", "-o", str(page)], check=True)
        counts = screenshot(page, args.out, args.chromium)
    print(f"{args.out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

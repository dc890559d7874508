"""Rendering paper notes, in one process: microseconds a note, for comparing two trees.

    PYTHONPATH=TREE python bench/render_speed.py [--input bench/out/synth-50k/input]
                                                 [--papers 20000] [--repeat 3]

The posts are parsed and the library resolved from the corpus's arXiv cache (offline) and
named as a build does; then the first ``--papers`` paper notes are rendered ``--repeat``
times from their entries' texts (fetched once before the clock starts), and the best CPU
time a note printed. A build renders each note once, with worker processes busy beside it;
this times the rendering alone, which the build's own stage timer (``bench/phases.py``)
cannot tell apart from the machine's drift. Run it with each tree's ``PYTHONPATH`` in turn.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from vaultgen.arxiv.client import ArxivCache, ArxivSource, default_cache_path
from vaultgen.arxiv.match import build_library
from vaultgen.parse.inputs import ParseCache, find_input_files, read_posts_apart
from vaultgen.render.notes import paper_key, render_paper, settle_names

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, default=OUT / "synth-50k" / "input")
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = [args.input]
    source = ArxivSource(ArxivCache.load(default_cache_path(inputs)), offline=True)
    parsed, texts = read_posts_apart(inputs, ParseCache(None), find_input_files(inputs), None)
    library = build_library(parsed.entries, source, texts)
    context = settle_names(library)
    items = list(context.paper_items())[:args.papers]
    wanted = library.summaries_wanted([paper_key(paper) for paper, _ in items])
    library.summaries.update(source.summaries(wanted))
    papers = [(library.full(paper), name) for paper, name in items]  # texts fetched once
    if not papers:
        raise SystemExit(f"no paper notes to render from {args.input} (make the corpus with "
                         "bench/synth_corpus.py, or run bench/scale.py once)")
    gc.disable()  # as a build renders (``gcpause``)
    best = float("inf")
    for _ in range(args.repeat):
        began = time.process_time()
        for paper, name in papers:
            render_paper(paper, name, context)
        best = min(best, time.process_time() - began)
    print(f"rendered {len(papers):,} paper notes: {best / len(papers) * 1e6:.1f} µs a note "
          f"(best of {args.repeat}, CPU time)")


if __name__ == "__main__":
    main()

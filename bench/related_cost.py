"""The cost of related papers at scale: a full refresh of the entries of a folder of posts, and
the update that its last posts bring.

    python bench/related_cost.py --posts DIR [--k 5] [--max-pairs N] [--new 10] [-j N]

The posts are parsed first (not timed); the last posts, up to ``--new`` entries, are held
back. Then, timed: the full refresh of the other entries (fit, vectors, every list; with
``-j N``, the words counted by N worker processes, as a build with workers counts them), with
the peak resident memory of the process before and after it (``VmHWM``, the workers' aside);
the model and vectors through bytes and back (what a store would keep); and the update that
adds the held-back entries, from the model, vectors and lists read back.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vaultgen.parse.posts import parse_post
from vaultgen.related import (
    RelatedModel,
    RelatedSettings,
    RelatedText,
    Vectors,
    refresh,
    update,
)
from vaultgen.workers import worker_pool


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    return int(kb) / 1024


def papers_of(path: Path) -> list[RelatedText]:
    result = parse_post(path.read_text(encoding="utf-8"), path.name)
    return [RelatedText(f"{path.stem}#{i}", e.title, e.abstract, e.comment_ko, e.comment_en,
                        e.tags, e.authors) for i, e in enumerate(result.entries)]


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> str:
    return (f"{time.perf_counter() - start[0]:.2f} s "
            f"(CPU {time.process_time() - start[1]:.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=Path, required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--max-pairs", type=float, default=RelatedSettings().max_pairs)
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="worker processes that count the words (1: none)")
    parser.add_argument("--new", type=int, default=10,
                        help="hold back the last posts up to this many entries for the update")
    args = parser.parse_args()
    posts = sorted(args.posts.glob("*.txt"))
    held, last = 0, []
    while len(last) < args.new and held < len(posts) - 1:
        held += 1
        last = papers_of(posts[-held]) + last
    before = [paper for post in posts[:-held] for paper in papers_of(post)]
    print(f"{len(before)} papers, then {len(last)} in the last {held} posts; "
          f"peak before: {peak_mb():.0f} MB")
    with worker_pool(args.jobs) as pool:
        start = clock()
        full = refresh(before, args.k, RelatedSettings(max_pairs=args.max_pairs), pool)
        print(f"full refresh: {since(start)}; peak after: {peak_mb():.0f} MB; "
              f"{len(full.model.terms)} text terms, {len(full.model.tags)} tags, "
              f"{len(full.model.authors)} authors; {full.vectors.matrix.nnz} nonzeros")
    start = clock()
    model_bytes, vector_bytes = full.model.to_bytes(), full.vectors.to_bytes()
    print(f"to bytes: {since(start)}; model {len(model_bytes) / 1e6:.1f} MB, "
          f"vectors {len(vector_bytes) / 1e6:.1f} MB")
    start = clock()
    model, vectors = RelatedModel.from_bytes(model_bytes), Vectors.from_bytes(vector_bytes)
    print(f"from bytes: {since(start)}")
    start = clock()
    result = update(model, vectors, full.lists, last, (), args.k)
    print(f"update with {len(last)} papers: {since(start)}; {len(result.lists)} lists changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

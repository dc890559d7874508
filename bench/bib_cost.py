"""What ``vaultgen build --bib`` costs: builds with and without it, on the same corpus.

    python bench/bib_cost.py CORPUS [--repeat 5] [--jobs N]

CORPUS is a folder made by ``synth_corpus.py`` (``CORPUS/input``: posts and an arXiv cache).
For each repeat, and with and without ``--bib``: a cold build of the corpus but for its last
day into a new vault, the last day's post added (a new day), then a build without change;
each offline, by the ``vaultgen`` command in a child process. Printed: the median wall time
of each, and the CPU time of the build's own process (``-j 1`` runs every part in it).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of ``vaultgen ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "vaultgen", *args], capture_output=True,
                            text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", default="0")
    options = parser.parse_args()
    posts = sorted((options.corpus / "input").glob("*.txt"))
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="vaultgen-bib-") as work:
        for _ in range(options.repeat):
            for bib in ([], ["--bib"]):
                name = "with --bib" if bib else "without"
                root = Path(work) / name
                shutil.rmtree(root, ignore_errors=True)
                inputs = root / "input"
                shutil.copytree(options.corpus / "input", inputs)
                last = inputs / posts[-1].name
                last.rename(root / last.name)
                base = ["build", str(inputs), "-o", str(root / "vault"), "--offline", "-j",
                        options.jobs]
                figures.setdefault((name, "cold"), []).append(timed([*base, *bib]))
                (root / last.name).rename(last)
                figures.setdefault((name, "new day"), []).append(timed(base))
                figures.setdefault((name, "no change"), []).append(timed(base))
    for (name, step), runs in sorted(figures.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{step:10} {name:11} wall {wall:6.3f} s   CPU {cpu:6.3f} s")


if __name__ == "__main__":
    main()

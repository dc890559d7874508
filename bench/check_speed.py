"""`vaultgen check` against obsidiantools on the same vaults, in one run.

    pip install -e ".[test]"   # obsidiantools is a test dependency, not a dependency of vaultgen
    python bench/check_speed.py [--corpus ../shared/corpus] [--notes 5000]

Two vaults: a synthetic one (``--notes`` notes in 10 folders, unique exact-case names, three
links a note, one broken link in 50, some isolated notes) and the vault of the whole corpus
(built offline from a local arXiv mirror). Each is checked by ``vaultgen.check.check_vault``
and by obsidiantools' ``Vault(path).connect().gather()``, ``--repeat`` times each, and the best
time of each is kept (as ``timeit`` does: the least disturbed run); both libraries are imported
before any clock starts. The script prints both times, their ratio, and whether both found
the same broken links and isolated notes.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from corpus_args import corpus_parser, corpus_vault

from vaultgen.check import check_vault

T = TypeVar("T")


def synthetic_vault(folder: Path, notes: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for i in range(notes):
        links = [f"[[Note {rng.randrange(notes)}]]" for _ in range(3)]
        if i % 50 == 0:
            links.append(f"[[Missing {i}]]")
        if i % 97 == 0:
            links = []  # isolated unless something links here
        body = "\n".join(f"Paragraph {k} about topic {rng.randrange(100)}. {link}"
                         for k, link in enumerate(links))
        path = folder / f"folder {i % 10}" / f"Note {i}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntype: note\n---\n# Note {i}\n\n{body}\n", encoding="utf-8")


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    """The shortest of ``repeat`` runs, and what the last one returned. The previous run's
    result is dropped before the clock starts (freeing it is not part of the next run)."""
    times = []
    result: T | None = None
    for _ in range(repeat):
        result = None
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    assert result is not None
    return min(times), result


def compare(vault: Path, repeat: int) -> dict[str, object]:
    import networkx  # noqa: F401  (imported by both: no clock pays for it)
    from obsidiantools.api import Vault

    ours, report = best_of(repeat, lambda: check_vault(vault))
    theirs, theirs_vault = best_of(repeat, lambda: Vault(vault).connect().gather())
    our_broken = {f.message.removeprefix("broken link [[").removesuffix("]]")
                  for f in report.findings if f.kind == "broken"}
    our_isolated = {Path(f.path).stem for f in report.findings if f.kind == "isolated"}
    return {
        "notes": report.summary["notes"], "vaultgen_s": ours, "obsidiantools_s": theirs,
        "ratio": theirs / ours,
        "same_broken": our_broken == set(theirs_vault.nonexistent_notes),
        "broken": len(our_broken),
        "same_isolated": our_isolated == set(theirs_vault.isolated_notes),
        "isolated": len(our_isolated),
    }


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic"
        synthetic_vault(synthetic, args.notes)
        corpus = Path(tmp) / "corpus"
        corpus_vault(args.corpus, corpus)
        os.sync()  # both vaults on disk before any clock starts: reads do not race write-back
        for name, vault in (("synthetic", synthetic), ("corpus", corpus)):
            r = compare(vault, args.repeat)
            print(f"{name}: {r['notes']} notes; vaultgen {r['vaultgen_s']:.2f}s, obsidiantools "
                  f"{r['obsidiantools_s']:.2f}s → vaultgen {r['ratio']:.0f}× faster; "
                  f"same broken links: {r['same_broken']} ({r['broken']}), "
                  f"same isolated notes: {r['same_isolated']} ({r['isolated']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

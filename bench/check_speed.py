"""`vaultgen check` against obsidiantools on the same vaults, in one run.

    pip install -e ".[test]"   # obsidiantools is a test dependency, not a dependency of vaultgen
    python bench/check_speed.py [--corpus ../shared/corpus] [--notes 5000]

Two vaults: a synthetic one (``--notes`` notes in 10 folders, unique exact-case names, three
links a note, one broken link in 50, some isolated notes) and the vault of the whole corpus
(built offline from a local arXiv mirror). Each is checked by ``vaultgen.check.links.check_vault``
and by obsidiantools' ``Vault(path).connect().gather()``, ``--repeat`` times each, the two
taking turns, each run in a new process (nothing cached by a run before, as when a command
runs), each library imported before its clock starts; the best time of each is kept (as
``timeit`` does: the least disturbed run, since other work on the computer slows some runs).
The script prints both times, their ratio, and whether both found the same broken links and
isolated notes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_args import corpus_parser, corpus_vault

from vaultgen.check.links import check_vault


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


def one_run(tool: str, vault: Path) -> dict[str, object]:
    """One check of ``vault`` by ``tool`` in this (fresh) process, its library imported
    before the clock starts: seconds, broken link targets, isolated note names."""
    import networkx  # noqa: F401  (imported by both: no clock pays for it)

    if tool == "vaultgen":
        start = time.perf_counter()
        report = check_vault(vault)
        seconds = time.perf_counter() - start
        broken = {f.message.removeprefix("broken link [[").removesuffix("]]")
                  for f in report.findings if f.kind == "broken"}
        isolated = {Path(f.path).stem for f in report.findings if f.kind == "isolated"}
        notes = report.summary["notes"]
    else:
        from obsidiantools.api import Vault

        start = time.perf_counter()
        theirs = Vault(vault).connect().gather()
        seconds = time.perf_counter() - start
        broken, isolated = set(theirs.nonexistent_notes), set(theirs.isolated_notes)
        notes = len(theirs.md_file_index)
    return {"seconds": seconds, "broken": sorted(broken), "isolated": sorted(isolated),
            "notes": notes}


def in_child(tool: str, vault: Path) -> dict[str, object]:
    output = subprocess.run([sys.executable, __file__, "--one", tool, str(vault)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def compare(vault: Path, repeat: int) -> dict[str, object]:
    """Each tool ``repeat`` times, taking turns, each run in a new process (as a command
    would: nothing cached from a run before); the best time of each."""
    runs: dict[str, list[dict[str, object]]] = {"vaultgen": [], "obsidiantools": []}
    for _ in range(repeat):
        for tool in runs:
            runs[tool].append(in_child(tool, vault))
    ours = min(float(r["seconds"]) for r in runs["vaultgen"])  # type: ignore[arg-type]
    theirs = min(float(r["seconds"]) for r in runs["obsidiantools"])  # type: ignore[arg-type]
    mine, other = runs["vaultgen"][-1], runs["obsidiantools"][-1]
    return {
        "notes": mine["notes"], "vaultgen_s": ours, "obsidiantools_s": theirs,
        "ratio": theirs / ours,
        "same_broken": mine["broken"] == other["broken"], "broken": len(mine["broken"]),
        "same_isolated": mine["isolated"] == other["isolated"],
        "isolated": len(mine["isolated"]),
    }


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--one", nargs=2, metavar=("TOOL", "VAULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], Path(args.one[1]))))
        return 0
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

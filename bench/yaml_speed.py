"""Frontmatter writing: ``flat_yaml.dump_flat`` against PyYAML's C emitter, in one run.

    python bench/yaml_speed.py [--corpus ../shared/corpus] [--repeat 5]

The properties of every note of the corpus vault (built offline from a local arXiv mirror),
as a build renders them, are written by ``render.dump_properties`` (the flat writer, PyYAML
for what it leaves) and by PyYAML alone, in a new process each time (no value remembered
from a run before), taking turns, best of ``--repeat``; the script prints both times, their
ratio, how many notes the flat writer answered for, and whether every answer is PyYAML's
text.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_args import corpus_parser, corpus_vault

from vaultgen.check.notes import read_frontmatter


def properties_of(vault: Path) -> list[dict[str, object]]:
    """Every note's properties, each value its own object, as rendering makes them (read
    back, equal dates would be one object, which PyYAML would write as an alias)."""
    def fresh(value: object) -> object:
        if isinstance(value, list):
            return [fresh(item) for item in value]
        if isinstance(value, dt.date):
            return dt.date.fromordinal(value.toordinal())
        return value

    notes = []
    for path in sorted(vault.rglob("*.md")):
        if ".vaultgen" not in path.parts:
            properties = read_frontmatter(path.read_text(encoding="utf-8")).properties or {}
            notes.append({key: fresh(value) for key, value in properties.items()})
    return notes


def pyyaml(properties: dict[str, object]) -> str:
    """PyYAML's C emitter alone, with the resolver vaultgen writes with."""
    from vaultgen.render.frontmatter import dump_pyyaml

    return dump_pyyaml(properties)


def one(tool: str, vault: Path) -> float:
    """Seconds for ``tool`` to write every note's properties (run in a child)."""
    from vaultgen.render.notes import dump_properties

    notes = properties_of(vault)
    write = dump_properties if tool == "flat_yaml" else pyyaml
    start = time.perf_counter()
    for properties in notes:
        write(properties)
    return time.perf_counter() - start


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(one(sys.argv[2], Path(sys.argv[3])))
        return 0
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from vaultgen.render.frontmatter import dump_flat

    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        corpus_vault(args.corpus, vault)
        notes = properties_of(vault)
        answers = [(dump_flat(p), pyyaml(p)) for p in notes]
        answered = sum(flat is not None for flat, _ in answers)
        same = sum(flat == text for flat, text in answers)
        best = {"PyYAML": float("inf"), "flat_yaml": float("inf")}
        for _ in range(args.repeat):
            for tool in best:
                out = subprocess.run([sys.executable, __file__, "--one", tool, str(vault)],
                                     check=True, capture_output=True, text=True).stdout
                best[tool] = min(best[tool], float(out))
    print(f"{len(notes)} notes; the flat writer answered for {answered}, "
          f"{same} of them with PyYAML's text")
    print(f"PyYAML {best['PyYAML'] * 1000:.1f} ms, flat_yaml {best['flat_yaml'] * 1000:.1f} ms: "
          f"{best['PyYAML'] / best['flat_yaml']:.1f}× faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())

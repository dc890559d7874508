"""vaultgen at the scale of years of posts: the targets of issue #7, measured in one run.

    python bench/scale.py [--sizes 5000 20000 50000] [--corpus ../shared/corpus]

For each size, a synthetic corpus (``synth_corpus.py``, made under ``bench/out/`` when
missing) is built offline by the ``vaultgen`` command in a child process, and measured:

- cold build, against the floor: the same files written by a plain Python loop;
- rebuild with no change, against the cold build (and that it wrote nothing);
- one new day added (the corpus's last day, held back from the cold build), against the cold
  build; the vault it makes (an incremental build) is compared with a full build of the same
  posts from the same vault (every note's bytes, the manifest but for mtimes);
- ``vaultgen check`` on the vault, against the cold build;
- peak memory (maximum resident set size of the child) of the cold build;
- time per entry, to see that it stays about constant as the corpus grows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from corpus_args import corpus_parser, load_truth
from synth_corpus import generate, profile

OUT = Path(__file__).resolve().parent / "out"


def run(*args: str) -> tuple[float, float, str, float]:
    """Run ``vaultgen ARGS`` in a child; (seconds, peak MB, its stderr, CPU seconds)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", "from vaultgen.cli import main; main()",
                              *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, err, usage.ru_utime + usage.ru_stime


def floor(vault: Path, target: Path) -> tuple[float, float]:
    """Seconds to write the vault's files again with a plain loop (the least a build does),
    into a folder just emptied, as the cold build's was."""
    files = {p.relative_to(vault): p.read_bytes() for p in vault.rglob("*")
             if p.is_file() and ".vaultgen" not in p.parts}

    def write_all() -> None:
        for relative, data in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)

    shutil.rmtree(target, ignore_errors=True)
    write_all()
    shutil.rmtree(target)
    os.sync()  # start from a quiet disk, as the cold build does
    start, cpu = time.perf_counter(), time.process_time()
    write_all()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(target, ignore_errors=True)
    return seconds, cpu


def corpus(size: int, corpus_dir: Path) -> Path:
    folder = OUT / f"synth-{size // 1000}k"
    if not (folder / "input" / "arxiv-cache.json").exists():
        known = {json.loads(line)["id"] for line in (corpus_dir / "arxiv-metadata.jsonl")
                 .read_text(encoding="utf-8").splitlines()}
        generate(profile(load_truth(corpus_dir), known), size, folder)
    return folder


def measure(size: int, corpus_dir: Path) -> dict[str, float]:
    folder = corpus(size, corpus_dir)
    inputs, vault = folder / "input", folder / "vault"
    last = sorted(inputs.glob("*.txt"))[-1]
    held = folder / last.name
    shutil.move(last, held)
    try:
        shutil.rmtree(vault, ignore_errors=True)
        os.sync()  # the removed vault's blocks are released before the clock starts
        build = ("build", str(inputs), "-o", str(vault), "--offline")
        cold, peak, _, cold_cpu = run(*build)
        base, base_cpu = floor(vault, folder / "floor")
        again, _, said, _ = run(*build)
        assert "nothing changed" in said, said
        check, check_peak, _, _ = run("check", str(vault))
        full = folder / "vault-full"
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(vault, full, symlinks=True)
        (full / ".vaultgen" / "library.json").unlink()  # no snapshot: the full way
        shutil.move(held, last)
        os.sync()  # the copy written out before the clock starts, as for the cold build
        new_day, _, said, _ = run(*build)
        assert "nothing changed" not in said, said
        run("build", str(inputs), "-o", str(full), "--offline")
        same = same_vault(vault, full)
        shutil.rmtree(full)
    finally:
        if held.exists():
            shutil.move(held, last)
    return {"entries": size, "cold_s": cold, "floor_s": base, "cold/floor": cold / base,
            "cold/floor cpu": cold_cpu / base_cpu,
            "rebuild/cold": again / cold, "new_day/cold": new_day / cold,
            "check/cold": check / cold, "peak_mb": peak, "check_peak_mb": check_peak,
            "ms_per_entry": 1000 * cold / size, "same": same}


def same_vault(vault: Path, other: Path) -> bool:
    """Whether two vaults hold the same notes, byte for byte, and the same manifest but for
    the files' modification times."""
    def notes(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and ".vaultgen" not in p.relative_to(root).parts}

    def manifest(root: Path) -> dict[str, dict]:
        files = json.loads((root / ".vaultgen" / "manifest.json").read_text("utf-8"))["files"]
        return {path: {k: v for k, v in entry.items() if k != "mtime_ns"}
                for path, entry in files.items()}

    return notes(vault) == notes(other) and manifest(vault) == manifest(other)


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    args = parser.parse_args()
    rows = [measure(size, args.corpus) for size in args.sizes]
    print("| entries | cold ÷ floor (wall; CPU) | no-change rebuild ÷ cold | new day ÷ cold "
          "(same vault as a full build) | check ÷ cold | peak MB (build, check) "
          "| ms per entry (cold) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['entries']:,} | {r['cold/floor']:.2f}; {r['cold/floor cpu']:.2f} | "
              f"{r['rebuild/cold']:.3f} | "
              f"{r['new_day/cold']:.3f} ({'yes' if r['same'] else 'NO'}) | "
              f"{r['check/cold']:.2f} | "
              f"{r['peak_mb']:.0f}, {r['check_peak_mb']:.0f} | {r['ms_per_entry']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""vaultgen at the scale of years of posts: the targets of issue #7, measured in one run.

    python bench/scale.py [--sizes 5000 20000 50000] [--corpus ../shared/corpus]

For each size, a synthetic corpus (``synth_corpus.py``, made under ``bench/out/`` when
missing) is built offline by the ``vaultgen`` command in a child process, and measured:

- cold build (with its worker processes, one per CPU), against the floor: the same files
  written by a plain Python loop right after it; three times, each cold build paired with its
  floor, and the median of the three ratios kept;
- every timed run on a quiet disk: no tree the bench is done with is removed before the end of
  the run (``set_aside``); a probe before each size tells how quiet the disk is
  (``disk_probe``);
- rebuild with no change, against the cold build (and that it wrote nothing);
- one new day added (the corpus's last day, held back from the cold build), against the cold
  build (the median of three, each from a copy of the vault the cold build left); the vault it
  makes (an incremental build) is compared with a full build of the same posts from the same
  vault (every note's bytes, the manifest but for mtimes);
- ``vaultgen check`` on the vault, against the cold build;
- the same cold build in one process (``-j 1``), against the cold build with its workers;
- peak memory of the cold builds (the highest): of the vaultgen process, and of it and its
  worker processes summed (sampled from ``/proc``: their resident sets, and their proportional
  set sizes, which count a page shared by several processes once in all); of ``check``;
- time per entry, to see that it stays about constant as the corpus grows.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from corpus_args import corpus_parser, load_truth
from synth_corpus import generate, profile

from vaultgen.workers import available_cpus

OUT = Path(__file__).resolve().parent / "out"
# Trees the bench is done with, removed when it ends (``set_aside``).
TRASH = OUT / "trash"
# A new day is timed this many times, each on a copy of the vault as the cold build left it,
# and the median kept: it takes a second or two, and this machine's speed drifts by half
# within minutes (the same new day took 1.3 s and 2.3 s in one hour).
NEW_DAYS = 3
# The cold build is timed this many times, each followed by its floor: the same code built the
# 50k corpus in 29.5, 47.2 and 59.1 s within an hour, and two floors of one run took 16.0 and
# 37.7 s; a cold build and the floor taken just after it see about the same machine.
COLD_BUILDS = 3


class Run(NamedTuple):
    seconds: float
    peak_mb: float  # the vaultgen process's own peak resident set (its ``VmHWM`` at exit)
    tree_peak_mb: float  # the peak of the resident sets of it and its worker processes, summed
    # The peak of their proportional set sizes, summed: each shared page counted once in all
    # (the resident sets count the interpreter's and libraries' pages in each process).
    tree_pss_mb: float
    stderr: str
    cpu: float  # CPU seconds of it and its workers


# The command in the child: ``vaultgen``, telling at exit its own peak resident set. Not the
# ``ru_maxrss`` that ``wait4`` gives: Linux carries a parent's high-water mark into its child
# across fork and exec, so a child of this script (which reads whole vaults into memory for
# the floor and the comparison) would report at least this script's own peak.
_CHILD = """
import atexit, os

def tell_peak():
    with open("/proc/self/status") as status:  # VmHWM: of this process's memory, since exec
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["VAULTGEN_BENCH_PEAK"], "w") as out:
        out.write(peak)

atexit.register(tell_peak)
from vaultgen.cli import main
main()
"""


# vaultgen as an installed package runs it: its modules' bytecode cached. (This workplace
# sets PYTHONDONTWRITEBYTECODE, under which every run of an editable install compiles
# vaultgen's source again: 0.1 s a run, a fifteenth of a new day at 50k.)
_AS_INSTALLED = {key: value for key, value in os.environ.items()
                 if key != "PYTHONDONTWRITEBYTECODE"}


def run(*args: str) -> Run:
    """Run ``vaultgen ARGS`` in a child, watching it and its worker processes."""
    start = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".peak", delete=False) as peak_file:
        peak_path = Path(peak_file.name)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True,
                             env={**_AS_INSTALLED, "VAULTGEN_BENCH_PEAK": str(peak_path)})
    watch = _TreeWatch(child.pid)
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    watch.done = True
    watcher.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    own_cpu = usage.ru_utime + usage.ru_stime
    workers_cpu = sum(cpu for pid, cpu in watch.cpu.items() if pid != child.pid)
    peak_mb = int(peak_path.read_text() or 0) / 1024  # kB
    peak_path.unlink()
    return Run(seconds, peak_mb, max(watch.peak_mb, peak_mb), watch.pss_peak_mb, err,
               own_cpu + workers_cpu)


class _TreeWatch:
    """Samples a process and its descendants (``/proc``, every 50 ms): the peak of their
    summed resident sets, and each one's CPU time as last seen; every 500 ms, the peak of
    their summed proportional set sizes (reading one takes the kernel about 7 ms for a
    process of 400 MB: every 50 ms, it would take a tenth of a CPU from the build)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.done = False
        self.peak_mb = 0.0
        self.pss_peak_mb = 0.0
        self.cpu: dict[int, float] = {}
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._tick = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        for tick in itertools.count():
            if self.done:
                break
            total = 0
            tree = self._tree()
            for pid, fields in tree.items():
                total += int(fields[21]) * self._page  # rss, in pages
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick
            self.peak_mb = max(self.peak_mb, total / 2**20)
            if tick % 10 == 0:
                proportional = sum(_pss_kb(pid) for pid in tree)
                self.pss_peak_mb = max(self.pss_peak_mb, proportional / 1024)
            time.sleep(0.05)

    def _tree(self) -> dict[int, list[str]]:
        stats: dict[int, list[str]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    text = Path(f"/proc/{name}/stat").read_text()
                except OSError:
                    continue
                stats[int(name)] = text[text.rindex(")") + 2:].split()  # fields from state on
        tree, grew = {self.root}, True
        while grew:
            grew = False
            for pid, fields in stats.items():
                if pid not in tree and int(fields[1]) in tree:  # its parent is in the tree
                    tree.add(pid)
                    grew = True
        return {pid: stats[pid] for pid in tree if pid in stats}


def _pss_kb(pid: int) -> int:
    """A process's proportional set size (kB; 0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except OSError:
        return 0


def set_aside(tree: Path) -> None:
    """Move a tree the bench is done with into ``TRASH``, removed when the bench ends.

    Removed now, its files would slow the next timed run's by up to twenty times on this
    machine: its root filesystem is ext4 without a journal, where the kernel's inode allocator
    skips every inode freed in the last 60 s (360 s while its inode table block is unwritten),
    one buffer lookup each (``recently_deleted`` in ``fs/ext4/ialloc.c``; ``perf`` showed it
    taking two thirds of the time of creating 30,000 files after 30,000 were removed). Which
    runs it slowed depended on where the allocator landed: the floor of 50,000 entries took
    13–39 s right after removing the last floor's files, 3.4–5.6 s with none removed."""
    if tree.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        tree.rename(TRASH / str(len(os.listdir(TRASH))))


def disk_probe(folder: Path, files: int = 2000) -> float:
    """Microseconds of CPU to create a small file, over ``files`` new ones under ``folder``:
    35 on this machine's quiet disk, 90 and 150 in two tries within minutes of removing many
    files (``set_aside``). Printed with each run, as a sign of how quiet the disk was: the
    files of a build or a floor may land where the probe's did not."""
    probe = folder / "probe"
    set_aside(probe)
    probe.mkdir(parents=True)
    start = time.process_time()
    for number in range(files):
        with open(probe / f"{number}.md", "wb") as handle:
            handle.write(b"x" * 1500)
    spent = time.process_time() - start
    set_aside(probe)
    return 1e6 * spent / files


def floor(vault: Path, target: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to write the vault's files again with a plain loop (the least a
    build does) into a new folder, as the cold build's was."""
    files = {p.relative_to(vault): p.read_bytes() for p in vault.rglob("*")
             if p.is_file() and ".vaultgen" not in p.parts}
    set_aside(target)
    os.sync()  # start from a quiet disk, as the cold build does
    start, cpu = time.perf_counter(), time.process_time()
    for relative, data in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    set_aside(target)
    os.sync()  # written out before the next run's clock
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
        build = ("build", str(inputs), "-o", str(vault), "--offline")
        probe = disk_probe(folder)
        colds, floors = [], []
        for _ in range(COLD_BUILDS):  # the last one's vault is the one measured below
            set_aside(vault)
            os.sync()  # the removed vault's blocks are released before the clock starts
            colds.append(run(*build))
            floors.append(floor(vault, folder / "floor"))
        cold = sorted(colds, key=lambda r: r.seconds)[len(colds) // 2]  # the median
        ratios = sorted(c.seconds / f for c, (f, _) in zip(colds, floors, strict=True))
        cpu_ratios = sorted(c.cpu / f_cpu for c, (_, f_cpu) in zip(colds, floors, strict=True))
        os.sync()  # the last floor's files written out before the clock starts, as for the others
        again = run(*build)
        assert "nothing changed" in again.stderr, again.stderr
        check = run("check", str(vault))
        full, before = folder / "vault-full", folder / "vault-before"
        for copy in (full, before):
            set_aside(copy)
            shutil.copytree(vault, copy, symlinks=True)
        (full / ".vaultgen" / "library.json").unlink()  # no snapshot: the full way
        shutil.move(held, last)
        new_days = []
        for attempt in range(NEW_DAYS):
            if attempt:
                set_aside(vault)
                shutil.copytree(before, vault, symlinks=True)
            os.sync()  # the copy written out before the clock starts, as for the cold build
            new_days.append(run(*build))
            assert "nothing changed" not in new_days[-1].stderr, new_days[-1].stderr
        new_day = sorted(new_days, key=lambda r: r.seconds)[len(new_days) // 2]  # the median
        run("build", str(inputs), "-o", str(full), "--offline")
        same = same_vault(vault, full)
        for done in (full, before, vault):
            set_aside(done)
        os.sync()
        alone = run(*build, "-j", "1")  # the same cold build in one process
    finally:
        if held.exists():
            shutil.move(held, last)
    return {"entries": size, "probe_us": probe, "cold_s": cold.seconds,
            "colds_s": [c.seconds for c in colds],
            "cold/floor": ratios[len(ratios) // 2], "floors": [f for f, _ in floors],
            # the strictest reading: the median cold build against the fastest floor
            "cold/fastest floor": cold.seconds / min(f for f, _ in floors),
            "cold/floor cpu": cpu_ratios[len(cpu_ratios) // 2],
            "one process/cold": alone.seconds / cold.seconds,
            "rebuild/cold": again.seconds / cold.seconds,
            "new_day/cold": new_day.seconds / cold.seconds,
            "new_days_s": [r.seconds for r in new_days],
            "check/cold": check.seconds / cold.seconds,
            "peak_mb": max(c.peak_mb for c in colds),  # the highest of the cold builds
            "tree_peak_mb": max(c.tree_peak_mb for c in colds),
            "tree_pss_mb": max(c.tree_pss_mb for c in colds),
            "one_process_peak_mb": alone.peak_mb,
            "check_peak_mb": check.peak_mb, "ms_per_entry": 1000 * cold.seconds / size,
            "same": same}


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
    subprocess.run([sys.executable, "-c", "import vaultgen.cli, vaultgen.build"],
                   env=_AS_INSTALLED, check=True)  # the bytecode written before any clock
    shutil.rmtree(TRASH, ignore_errors=True)  # left by a run that was stopped
    try:
        rows = [measure(size, args.corpus) for size in args.sizes]
    finally:
        shutil.rmtree(TRASH, ignore_errors=True)
    print(f"Workers: one per CPU ({available_cpus()}); cold builds: {COLD_BUILDS}, each with "
          "its floor (ratios: the median); cold: the median one's time.\n")
    print("| entries | cold ÷ floor (wall; CPU of all processes; median cold ÷ fastest floor) "
          "| one process ÷ cold "
          f"| no-change rebuild ÷ cold | new day ÷ cold (median of {NEW_DAYS}; same vault as a "
          "full build) "
          "| check ÷ cold | peak MB: build (with workers: RSS, PSS; one process), check "
          "| ms per entry (cold) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['entries']:,} | {r['cold/floor']:.2f}; {r['cold/floor cpu']:.2f}; "
              f"{r['cold/fastest floor']:.2f} | "
              f"{r['one process/cold']:.2f} | {r['rebuild/cold']:.3f} | "
              f"{r['new_day/cold']:.3f} ({'yes' if r['same'] else 'NO'}) | "
              f"{r['check/cold']:.2f} | {r['peak_mb']:.0f} ({r['tree_peak_mb']:.0f}, "
              f"{r['tree_pss_mb']:.0f}; "
              f"{r['one_process_peak_mb']:.0f}), {r['check_peak_mb']:.0f} | "
              f"{r['ms_per_entry']:.2f} |")
    print("\nfloor runs (s): " + "; ".join(
        f"{r['entries']:,}: " + ", ".join(f"{f:.1f}" for f in r["floors"]) for r in rows))
    print("cold builds (s): " + "; ".join(
        f"{r['entries']:,}: " + ", ".join(f"{c:.1f}" for c in r["colds_s"]) for r in rows))
    print("disk probe before the size's runs (µs of CPU to create a file; 35 on a quiet "
          "disk): " + "; ".join(f"{r['entries']:,}: {r['probe_us']:.0f}" for r in rows))
    print("new days (s): " + "; ".join(
        f"{r['entries']:,}: " + ", ".join(f"{s:.2f}" for s in r["new_days_s"]) for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

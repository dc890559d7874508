"""vaultgen at the scale of years of posts: the build's targets, measured in one run.

    python bench/scale.py [--sizes 5000 50000] [--baseline REF] [--repeat 3] [--corpus DIR]
                          [--related N]

For each size, a synthetic corpus (``synth_corpus.py``; made under ``bench/out/`` when
missing) is built offline (``--offline``: its ``arxiv-cache.json``) by the ``vaultgen``
command in a child process. Every time is the median of ``--repeat`` runs, each on a vault in
the same state (a copy made before its clock starts); each ratio is of two medians.

- cold build: the corpus but for its last day, into a new vault;
- new day: the last day's post added to the cold build's vault;
- no change: a build of that vault again; it must write nothing (no file's mtime changes);
- edited post: one word of an abstract changed, in the post from the middle of the corpus;
- removed post: the post after it removed;
- check: ``vaultgen check`` on the cold build's vault;
- peak memory: the highest sum of the resident sets of the build and its worker processes
  (sampled from ``/proc`` every 50 ms, and at least the build's own ``VmHWM``);
- after each incremental step, the vault is compared, note by note, with a fresh build of the
  same posts: every file outside ``.vaultgen/`` byte for byte, but for the paper notes'
  related papers (``--related N`` is given to every build of the tree under test).

``--baseline REF`` checks REF out in a git worktree (``bench/out/baseline``), builds the same
corpus with it (its cold builds taking turns with the new ones) and checks its vault, for
new cold ÷ baseline cold and new check ÷ baseline check. A table is printed; the raw numbers
go to ``bench/out/scale-DATE.json``. Exit status 1 when a vault differs from a fresh build or
a build without change wrote a file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from corpus_args import corpus_parser, load_truth
from synth_corpus import generate, profile

from vaultgen.parse.posts import parse_post
from vaultgen.render.notes import without_related
from vaultgen.workers import available_cpus

ROOT = Path(__file__).resolve().parents[1]  # the tree under test
OUT = ROOT / "bench" / "out"
TRASH = OUT / "trash"  # trees the bench is done with, removed when it ends (``set_aside``)
BUILD_OPTIONS: list[str] = []  # given to every build of the tree under test (``--related``)
# The most each figure may be.
TARGETS = {"new day ÷ cold": 0.05, "no change ÷ cold": 0.05, "edited post ÷ cold": 0.05,
           "removed post ÷ cold": 0.05, "cold ÷ baseline cold": 1.1, "peak MB": 500}

# The child runs the command line and tells its own peak resident set at exit (``VmHWM``:
# not ``ru_maxrss``, which Linux carries over from the parent across fork and exec).
_CHILD = """
import atexit, os

def tell_peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["VAULTGEN_BENCH_PEAK"], "w") as out:
        out.write(peak)

atexit.register(tell_peak)
from vaultgen.cli import main
main()
"""


class Run(NamedTuple):
    seconds: float
    cpu: float  # CPU seconds of the process and its workers
    peak_mb: float  # the highest sum of the resident sets of the process and its workers


def run(tree: Path, *args: str) -> Run:
    """Run ``vaultgen ARGS`` from ``tree`` in a child, with its modules' bytecode cached (as
    an installed package runs), watching the memory of it and its worker processes."""
    with tempfile.NamedTemporaryFile(suffix=".peak", delete=False) as peak_file:
        env = {**environment(tree), "VAULTGEN_BENCH_PEAK": peak_file.name}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = TreeWatch(child.pid)
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    watch.done = True
    watcher.join()
    workers_cpu = sum(cpu for pid, cpu in watch.cpu.items() if pid != child.pid)
    own_kb = int(Path(peak_file.name).read_text() or 0)
    os.unlink(peak_file.name)
    if child.returncode not in (0, 1) or (child.returncode and args[0] == "build"):
        raise SystemExit(f"vaultgen {' '.join(args)} (from {tree}) failed:\n{err}")
    return Run(seconds, usage.ru_utime + usage.ru_stime + workers_cpu,
               max(watch.peak_mb, own_kb / 1024))


def environment(tree: Path) -> dict[str, str]:
    """This process's environment, with vaultgen imported from ``tree`` and bytecode cached
    (some set-ups set PYTHONDONTWRITEBYTECODE: each run would compile vaultgen again)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(tree)}


class TreeWatch:
    """The peak of the summed resident sets of a process and its descendants, and the CPU
    time of each as last seen (``/proc``, every 50 ms)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.done = False
        self.peak_mb = 0.0
        self.cpu: dict[int, float] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self.done:
            stats = {}
            for name in os.listdir("/proc"):
                if name.isdigit():
                    with contextlib.suppress(OSError):
                        text = Path(f"/proc/{name}/stat").read_text()
                        stats[int(name)] = text[text.rindex(")") + 2:].split()  # from state on
            tree, grew = {self.root}, True
            while grew:
                found = {pid for pid, fields in stats.items() if int(fields[1]) in tree}
                grew = not found <= tree
                tree |= found
            tree = {pid for pid in tree if pid in stats}
            rss = sum(int(stats[pid][21]) for pid in tree) * self._page
            self.cpu |= {pid: (int(stats[pid][11]) + int(stats[pid][12])) / self._tick
                         for pid in tree}
            self.peak_mb = max(self.peak_mb, rss / 2**20)
            time.sleep(0.05)


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def median_cpu(runs: list[Run]) -> float:
    return statistics.median(r.cpu for r in runs)


def set_aside(tree: Path) -> None:
    """Move a tree the bench is done with into ``TRASH``, removed when the bench ends: the
    files of a tree removed just before a timed run slow the files it creates (ext4's inode
    allocator skips inodes freed in the last minute), by up to twenty times."""
    if tree.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        tree.rename(TRASH / str(len(os.listdir(TRASH))))


def fresh_copy(source: Path, target: Path) -> Path:
    set_aside(target)
    shutil.copytree(source, target, symlinks=True)
    os.sync()  # the copy on disk before the clock starts
    return target


def corpus(size: int, corpus_dir: Path) -> Path:
    folder = OUT / f"synth-{size // 1000}k"
    if not (folder / "input" / "arxiv-cache.json").exists():
        known = {json.loads(line)["id"] for line in (corpus_dir / "arxiv-metadata.jsonl")
                 .read_text(encoding="utf-8").splitlines()}
        generate(profile(load_truth(corpus_dir), known), size, folder)
    return folder


def baseline_tree(ref: str) -> Path:
    """A worktree of this repository at ``ref``, under ``bench/out/``."""
    tree = OUT / "baseline"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    if not (tree / ".git").exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        commit], check=True)
    subprocess.run(["git", "-C", str(tree), "checkout", "-q", "--detach", commit], check=True)
    return tree


@contextlib.contextmanager
def held_back(post: Path) -> Iterator[None]:
    """The post out of the corpus for the block (its bytes and mtime kept)."""
    aside = post.parent.parent / post.name
    post.rename(aside)
    try:
        yield
    finally:
        aside.rename(post)


@contextlib.contextmanager
def edited(post: Path) -> Iterator[None]:
    """The post with one word of an abstract changed, for the block."""
    original, stat = post.read_bytes(), post.stat()
    text = original.decode("utf-8")
    post.write_text(edit_abstract(text, post.name), encoding="utf-8")
    try:
        yield
    finally:
        post.write_bytes(original)
        os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def edit_abstract(text: str, name: str) -> str:
    """The post's text with the second word of its first abstract changed (checked by
    parsing: one entry's abstract differs, and nothing else of any entry)."""
    lines = text.split("\n")
    for number, line in enumerate(lines[:-1]):
        words = lines[number + 1].split(" ")
        if line.startswith("(") and line.endswith(")") and len(words) > 2 and \
                words[1].isascii() and words[1].isalpha():
            words[1] = words[1][::-1] + "x"
            lines[number + 1] = " ".join(words)
            break
    new = "\n".join(lines)
    before, after = parse_post(text, name).entries, parse_post(new, name).entries
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and dataclasses.replace(changed[0][0], abstract="") == \
        dataclasses.replace(changed[0][1], abstract=""), f"no abstract to edit in {name}"
    return new


def files_of(vault: Path) -> dict[str, bytes]:
    """Every file of the vault outside ``.vaultgen/``, by path, with its bytes; a paper note
    without its related papers, which depend on the order posts came in until the next
    cold build refits them."""
    return {p.relative_to(vault).as_posix():
            without_related(p.read_bytes().decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape")
            for p in vault.rglob("*")
            if p.is_file() and p.relative_to(vault).parts[0] != ".vaultgen"}


def differing(vault: Path, fresh: Path) -> list[str]:
    """The files in which two vaults differ (missing from one, or other bytes)."""
    mine, theirs = files_of(vault), files_of(fresh)
    return sorted(path for path in mine.keys() | theirs.keys()
                  if mine.get(path) != theirs.get(path))


def mtimes(vault: Path) -> dict[str, int]:
    return {p.relative_to(vault).as_posix(): p.lstat().st_mtime_ns for p in vault.rglob("*")}


def measure(size: int, corpus_dir: Path, baseline: Path | None, repeat: int) -> dict:
    folder = corpus(size, corpus_dir)
    inputs = folder / "input"
    posts = sorted(inputs.glob("*.txt"))
    last, middle, removed = posts[-1], posts[len(posts) // 2], posts[len(posts) // 2 + 1]
    cold, work, fresh, base = (folder / name for name in ("cold", "work", "fresh", "base"))

    every: list[Run] = []  # every build by the tree under test, for its peak memory

    def build(vault: Path, tree: Path = ROOT) -> Run:
        options = BUILD_OPTIONS if tree == ROOT else []
        done = run(tree, "build", str(inputs), "-o", str(vault), "--offline", *options)
        if tree == ROOT:
            every.append(done)
        return done

    def step(start: Path) -> tuple[list[Run], list[str]]:
        """``repeat`` builds of a copy of ``start``, and how the last one's vault differs
        from a fresh build of the same posts."""
        runs = []
        for _ in range(repeat):
            runs.append(build(fresh_copy(start, work)))
        set_aside(fresh)
        build(fresh)
        return runs, differing(work, fresh)

    out: dict = {"entries": size, "posts": len(posts)}
    with held_back(last):
        colds, base_colds = [], []
        for _ in range(repeat):  # the new tree's builds and the baseline's take turns
            for vault, tree, runs in ((cold, ROOT, colds), (base, baseline, base_colds)):
                if tree is not None:
                    set_aside(vault)
                    os.sync()
                    runs.append(build(vault, tree))
        checks, base_checks = [], []
        os.sync()
        for _ in range(repeat):
            checks.append(run(ROOT, "check", str(cold)))
            if baseline is not None:
                base_checks.append(run(baseline, "check", str(base)))
    new_days, out["new day differs"] = step(cold)
    full = folder / "full"
    set_aside(full)
    work.rename(full)  # the vault of every post, as the new day left it
    before = mtimes(full)
    again = [build(full) for _ in range(repeat)]
    out["no change wrote"] = sorted(p for p, ns in mtimes(full).items() if before.get(p) != ns)
    with edited(middle):
        edits, out["edited post differs"] = step(full)
    with held_back(removed):
        removals, out["removed post differs"] = step(full)
    for tree in (cold, work, fresh, base, full):
        set_aside(tree)

    out |= {"cold s": median(colds),
            "cold CPU s": median_cpu(colds),
            "new day ÷ cold": median(new_days) / median(colds),
            "no change ÷ cold": median(again) / median(colds),
            "edited post ÷ cold": median(edits) / median(colds),
            "removed post ÷ cold": median(removals) / median(colds),
            "check ÷ cold": median(checks) / median(colds), "check s": median(checks),
            "peak MB": max(r.peak_mb for r in every),
            "cold peak MB": max(r.peak_mb for r in colds),
            "load average": os.getloadavg(),
            "runs": {name: [r._asdict() for r in runs] for name, runs in (
                ("cold", colds), ("new day", new_days), ("no change", again),
                ("edited post", edits), ("removed post", removals), ("check", checks),
                ("baseline cold", base_colds), ("baseline check", base_checks))}}
    if baseline is not None:
        out |= {"baseline cold s": median(base_colds),
                "cold ÷ baseline cold": median(colds) / median(base_colds),
                "baseline cold CPU s": median_cpu(base_colds),
                "cold ÷ baseline cold, CPU": median_cpu(colds) / median_cpu(base_colds),
                "baseline check s": median(base_checks),
                "check ÷ baseline check": median(checks) / median(base_checks),
                "check ÷ baseline check, CPU": median_cpu(checks) / median_cpu(base_checks),
                "baseline peak MB": max(r.peak_mb for r in base_colds)}
    return out


def table(rows: list[dict], ref: str | None) -> str:
    """The figures, a column a size; ``✗`` marks a target missed."""
    def number(key: str, digits: int) -> Callable[[dict], str]:
        def cell(row: dict) -> str:
            missed = key in TARGETS and row[key] > TARGETS[key]
            return f"{row[key]:.{digits}f}" + (" ✗" if missed else "")
        return cell

    def none_of(key: str) -> Callable[[dict], str]:
        def cell(row: dict) -> str:
            paths = row[key]
            return "yes" if not paths else f"NO: {len(paths)} ({', '.join(paths[:3])})"
        return cell

    figures: list[tuple[str, str, Callable[[dict], str]]] = [
        ("cold build (s)", "", number("cold s", 1)),
        ("cold build, CPU time (s)", "", number("cold CPU s", 1)),
        ("new day ÷ cold", "≤ 0.05", number("new day ÷ cold", 3)),
        ("no change ÷ cold", "≤ 0.05", number("no change ÷ cold", 3)),
        ("edited post ÷ cold", "≤ 0.05", number("edited post ÷ cold", 3)),
        ("removed post ÷ cold", "≤ 0.05", number("removed post ÷ cold", 3)),
        ("check ÷ cold", "", number("check ÷ cold", 2)),
        ("peak MB (build + workers, RSS)", "≤ 500", number("peak MB", 0)),
    ]
    if ref is not None:
        figures += [
            (f"baseline ({ref}) cold build (s)", "", number("baseline cold s", 1)),
            ("cold ÷ baseline cold", "≤ 1.1", number("cold ÷ baseline cold", 2)),
            ("cold ÷ baseline cold, CPU time", "", number("cold ÷ baseline cold, CPU", 2)),
            ("check (s)", "", number("check s", 2)),
            (f"baseline ({ref}) check (s)", "", number("baseline check s", 2)),
            ("check ÷ baseline check", "as fast", number("check ÷ baseline check", 2)),
            ("check ÷ baseline check, CPU time", "", number("check ÷ baseline check, CPU", 2)),
        ]
    figures += [
        ("no change: no file written", "yes", none_of("no change wrote")),
        ("new day: same vault as a fresh build", "yes", none_of("new day differs")),
        ("edited post: same vault as a fresh build", "yes", none_of("edited post differs")),
        ("removed post: same vault as a fresh build", "yes", none_of("removed post differs")),
    ]
    lines = ["| figure | target | " + " | ".join(f"{r['entries']:,} entries" for r in rows)
             + " |", "|---|---|" + "---:|" * len(rows)]
    for label, target, cell in figures:
        lines.append(f"| {label} | {target} | " + " | ".join(cell(r) for r in rows) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--baseline", metavar="REF", help="a commit to compare with")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (median)")
    parser.add_argument("--related", type=int, metavar="N",
                        help="build the tree under test with --related N (default: its own)")
    args = parser.parse_args()
    if args.related is not None:
        BUILD_OPTIONS.extend(["--related", str(args.related)])
    baseline = baseline_tree(args.baseline) if args.baseline else None
    for tree in filter(None, (ROOT, baseline)):  # bytecode written before any clock
        subprocess.run([sys.executable, "-c", "import vaultgen.cli, vaultgen.build"],
                       env=environment(tree), check=True)
    shutil.rmtree(TRASH, ignore_errors=True)  # left by a run that was stopped
    try:
        rows = [measure(size, args.corpus, baseline, args.repeat) for size in args.sizes]
    finally:
        shutil.rmtree(TRASH, ignore_errors=True)
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"{commit}: {available_cpus()} CPUs (a worker process each), {memory_gb:.0f} GB; "
          f"every time the median of {args.repeat} runs; load average (1 min) after each "
          "size: " + ", ".join(f"{r['load average'][0]:.1f}" for r in rows) + "\n")
    print(table(rows, args.baseline))
    record = OUT / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    record.write_text(json.dumps({"commit": commit, "baseline": args.baseline,
                                  "repeat": args.repeat, "cpus": available_cpus(),
                                  "memory GB": memory_gb, "sizes": rows}, indent=1,
                                 ensure_ascii=False), encoding="utf-8")
    print(f"\nraw numbers: {record.relative_to(ROOT)}")
    wrong = any(r["no change wrote"] or r["new day differs"] or r["edited post differs"]
                or r["removed post differs"] for r in rows)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

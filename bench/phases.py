"""Where one build's time goes: each stage of the pipeline timed in the build's own process.

    python bench/phases.py build bench/out/synth-50k/input -o /tmp/vault --offline [-j N]

Runs the ``vaultgen`` command given (any of its arguments) in this process, with a clock
around each stage of ``vaultgen.build`` (parsing, resolving, naming, planning, rendering,
writing, committing, saving the caches) and around each wait for a batch of the worker
processes, then prints the wall time of each, the whole run's wall and CPU time and the
process's peak resident set, and the peak as it stood when each stage (not those called once a
note) last ended. A stage called inside another is counted in both (rendering
is inside writing the notes). The workers' own CPU is not counted: ``bench/scale.py``
measures it. Timing costs a few function calls a stage, not a profiler's overhead on every
call, so the figures are those of a normal build (within this machine's drift).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

START = time.perf_counter()
sys.dont_write_bytecode = False  # vaultgen's bytecode cached, as an installed package's is


from vaultgen import arxiv_client, build, check, increment, inputs, render, workers, write  # noqa: E402
from vaultgen.cli import main as vaultgen_main  # noqa: E402

SPENT: Counter[str] = Counter()
PEAK_AFTER: dict[str, float] = {}  # the process's peak (MB) when a stage last ended

STAGES: list[tuple[Any, str]] = [
    (build, "find_input_files"), (build, "_fingerprint"), (build, "read_posts_apart"),
    (inputs.ParseCache, "save"), (build, "build_library"), (build, "load_manifest"),
    (build, "settle_names"), (build, "plan_notes"), (build, "plan_increment"),
    (build, "_write_notes"), (write.VaultWriter, "pending"), (write.VaultWriter, "stage"),
    (write.VaultWriter, "finish_staging"), (write.VaultWriter, "record_checks"),
    (write.VaultWriter, "commit"), (build, "_save_state"), (build, "snapshot_of"),
    (build, "save_snapshot"), (render, "render_paper"), (render, "render_cited"),
    (check.LinkChecker, "check"), (increment, "load_snapshot"),
    (increment, "read_manifest_texts"), (increment, "_check_vault_as_left"),
    (increment._Planner, "_hubs"), (increment._Planner, "_old_papers"),
    (increment._Planner, "_cited_by"), (increment, "read_posts_apart"),
    (arxiv_client.ArxivSource, "expect_few_lookups"), (arxiv_client.ArxivSource, "match_titles"),
    (check.Resolver, "__init__"),
]


# Stages called once a note: their peak is not read after each call (a file read each).
PER_NOTE = {"render.render_paper", "render.render_cited", "VaultWriter.stage",
            "LinkChecker.check", "VaultWriter.pending"}


def timed(owner: Any, name: str) -> None:
    """Replace ``owner.name`` by the same function with a clock around it."""
    function: Callable[..., Any] = getattr(owner, name)
    label = f"{getattr(owner, '__name__', owner)}.{name}".removeprefix("vaultgen.")
    once_a_note = label in PER_NOTE

    def clocked(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - began
            if not once_a_note:
                PEAK_AFTER[label] = own_peak_mb()

    setattr(owner, name, clocked)


def time_waits() -> None:
    """Count the time the build waits for a batch of its worker processes, by function."""
    collect = workers.Batches._collect

    def waiting(self: workers.Batches[Any, Any]) -> None:
        began = time.perf_counter()
        self._waiting[0].result()
        SPENT[f"waiting for {getattr(self.function, '__name__', 'workers')}"] += \
            time.perf_counter() - began
        collect(self)

    workers.Batches._collect = waiting  # type: ignore[method-assign]


def own_peak_mb() -> float:
    """This process's peak resident set since it started (``VmHWM``; not ``ru_maxrss``,
    which on Linux also counts the parent's peak, carried across fork and exec)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def main() -> None:
    for owner, name in STAGES:
        timed(owner, name)
    time_waits()
    imported = time.perf_counter() - START
    sys.argv = ["vaultgen", *sys.argv[1:]]
    try:
        vaultgen_main()
    except SystemExit as stop:
        if stop.code:
            raise
    peak = own_peak_mb()
    print(f"\nwall {time.perf_counter() - START:.2f} s (importing {imported:.2f} s), "
          f"CPU of this process {time.process_time():.2f} s, peak {peak:.0f} MB")
    for label, seconds in SPENT.most_common():
        after = f"  peak {PEAK_AFTER[label]:4.0f} MB at its end" if label in PEAK_AFTER else ""
        print(f"  {label:40s} {seconds:7.2f} s{after}")


if __name__ == "__main__":  # (worker processes import this module again: they must not run it)
    main()

"""Where one build's time goes: each stage of the pipeline timed in the build's own process.

    python bench/phases.py build bench/out/synth-50k/input -o /tmp/vault --offline [-j N]

Runs the ``vaultgen`` command given (any of its arguments) in this process, with a clock
around each stage of ``vaultgen.build`` (finding and reading posts, resolving, planning,
rendering, checking links, writing, the state store's reads and writes) and around each wait
for a batch of the worker processes, then prints the wall time of each, the whole run's wall
and CPU time and the process's peak resident set, and the peak as it stood when each stage
(not those called once a note) last ended. A stage called inside another is counted in both
(rendering is inside rendering and writing). The workers' own CPU is not counted:
``bench/scale.py`` measures it. Timing costs a few function calls a stage, not a profiler's
overhead on every call, so the figures are those of a normal build (within the noise of
other work on the computer).
"""

from __future__ import annotations

import inspect
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

START = time.perf_counter()
sys.dont_write_bytecode = False  # vaultgen's bytecode cached, as an installed package's is


from vaultgen import build, plan, state, workers, write  # noqa: E402
from vaultgen.arxiv import client as arxiv_client  # noqa: E402
from vaultgen.check import links as check  # noqa: E402
from vaultgen.cli import main as vaultgen_main  # noqa: E402

SPENT: Counter[str] = Counter()
PEAK_AFTER: dict[str, float] = {}  # the process's peak (MB) when a stage last ended

STAGES: list[tuple[Any, str]] = [
    (state.Store, "open"), (state.Store, "close"), (write.VaultWriter, "settle"),
    (build, "find_input_files"), (build._Build, "_changed_posts"),
    (build, "list_vault_files"), (build, "adopt_old_state"),
    (build._Build, "_read_posts"), (build._Build, "_resolve"),
    (arxiv_client.ArxivCache, "sync"), (arxiv_client.ArxivSource, "match_titles"),
    (arxiv_client.ArxivSource, "fetch_ids"), (state.Store, "entry_rows"),
    (build._Build, "_plan"), (build, "locate_notes"), (build, "plan_vault"),
    (state.Store, "set_names"),
    (build._Build, "_render_and_write"), (build._Build, "_render"),
    (state.Store, "entry_texts"), (state.Store, "records"), (build, "render_spec"),
    (check.LinkChecker, "check"), (check.LinkChecker, "__init__"),
    (write.VaultWriter, "write"), (write.VaultWriter, "_decide"),
    (state.Store, "record_pending"), (state.Store, "commit_files"),
    (write.VaultWriter, "remove_stale"), (write.VaultWriter, "write_settings"),
    (state.Store, "links"), (plan, "group_papers"),
]


# Stages called once a note: their peak is not read after each call (a file read each).
PER_NOTE = {"build.render_spec", "LinkChecker.check", "VaultWriter._decide"}


def timed(owner: Any, name: str) -> None:
    """Replace ``owner.name`` by the same function with a clock around it."""
    as_class_method = isinstance(inspect.getattr_static(owner, name), classmethod)
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

    setattr(owner, name, classmethod(lambda _cls, *args, **kwargs: clocked(*args, **kwargs))
            if as_class_method else clocked)


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

"""Work spread over processes: parsing posts, counting the words of their texts, and writing
the files of notes.

A cold build of years of posts spends most of its time in Python (one core) and much of the
rest in the kernel creating tens of thousands of files. A pool of worker processes parses the
posts side by side, then writes the notes (as git's parallel checkout writes files with
workers). The pool is started before the build holds anything large, so its processes stay
small; its functions take and return plain data.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # the pool's modules are imported only by a build that starts one
    from concurrent.futures import Executor, Future

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# Fewer posts to parse, or notes to write, than these are not worth starting processes for
# (unless asked for).
POSTS_WORTH_WORKERS = 200
NOTES_WORTH_WORKERS = 2000


def available_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def jobs_for(jobs: int | None, work: int, worth: int) -> int:
    """How many worker processes to start for ``work`` things to do. ``jobs``: as asked
    (``vaultgen build -j``); None or 0: one per CPU when there are ``worth`` things or more
    to do, else none. One job is the build's own process alone."""
    if jobs is None or jobs == 0:
        return available_cpus() if work >= worth else 1
    return jobs


@contextmanager
def worker_pool(jobs: int) -> Iterator[Executor | None]:
    """A pool of ``jobs`` worker processes (None for one job: the work is done in-process),
    shut down when the block ends. Workers are started from a small server process where the
    platform has one, so they never hold a copy of the build's memory. They ignore Ctrl-C:
    the build's own process stops them (after the few files or posts under way). Ctrl-C
    waits while the pool starts and while it shuts down, which multiprocessing does not
    survive being interrupted in (a worker half started prints a traceback, a pool half shut
    down fails at exit)."""
    if jobs <= 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .errors import WorkerError

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool: ProcessPoolExecutor | None = None
    try:
        if os.name == "posix":
            with interrupts_deferred():
                # Started first, on its own: starting it unblocks SIGINT in this thread, which
                # the workers and their server must be started with blocked.
                from multiprocessing import resource_tracker

                resource_tracker.ensure_running()
        with interrupts_deferred():  # every worker started (and whole) before Ctrl-C stops it
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                       initializer=_ignore_interrupts)
            started: set[int] = set()
            for _ in range(5):
                started.update(f.result() for f in [pool.submit(_ready) for _ in range(jobs)])
                if len(started) >= jobs:
                    break
        yield pool
    except BrokenProcessPool as err:
        raise WorkerError(str(err) or "the pool broke") from err
    finally:
        if pool is not None:  # (an error already under way stops the build, not Ctrl-C)
            with interrupts_deferred(deliver=sys.exc_info()[1] is None):
                pool.shutdown(wait=True, cancel_futures=True)  # (and its queues let go)


@contextmanager
def interrupts_deferred(deliver: bool = True) -> Iterator[None]:
    """Ctrl-C held back while the block runs, then delivered as it would have been (dropped
    when ``deliver`` is false). SIGINT is also blocked in this thread: processes and threads
    started in the block keep it blocked for good (where the platform has signal masks: a
    worker that is still starting up cannot be stopped halfway), and so it reaches the
    build's own thread alone. Where SIGINT was blocked already, or is ignored, it stays so."""
    import signal
    import threading

    masks = hasattr(signal, "pthread_sigmask")
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masks else set()
    previous = signal.getsignal(signal.SIGINT)
    pressed: list[int] = []
    holds = (signal.SIGINT not in before and callable(previous)
             and threading.current_thread() is threading.main_thread())
    if holds:  # (a handler set outside Python, None here, is left alone too)
        signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        if masks:  # a Ctrl-C that came meanwhile arrives now, and is kept for later
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        if holds:
            signal.signal(signal.SIGINT, previous)
            if pressed and deliver:
                signal.raise_signal(signal.SIGINT)


def _ready() -> int:
    """A task that starts a worker process: its pid, after a moment (so that the next task
    is another worker's)."""
    import time

    time.sleep(0.02)
    return os.getpid()


def _ignore_interrupts() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Batches(Generic[Item, Answer]):
    """Items sent in batches to ``function`` in a pool's workers (without a pool, a batch is
    given to it in this process); each batch's answers go to ``take``, in the order the items
    were put.
    At most ``in_flight`` batches of about ``batch_size`` (``put``'s sizes summed) wait at a
    time, so memory stays flat when the workers are slower than the build."""

    def __init__(self, pool: Executor | None, function: Callable[[list[Item]], list[Answer]],
                 take: Callable[[list[Answer]], None], *, batch_size: int,
                 in_flight: int = 4) -> None:
        self.pool = pool
        self.function = function
        self.take = take
        self.batch_size = batch_size
        self.in_flight = in_flight
        self._batch: list[Item] = []
        self._size = 0
        self._waiting: list[Future[list[Answer]]] = []

    def put(self, item: Item, size: int = 1) -> None:
        """Add an item (of ``size``, counted toward ``batch_size``) to the batch under way."""
        self._batch.append(item)
        self._size += size
        if self._size >= self.batch_size:
            self._send()

    def finish(self) -> None:
        """Every item's answer taken. A worker's error is raised here, or by a later ``put``."""
        self._send()
        while self._waiting:
            self._collect()

    def _send(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._size = self._batch, [], 0
        if self.pool is None:
            self.take(self.function(batch))
            return
        self._waiting.append(self.pool.submit(self.function, batch))
        while len(self._waiting) > self.in_flight:
            self._collect()

    def _collect(self) -> None:
        answers = self._waiting[0].result()
        del self._waiting[0]
        self.take(answers)

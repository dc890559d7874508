"""Work spread over processes: parsing posts, and creating the files a build stages.

A cold build of years of posts spends most of its time in Python (one core) and much of the
rest in the kernel creating tens of thousands of files. A pool of worker processes parses the
posts side by side, then writes the staged notes while the build renders the next ones (as
git's parallel checkout writes files with workers). The pool is started before the build
holds anything large, so its processes stay small; its functions take and return plain data.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
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
def worker_pool(jobs: int, initializer: Callable[..., object] | None = None,
                initargs: tuple[object, ...] = ()) -> Iterator[Executor | None]:
    """A pool of ``jobs`` worker processes, each started by ``initializer(*initargs)`` (None
    for one job: the work is done in-process), shut down when the block ends. Workers are
    started from a small server process where the platform has one, so they never hold a
    copy of the build's memory."""
    if jobs <= 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .errors import WorkerError

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=initializer,
                               initargs=initargs)
    try:
        yield pool
    except BrokenProcessPool as err:
        raise WorkerError(str(err) or "the pool broke") from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def write_files(batch: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    """Create each new file of ``batch`` (path, bytes) — refusing one already there — and
    give its size and modification time (ns), in order."""
    stats = []
    for path, data in batch:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            stat = os.fstat(fd)
        finally:
            os.close(fd)
        stats.append((stat.st_size, stat.st_mtime_ns))
    return stats


class Batches(Generic[Item, Answer]):
    """Items sent in batches to ``function`` in a pool's workers (or given to it at once,
    without a pool); each batch's answers go to ``take``, in the order the items were put.
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
        if self.pool is None or self._size >= self.batch_size:
            self._send()

    def finish(self) -> None:
        """Every item's answer taken. A worker's error is raised here, or by a later ``put``."""
        self._send()
        while self._waiting:
            self._collect()

    def abandon(self) -> None:
        """Wait for the batches under way (so that no worker works for this after it) and
        drop what they gave or raised."""
        self._batch.clear()
        for future in self._waiting:
            future.cancel()
            with suppress(Exception):  # cancelled, or the error being abandoned
                future.result()
        self._waiting.clear()

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


class FileBatches:
    """New files written by a pool's workers (or at once, without a pool); their sizes and
    modification times come back by ``finish``, in the order written."""

    def __init__(self, pool: Executor | None, *, batch_bytes: int = 1 << 20) -> None:
        self._batches = Batches(pool, write_files, self._add, batch_size=batch_bytes)
        # (two arrays, not a tuple a file: a cold build writes tens of thousands)
        self._sizes, self._mtimes = array("q"), array("q")

    def write(self, path: str, data: bytes) -> None:
        """Create file ``path`` holding ``data`` (now, or in a worker soon)."""
        self._batches.put((path, data), len(data))

    def finish(self) -> tuple[Sequence[int], Sequence[int]]:
        """Every file written: their sizes and modification times (ns), in the order written.
        A worker's error (a full disk, say) is raised here, or by a later ``write``."""
        self._batches.finish()
        written = self._sizes, self._mtimes
        self._sizes, self._mtimes = array("q"), array("q")
        return written

    def abandon(self) -> None:
        """Wait for the files under way; forget every file written."""
        self._batches.abandon()
        self._sizes, self._mtimes = array("q"), array("q")

    def _add(self, stats: list[tuple[int, int]]) -> None:
        for size, mtime in stats:
            self._sizes.append(size)
            self._mtimes.append(mtime)

"""Handing the memory a build has freed back to the system.

A build frees each post's text, each note's rendered text and each batch sent to a worker as
soon as it is done with them, but glibc's allocator keeps the freed pages of blocks below its
mmap threshold in the process's heap for reuse, and reuse is patchy: in a cold build of 50,000
entries, the vaultgen process held 432 MB at the end of writing the notes, of which about 130 MB
were free. ``malloc_trim(0)`` returns every wholly free page of the heap (not only its top:
glibc has done so since 2.8) to the system; it costs a few milliseconds on such a heap.

On other C libraries (macOS, Windows, musl) this does nothing: their allocators hand memory
back on their own terms.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


def release_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc only; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once; None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


class Releaser:
    """``release_freed_memory`` after every ``every`` calls of ``tick`` (in a loop that frees
    what each turn made)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self._count = 0

    def tick(self) -> None:
        self._count += 1
        if self._count % self.every == 0:
            release_freed_memory()

"""Freed memory handed back to the system (glibc's ``malloc_trim``), and how often."""

from __future__ import annotations

import platform
import sys

import pytest

from vaultgen import heap

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_freed_blocks_go_back_to_the_system() -> None:
    # 60 MB of 8 KB blocks (under the mmap threshold: in the heap), one in eight kept, so the
    # heap's top never comes free and only a trim of the whole heap returns the rest.
    blocks = [bytes(8192) for _ in range(7680)]
    kept = blocks[::8]
    del blocks
    before = resident_mb()
    heap.release_freed_memory()
    assert before - resident_mb() > 30
    assert len(kept) == 960


def test_nothing_to_trim_outside_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap._malloc_trim.__wrapped__() is None  # looked up anew, not the cached answer
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    heap.release_freed_memory()  # does nothing, and does not fail


def test_a_releaser_trims_every_so_many_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(heap, "release_freed_memory", lambda: trims.append(len(turns)))
    releaser = heap.Releaser(every=3)
    turns: list[int] = []
    for turn in range(10):
        turns.append(turn)
        releaser.tick()
    assert trims == [3, 6, 9]

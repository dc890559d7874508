"""Shared test helpers: golden trees and the repository layout."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REGENERATE = os.environ.get("VAULTGEN_REGENERATE") == "1"


def tree(folder: Path, skip: tuple[str, ...] = (".vaultgen",)) -> dict[str, bytes]:
    """Every file under ``folder`` by relative POSIX path (``skip``: top-level folders)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in skip
    }


def rebuilt_tree(folder: Path) -> dict[str, bytes]:
    """``tree`` of a vault, its notes' related papers aside (they depend on the order posts
    came in until a cold or ``--force`` build refits them): what a vault built step by step
    shares with a fresh build of the same posts."""
    from vaultgen.render.notes import without_related

    return {path: without_related(text.decode("utf-8", "surrogateescape")).encode(
        "utf-8", "surrogateescape") for path, text in tree(folder).items()}


def assert_same_tree(actual: Path, expected: Path) -> None:
    """Compare two trees file by file; with VAULTGEN_REGENERATE=1, rewrite ``expected``."""
    got = tree(actual)
    if REGENERATE:
        import shutil

        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(actual, expected, ignore=shutil.ignore_patterns(".vaultgen"))
        return
    want = tree(expected)
    assert sorted(got) == sorted(want), "files differ"
    for path in want:
        assert got[path].decode() == want[path].decode(), f"{path} differs"


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The block run with the process's umask set to ``mask``."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def file_modes(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` → its permission bits."""
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def post_folder(tmp_path: Path, text: str, name: str = "2025-05-01.txt") -> Path:
    """An input folder under ``tmp_path`` holding one post."""
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def data() -> Path:
    return DATA

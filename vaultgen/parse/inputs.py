"""The input edge: finding digest posts and reading them for the parser.

``read_post`` reads one post file, hashes it and parses it, as a build's worker processes do
for the posts that changed since the last build (``build``); ``read_posts`` parses posts for
``vaultgen parse``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import NamedTuple

from ..arxiv.match import title_key
from ..model import Diagnostic, Entry, ParseResult, SourceRef
from .posts import merge_results, parse_post

RACY_NS = 2_000_000_000  # a post changed this recently is read again by the next build


def entry_digest(entry: Entry) -> str:
    """A digest of everything an entry holds."""
    return hashlib.blake2b(repr(entry).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


class PostRead(NamedTuple):
    """A post file as read: its path, the sha256 of its bytes (None: unreadable), the
    diagnostics of parsing it, and its entries as the state store keeps them: rows of
    ``entries`` (post, line, date, title, title key, tags, cited ids, digest) and of
    ``entry_texts`` (post, line, authors as JSON, abstract, commentary)."""

    path: str
    sha256: str | None
    diagnostics: tuple[Diagnostic, ...]
    entries: list[tuple[object, ...]]
    texts: list[tuple[object, ...]]


def read_post(path: str) -> PostRead:
    """Read, hash and parse one post file, and make its rows for the state store (in a
    worker process, for a large build)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return PostRead(path, None, (Diagnostic(
            SourceRef(path, 0), f"cannot read: {err.strerror}", "error"),), [], [])
    result = _parse_bytes(path, data)
    entries: list[tuple[object, ...]] = []
    texts: list[tuple[object, ...]] = []
    for entry in result.entries:
        key = (path, entry.source.line)
        entries.append((*key, entry.date.isoformat(), entry.title, title_key(entry.title),
                        " ".join(entry.tags), " ".join(entry.cites), entry_digest(entry)))
        texts.append((*key, json.dumps(entry.authors, ensure_ascii=False), entry.abstract,
                      entry.comment_ko, entry.comment_en))
    return PostRead(path, hashlib.sha256(data).hexdigest(), result.diagnostics, entries,
                    texts)


def read_posts_with(paths: list[str], pool: Executor | None) -> Iterator[PostRead]:
    """``read_post`` of each file, in order: here, or in the pool's worker processes."""
    if pool is None:
        return map(read_post, paths)
    return pool.map(read_post, paths, chunksize=16)


INPUT_SUFFIXES = (".txt", ".md")
# What ``find_input_files`` found: the post files (as POSIX paths), and what was wrong.
FoundInputs = tuple[list[str], list[Diagnostic]]


def posts_folder(inputs: Sequence[Path]) -> Path | None:
    """The folder of a build's posts, where its arXiv cache and tag aliases are kept: the first
    input, or the folder of the post it names; None: no input."""
    if not inputs:
        return None
    first = inputs[0]
    return first.parent if first.is_file() else first


def find_input_files(paths: Iterable[Path], skip: Path | None = None) -> FoundInputs:
    """Digest files named directly, and the ``.txt``/``.md`` files under named folders, sorted;
    each as ``Path.as_posix`` gives it, how diagnostics and notes name it (kept as text: a
    ``Path`` each costs more than finding the file). Hidden files and folders are skipped, and
    so are vaults (``is_vault``) and the folder ``skip`` (the vault a build writes)."""
    files: list[str] = []
    problems: list[Diagnostic] = []
    skipped = _folder_id(skip) if skip is not None else None
    for path in paths:
        try:
            found_stat = os.stat(path)
        except OSError as err:
            problems.append(Diagnostic(SourceRef(path.as_posix(), 0), _not_found(err), "error"))
            continue
        if S_ISDIR(found_stat.st_mode):
            folder = path.as_posix()
            if (found_stat.st_dev, found_stat.st_ino) == skipped:
                problems.append(Diagnostic(SourceRef(folder, 0), "is the vault being built; "
                                           "its notes are not posts", "error"))
                continue
            if is_vault(folder, (".vaultgen",)):
                problems.append(Diagnostic(SourceRef(folder, 0), "is a vault vaultgen built; "
                                           "its notes are not posts", "error"))
                continue
            found = list(_posts_under(folder, problems, skipped))
            if os.sep != "/":
                found = [name.replace(os.sep, "/") for name in found]
            if folder == ".":  # as a Path has it: "2025-04-30.txt", not "./2025-04-30.txt"
                found = [name[2:] for name in found]
            if not found and not any(p.source.path == folder for p in problems):
                problems.append(Diagnostic(SourceRef(folder, 0),
                                           "folder holds no .txt or .md posts"))
            files.extend(sorted(found, key=_parts_order))
        elif S_ISREG(found_stat.st_mode):
            files.append(path.as_posix())
        else:
            problems.append(Diagnostic(SourceRef(path.as_posix(), 0), "not a file or folder",
                                       "error"))
    return files, problems


def _not_found(err: OSError) -> str:
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return "no such file or folder"
    return f"cannot read: {err.strerror}"


VAULT_MARKERS = (".vaultgen", ".obsidian")


def is_vault(folder: str, markers: tuple[str, ...] = VAULT_MARKERS) -> bool:
    """Whether ``folder`` is a vault: it holds a ``.vaultgen`` (one vaultgen built) or an
    ``.obsidian`` folder (one Obsidian opened), whose notes are not digest posts."""
    return any(os.path.isdir(os.path.join(folder, marker)) for marker in markers)


def _folder_id(path: Path) -> tuple[int, int] | None:
    """What tells a folder apart however it is named (device and inode); None when it is
    not there."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _parts_order(name: str) -> str:
    """What files are sorted by: their folders' names, then their own, as ``Path.parts``
    compare (a "/" made the least of characters: a name is never cut by "\0"; ten times as
    fast to sort as the parts' lists)."""
    return name.replace("/", "\0")


def _posts_under(folder: str, problems: list[Diagnostic], skip: tuple[int, int] | None = None,
                 *, nested: bool = False) -> Iterable[str]:
    """The post files under a folder: hidden files and folders skipped, and folders in it
    (``nested``: and itself) that are vaults (``is_vault``) or ``skip`` (``_folder_id``). A
    folder that cannot be read is added to ``problems``. (A file's type comes with its
    directory entry, so most need no stat of their own.)"""
    try:
        entries = list(os.scandir(folder))
    except OSError as err:
        problems.append(Diagnostic(SourceRef(folder.replace(os.sep, "/"), 0),
                                   f"cannot read folder: {err.strerror}", "error"))
        return
    if nested and any(entry.name in VAULT_MARKERS and _is_folder(entry) for entry in entries):
        return  # a vault: none of its files are posts
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):  # as os.walk: linked folders not walked
                if skip is None or entry.inode() != skip[1] or \
                        _folder_id(Path(entry.path)) != skip:
                    yield from _posts_under(entry.path, problems, skip, nested=True)
            elif name.lower().endswith(INPUT_SUFFIXES) and entry.is_file():
                yield entry.path
        except OSError:
            continue


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_posts(paths: Iterable[Path],
               found: FoundInputs | None = None) -> ParseResult:
    """Parse every digest file under ``paths``; unreadable files become diagnostics.
    ``found``: what ``find_input_files(paths)`` gave, when the caller has it already."""
    files, problems = found if found is not None else find_input_files(paths)
    return merge_results([ParseResult((), tuple(problems)),
                          *(_parse_file(file) for file in files)])


def _parse_file(name: str) -> ParseResult:
    """A post file (named as ``find_input_files`` names it) parsed."""
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return ParseResult((), (Diagnostic(SourceRef(name, 0), f"cannot read: {err.strerror}",
                                           "error"),))
    return _parse_bytes(name, data)


def _parse_bytes(name: str, data: bytes) -> ParseResult:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return ParseResult((), (Diagnostic(
            SourceRef(name, line), f"not UTF-8 text ({err.reason} at byte {err.start}); "
            "file skipped — save it as UTF-8", "error"),))
    return parse_post(text, name)

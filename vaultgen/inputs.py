"""The input edge: finding digest files and reading them as text for the parser.

A ``ParseCache`` keeps what each file gave, keyed by its size and modification time, so that
a rebuild parses only the posts that changed (``VAULT/.vaultgen/parsed.json``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from . import code_digest
from .model import Diagnostic, Entry, ParseResult, SourceRef
from .parse import merge_results, parse_post

_CACHE_VERSION = 2
RACY_NS = 2_000_000_000  # a file changed less than 2 s ago is parsed again next time


def entry_digest(entry: Entry) -> str:
    """A digest of everything an entry holds."""
    return hashlib.blake2b(repr(entry).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


class ParseCache:
    """Parse results by input file, valid while the file's size and mtime stay the same."""

    def __init__(self, path: Path | None, files: dict[str, dict] | None = None) -> None:
        self.path = path
        self.files: dict[str, dict] = files or {}
        self.used: set[str] = set()
        self.changed = False

    @classmethod
    def load(cls, path: Path | None) -> ParseCache:
        if path is None:
            return cls(None)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)  # none yet, or unreadable: everything is parsed again
        if data.get("version") != _CACHE_VERSION or data.get("vaultgen") != code_digest():
            return cls(path)
        return cls(path, data.get("files", {}))

    def get(self, name: str, stat: os.stat_result) -> ParseResult | None:
        found = self.files.get(name)
        if found is None or found["size"] != stat.st_size or \
                found["mtime_ns"] != stat.st_mtime_ns:
            return None
        self.used.add(name)
        return ParseResult(
            tuple(Entry(dt.date.fromisoformat(e[0]), e[1], tuple(e[2]), e[3], e[4], e[5],
                        tuple(e[6]), tuple(e[7]), SourceRef(name, e[8]), e[9])
                  for e in found["entries"]),
            tuple(Diagnostic(SourceRef(d[0], d[1]), d[2], d[3]) for d in found["diagnostics"]))

    def put(self, name: str, stat: os.stat_result, result: ParseResult) -> ParseResult:
        """Keep a file's result (its entries given their digests, as returned), unless the
        file changed too recently for its mtime to tell a later change apart (the "racy"
        files of git's index)."""
        if stat.st_mtime_ns > time.time_ns() - RACY_NS:
            if self.files.pop(name, None) is not None:
                self.changed = True
            return result
        self.used.add(name)
        self.changed = True
        result = ParseResult(tuple(dataclasses.replace(e, digest=entry_digest(e))
                                   for e in result.entries), result.diagnostics)
        self.files[name] = {
            "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "entries": [[e.date.isoformat(), e.title, list(e.authors), e.abstract, e.comment_ko,
                         e.comment_en, list(e.tags), list(e.cites), e.source.line, e.digest]
                        for e in result.entries],
            "diagnostics": [[d.source.path, d.source.line, d.message, d.severity]
                            for d in result.diagnostics]}
        return result

    def save(self) -> None:
        """Write the cache (only the files used this run) when anything changed."""
        if self.path is None or not (self.changed or set(self.files) - self.used):
            return
        from .write import atomic_write

        files = {name: self.files[name] for name in sorted(self.used)}
        data = {"version": _CACHE_VERSION, "vaultgen": code_digest(), "files": files}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

INPUT_SUFFIXES = (".txt", ".md")


def find_input_files(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Digest files named directly, and the ``.txt``/``.md`` files under named folders (hidden
    files and folders skipped), sorted."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = []
            for folder, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [Path(folder, name) for name in names
                          if not name.startswith(".") and name.lower().endswith(INPUT_SUFFIXES)
                          and os.path.isfile(os.path.join(folder, name))]
            if not found:
                problems.append(Diagnostic(SourceRef(path.as_posix(), 0),
                                           "folder holds no .txt or .md posts"))
            files.extend(sorted(found, key=lambda p: p.parts))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(SourceRef(path.as_posix(), 0), "no such file or folder",
                                       "error"))
    return files, problems


def read_posts(paths: Iterable[Path], cache: ParseCache | None = None,
               found: tuple[list[Path], list[Diagnostic]] | None = None) -> ParseResult:
    """Parse every digest file under ``paths``; unreadable files become diagnostics.

    With a ``cache``, a file whose size and mtime are unchanged is not read again. ``found``:
    what ``find_input_files(paths)`` gave, when the caller has it already.
    """
    files, problems = found if found is not None else find_input_files(paths)
    results = [ParseResult((), tuple(problems))]
    for file in files:
        name = file.as_posix()
        stat = None
        if cache is not None:
            try:
                stat = file.stat()
            except OSError:
                stat = None
            cached = cache.get(name, stat) if stat is not None else None
            if cached is not None:
                results.append(cached)
                continue
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            line = file.read_bytes()[: err.start].count(b"\n") + 1
            results.append(ParseResult((), (Diagnostic(
                SourceRef(name, line), f"not UTF-8 text ({err.reason} at byte {err.start}); "
                "file skipped — save it as UTF-8", "error"),)))
            continue
        except OSError as err:
            results.append(ParseResult((), (Diagnostic(
                SourceRef(name, 0), f"cannot read: {err.strerror}", "error"),)))
            continue
        result = parse_post(text, name)
        if cache is not None and stat is not None:
            result = cache.put(name, stat, result)
        results.append(result)
    return merge_results(results)

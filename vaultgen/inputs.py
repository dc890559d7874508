"""The input edge: finding digest files and reading them as text for the parser.

A ``ParseCache`` keeps what each file gave, keyed by its size and modification time, so that
a rebuild parses only the posts that changed (``VAULT/.vaultgen/parsed/``).
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
from .model import Diagnostic, Entry, ParseResult, SourceRef, names_once
from .parse import merge_results, parse_post

_CACHE_VERSION = 2
RACY_NS = 2_000_000_000  # a file changed less than 2 s ago is parsed again next time


def entry_digest(entry: Entry) -> str:
    """A digest of everything an entry holds."""
    return hashlib.blake2b(repr(entry).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


class ParseCache:
    """Parse results by input file, valid while the file's size and mtime stay the same.

    Kept in ``SHARDS`` files in one folder, each input file in the shard its name hashes to,
    so that a new post rewrites one small file, not the cache of every post (which a vault
    synced to other devices would upload again each time).
    """

    SHARDS = 32

    def __init__(self, path: Path | None) -> None:
        self.path = path  # the folder of the shards
        self.files: dict[str, dict] = {}
        self.used: set[str] = set()
        self.dirty: set[int] = set()  # shards to write

    @classmethod
    def load(cls, path: Path | None) -> ParseCache:
        cache = cls(path)
        if path is None or not path.is_dir():
            return cache  # none yet: everything is parsed
        for shard in sorted(path.glob("*.json")):
            try:
                data = json.loads(shard.read_bytes())
            except (OSError, ValueError):
                continue  # unreadable: its files are parsed again
            if data.get("version") == _CACHE_VERSION and data.get("vaultgen") == code_digest():
                cache.files.update(data.get("files", {}))
        return cache

    @classmethod
    def shard_of(cls, name: str) -> int:
        digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4)
        return int.from_bytes(digest.digest(), "big") % cls.SHARDS

    def get(self, name: str, stat: os.stat_result) -> ParseResult | None:
        found = self.files.get(name)
        if found is None or found["size"] != stat.st_size or \
                found["mtime_ns"] != stat.st_mtime_ns:
            return None
        self.used.add(name)
        result = found.get("result")
        if result is None:  # as read from the shard: made a result once, and held as one
            result = ParseResult(
                tuple(Entry(dt.date.fromisoformat(e[0]), e[1], names_once(e[2]), e[3], e[4],
                            e[5], tuple(e[6]), tuple(e[7]), SourceRef(name, e[8]), e[9])
                      for e in found.pop("entries")),
                tuple(Diagnostic.from_row(d) for d in found.pop("diagnostics")))
            found["result"] = result
        return result

    def put(self, name: str, stat: os.stat_result, result: ParseResult) -> ParseResult:
        """Keep a file's result (its entries given their digests, as returned), unless the
        file changed too recently for its mtime to tell a later change apart (the "racy"
        files of git's index)."""
        if stat.st_mtime_ns > time.time_ns() - RACY_NS:
            if self.files.pop(name, None) is not None:
                self.dirty.add(self.shard_of(name))
            return result
        self.used.add(name)
        self.dirty.add(self.shard_of(name))
        result = ParseResult(tuple(dataclasses.replace(e, digest=entry_digest(e))
                                   for e in result.entries), result.diagnostics)
        self.files[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                            "result": result}
        return result

    @staticmethod
    def _row(found: dict) -> dict:
        """A file's cache row as the shard holds it."""
        result = found.get("result")
        if result is None:
            return found
        return {"size": found["size"], "mtime_ns": found["mtime_ns"],
                "entries": [[e.date.isoformat(), e.title, list(e.authors), e.abstract,
                             e.comment_ko, e.comment_en, list(e.tags), list(e.cites),
                             e.source.line, e.digest] for e in result.entries],
                "diagnostics": [d.as_row() for d in result.diagnostics]}

    def save(self) -> None:
        """Write the shards that changed; files no longer read this run are dropped."""
        if self.path is None:
            return
        from .write import atomic_write

        for name in set(self.files) - self.used:
            del self.files[name]
            self.dirty.add(self.shard_of(name))
        if not self.dirty:
            return
        shards: dict[int, dict[str, dict]] = {number: {} for number in self.dirty}
        for name, found in self.files.items():
            number = self.shard_of(name)
            if number in shards:
                shards[number][name] = self._row(found)
        for number, files in sorted(shards.items()):
            target = self.path / f"{number:02d}.json"
            if files:
                data = {"version": _CACHE_VERSION, "vaultgen": code_digest(),
                        "files": dict(sorted(files.items()))}
                atomic_write(target, json.dumps(data, ensure_ascii=False).encode("utf-8"))
            else:
                target.unlink(missing_ok=True)
        self.dirty.clear()


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

"""The input edge: finding digest files and reading them as text for the parser.

A ``ParseCache`` keeps what each file gave, keyed by its size and modification time, so that
a rebuild parses only the posts that changed (``VAULT/.vaultgen/parsed/``).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import NamedTuple

from . import code_digest
from .errors import InputError
from .keyed_json import keyed_lines, raw_line, read_sorted_sections
from .model import Diagnostic, Entry, EntryText, ParseResult, SourceRef, names_once
from .parse import merge_results, parse_post
from .progress import PARSING, Progress, Ticks
from .workers import POSTS_WORTH_WORKERS, jobs_for, worker_pool

_CACHE_VERSION = 3
RACY_NS = 2_000_000_000  # a file changed less than 2 s ago is parsed again next time


def entry_digest(entry: Entry) -> str:
    """A digest of everything an entry holds."""
    return hashlib.blake2b(repr(entry).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


class ParseCache:
    """Parse results by input file, valid while the file's size and mtime stay the same.

    Kept in ``SHARDS`` pairs of files in one folder, each input file in the pair its name
    hashes to, so that a new post rewrites two small files, not the cache of every post (which
    a vault synced to other devices would upload again each time). ``NN.json`` holds what a
    library needs of each entry (title, authors, date, tags, citations, digest);
    ``NN.text.json`` its abstract and commentary, read only when a note needs them.
    """

    SHARDS = 32

    def __init__(self, path: Path | None) -> None:
        self.path = path  # the folder of the shards
        # name → {"size", "mtime_ns"} and either the shard's rows ("entries",
        # "diagnostics") or, once read or parsed, "result" (entries without their text) and,
        # for files parsed this run, "texts" (line → EntryText) until saved.
        self.files: dict[str, dict] = {}
        self.used: set[str] = set()
        self.dirty: set[int] = set()  # shards to write
        self._dropped: set[int] = set()  # shards a file was dropped from (written whole)
        self._no_abstract: set[tuple[str, int]] = set()  # cached entries without an abstract
        self._text_shards: dict[int, dict[str, dict]] = {}  # read when first needed
        # The shards read, when not all of them (``load(..., shards=)``): a save then keeps
        # the files of the others, and files not looked at this run.
        self.partial: set[int] | None = None

    @classmethod
    def load(cls, path: Path | None, shards: Iterable[int] | None = None) -> ParseCache:
        """The cache in folder ``path``; ``shards``: only those shards (``shard_of``), for a
        build that reads a few posts (``read_shards`` reads more)."""
        cache = cls(path)
        if shards is not None:
            cache.partial = set()
            cache.read_shards(shards)
            return cache
        if path is None or not path.is_dir():
            return cache  # none yet: everything is parsed
        for shard in sorted(path.glob("[0-9][0-9].json")):
            data = _read_shard(shard)
            if data is not None:
                cache.files.update(data.get("files", {}))
        return cache

    def read_shards(self, shards: Iterable[int]) -> None:
        """Read these shards too (of a cache loaded with some)."""
        assert self.partial is not None, "a cache loaded whole has every shard"
        for number in sorted(set(shards) - self.partial):
            self.partial.add(number)
            data = _read_shard(self.path / f"{number:02d}.json") if self.path else None
            if data is not None:
                for name, found in data.get("files", {}).items():
                    self.files.setdefault(name, found)

    @classmethod
    def shard_of(cls, name: str) -> int:
        digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4)
        return int.from_bytes(digest.digest(), "big") % cls.SHARDS

    def get(self, name: str, stat: os.stat_result) -> ParseResult | None:
        """A file's result, its entries without their text (``Entry.text_held`` False)."""
        found = self.files.get(name)
        if found is None or found["size"] != stat.st_size or \
                found["mtime_ns"] != stat.st_mtime_ns:
            return None
        self.used.add(name)
        result = found.get("result")
        if result is None:  # as read from the shard: made a result once, and held as one
            rows = found.pop("entries")
            result = result_of_rows(name, rows, found.pop("diagnostics"))
            self._no_abstract.update((name, e[5]) for e in rows if not e[7])
            found["result"] = result
        return result

    def put(self, name: str, stat: os.stat_result, result: ParseResult,
            texts: dict[int, EntryText], rows: CacheRows | None = None) -> None:
        """Keep a file's result (entries without their text, as ``parse_apart`` gives
        them) and its texts by line, unless the file changed too recently for its mtime to
        tell a later change apart (the "racy" files of git's index). ``rows``: the file's
        rows as JSON, when the worker that parsed it made them (``parse_for_build``)."""
        if self.partial is not None:
            self.read_shards([self.shard_of(name)])  # a save rewrites the shard whole
        if stat.st_mtime_ns > time.time_ns() - RACY_NS:
            if self.files.pop(name, None) is not None:
                self.dirty.add(self.shard_of(name))
                self._dropped.add(self.shard_of(name))
            return
        self.used.add(name)
        self.dirty.add(self.shard_of(name))
        self.files[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                            "result": result, "texts": texts, "rows": rows}

    def has_abstract(self, entry: Entry) -> bool:
        """Whether a cached entry (text not held) has an abstract."""
        return (entry.source.path, entry.source.line) not in self._no_abstract

    def text_of(self, entry: Entry) -> EntryText | None:
        """A cached entry's abstract and commentary, from its shard's text file; None when
        that file does not hold this version of the post."""
        name = entry.source.path
        found = self.files.get(name)
        texts = self._texts_of(name)
        if found is None or texts is None or texts["size"] != found["size"] or \
                texts["mtime_ns"] != found["mtime_ns"]:
            return None
        row = texts["texts"].get(str(entry.source.line))
        return EntryText(*row) if row is not None else None

    def _texts_of(self, name: str) -> dict | None:
        number = self.shard_of(name)
        if number not in self._text_shards:
            data = _read_shard(self._text_path(number)) if self.path is not None else None
            self._text_shards[number] = data.get("files", {}) if data is not None else {}
        return self._text_shards[number].get(name)

    def _text_path(self, number: int) -> Path:
        assert self.path is not None
        return self.path / f"{number:02d}.text.json"

    def save(self) -> None:
        """Write the shards that changed; files no longer read this run are dropped. The
        texts of the files parsed this run are then no longer held here.

        A shard is laid out one file a line, sorted (``keyed_json``): a cache loaded in part
        (a new day's) writes a shard back as read, but for the lines of the files parsed this
        run, without decoding its other files' texts or encoding them again."""
        if self.path is None:
            return
        if self.partial is None:
            for name in set(self.files) - self.used:
                del self.files[name]
                self.dirty.add(self.shard_of(name))
        shards: dict[int, list[str]] = {number: [] for number in self.dirty}
        for name in self.files:
            number = self.shard_of(name)
            if number in shards:
                shards[number].append(name)
        head = {"version": _CACHE_VERSION, "vaultgen": code_digest()}
        for number, names in sorted(shards.items()):
            target, text_target = self.path / f"{number:02d}.json", self._text_path(number)
            if self.partial is None or number in self._dropped or not self._save_lines(
                    target, text_target, head,
                    [name for name in names if "texts" in self.files[name]]):
                self._save_whole(target, text_target, head, names)
            self._text_shards.pop(number, None)  # as written now
        self.dirty.clear()
        self._dropped.clear()
        for found in self.files.values():
            found.pop("texts", None)
            found.pop("rows", None)

    def _save_whole(self, target: Path, text_target: Path, head: dict[str, object],
                    names: list[str]) -> None:
        """Write a shard's two files from its ``names`` (removed when it has none)."""
        from .write import atomic_write

        rows: list[tuple[str, str]] = []  # (name, its row as JSON)
        texts: list[tuple[str, str]] = []
        for name in sorted(names):
            found = self.files[name]
            text = self._text_json(name, found)
            if text is None:  # its text is gone (a damaged cache): parsed again next time
                continue
            texts.append((name, text))
            rows.append((name, self._entry_json(name, found)))
        if rows:
            atomic_write(text_target, "".join(keyed_lines(head, {"files": texts})).encode())
            atomic_write(target, "".join(keyed_lines(head, {"files": rows})).encode())
        else:
            target.unlink(missing_ok=True)
            text_target.unlink(missing_ok=True)

    def _save_lines(self, target: Path, text_target: Path, head: dict[str, object],
                    names: list[str]) -> bool:
        """Write a shard's two files as read, with the lines of ``names`` (files parsed this
        run) put in; False when they are not both laid out one file a line by this version
        of vaultgen (the shard is then written whole)."""
        from .write import atomic_write

        try:
            read = [read_sorted_sections(path, names=["files"]) for path in (target, text_target)]
        except (OSError, ValueError):
            return False
        if any(found_head != head for found_head, _ in read):
            return False
        texts = {}
        for name in names:
            text = self._text_json(name, self.files[name])
            assert text is not None, "the texts of a file parsed this run are held"
            texts[name] = raw_line(name, text)
        rows = {name: raw_line(name, self._entry_json(name, self.files[name])) for name in names}
        atomic_write(text_target, read[1][1]["files"].document_with(texts))
        atomic_write(target, read[0][1]["files"].document_with(rows))
        return True

    def _text_json(self, name: str, found: dict) -> str | None:
        text = self._text_row(name, found)
        return _ROW_ENCODER.encode(text) if text is not None else None

    def _entry_json(self, name: str, found: dict) -> str:
        rows: CacheRows | None = found.get("rows")
        if rows is not None:
            return f'{{"size": {found["size"]}, "mtime_ns": {found["mtime_ns"]}, ' \
                   f'"entries": {rows.entries}, "diagnostics": {rows.diagnostics}}}'
        return _ROW_ENCODER.encode(self._entry_rows(name, found))

    def _text_row(self, name: str, found: dict) -> dict | None:
        held = found.get("texts")
        if held is not None:
            return {"size": found["size"], "mtime_ns": found["mtime_ns"],
                    "texts": texts_row(held)}
        old = self._texts_of(name)
        if old is None or old["size"] != found["size"] or old["mtime_ns"] != found["mtime_ns"]:
            return None
        return old

    def _entry_rows(self, name: str, found: dict) -> dict:
        result = found.get("result")
        if result is None:
            return found  # not read this run: as the shard held it
        held = found.get("texts")
        return {"size": found["size"], "mtime_ns": found["mtime_ns"],
                "entries": [entry_row(e, bool(held[e.source.line].abstract) if held is not None
                                      else self.has_abstract(e)) for e in result.entries],
                "diagnostics": [d.as_row() for d in result.diagnostics]}


def result_of_rows(name: str, entries: list, diagnostics: list) -> ParseResult:  # type: ignore[type-arg]
    """A file's result (entries without their text) from its rows in the parse cache."""
    return ParseResult(
        tuple(Entry(dt.date.fromisoformat(e[0]), e[1], names_once(e[2]), "", None, None,
                    tuple(e[3]), tuple(e[4]), SourceRef(name, e[5]), e[6], False)
              for e in entries),
        tuple(Diagnostic.from_row(d) for d in diagnostics))


def entry_row(entry: Entry, has_abstract: bool) -> list[object]:
    """What a shard of the parse cache keeps of an entry (its text kept apart)."""
    return [entry.date.isoformat(), entry.title, list(entry.authors), list(entry.tags),
            list(entry.cites), entry.source.line, entry.digest, has_abstract]


def texts_row(texts: dict[int, EntryText]) -> dict[str, list[str | None]]:
    """What a text file of the parse cache keeps of a post's texts (by line)."""
    return {str(line): [t.abstract, t.comment_ko, t.comment_en] for line, t in texts.items()}


class CacheRows(NamedTuple):
    """A post's rows in the parse cache, as JSON: made by the worker process that parsed
    it, so that saving the cache of a cold build mostly joins them. (Its texts are not made
    there: the build holds them already, and would hold them twice.)"""

    entries: str
    diagnostics: str


def _read_shard(path: Path) -> dict | None:
    """A shard of the parse cache, when it is of this version of vaultgen."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # missing or unreadable: its files are parsed again
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION or \
            data.get("vaultgen") != code_digest():
        return None
    return data


class EntryTexts:
    """The abstracts and commentary of a build's entries, kept apart from the entries its
    library holds (tens of thousands of them, most of whose notes a rebuild does not render):
    those of the posts parsed this run in memory, each let go once its note has it; those of
    cached posts read from the parse cache's text files when a note needs them."""

    def __init__(self, cache: ParseCache | None = None) -> None:
        self._cache = cache
        self._held: dict[tuple[str, int], EntryText] = {}

    @property
    def cache(self) -> ParseCache | None:
        """The parse cache the texts of cached posts are read from."""
        return self._cache

    def hold(self, name: str, texts: dict[int, EntryText]) -> None:
        """Hold the texts of a post parsed this run (``parse_apart``), by line."""
        for line, text in texts.items():
            self._held[(name, line)] = text

    def has_abstract(self, entry: Entry) -> bool:
        if entry.text_held:
            return bool(entry.abstract)
        held = self._held.get((entry.source.path, entry.source.line))
        if held is not None:
            return bool(held.abstract)
        return self._cache is not None and self._cache.has_abstract(entry)

    def full(self, entry: Entry) -> Entry:
        """The entry with its text (for rendering its note, once)."""
        if entry.text_held:
            return entry
        text = self._held.pop((entry.source.path, entry.source.line), None)
        if text is None and self._cache is not None:
            text = self._cache.text_of(entry)
        if text is None:
            text = _parse_again(entry)
        return entry.with_text(text)


def _parse_again(entry: Entry) -> EntryText:
    """An entry's text read from its post again (its cached text is missing): the same entry
    must be there, or the post changed while vaultgen was building."""
    path = entry.source.path
    try:
        result = parse_post(Path(path).read_bytes().decode("utf-8"), path)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read it again: {err}",
                         hint="it changed while vaultgen was building; build again") from err
    for again in result.entries:
        if again.source == entry.source and entry_digest(again) == entry.digest:
            return again.text
    raise InputError(path, f"the entry of line {entry.source.line} is no longer as read",
                     hint="the post changed while vaultgen was building; build again")


INPUT_SUFFIXES = (".txt", ".md")
# What ``find_input_files`` found: the post files (as POSIX paths), and what was wrong.
FoundInputs = tuple[list[str], list[Diagnostic]]


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


def read_posts_apart(paths: Iterable[Path], cache: ParseCache,
                     found: FoundInputs | None = None, jobs: int | None = 1,
                     progress: Progress | None = None) -> tuple[ParseResult, EntryTexts]:
    """``read_posts`` for a build: the entries without their text (``Entry.text_held``
    False), and the texts apart. A file whose size and mtime are those ``cache`` holds is not
    read again; the others are parsed by worker processes when there are many (``jobs``:
    see ``workers.jobs_for``), the posts parsed told to ``progress``."""
    files, problems = found if found is not None else find_input_files(paths)
    texts = EntryTexts(cache)
    results: list[ParseResult] = [ParseResult((), tuple(problems))]
    to_parse: list[tuple[int, str, os.stat_result | None]] = []
    for file in files:
        try:
            stat = os.stat(file)
        except OSError:
            stat = None
        cached = cache.get(file, stat) if stat is not None else None
        if cached is None:
            to_parse.append((len(results), file, stat))
            cached = ParseResult((), ())  # in its place once parsed
        results.append(cached)
    with worker_pool(jobs_for(jobs, len(to_parse), POSTS_WORTH_WORKERS)) as pool:
        parsed = parse_post_files([file for _, file, _ in to_parse], pool)
        ticks = Ticks(progress, PARSING, len(to_parse))
        for (position, name, stat), (result, held, rows) in zip(to_parse, parsed, strict=True):
            texts.hold(name, held)
            if stat is not None:
                cache.put(name, stat, result, held, rows)
            results[position] = result
            ticks.tick()
    return merge_results(results), texts


def parse_post_files(files: list[str], pool: Executor | None, chunk: int = 16,
                     ) -> Iterator[tuple[ParseResult, dict[int, EntryText], CacheRows | None]]:
    """``parse_apart`` of each file, in order: here (no cache rows made: the few posts
    of a build without workers), or in the pool's worker processes (``parse_for_build``).
    A worker's entries come back as its rows for the parse cache, and are made from them
    as from the cache: that costs a fifth of unpickling them (and their author names are
    then held once for the whole run)."""
    if pool is None:
        return ((*parse_apart(file), None) for file in files)
    return ((result_of_rows(file, json.loads(rows.entries),
                            json.loads(rows.diagnostics)), texts, rows)
            for file, (texts, rows) in zip(files, pool.map(parse_for_build, files,
                                                           chunksize=chunk), strict=True))


def parse_for_build(file: str) -> tuple[dict[int, EntryText], CacheRows]:
    """In a worker process: a post's texts by line (``parse_apart``) and its rows for the
    parse cache, which stand for its entries."""
    result, texts = parse_apart(file)
    encode = _ROW_ENCODER.encode
    return texts, CacheRows(
        encode([entry_row(e, bool(texts[e.source.line].abstract)) for e in result.entries]),
        encode([d.as_row() for d in result.diagnostics]))


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False)


def parse_apart(file: str) -> tuple[ParseResult, dict[int, EntryText]]:
    """A post parsed for a build: its entries without their text, each given its digest
    (which stands for the text in its note's inputs), and their texts by line."""
    parsed = _parse_file(file)
    entries = []
    texts: dict[int, EntryText] = {}
    for entry in parsed.entries:
        texts[entry.source.line] = entry.text
        entries.append(entry.without_text(entry_digest(entry)))
    return ParseResult(tuple(entries), parsed.diagnostics), texts


def _parse_file(name: str) -> ParseResult:
    """A post file (named as ``find_input_files`` names it) parsed."""
    try:
        with open(name, "rb") as handle:
            data = handle.read()
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return ParseResult((), (Diagnostic(
            SourceRef(name, line), f"not UTF-8 text ({err.reason} at byte {err.start}); "
            "file skipped — save it as UTF-8", "error"),))
    except OSError as err:
        return ParseResult((), (Diagnostic(
            SourceRef(name, 0), f"cannot read: {err.strerror}", "error"),))
    return parse_post(text, name)

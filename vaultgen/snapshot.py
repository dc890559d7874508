"""The snapshot a build leaves of its library (``.vaultgen/library.json``): what the next
build's increment (``increment.plan_increment``) needs to know of the notes it does not render
— their names, tags, days and citations — and the files the manifest records.

A new day needs a few fields of every paper (50,000 at the scale of years) and every field of
a few. So the papers are kept by column: each field of every paper one JSON string, its values
joined by newlines (``Joined``). Reading a field is decoding one string and splitting it (a
few milliseconds), where decoding 50,000 rows of eight strings took 0.13–0.18 s; a new day
writes each column back as it read it, its new papers' values appended.

The file, a line each: the other fields as a JSON object (with the number of papers, names and
files), the keys of the names handed out, the files the manifest records, then the papers'
eight columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # json.dumps of a str, in C
from pathlib import Path

from .model import Entry, Paper
from .render import CITED, PAPERS, VaultContext, names_taken, paper_key, properties_tags
from .resolve import title_key
from .write import atomic_write

SNAPSHOT = ".vaultgen/library.json"
_VERSION = 3

# The fields of a paper, by column: its note's name; its path, if not papers/NAME.md; its
# arXiv id; the last day it was posted; its tags (joined by spaces: a tag holds none); the
# arXiv ids it cites (the same); the post and line of each entry (JSON); the title keys of its
# entries (``resolve.title_key``, which holds no whitespace but single spaces; joined by tabs).
NAME, PATH, ARXIV, LAST_DAY, TAGS, CITES, SOURCES, TITLE_KEYS = range(8)
FIELDS = TITLE_KEYS + 1


class SnapshotDamaged(Exception):
    """A column of the snapshot is not what its first line says."""


class Joined:
    """Strings held as the snapshot holds them: one JSON string, the strings joined by
    newlines (none holds one). Split when first asked for; written back as read, with the
    strings added since appended to it (a new day does not encode the old ones again)."""

    def __init__(self, text: bytes = b'""', count: int = 0,
                 make: Callable[[], Iterable[str]] | None = None) -> None:
        """``text``: the JSON string as read, of ``count`` strings; ``make``: instead, a
        function giving the strings when they are written (a full build's snapshot makes a
        column at a time)."""
        self._text = text
        self._count = count
        self._make = make
        self._values: list[str] | None = None
        self.added: list[str] = []

    def text(self) -> str:
        """The strings as read, joined by newlines."""
        try:
            value = json.loads(self._text)
        except ValueError as err:
            raise SnapshotDamaged(str(err)) from err
        if not isinstance(value, str):
            raise SnapshotDamaged("a column is not a string")
        return value

    def counted_text(self) -> str:
        """``text``, found to hold as many strings as the head says (else
        ``SnapshotDamaged``): for a search over all of them (``lines_with_words``)."""
        text = self.text()
        if (text.count("\n") + 1 if self._count else len(text)) != self._count:
            raise SnapshotDamaged(f"a column does not hold {self._count} values")
        return text

    def values(self) -> list[str]:
        """The strings as read (not those added since)."""
        if self._values is None:
            values = self.text().split("\n") if self._count else []
            if len(values) != self._count:
                raise SnapshotDamaged(f"a column holds {len(values)} values, not "
                                      f"{self._count}")
            self._values = values
        return self._values

    def __len__(self) -> int:
        return self._count + len(self.added)

    def json(self) -> bytes:
        """The JSON string of every string, those read and those added."""
        if self._make is not None:
            return _json_string("\n".join(self._make()))
        if not self.added:
            return self._text
        tail = "\n".join(self.added)
        return self._text[:-1] + _json_string("\n" + tail if self._count else tail)[1:]


def _json_string(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False).encode("utf-8")


@dataclass
class LibrarySnapshot:
    """What a build's notes are named and made of, as far as other notes depend on it."""

    fingerprint: str  # digest of the fingerprint of the build record it goes with
    papers: list[Joined]  # the papers' fields by column (``NAME`` …), in library order
    cited: list[list[str]]  # [arXiv id, name, path if not cited/NAME.md], citation order
    tags: list[list]  # [tag, hub name, papers carrying it], by tag  # type: ignore[type-arg]
    days: list[list]  # [ISO day, entries posted], ascending  # type: ignore[type-arg]
    last_day: list[list]  # entries of the last day, post order: [name, title, post, line]  # type: ignore[type-arg]
    last_entry: list  # [ISO day, post, line] of the entry that sorts last  # type: ignore[type-arg]
    names: Joined  # the keys of every name handed out (``NameRegistry.keys``), in no order
    # The vault paths of the files the manifest records, in no order: a new day's link check
    # resolves against its notes, and its report lists the files left as they were; listing
    # them from the manifest's 26 MB takes 0.09 s at 50k, splitting this a few ms
    files: Joined
    entries: int
    unresolved: int
    links: int  # links between notes, as the manifest records them
    folders: dict[str, int]  # folder holding generated notes → its mtime (ns) after the build
    root_files: dict[str, list[int]]  # generated file at the vault's root → [size, mtime]

    def paper_count(self) -> int:
        return len(self.papers[NAME])

    def add_paper(self, row: list[str]) -> None:
        """Add a paper's fields (``paper_row``) after those read."""
        for column, value in zip(self.papers, row, strict=True):
            column.added.append(value)


def fingerprint_digest(fingerprint: str) -> str:
    return hashlib.blake2b(fingerprint.encode("utf-8"), digest_size=16).hexdigest()


def snapshot_of(context: VaultContext, fingerprint: str, entries: int, links: int,
                vault: Path, written: Iterable[str]) -> LibrarySnapshot:
    """The snapshot of a full build (``written``: every file its manifest records)."""
    library = context.library
    written = list(written)
    folders, root_files = folders_of(vault, written)
    count = len(context.paper_names)

    def paths() -> Iterable[str]:
        for paper, name in context.paper_items():
            path = context.paths.get(paper_key(paper), "")
            yield "" if path == f"{PAPERS}/{name}.md" else path

    def column(field: Callable[[Paper, str], str]) -> Callable[[], Iterable[str]]:
        return lambda: [field(paper, name) for paper, name in context.paper_items()]

    def title_keys() -> Iterable[str]:
        yield from column(_FIELDS[TITLE_KEYS])()
        title_key.cache_clear()

    papers = [Joined(count=count, make=paths if at == PATH else
                     title_keys if at == TITLE_KEYS else column(field))
              for at, field in enumerate(_FIELDS)]
    cited = []
    for arxiv_id in library.cited:
        name = context.cited_names[arxiv_id]
        path = context.paths.get(arxiv_id, "")
        cited.append([arxiv_id, name, "" if path == f"{CITED}/{name}.md" else path])
    tag_papers: Counter[str] = Counter()
    day_entries: Counter[str] = Counter()
    last: list[tuple[Entry, str]] = []
    for paper, name in context.paper_items():
        tag_papers.update(properties_tags(paper))
        for entry in paper.entries:
            day_entries[entry.date.isoformat()] += 1
            if context.days and entry.date == context.days[-1]:
                last.append((entry, name))
    last.sort(key=lambda item: item[0].source)
    final = max((e for p in library.papers for e in p.entries),
                key=lambda e: (e.date, e.source), default=None)
    names = names_taken(context)
    return LibrarySnapshot(
        fingerprint=fingerprint_digest(fingerprint), cited=cited,
        tags=sorted([tag, hub, tag_papers[tag]] for tag, hub in context.tag_names.items()),
        days=[[day.isoformat(), day_entries[day.isoformat()]] for day in context.days],
        last_day=[[name, e.title, e.source.path, e.source.line] for e, name in last],
        last_entry=[final.date.isoformat(), final.source.path, final.source.line]
        if final else [],
        papers=papers, names=Joined(count=len(names), make=lambda: names),
        files=Joined(count=len(written), make=lambda: written), entries=entries,
        unresolved=len(library.unresolved), links=links, folders=folders,
        root_files=root_files)


def cites_of(paper: Paper) -> list[str]:
    """The arXiv ids a paper's entries cite, first cited first."""
    return list(dict.fromkeys(i for e in paper.entries for i in e.cites))


# What each column holds of a paper and its note's name (``PATH`` is the vault's to say: a
# new paper's note is at papers/NAME.md).
_FIELDS: tuple[Callable[[Paper, str], str], ...] = (
    lambda paper, name: name,
    lambda paper, name: "",
    lambda paper, name: paper.arxiv_id or "",
    lambda paper, name: max(e.date for e in paper.entries).isoformat(),
    lambda paper, name: " ".join(properties_tags(paper)),
    lambda paper, name: " ".join(cites_of(paper)),
    lambda paper, name: "[" + ", ".join(f"[{encode_basestring(e.source.path)}, {e.source.line}]"
                                        for e in paper.entries) + "]",  # as json.dumps, faster
    lambda paper, name: "\t".join(dict.fromkeys(title_key(e.title) for e in paper.entries)),
)


def paper_row(paper: Paper, name: str) -> list[str]:
    """The fields of a paper whose note is papers/NAME.md, by column (``NAME`` …)."""
    return [field(paper, name) for field in _FIELDS]


def split_words(value: str) -> list[str]:
    """The words of a value joined by spaces: the tags of a ``TAGS`` value, the ids of a
    ``CITES`` one."""
    return value.split(" ") if value else []


def lines_with_words(text: str, words: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(index, value) of each value of a column's text (``Joined.text``: values joined by
    newlines) that holds one of ``words`` as one of its words (``split_words``): found by
    searching the whole text for each word (``str.find``, which skips ahead through text
    that cannot hold it), not by splitting it into tens of thousands of values. The words
    hold no space or newline (tags, arXiv ids)."""
    found: list[int] = []  # where a word stands whole
    for word in set(words):
        start = text.find(word) if word else -1
        while start >= 0:
            end = start + len(word)
            if (start == 0 or text[start - 1] in " \n") and \
                    (end == len(text) or text[end] in " \n"):
                found.append(start)
            start = text.find(word, end)
    index, at, end = 0, 0, -1  # the value at ``index`` starts at ``at``, ends at ``end``
    for start in sorted(found):
        if start <= end:
            continue  # in the value given already
        index += text.count("\n", at, start)
        at = text.rfind("\n", 0, start) + 1
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield index, text[at:end]


def split_sources(value: str) -> list[tuple[str, int]]:
    """(post, line) of each entry of a ``SOURCES`` value."""
    return [(post, line) for post, line in json.loads(value)]


def has_title_key(keys: str, key: str) -> bool:
    """Whether the text of a ``TITLE_KEYS`` column of one paper or more (``Joined.text``)
    holds ``key`` as one of its keys (a key is bounded by tabs, newlines or the text's ends)."""
    if not key:  # nothing to look for: two bounds side by side
        return not keys or keys[0] in "\t\n" or keys[-1] in "\t\n" or \
            any(pair in keys for pair in ("\n\n", "\t\t", "\n\t", "\t\n"))
    start = keys.find(key)
    while start >= 0:
        end = start + len(key)
        if (start == 0 or keys[start - 1] in "\t\n") and \
                (end == len(keys) or keys[end] in "\t\n"):
            return True
        start = keys.find(key, start + 1)
    return False


def folders_of(vault: Path, written: Iterable[str], before: LibrarySnapshot | None = None,
               ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The modification times of the folders holding generated files, and the size and
    modification time of those at the root (whose folder the user's own notes share).
    ``before``: the snapshot of the build that wrote the other files the manifest records
    (an increment adds files, never removes one), whose folders and root files are stated
    again; ``written``: the files written since."""
    root = os.path.join(vault, "")
    folders = {folder: os.stat(root + folder).st_mtime_ns for folder in before.folders} \
        if before else {}
    root_files: dict[str, list[int]] = {}
    for path in [*before.root_files, *written] if before else written:
        folder, _, _ = path.rpartition("/")
        if not folder:
            stat = os.stat(root + path)
            root_files[path] = [stat.st_size, stat.st_mtime_ns]
        elif folder not in folders:
            folders[folder] = os.stat(root + folder).st_mtime_ns
    return folders, root_files


_OWN_LINES = ("names", "files", "papers")  # fields with lines of their own, in this order
_FIRST_COLUMN_LINE = 3  # after the head's line, the names' and the files'


def save_snapshot(vault: Path, snapshot: LibrarySnapshot) -> None:
    """Write the snapshot: its head, its names', its files', then a line a column."""
    def lines() -> Iterable[bytes]:
        head: dict[str, object] = {"version": _VERSION}
        head.update((f.name, getattr(snapshot, f.name)) for f in dataclasses.fields(snapshot)
                    if f.name not in _OWN_LINES)
        head.update(papers=snapshot.paper_count(), names=len(snapshot.names),
                    files=len(snapshot.files))
        yield json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for joined in (snapshot.names, snapshot.files, *snapshot.papers):
            yield b"\n"
            yield joined.json()
        yield b"\n"

    atomic_write(vault / SNAPSHOT, lines())


def load_snapshot(vault: Path) -> LibrarySnapshot | None:
    """The snapshot the last build saved, if its first line can be read (its columns are
    read when asked for: ``SnapshotDamaged`` then)."""
    try:
        lines = (vault / SNAPSHOT).read_bytes().split(b"\n")
        if len(lines) != _FIRST_COLUMN_LINE + FIELDS + 1 or lines[-1]:  # (a last newline)
            return None
        head = json.loads(lines[0])
        if not isinstance(head, dict) or head.pop("version", None) != _VERSION:
            return None
        papers, names, files = head.pop("papers"), head.pop("names"), head.pop("files")
        if not all(isinstance(count, int) for count in (papers, names, files)):
            return None
        return LibrarySnapshot(**head, names=Joined(lines[1], names),
                               files=Joined(lines[2], files),
                               papers=[Joined(line, papers)
                                       for line in lines[_FIRST_COLUMN_LINE:-1]])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def forget_snapshot(vault: Path) -> None:
    """Remove the snapshot: a build that changes the vault without saving a new one leaves
    none behind (the next build then takes the full way)."""
    (vault / SNAPSHOT).unlink(missing_ok=True)

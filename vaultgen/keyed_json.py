"""JSON documents of keyed entries, one entry a line: the manifest and the arXiv cache.

Such a document is plain JSON (any JSON reader reads it, and a reader here reads any JSON
layout of it through ``json``), laid out so that vaultgen can read it a line at a time —
without holding the whole text, three times faster than one ``json.loads`` of tens of
megabytes — and write back the text of entries it did not change::

    {"version": 1, "generator": "vaultgen",
    "files": {
     "a key": {"an": "entry"},
     "another key": {"an": "entry"}
    },
    "other section": {
    }}
"""

from __future__ import annotations

import json
import mmap
import os
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring  # json.dumps of a str, in C
from pathlib import Path
from typing import Any

# (section, entry as read from JSON, its JSON text or "" when read from another layout) → entry
Convert = Callable[[str, object, str], object]
# (section, key) → whether to read that entry (the others are skipped, their JSON not decoded)
Select = Callable[[str, str], bool]

_DECODER = json.JSONDecoder()


class NotKeyedLines(ValueError):
    """The text is not laid out one entry a line (it may still be JSON)."""


def keyed_lines(head: Mapping[str, object],
                sections: Mapping[str, Iterable[tuple[str, str]]]) -> Iterable[str]:
    """The document's lines (each ending in a newline): ``head`` fields first, then each
    section's (key, entry as JSON text) pairs in the order given."""
    return _framed(head, {name: (_entry_line(key, text) for key, text in pairs)
                          for name, pairs in sections.items()})


def _framed(head: Mapping[str, object], sections: Mapping[str, Iterable[str]]) -> Iterator[str]:
    """The lines of a document whose sections hold the given entry lines (``_entry_line``)."""
    head_text = json.dumps(dict(head), ensure_ascii=False)
    if not sections:
        yield head_text + "\n"
        return
    yield (head_text[:-1] + ",\n") if head else "{\n"
    names = list(sections)
    for position, name in enumerate(names):
        yield f"{encode_basestring(name)}: {{\n"
        previous: str | None = None
        for line in sections[name]:
            if previous is not None:
                yield previous + ",\n"
            previous = line
        if previous is not None:
            yield previous + "\n"
        yield "}}\n" if position == len(names) - 1 else "},\n"


def _entry_line(key: str, text: str) -> str:
    return f" {encode_basestring(key)}: {text}"


def read_keyed_lines(lines: Iterable[str], convert: Convert | None = None,
                     select: Select | None = None,
                     ) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """(head fields, section → key → entry) of a document laid out by ``keyed_lines``, each
    entry passed through ``convert`` (kept as read by default) as it is read; with
    ``select``, only the entries it selects. Raises ``NotKeyedLines`` for any other layout,
    ``ValueError`` for a bad entry."""
    convert = convert or _as_read
    iterator = iter(lines)
    head = _head_of(next(iterator, ""))
    sections: dict[str, dict[str, object]] = {}
    section: dict[str, object] | None = None
    name = ""
    ended = False
    for line in iterator:
        if ended:
            raise NotKeyedLines("text after the end")
        if section is None:
            name = _section_name(line, sections)
            section = sections[name] = {}
        elif line in ("},\n", "}}\n"):
            section, ended = None, line == "}}\n"
        else:
            text = line[:-2] if line.endswith(",\n") else line.removesuffix("\n")
            key, end = _key_of(text)
            if select is not None and not select(name, key):
                continue
            value = text[end + 2:]
            section[key] = convert(name, json.loads(value), value)
    if not ended:
        raise NotKeyedLines("the document does not end")
    return head, sections


def read_keyed_file(path: Path, convert: Convert | None = None, select: Select | None = None,
                    ) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """``read_keyed_lines`` of a file, a line at a time; a file in any other JSON layout (by
    hand, by another tool, by an older vaultgen) is read whole: its object-valued fields are
    the sections. Raises ``OSError``, and ``ValueError``/``TypeError`` for what is not such a
    document (or an entry ``convert`` refuses)."""
    convert = convert or _as_read
    try:
        with path.open(encoding="utf-8") as handle:
            return read_keyed_lines(handle, convert, select)
    except NotKeyedLines:
        pass
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    head = {key: value for key, value in data.items() if not isinstance(value, dict)}
    sections = {name: {key: convert(name, value, "") for key, value in entries.items()
                       if select is None or select(name, key)}
                for name, entries in data.items() if isinstance(entries, dict)}
    return head, sections


def _head_of(first: str) -> dict[str, object]:
    """The head fields of a document's first line."""
    if first == "{\n":
        return {}
    if not (first.startswith("{") and first.endswith(",\n")):
        raise NotKeyedLines("no head line")
    head = _loads(first[:-2] + "}")
    if not isinstance(head, dict):
        raise NotKeyedLines("the head is not an object")
    return head


def _section_name(opening: str, taken: Container[str]) -> str:
    """The name of a section from its opening line, not one of ``taken``."""
    if not opening.endswith(": {\n"):
        raise NotKeyedLines("no section opening")
    name = _loads(opening[:-4])
    if not isinstance(name, str) or name in taken:
        raise NotKeyedLines("a bad section name")
    return name


def _key_of(text: str) -> tuple[str, int]:
    """The key of an entry line, and where it ends (after its closing quote)."""
    end = text.find('": ', 2) + 1
    key = text[2:end - 1]
    if end and text[:2] == ' "' and "\\" not in key:  # a key without escapes: as it is
        return key, end
    try:
        key, end = _DECODER.raw_decode(text, 1)
    except ValueError as err:
        raise NotKeyedLines("no key") from err
    if text[:1] != " " or not isinstance(key, str) or text[end:end + 2] != ": ":
        raise NotKeyedLines("not a keyed entry")
    return key, end


class SortedSection(Mapping[str, bytes]):
    """One section of a document laid out by ``keyed_lines`` with its keys in sorted order
    (as vaultgen writes them), looked up by binary search over the document's bytes: a
    lookup reads a few lines, not the section. Values are entry lines (``raw_value``)."""

    def __init__(self, data: bytes | mmap.mmap, start: int, end: int) -> None:
        self._data, self._start, self._end = data, start, end  # the entry lines' span

    def line(self, key: str) -> bytes | None:
        """The entry line of ``key``, or None."""
        start, end, found = self._locate(key)
        return self._data[start:end].removesuffix(b",") if found else None

    def _locate(self, key: str) -> tuple[int, int, bool]:
        """(start, end, True) of the line of ``key``; else (where it would go, that, False)."""
        data, lo, hi = self._data, self._start, self._end
        while lo < hi:
            middle = (lo + hi) // 2
            start = data.rfind(b"\n", lo, middle) + 1 or lo
            end = data.find(b"\n", start, self._end)
            end = self._end if end < 0 else end
            found = _entry_key(data[start:end].removesuffix(b","))
            if found == key:
                return start, end, True
            if found < key:
                lo = end + 1
            else:
                hi = start
        lo = min(lo, self._end)
        return lo, lo, False

    def document_with(self, lines: Mapping[str, bytes]) -> list[bytes | memoryview]:
        """The whole document read, with the entry line of each key in ``lines`` (``raw_line``)
        put in this section in its sorted place, in place of the key's line if it has one: its
        pieces in order, to be written one after the other (the parts read are views of the
        bytes read, not copies: a manifest of tens of megabytes is not copied twice to change
        a few lines)."""
        data = memoryview(self._data)
        if self._start >= self._end:  # an empty section: the lines are all of it
            body = b",\n".join(lines[key] for key in sorted(lines))
            return [data[:self._start], body + b"\n" if body else b"", data[self._start:]]
        pieces: list[bytes | memoryview] = []
        position = 0
        for key in sorted(lines):
            start, end, found = self._locate(key)
            pieces.append(data[position:start])
            if found:  # a line other than the last ends with a comma (a JSON value never does)
                pieces.append(lines[key] + (b"," if data[end - 1] == ord(",") else b""))
            elif start >= self._end:
                pieces.append(b",\n" + lines[key])  # after the last line
            else:
                pieces.append(lines[key] + b",\n")
            position = end
        pieces.append(data[position:])
        return pieces

    def __getitem__(self, key: str) -> bytes:
        entry = self.line(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.line(key) is not None

    def lines(self) -> Iterator[tuple[str, bytes]]:
        """(key, entry line) of every entry, in order (a pass over the whole section)."""
        if self._start >= self._end:
            return
        for line in self._data[self._start:self._end].split(b"\n"):
            entry = line.removesuffix(b",")
            yield _entry_key(entry), entry

    def __iter__(self) -> Iterator[str]:
        if self._start >= self._end:
            return iter(())
        # Every key in one pass of a regex over the bytes (a manifest of 70,000 lines: about
        # four times faster than line by line); line by line when a key holds an escape.
        keys = self.find_in_lines(_PLAIN_KEY_LINE)
        if len(keys) != len(self):
            return (key for key, _ in self.lines())
        return (key.decode("utf-8") for key in keys)

    def find_in_lines(self, pattern: re.Pattern[bytes]) -> list[Any]:
        """``pattern.findall`` over the section's lines, each preceded by its "\\n" (the first
        line too): one pass of a regex instead of a line at a time."""
        if self._start >= self._end:
            return []
        return pattern.findall(self._data, self._start - 1, self._end)

    def __len__(self) -> int:
        if self._start >= self._end:
            return 0
        if isinstance(self._data, bytes):
            return self._data.count(b"\n", self._start, self._end) + 1
        return self._data[self._start:self._end].count(b"\n") + 1  # (a map has no count)


def read_sorted_sections(path: Path, *, names: Sequence[str] | None = None,
                         mapped: bool = False,
                         ) -> tuple[dict[str, object], dict[str, SortedSection]]:
    """(head fields, section → ``SortedSection``) of a file laid out by ``keyed_lines`` whose
    sections are sorted by key; the file is read once, its entries not at all. Raises
    ``NotKeyedLines`` for another layout (a section out of order is not detected: vaultgen
    writes them sorted), ``OSError``, ``ValueError``.

    ``names``: the sections the file holds, in order, when the caller knows them; their ends
    are then looked for from the end of the file, so the first section's lines are never
    scanned. ``mapped``: the file is mapped into memory instead of read, so that only the
    pages a lookup touches are read. Both are for an arXiv cache: 90 MB at 50,000 papers,
    almost all of it its first section, of which a build adding a day looks up a few lines.
    (Mapped only where a mapped file can still be replaced: not on Windows. vaultgen replaces
    its files whole, never rewrites them in place.) With ``names``, a file holding sections
    between the first and the others named is not told apart: the first takes them in."""
    data = _mapped(path) if mapped and os.name != "nt" else path.read_bytes()
    head_end = data.find(b"\n") + 1
    head = _head_of(data[:head_end].decode("utf-8"))
    if names is None:
        closes = _closes_from_the_start(data, head_end)
    else:  # each section but the last ends with a "},\n" line; no entry line starts with "}"
        closes = [len(data) - 3]
        for _ in names[1:]:
            close = data.rfind(b"\n},\n", head_end - 1, closes[-1])
            if close < 0:
                raise NotKeyedLines("a section does not end")
            closes.append(close + 1)
        closes.reverse()
    if data[len(data) - 3:] != b"}}\n" or closes[-1] != len(data) - 3:
        raise NotKeyedLines("the document does not end")
    sections: dict[str, SortedSection] = {}
    position = head_end
    for close in closes:
        opening_end = data.find(b"\n", position, close + 1) + 1
        name = _section_name(data[position:opening_end].decode("utf-8"), sections)
        if opening_end <= 0 or (names is not None and name != names[len(sections)]):
            raise NotKeyedLines("not the sections expected")
        sections[name] = SortedSection(data, opening_end, max(opening_end, close - 1))
        position = close + 3
    return head, sections


def _closes_from_the_start(data: bytes | mmap.mmap, head_end: int) -> list[int]:
    """Where each section's closing line starts, found from the start of the document."""
    closes: list[int] = []
    position = head_end
    while True:
        opening_end = data.find(b"\n", position) + 1
        close = opening_end if data[opening_end:opening_end + 1] == b"}" else \
            data.find(b"\n}", opening_end) + 1
        if opening_end <= 0 or close <= 0 or data[close:close + 3] not in (b"},\n", b"}}\n"):
            raise NotKeyedLines("a section does not end")
        closes.append(close)
        if data[close:close + 3] == b"}}\n":
            return closes
        position = close + 3


def _mapped(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, mapped read-only (read, when it cannot be mapped: empty, say)."""
    with path.open("rb") as handle:
        try:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return handle.read()


# The key of an entry line that has no escapes in it (a line starts after the "\n" that ends
# the one before: the section's first line too, after its opening line).
_PLAIN_KEY_LINE = re.compile(rb'\n "([^"\\\n]*)": ')


def _entry_key(entry: bytes) -> str:
    end = entry.find(b'": ', 2) + 1
    key = entry[2:end - 1]
    if end and entry[:2] == b' "' and b"\\" not in key:
        return key.decode("utf-8")
    return _key_of(entry.decode("utf-8"))[0]


def raw_value(entry: bytes) -> str:
    """The JSON text of the value of an entry line (as ``SortedSection`` gives it)."""
    text = entry.decode("utf-8")
    return text[_key_of(text)[1] + 2:]


def raw_line(key: str, text: str) -> bytes:
    """The entry line of ``key`` and its value's JSON ``text``, as ``keyed_lines`` lays it."""
    return _entry_line(key, text).encode()


def raw_document(head: Mapping[str, object], sections: Mapping[str, Iterable[bytes]]) -> bytes:
    """The document of ``keyed_lines`` from entry lines (``raw_line``, or as read), in the
    order given: the same bytes ``keyed_lines`` gives for the same entries."""
    return "".join(_framed(head, {name: (line.decode() for line in lines)
                                  for name, lines in sections.items()})).encode()


def read_keyed_entries(path: Path, section: str, keys: Container[str]) -> dict[str, object]:
    """The entries of ``keys`` in one section of a file, as read from JSON; the other lines
    are passed over without being decoded."""
    _, sections = read_keyed_file(path, select=lambda name, key: name == section and key in keys)
    return sections.get(section, {})


def _as_read(_section: str, value: object, _text: str) -> object:
    return value


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as err:
        raise NotKeyedLines(str(err)) from err

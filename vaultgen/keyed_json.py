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
from collections.abc import Callable, Container, Iterable, Mapping
from pathlib import Path

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
    head_text = json.dumps(dict(head), ensure_ascii=False)
    if not sections:
        yield head_text + "\n"
        return
    yield (head_text[:-1] + ",\n") if head else "{\n"
    names = list(sections)
    for position, name in enumerate(names):
        yield f"{json.dumps(name, ensure_ascii=False)}: {{\n"
        previous: str | None = None
        for key, text in sections[name]:
            if previous is not None:
                yield previous + ",\n"
            previous = f" {json.dumps(key, ensure_ascii=False)}: {text}"
        if previous is not None:
            yield previous + "\n"
        yield "}}\n" if position == len(names) - 1 else "},\n"


def read_keyed_lines(lines: Iterable[str], convert: Convert | None = None,
                     select: Select | None = None, *, decode: bool = True,
                     ) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """(head fields, section → key → entry) of a document laid out by ``keyed_lines``, each
    entry passed through ``convert`` (kept as read by default) as it is read; with
    ``select``, only the entries it selects; without ``decode``, each entry is its JSON text
    (not decoded, not converted). Raises ``NotKeyedLines`` for any other layout,
    ``ValueError`` for a bad entry."""
    convert = convert or _as_read
    iterator = iter(lines)
    first = next(iterator, "")
    if first == "{\n":
        head: object = {}
    elif first.startswith("{") and first.endswith(",\n"):
        head = _loads(first[:-2] + "}")
    else:
        raise NotKeyedLines("no head line")
    if not isinstance(head, dict):
        raise NotKeyedLines("the head is not an object")
    sections: dict[str, dict[str, object]] = {}
    section: dict[str, object] | None = None
    name = ""
    ended = False
    for line in iterator:
        if ended:
            raise NotKeyedLines("text after the end")
        if section is None:
            if not line.endswith(": {\n"):
                raise NotKeyedLines("no section opening")
            opened = _loads(line[:-4])
            if not isinstance(opened, str) or opened in sections:
                raise NotKeyedLines("a bad section name")
            name, section = opened, {}
            sections[name] = section
        elif line in ("},\n", "}}\n"):
            section, ended = None, line == "}}\n"
        else:
            text = line[:-2] if line.endswith(",\n") else line.removesuffix("\n")
            try:
                key, end = _DECODER.raw_decode(text, 1)
            except ValueError as err:
                raise NotKeyedLines("no key") from err
            if text[:1] != " " or not isinstance(key, str) or text[end:end + 2] != ": ":
                raise NotKeyedLines("not a keyed entry")
            if select is not None and not select(name, key):
                continue
            value = text[end + 2:]
            section[key] = convert(name, json.loads(value), value) if decode else value
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


def read_keyed_texts(path: Path) -> tuple[dict[str, object], dict[str, dict[str, str]]]:
    """(head fields, section → key → the entry's JSON text) of a file laid out one entry a
    line, read without decoding a single entry (for a reader that looks at a few of tens of
    thousands). Raises ``NotKeyedLines`` for another layout, ``OSError``, ``ValueError``."""
    with path.open(encoding="utf-8") as handle:
        return read_keyed_lines(handle, decode=False)  # type: ignore[return-value]


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

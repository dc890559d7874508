"""The one-entry-a-line JSON layout of the manifest and the arXiv cache."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.arxiv_client import ArxivCache
from vaultgen.keyed_json import (
    NotKeyedLines,
    keyed_lines,
    raw_document,
    raw_line,
    raw_value,
    read_keyed_lines,
    read_sorted_sections,
)
from vaultgen.model import ArxivRecord, text_digest

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)
_SECTIONS = st.dictionaries(st.text(), st.dictionaries(st.text(), _VALUES, max_size=5),
                            min_size=1, max_size=3)
_HEAD = st.dictionaries(st.text(), st.integers() | st.text(), max_size=2)


@given(_HEAD, _SECTIONS)
@settings(max_examples=300, deadline=None)
def test_keyed_lines_are_json_and_read_back(head: dict, sections: dict) -> None:
    text = "".join(keyed_lines(head, {name: ((k, json.dumps(v, ensure_ascii=False))
                                             for k, v in entries.items())
                                      for name, entries in sections.items()}))
    assert json.loads(text) == {**head, **sections} or set(head) & set(sections)
    read_head, read_sections = read_keyed_lines(io.StringIO(text, newline="\n"))
    assert read_head == head and read_sections == sections
    with tempfile.TemporaryDirectory() as folder:  # read as raw lines, and written back
        path = Path(folder) / "document.json"
        path.write_bytes(text.encode("utf-8"))
        raw_head, raw = read_sorted_sections(path)
    lines = {name: dict(section.lines()) for name, section in raw.items()}
    assert raw_head == head
    assert {name: {k: json.loads(raw_value(line)) for k, line in entries.items()}
            for name, entries in lines.items()} == sections
    assert raw_document(head, {name: list(entries.values()) for name, entries in lines.items()}) \
        == text.encode("utf-8")
    assert raw_document(head, {name: [raw_line(k, json.dumps(v, ensure_ascii=False))
                                      for k, v in entries.items()]
                               for name, entries in sections.items()}) == text.encode("utf-8")


@pytest.mark.parametrize("text", [
    '{"version": 1, "files": {"a": 1}}\n',  # one line
    json.dumps({"version": 1, "files": {"a": {"b": 1}}}, indent=1) + "\n",
    '{"version": 1,\n"files": {\n "a": 1,\n',  # cut short
    "",
])
def test_other_layouts_are_told_apart(text: str, tmp_path: Path) -> None:
    with pytest.raises(NotKeyedLines):
        read_keyed_lines(io.StringIO(text, newline="\n"))
    (tmp_path / "document.json").write_text(text, encoding="utf-8")
    with pytest.raises(NotKeyedLines):
        read_sorted_sections(tmp_path / "document.json")
    with pytest.raises(NotKeyedLines):
        read_sorted_sections(tmp_path / "document.json", names=["files"], mapped=True)


def test_the_arxiv_cache_reads_the_old_layout_and_writes_the_new(tmp_path: Path) -> None:
    path = tmp_path / "arxiv-cache.json"
    record = {"id": "2401.00001", "title": "A title", "authors": ["Ann Lee"], "summary": "S.",
              "published": "2024-01-01", "updated": "2024-01-02", "primary_category": "cs.LG",
              "categories": ["cs.LG", "cs.AI"], "version": 2}
    old = {"version": 1, "records": {"2401.00001": record},
           "titles": {"a title": {"asked": "2024-02-01", "ids": ["2401.00001"]}},
           "missing": {"2401.99999": "2024-02-01"}}
    path.write_text(json.dumps(old, indent=1) + "\n", encoding="utf-8")
    cache = ArxivCache.load(path)
    read = cache.record("2401.00001")
    assert read == ArxivRecord(  # held without its summary, which is read when a note needs it
        "2401.00001", "A title", ("Ann Lee",), "", "2024-01-01", "2024-01-02", "cs.LG",
        ("cs.LG", "cs.AI"), 2)
    assert read is not None and read.summary_digest == text_digest("S.")
    assert cache.summaries(["2401.00001", "2401.99999"]) == {"2401.00001": "S."}
    assert cache.titles == old["titles"] and cache.missing == old["missing"]
    cache.save()
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == old  # the same answers, summaries too, now one a line
    assert len(text.splitlines()) == 10  # a head line, then each section: open, one, close
    again = ArxivCache.load(path)
    assert again.records == {"2401.00001": read} and again.titles == cache.titles
    assert again.summaries(["2401.00001"]) == {"2401.00001": "S."}
    path.write_text("not json", encoding="utf-8")
    assert ArxivCache.load(path).records == {}  # unreadable: a new cache, not a crash


@given(st.dictionaries(st.text(), st.text() | st.lists(st.text(), max_size=2), max_size=6),
       st.dictionaries(st.text(), st.text(), max_size=4), st.sets(st.text(), max_size=3))
@settings(max_examples=200, deadline=None)
def test_answers_read_lazily_are_saved_as_a_full_read_saves_them(
        titles: dict, changes: dict, removed: set) -> None:  # type: ignore[type-arg]
    """The arXiv cache read lazily (``AnswersAsRead``), changed and saved, is the file the
    cache read whole would save after the same changes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.json"
        ArxivCache(path, {}, {k: {"asked": "2025-01-01", "ids": v} for k, v in
                              titles.items()}).save()
        whole, lazy = ArxivCache.load(path), ArxivCache.load(path)
        assert lazy.read_lazily()
        for cache in (whole, lazy):
            for key, day in changes.items():
                cache.titles[key] = {"asked": day, "ids": []}
            for key in removed:
                cache.titles.pop(key, None)
        assert sorted(lazy.titles) == sorted(whole.titles)
        assert all(lazy.titles[k] == whole.titles[k] for k in whole.titles)
        whole.save()
        expected = path.read_text("utf-8")
        lazy.save()
        assert path.read_text("utf-8") == expected
        assert sorted(lazy.negative_days()) == sorted(
            day for key, day in changes.items() if key not in removed)


@given(_HEAD, st.dictionaries(st.text(), st.dictionaries(st.text(), _VALUES, max_size=12),
                              min_size=1, max_size=3),
       st.lists(st.text(), max_size=5))
@settings(max_examples=300, deadline=None)
def test_sorted_sections_find_what_a_full_read_finds(head: dict, sections: dict,  # type: ignore[type-arg]
                                                     others: list) -> None:  # type: ignore[type-arg]
    """A binary search over a sorted document's bytes finds every entry a full read does,
    and no other."""
    text = "".join(keyed_lines(head, {name: [(k, json.dumps(entries[k], ensure_ascii=False))
                                             for k in sorted(entries)]
                                      for name, entries in sections.items()}))
    names = tuple(sections)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.json"
        path.write_bytes(text.encode("utf-8"))
        # the sections found from the start; from the end (names known); the file mapped
        for way in ({}, {"names": names}, {"names": names, "mapped": True}):
            read_head, found = read_sorted_sections(path, **way)  # type: ignore[arg-type]
            assert read_head == head and list(found) == list(names)
            for name, entries in sections.items():
                section = found[name]
                assert len(section) == len(entries) and list(section) == sorted(entries)
                for key, value in entries.items():
                    line = section.line(key)
                    assert line is not None and json.loads(raw_value(line)) == value
                assert all(section.line(key) is None for key in others if key not in entries)
            if len(names) > 1:  # other sections than the file holds: not read as those
                with pytest.raises(NotKeyedLines):
                    read_sorted_sections(path, names=names[::-1], mapped="mapped" in way)
                with pytest.raises(NotKeyedLines):
                    read_sorted_sections(path, names=names[1:])


@given(st.dictionaries(st.text(), st.dictionaries(st.text(), _VALUES, max_size=8),
                       min_size=1, max_size=3),
       st.dictionaries(st.text(), _VALUES, max_size=5), st.integers(0, 2))
@settings(max_examples=300, deadline=None)
def test_lines_put_in_a_sorted_section_make_the_document_a_full_write_makes(
        sections: dict, changes: dict, which: int) -> None:  # type: ignore[type-arg]
    """Entry lines replaced or added in place give the bytes of the whole document written
    anew with them."""
    def document(of: dict) -> bytes:  # type: ignore[type-arg]
        return raw_document({"version": 1}, {
            name: [raw_line(k, json.dumps(entries[k], ensure_ascii=False))
                   for k in sorted(entries)] for name, entries in of.items()})

    name = sorted(sections)[which % len(sections)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.json"
        path.write_bytes(document(sections))
        _, found = read_sorted_sections(path)
    changed = b"".join(found[name].document_with(
        {k: raw_line(k, json.dumps(v, ensure_ascii=False)) for k, v in changes.items()}))
    assert changed == document({**sections, name: {**sections[name], **changes}})

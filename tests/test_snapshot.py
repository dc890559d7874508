"""The library snapshot (``vaultgen.snapshot``): columns of strings joined by newlines, read
back as written, appended to without being encoded again; a damaged one sends the next build
the full way."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultgen.model import Entry, Paper, SourceRef
from vaultgen.snapshot import (
    FIELDS,
    NAME,
    SNAPSHOT,
    SOURCES,
    TITLE_KEYS,
    Joined,
    SnapshotDamaged,
    folders_of,
    has_title_key,
    lines_with_words,
    load_snapshot,
    paper_row,
    split_sources,
    split_words,
)

from .test_increment import build, build_both, manifest_of, post_text
from .test_incremental import write_post

# Values as a column may hold them: any text without a newline, the empty one too, quotes,
# backslashes and non-ASCII included (JSON escapes them).
VALUE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
                max_size=12)


@given(st.lists(VALUE, max_size=6), st.lists(VALUE, max_size=6), st.lists(VALUE, max_size=6))
def test_a_column_reads_back_what_was_written_and_appended(
        first: list[str], second: list[str], third: list[str]) -> None:
    written = Joined(count=len(first), make=lambda: first)
    read = Joined(written.json(), len(first))
    assert read.values() == first
    read.added = list(second)  # a new day's papers
    again = Joined(read.json(), len(first) + len(second))
    assert again.values() == first + second
    again.added = list(third)  # and the next day's
    assert Joined(again.json(), len(again)).values() == first + second + third


def test_a_column_of_another_length_than_its_count_is_damaged() -> None:
    with pytest.raises(SnapshotDamaged):
        Joined(b'"a\\nb"', 3).values()
    with pytest.raises(SnapshotDamaged):
        Joined(b'["a"]', 1).values()


KEY = st.text(st.sampled_from("ab 1é"), max_size=4).map(lambda k: " ".join(k.split()))


@given(st.lists(st.lists(KEY, min_size=1, max_size=3), min_size=1, max_size=5), KEY)
def test_a_title_key_is_found_as_one_of_the_papers_keys(papers: list[list[str]],
                                                       key: str) -> None:
    text = "\n".join("\t".join(keys) for keys in papers)
    assert has_title_key(text, key) == (key in {k for keys in papers for k in keys})


WORD = st.sampled_from(["rl", "rl-x", "llm", "a/b", "x.y", "xay", "é"])


@given(st.lists(st.lists(WORD, max_size=3).map(" ".join), min_size=1, max_size=6),
       st.sets(WORD, max_size=3))
def test_the_values_holding_words_are_found_by_one_search(values: list[str],
                                                          words: set[str]) -> None:
    column = Joined(Joined(count=len(values), make=lambda: values).json(), len(values))
    found = list(lines_with_words(column.counted_text(), words))
    assert found == [(index, value) for index, value in enumerate(values)
                     if set(split_words(value)) & words]


def test_a_word_is_found_only_whole() -> None:
    text = "\n".join(["rl-x", "xrl", "llm rl", "", "rl", "x rl-x rl"])
    assert list(lines_with_words(text, {"rl"})) == [(2, "llm rl"), (4, "rl"), (5, "x rl-x rl")]
    assert list(lines_with_words(text, {"rl-x", "llm"})) == [(0, "rl-x"), (2, "llm rl"),
                                                              (5, "x rl-x rl")]
    assert list(lines_with_words(text, set())) == []


def test_a_column_searched_whole_must_hold_its_count_of_values() -> None:
    assert Joined(b'"a b\\nc"', 2).counted_text() == "a b\nc"
    assert Joined(b'""', 0).counted_text() == "" == Joined(b'""', 1).counted_text()
    for text, count in ((b'"a\\nb"', 3), (b'"a"', 0), (b'"a"', 2)):
        with pytest.raises(SnapshotDamaged):
            Joined(text, count).counted_text()


def test_a_new_day_appends_its_papers_to_the_columns_read(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], ["llm"]),
                                                       (7, "", [], [])]))
    build(posts, vault)
    before = (vault / SNAPSHOT).read_bytes().split(b"\n")
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [0], ["llm"])]))
    assert build_both(posts, vault, tmp_path / "full").incremental
    after = (vault / SNAPSHOT).read_bytes().split(b"\n")
    for old, new in zip(before[1:-1], after[1:-1], strict=True):  # names, files, columns
        assert new.startswith(old[:-1])  # as read, the closing quote aside
    snapshot = load_snapshot(vault)
    assert snapshot is not None and len(snapshot.papers) == FIELDS
    assert snapshot.papers[NAME].values() == ["Alpha", "Iota", "Beta"]
    assert snapshot.papers[TITLE_KEYS].values()[-1] == "beta second paper"


FILES_LINE, FIRST_COLUMN_LINE = 2, 3  # the file's lines: head, names, files, columns


@pytest.mark.parametrize("line", [FILES_LINE, FIRST_COLUMN_LINE + NAME])
def test_a_damaged_column_sends_the_build_the_full_way(tmp_path: Path, line: int) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], ["llm"])]))
    build(posts, vault)
    lines = (vault / SNAPSHOT).read_bytes().split(b"\n")
    lines[line] = lines[line][:-1] + b'\\nOmega"'  # one value too many
    (vault / SNAPSHOT).write_bytes(b"\n".join(lines))
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [0], ["llm"])]))
    result = build(posts, vault)
    assert not result.incremental and result.counts.papers == 2
    snapshot = load_snapshot(vault)
    assert snapshot is not None and snapshot.papers[NAME].values() == ["Alpha", "Beta"]


def test_an_increment_records_the_folders_it_adds_files_to(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], ["llm"])]))
    build(posts, vault)
    assert not (vault / "cited").exists()
    # 2501.00005 is a paper only cited: its note opens the folder cited/
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [0, 5], ["llm"])]))
    assert build_both(posts, vault, tmp_path / "full").incremental
    snapshot = load_snapshot(vault)
    assert snapshot is not None and "cited" in snapshot.folders
    assert (snapshot.folders, snapshot.root_files) == folders_of(vault, manifest_of(vault))


@given(st.lists(st.tuples(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
                                  max_size=10), st.integers(1, 10**6)), min_size=1, max_size=3))
def test_a_papers_sources_are_the_json_of_its_entries_places(
        places: list[tuple[str, int]]) -> None:
    paper = Paper(tuple(Entry(dt.date(2025, 5, 1), "T", (), "", None, None, (), (),
                              SourceRef(post, line)) for post, line in places))
    value = paper_row(paper, "T")[SOURCES]
    assert value == json.dumps([list(place) for place in places], ensure_ascii=False)
    assert split_sources(value) == places

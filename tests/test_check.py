"""`vaultgen check`: links resolved as Obsidian does, and every finding."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaultgen.check.links import (
    LinkChecker,
    Resolver,
    check_files,
    check_vault,
    link_targets,
    parse_note,
)


def kinds(report) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted((f.kind, f.path) for f in report.findings)


def broken(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.message for f in report.findings if f.kind == "broken"]


@pytest.mark.parametrize("link", [
    "[[B]]", "[[B.md]]", "[[dir/B]]", "[[B#Heading]]", "[[B#^blk]]", "[[B|shown]]",
    "| [[B\\|shown]] |", "![[B]]", "[text](dir/B.md)", "[text](B%20.md)".replace("%20", ""),
    "[[b]]", "[[DIR/b]]",
])
def test_every_link_form_resolves(link: str) -> None:
    report = check_files({"A.md": f"{link}\n", "dir/B.md": "# Heading\n\ntext ^blk\n"})
    assert broken(report) == [] and not [f for f in report.findings if f.kind == "heading"]
    assert report.graph.has_edge("A.md", "dir/B.md")


def test_links_in_properties_resolve_and_are_checked() -> None:
    report = check_files({"A.md": '---\nrelated: "[[B]]"\nmore: ["[[Gone]]"]\n---\nbody\n',
                          "B.md": "x\n"})
    assert report.graph.has_edge("A.md", "B.md")
    assert broken(report) == ["broken link [[Gone]]"]


def test_nothing_in_code_or_comments_counts() -> None:
    text = "```\n[[Gone1]]\n```\n`[[Gone2]]` %% [[Gone3]] %%\n%%\n[[Gone4]]\n%%\n[[B]]\n"
    links = parse_note("A.md", text).links
    assert [link.target for link in links] == ["B"]


@pytest.mark.parametrize("text", [
    "\\[paper\\](Gone1.md)", "\\[paper](Gone2.md)", "\\\\\\[a\\](Gone3.md)",
    "\\[\\[Gone4\\]\\]", "\\`a [[B]] \\`", "x \\\\\\` [[B]] \\` y",
])
def test_escaped_brackets_and_backquotes_make_no_link_and_no_code(text: str) -> None:
    """A backslash-escaped "[" opens no link and an escaped backquote no code span, as in
    Obsidian's reading view: escaped post text in a note is read as the text it shows."""
    links = parse_note("A.md", f"{text}\n").links
    assert [(link.target, link.form) for link in links] == ([("B", "wiki")] if "B" in text
                                                            else [])
    assert link_targets("A.md", f"{text}\n") == [link.target for link in links]


def test_an_escaped_bang_makes_no_embed() -> None:
    [link] = parse_note("A.md", "\\![[B]]\n").links
    assert link.form == "wiki"
    [link] = parse_note("A.md", "\\\\![[B]]\n").links
    assert link.form == "embed"


def test_broken_link_has_file_line_and_a_hint() -> None:
    report = check_files({"A.md": "x\n\nsee [[Attention Is All You Ned]]\n",
                          "Attention Is All You Need.md": "[[A]]\n"})
    [finding] = [f for f in report.findings if f.kind == "broken"]
    assert (finding.path, finding.line) == ("A.md", 3)
    assert finding.hint == "did you mean [[Attention Is All You Need]]?"
    assert str(finding).startswith("A.md:3: error: broken link")


def test_missing_heading_and_block() -> None:
    report = check_files({"A.md": "[[B#Nope]] [[B#^nope]]\n", "B.md": "# Yes\n"})
    assert [f.kind for f in report.findings if f.kind in ("block", "heading")] == \
        ["block", "heading"]


@pytest.mark.parametrize("order", ["linking note first", "linked note first"])
def test_headings_and_blocks_are_checked_whichever_note_is_read_first(order: str) -> None:
    notes = {"A.md": "[[B#Yes]] [[B#Nope]] [[B#^blk]] [[B#^gone]] [[#Own]] [[#Not own]]\n"
                     "# Own\n[[pic.png#Page]]\n",
             "B.md": "# Yes\ntext ^blk\n[[A]]\n"}
    if order == "linked note first":
        notes = dict(reversed(notes.items()))
    report = check_files(notes, [*notes, "pic.png"])
    assert sorted((f.kind, f.line, f.message) for f in report.findings) == [
        ("block", 1, "[[B#^gone]]: no block ^gone in B.md"),
        ("heading", 1, "[[#Not own]]: no heading 'Not own' in A.md"),
        ("heading", 1, "[[B#Nope]]: no heading 'Nope' in B.md"),
    ]  # an attachment's "headings" are not looked into


def test_a_vault_is_read_and_parsed_one_note_at_a_time(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.check.links as check

    for name in ("A", "B", "C"):
        (tmp_path / f"{name}.md").write_text(f"[[{'B' if name == 'A' else 'A'}]]\n",
                                            encoding="utf-8")
    steps: list[str] = []
    read, parse = check.read_note_text, check.parse_any
    monkeypatch.setattr(check, "read_note_text",
                        lambda location: steps.append("read") or read(location))
    monkeypatch.setattr(check, "parse_any",
                        lambda path, text: steps.append("parse") or parse(path, text))
    report = check_vault(tmp_path)
    assert steps == ["read", "parse"] * 3  # no text waits for the others
    assert sorted(report.graph.edges) == [("A.md", "B.md"), ("B.md", "A.md"), ("C.md", "A.md")]


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32",
                    reason="a dangling symbolic link")
def test_a_note_that_cannot_be_read_is_an_error_and_the_rest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "A.md").write_text("[[B]] [[C]]\n", encoding="utf-8")
    (tmp_path / "C.md").write_text("[[A]]\n", encoding="utf-8")
    os.symlink(tmp_path / "gone", tmp_path / "B.md")  # Obsidian lists it; nothing can read it
    report = check_vault(tmp_path)
    assert [(f.kind, f.path, f.severity) for f in report.errors] == [
        ("unreadable", "B.md", "error")]
    assert "No such file" in report.errors[0].message
    assert sorted(report.graph.edges) == [("A.md", "B.md"), ("A.md", "C.md"), ("C.md", "A.md")]


def test_same_name_in_two_folders() -> None:
    files = {"a/Note.md": "[[Note]]\n", "b/Note.md": "x\n", "c/Other.md": "[[Note]]\n",
             "d/e/Note.md": "x\n"}
    report = check_files(files)
    # from a/: its own folder wins; from c/: the shortest path is ambiguous (a/ and b/)
    assert report.graph.has_edge("a/Note.md", "a/Note.md") is False
    assert [f.path for f in report.findings if f.kind == "ambiguous"] == ["c/Other.md"]
    one = check_files({"x/Note.md": "x\n", "y/z/Note.md": "x\n", "Other.md": "[[Note]]\n"})
    assert one.graph.has_edge("Other.md", "x/Note.md")


def test_names_differing_only_in_case_resolve_like_obsidian() -> None:
    report = check_files({"A.md": "[[attention]]\n", "Attention.md": "[[a]]\n"})
    assert report.errors == []
    assert report.graph.has_edge("A.md", "Attention.md")


def test_nfc_and_nfd_names_are_one_name() -> None:
    nfd = unicodedata.normalize("NFD", "Über Café")
    report = check_files({"A.md": f"[[{nfd}]]\n", "Über Café.md": "[[A]]\n"})
    assert report.errors == []


def test_aliases_are_not_link_targets() -> None:
    report = check_files({"A.md": "[[Alias]]\n", "B.md": "---\naliases: [Alias]\n---\n[[A]]\n"})
    assert broken(report) == ["broken link [[Alias]]"]


def test_invalid_frontmatter_is_reported_not_fatal() -> None:
    report = check_files({"A.md": "---\ntitle: [unclosed\n---\n[[B]]\n", "B.md": "[[A]]\n"})
    assert [f.kind for f in report.findings] == ["frontmatter"]
    assert report.graph.has_edge("A.md", "B.md")


def test_orphans_isolated_duplicates_and_empty_hubs() -> None:
    files = {
        "Index.md": "---\ntype: index\n---\n[[P1]] [[Day]]\n",
        "P1.md": "---\ntype: paper\narxiv: '2401.00001'\n---\n[[P2]]\n",
        "P2.md": "---\ntype: paper\narxiv: '2401.00001'\n---\nx\n",
        "Alone.md": "nothing\n",
        "Orphan.md": "[[P1]]\n",
        "Day.md": "---\ntype: day\n---\n[[Index]]\n",
    }
    report = check_files(files)
    assert kinds(report) == [
        ("backlink", "P2.md"), ("duplicate", "P1.md"), ("duplicate", "P2.md"),
        ("empty-hub", "Day.md"), ("isolated", "Alone.md"), ("orphan", "Orphan.md")]
    assert {f.severity for f in report.findings if f.kind in ("orphan", "isolated")} == \
        {"warning"}
    strict = check_files(files, strict=True)
    assert {f.severity for f in strict.findings if f.kind == "orphan"} == {"error"}


def test_cited_by_lists_are_checked_against_who_cites() -> None:
    files = {
        "A.md": "---\ntype: paper\n---\n## Commentary\n\nsee [[C]]\n",
        "B.md": "---\ntype: paper\n---\n## Commentary\n\nnothing\n",
        "C.md": "---\ntype: cited\n---\n## Cited by\n\n- [[B]]\n",
    }
    messages = sorted(f.message for f in check_files(files).findings if f.kind == "backlink")
    assert messages == ["'Cited by' does not list A.md, which cites it",
                        "'Cited by' lists B.md, which does not cite it"]


def test_a_related_list_is_no_citation() -> None:
    files = {
        "A.md": "---\ntype: paper\nrelated:\n- '[[B]]'\n- '[[C]]'\n---\n## Commentary\n\n"
                "see [[C]]\n",
        "B.md": "---\ntype: paper\nrelated: ['[[A]]']\n---\n## Commentary\n\nnothing\n",
        "C.md": "---\ntype: cited\n---\n## Cited by\n\n- [[A]]\n",
    }
    report = check_files(files)
    assert [f for f in report.findings if f.kind == "backlink"] == []
    assert report.summary["most_cited"] == [{"note": "C.md", "cited_by": 1}]
    assert report.graph.nodes["A.md"]["related"] == [("B.md", 1, None), ("C.md", 2, None)]


def test_related_links_keep_their_rank_and_score() -> None:
    text = ("---\ntype: paper\nrelated: ['[[B|bee]]', 'no link', '[[Gone]]', '[[A]]', "
            "'[[C#Part]]']\nrelated_scores: [0.5, 0.4, 0.3, 0.2, 1]\n---\nx\n")
    report = check_files({"A.md": text, "B.md": "x\n", "C.md": "# Part\n"})
    assert report.graph.nodes["A.md"]["related"] == [("B.md", 1, 0.5), ("C.md", 5, 1.0)]
    assert broken(report) == ["broken link [[Gone]]"]


def test_canvas_file_nodes_are_links(tmp_path: Path) -> None:
    (tmp_path / "A.md").write_text("x\n")
    (tmp_path / "g.canvas").write_text('{"nodes": [{"id": "1", "type": "file", "file": "A.md",'
                                       ' "x": 0, "y": 0, "width": 1, "height": 1}, {"id": "2", '
                                       '"type": "file", "file": "Gone.md", "x": 0, "y": 0, '
                                       '"width": 1, "height": 1}], "edges": []}')
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "x.md").write_text("[[Ignored]]\n")
    report = check_vault(tmp_path)
    assert broken(report) == ["broken link Gone.md"]
    assert report.graph.has_edge("g.canvas", "A.md")


def test_summary_counts() -> None:
    report = check_files({"A.md": "---\ntype: paper\n---\n[[B]]\n",
                          "B.md": "---\ntype: cited\n---\n## Cited by\n\n- [[A]]\n"})
    summary = report.summary
    assert summary["by_type"] == {"cited": 1, "paper": 1}
    assert summary["links"] == 2 and summary["components"] == 1
    assert summary["most_cited"] == [{"note": "B.md", "cited_by": 1}]


def test_same_broken_links_and_isolated_notes_as_obsidiantools(tmp_path: Path) -> None:
    """On a vault where obsidiantools resolves correctly (unique, exact-case names, plain
    wiki-links), both tools find the same broken links and the same isolated notes."""
    import random

    from obsidiantools.api import Vault

    rng = random.Random(3)
    count = 60
    for i in range(count):
        links = [f"[[Note {rng.randrange(count)}]]" for _ in range(2)]
        if i % 7 == 0:
            links.append(f"[[Missing {i}]]")
        if i % 11 == 0:
            links = []  # isolated unless another note links here
        body = "\n".join(f"Paragraph {k}. {link}" for k, link in enumerate(links))
        path = tmp_path / f"folder {i % 3}" / f"Note {i}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"---\ntype: note\n---\n# Note {i}\n\n{body}\n", encoding="utf-8")
    ours = check_vault(tmp_path)
    theirs = Vault(tmp_path).connect().gather()
    our_broken = {f.message.removeprefix("broken link [[").removesuffix("]]")
                  for f in ours.findings if f.kind == "broken"}
    our_isolated = {Path(f.path).stem for f in ours.findings if f.kind == "isolated"}
    assert our_broken == set(theirs.nonexistent_notes) and len(our_broken) == 8
    assert our_isolated == set(theirs.isolated_notes) and our_isolated


_LINE = st.one_of(
    st.sampled_from(["# One", "## Two words", "plain text", "", "> quote"]),
    st.builds(lambda a, b: f"{a} [[Note {b}]] after", st.sampled_from(["x", "", "!"]),
              st.integers(0, 9)),
    st.builds(lambda a, b: f"see [t](Other%20{a}.md) and [[N{b}|shown]]", st.integers(0, 9),
              st.integers(0, 9)),
)


@given(st.lists(_LINE, max_size=30), st.booleans())
@settings(max_examples=300, deadline=None)
def test_links_know_their_line_and_section(lines: list[str], front: bool) -> None:
    """Each link's line number and section, against a line-by-line reading of the note."""
    text = ("---\ntype: note\n---\n" if front else "") + "\n".join(lines) + "\n"
    expected = []
    section = ""
    offset = 4 if front else 1  # first line of the body
    for number, line in enumerate(lines, start=offset):
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        for match in re.finditer(r"!?\[\[[^\]]+\]\]|\[t\]\([^)]+\)", line):
            expected.append((number, section, match.group(0)))
    links = parse_note("A.md", text).links
    assert sorted((link.line, link.section, link.raw) for link in links) == sorted(expected)


_PIECE = st.sampled_from([
    "[[A]]", "![[B#h]]", "[[C|shown]]", "[[D#^blk]]", "`[[E]]`", "``", "%% [[F]] %%", "%%",
    "%% plain %%", "```", "~~~", "[t](G.md)", "[t](<H I.md>)", "[t](https://x.org)", "[t](#)",
    "[t](J%20K.md)", "# Head", "^id", "[", "]]", "\n", "\n\n", " ", "text", "|", "#tag",
])


@given(st.lists(_PIECE, max_size=25), st.sampled_from(
    ["", "---\ntype: note\n---\n", '---\nup: "[[P]]"\nmore: ["[[Q]]", x]\n---\n',
     "---\nbad: [\n---\n"]))
@settings(max_examples=400, deadline=None)
def test_link_targets_are_those_of_parse_note(pieces: list[str], front: str) -> None:
    """The build's check reads targets alone: the same as the links a whole reading finds."""
    text = front + "".join(pieces) + "\n"
    assert sorted(link_targets("A.md", text)) == \
        sorted(link.target for link in parse_note("A.md", text).links)


def test_the_build_check_counts_notes_linked_and_finds_broken_links_with_lines() -> None:
    checker = LinkChecker(["A.md", "dir/B.md", "C.md"])
    assert checker.check("A.md", "[[B]] [[dir/B|b]] [[A]] [[C#x]]\n") == 2
    assert checker.findings == []
    assert checker.check("A.md", "[[B]]\n\n`[[Gone]]` [[Gone]]\n") == 1
    [finding] = checker.findings
    assert (finding.kind, finding.line, finding.message) == ("broken", 3, "broken link [[Gone]]")


_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\#|^[]:"),
                min_size=1, max_size=12).filter(lambda n: n.strip() == n and n not in (".", ".."))


@given(st.lists(_NAME, min_size=1, max_size=3), st.sampled_from(["NFC", "NFD"]),
       st.sampled_from([str.upper, str.lower, str.casefold, lambda n: n]))
@settings(max_examples=400, deadline=None)
def test_any_spelling_of_a_path_finds_its_note(parts: list[str], form: str, case) -> None:  # type: ignore[no-untyped-def]
    """A link by name or by path, with or without ".md", in any case and normal form, finds
    the note as Obsidian does."""
    path = "/".join(unicodedata.normalize("NFC", p) for p in parts) + ".md"
    name = path.rsplit("/", 1)[-1]
    assume(unicodedata.normalize("NFC", name).casefold() != "other.md")  # the other note's
    resolver = Resolver([path, "Other.md"])
    for target in (name, name[:-3], path, path[:-3]):
        spelled = unicodedata.normalize(form, case(target))
        if unicodedata.normalize("NFC", spelled).casefold() != \
                unicodedata.normalize("NFC", target).casefold():
            continue  # the case change made another name (e.g. "ß".upper() is "SS")
        assert resolver.resolve(spelled, "Other.md")[0] == path, spelled


@given(st.lists(st.sampled_from(["x.md", "a/X.MD", "x", "x.md.md", "b/x.md.md", "x.png",
                                 "x.png.md", "c/X.png", "Ünï.md", "a/Ünï", "y.md"]),
                min_size=1, max_size=8, unique=True),
       st.sampled_from(["x", "x.md", "x.md.md", "x.png", "x.png.md", "ünï", "ünï.md", "y"]))
def test_named_finds_each_file_by_its_name_with_and_without_md(files: list[str],
                                                               key: str) -> None:
    from vaultgen.check.links import _key

    def names(file: str) -> set[str]:
        name = _key(file.rpartition("/")[2])
        return {name, name[:-3]} if name.endswith(".md") else {name}

    assert Resolver(files).named(key) == [file for file in files if key in names(file)]


@given(st.lists(st.sampled_from(["Note.md", "a/Note.md", "b/note.md", "Note", "a/Other.md",
                                 " Note.md", "Note .md", "Ünï.md", "days/2025-04-30.md",
                                 "x.md.md", "Note.md.md", "c/NOTE.md"]),
                min_size=1, max_size=6, unique=True),
       st.sampled_from(["Note", "note", " Note", "Note ", "/Note", "Note.md", "a/Note", "Other",
                        "Ünï", "ÜNÏ", "x.md", "x", "2025-04-30", "Missing", "", " "]),
       st.sampled_from(["x.md", "a/x.md", "b/x.md", "days/x.md"]))
def test_resolve_answers_as_the_full_rules_do(files: list[str], target: str,
                                               source: str) -> None:
    """``resolve`` answers a name no other file has without the full rules (``_resolve``);
    its answer is theirs, for names with spaces, ".md", "/" and any case too."""
    ruled = Resolver(files)._resolve(target, source)
    assert Resolver(files).resolve(target, source) == \
        ((source, [source]) if ruled[0] == "" else ruled)


@given(st.lists(st.sampled_from(["Note.md", "a/Note.md", "b/note.md", "a/b/Note.md", "Note",
                                 "a/Other.md", "Other.md", "c/NOTE.md", "Ünï.md", "a/Ünï.md",
                                 "Ünï", "x/Note.md.md"]),
                min_size=1, max_size=7, unique=True),
       st.sampled_from(["Note", "note.md", "NOTE.MD", "Other", "Ünï", "Ünï.md", "Missing"]),
       st.sampled_from(["x.md", "a/x.md", "b/x.md", "a/b/x.md"]))
def test_a_name_alone_resolves_without_the_path_index(files: list[str], target: str,
                                                      source: str) -> None:
    """A target without "/" is answered from the name index alone: the files at the root of
    that name are those the path index holds under it, in the same order (the path index is
    made only for a target with a "/")."""
    from vaultgen.check.links import _files, _key

    resolver = Resolver(files)
    answer = resolver.resolve(target, source)
    assert resolver._by_path is None  # not needed
    key = _key(target)
    at_root = [file for file in resolver.named(key) if "/" not in file]
    assert at_root == _files(resolver.by_path, key)
    assert resolver.resolve(target, source) == answer
    assert resolver.resolve(f"a/{target}", source)[0] in (None, *files)

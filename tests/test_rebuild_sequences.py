"""Any sequence of builds gives the vault one fresh build of the final posts gives.

Posts are added, edited and removed; the user writes in notes and deletes some; after each
change the vault is built. At the end its notes are compared, note by note, with those of a
fresh build: the generated parts are equal, and every note the user wrote in still holds
what they wrote (a note whose paper left the posts stays, as the user's). Where two papers
compete for one name, the note that had it keeps it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultgen.arxiv.client import ArxivCache, ArxivSource
from vaultgen.build import build_vault
from vaultgen.render.notes import USER_MARKER

from .conftest import rebuilt_tree
from .posts import entry_text, make_posts, write_post

MINE = "A thought of mine.\n"

steps = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 3)),
    st.tuples(st.just("edit"), st.integers(0, 50)),
    st.tuples(st.just("remove"), st.integers(0, 50)),
    st.tuples(st.just("write in"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
), min_size=1, max_size=6)


def build(inputs: Path, vault: Path) -> None:
    source = ArxivSource(ArxivCache(inputs / "arxiv-cache.json"), offline=True)
    result = build_vault([inputs], vault, source=source, jobs=1)
    assert not [path for path, why in result.write.kept if "generated part" in why]


def generated(text: bytes) -> bytes:
    """A note without what the user added below vaultgen's marker."""
    return text.replace(MINE.encode(), b"")


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_builds_in_any_order_equal_a_fresh_build(tmp_path_factory, steps) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("sequence")
    inputs, vault = root / "input", root / "vault"
    make_posts(inputs, days=6, per_day=3, seed=3)
    build(inputs, vault)
    added = 0
    written: set[str] = set()
    for action, number in steps:
        posts = sorted(inputs.glob("*.txt"))
        notes = sorted(p for p in (vault / "papers").glob("*.md"))
        if action == "add":
            make_posts(inputs, days=1, per_day=2, seed=100 + added, first=500 + 10 * added,
                       start=dt.date(2024, 2, 1) + dt.timedelta(days=number + 5 * added))
            added += 1
        elif action == "edit" and posts:
            post = posts[number % len(posts)]
            text = post.read_text(encoding="utf-8")
            write_post(post, text.replace("A study of", "A new look at", 1)
                       .replace("#llm", "#language-models"))
        elif action == "remove" and len(posts) > 1:
            posts[number % len(posts)].unlink()
        elif action == "write in" and notes:
            note = notes[number % len(notes)]
            note.write_text(note.read_text(encoding="utf-8") + MINE, encoding="utf-8")
            written.add(note.relative_to(vault).as_posix())
        elif action == "delete" and notes:
            note = notes[number % len(notes)]
            note.unlink()  # written again by the next build, without what the user wrote
            written.discard(note.relative_to(vault).as_posix())
        build(inputs, vault)
    fresh = root / "fresh"
    build(inputs, fresh)
    got, want = rebuilt_tree(vault), rebuilt_tree(fresh)
    for path in written - set(want):  # its paper left the posts: the user's note now
        assert got.pop(path).endswith(MINE.encode())
    assert sorted(got) == sorted(want)
    for path, text in want.items():
        assert generated(got[path]) == text, path
    for path in written:
        if path in got:
            assert got[path].endswith(MINE.encode()) and USER_MARKER.encode() in got[path]
    shutil.rmtree(root)


def test_the_note_that_had_a_name_keeps_it(tmp_path: Path) -> None:
    """A post dated before the others brings a paper whose name a note already has: a fresh
    build would give the name to the earlier paper, but the note keeps it."""
    import random

    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=2, per_day=2, seed=5, start=dt.date(2024, 3, 1))
    build(inputs, vault)
    first = sorted((vault / "papers").glob("*.md"))[0]
    name = first.stem
    text = entry_text(900, random.Random(1), []).replace("Paper900", name, 1)
    write_post(inputs / "2024-01-01.txt", f"2024년 1월 1일\n{text}")
    build(inputs, vault)
    assert first.exists()
    assert first.read_text(encoding="utf-8") == \
        (vault / "papers" / f"{name}.md").read_text(encoding="utf-8")
    newcomer = [p for p in (vault / "papers").glob(f"{name}*.md") if p != first]
    assert len(newcomer) == 1 and "2024-01-01" in newcomer[0].read_text(encoding="utf-8")
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert "2024-01-01" in (fresh / "papers" / f"{name}.md").read_text(encoding="utf-8")

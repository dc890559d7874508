"""Rebuilds: each test changes the posts, the vault or the arXiv answers between two builds
and checks that the second build took the change in (and did nothing else)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultgen.build import build_vault
from vaultgen.model import ArxivRecord

from .conftest import rebuilt_tree, tree
from .doubles import CountingSource
from .posts import dated_post_folder, write_post
from .test_write import DAY1, DAY2


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return dated_post_folder(tmp_path, DAY1)


def files_with_times(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (vaultgen's own too), with its bytes and mtime."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def note_text(vault: Path, path: str) -> str:
    return (vault / path).read_text(encoding="utf-8")


def test_nothing_changed_renders_and_writes_nothing_and_reports_the_same(
        posts: Path, tmp_path: Path) -> None:
    write_post(posts / "bad.txt", "no date header here\n")
    vault = tmp_path / "vault"
    first = build_vault([posts], vault, source=CountingSource())
    before = files_with_times(vault)
    second = build_vault([posts], vault, source=CountingSource())
    assert second.rendered == 0 and second.write.changed == 0 and not second.write.merged
    assert second.counts == first.counts
    assert [str(d) for d in second.diagnostics] == [str(d) for d in first.diagnostics]
    assert any("bad.txt" in str(d) for d in second.diagnostics)
    assert {p: v for p, v in files_with_times(vault).items() if not p.startswith(".vaultgen/")} \
        == {p: v for p, v in before.items() if not p.startswith(".vaultgen/")}


def test_a_new_post_is_read_and_only_the_notes_it_changes_are_rendered(
        posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"  # (related papers aside: each list would take the new one)
    first = build_vault([posts], vault, source=CountingSource(), related=0)
    write_post(posts / "2025-05-02.txt", DAY2)
    result = build_vault([posts], vault, source=CountingSource())
    assert result.counts.papers == 3 and result.counts.posts == 2
    assert "Abstract gamma." in note_text(vault, "papers/Gamma.md")
    assert 0 < result.rendered < first.rendered + 3
    assert "papers/Alpha.md" not in result.write.written  # not cited, not tagged anew
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=CountingSource(), related=0)
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)


def test_an_edited_post_is_read_again(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    write_post(posts / "2025-05-01.txt", DAY1.replace("Abstract alpha.", "Abstract alpha, "
                                                                         "revised."))
    result = build_vault([posts], vault, source=CountingSource())
    assert result.write.written == ["papers/Alpha.md"]
    assert "Abstract alpha, revised." in note_text(vault, "papers/Alpha.md")


def test_a_removed_posts_notes_are_removed(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write_post(posts / "2025-05-02.txt", DAY2)
    build_vault([posts], vault, source=CountingSource())
    (posts / "2025-05-01.txt").unlink()
    result = build_vault([posts], vault, source=CountingSource())
    assert sorted(result.write.removed) == ["days/2025-05-01.md", "papers/Alpha.md",
                                            "papers/Beta.md", "tags/llm (tag).md"]
    assert result.counts.papers == 1 and result.counts.posts == 1
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=CountingSource())
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)


def test_a_deleted_note_is_made_again_and_an_edited_one_keeps_the_edit(
        posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    note = vault / "papers" / "Alpha.md"
    made = note.read_text(encoding="utf-8")
    note.unlink()
    result = build_vault([posts], vault, source=CountingSource())
    assert result.write.written == ["papers/Alpha.md"]
    assert note.read_text(encoding="utf-8") == made
    with note.open("a", encoding="utf-8") as handle:
        handle.write("my thought\n")
    write_post(posts / "2025-05-01.txt", DAY1.replace("코멘트 알파.", "코멘트 알파, 고침."))
    result = build_vault([posts], vault, source=CountingSource())
    assert result.write.merged == ["papers/Alpha.md"]
    text = note.read_text(encoding="utf-8")
    assert "my thought" in text and "고침" in text
    again = build_vault([posts], vault, source=CountingSource())
    assert again.rendered == 0 and again.write.changed == 0


ALPHA = ArxivRecord("2505.00001", "Alpha: First Paper", ("Ann Author",), summary="From arXiv.",
                    published="2025-04-01", updated="2025-04-01")


def test_new_arxiv_answers_are_taken_in(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    found = CountingSource({ALPHA.title: ALPHA}, version=2)  # the cache changed
    result = build_vault([posts], vault, source=found)
    assert found.asked == 1 and result.counts.unresolved == 1
    alpha = note_text(vault, "papers/Alpha.md")
    assert "arxiv: '2505.00001'" in alpha and "updated: 2025-04-01" in alpha
    newer = dataclasses.replace(ALPHA, updated="2025-05-20", version=2)
    build_vault([posts], vault, source=CountingSource({ALPHA.title: newer}, version=3))
    assert "updated: 2025-05-20" in note_text(vault, "papers/Alpha.md")
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=CountingSource({ALPHA.title: newer}))
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)


def test_entries_not_found_are_asked_for_again(posts: Path, tmp_path: Path) -> None:
    """An entry arXiv did not know is asked for by every build (the source answers from its
    cache until a "not found" is due to be asked again), and its record taken in when
    found, though the source's answers seem the same."""
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    later = CountingSource({ALPHA.title: ALPHA})
    build_vault([posts], vault, source=later)
    assert ALPHA.title in later.titles_asked
    assert "arxiv: '2505.00001'" in note_text(vault, "papers/Alpha.md")


def test_a_source_that_cannot_tell_its_state_is_asked_again_for_every_entry(
        posts: Path, tmp_path: Path) -> None:
    """As ``--refresh`` does: records matched before are asked for again, and a newer
    version taken in."""
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource({ALPHA.title: ALPHA}))
    newer = dataclasses.replace(ALPHA, updated="2025-05-20", version=2)
    refreshing = CountingSource({ALPHA.title: newer}, version=None)
    build_vault([posts], vault, source=refreshing)
    assert sorted(refreshing.titles_asked) == ["Alpha: First Paper", "Beta: Second Paper"]
    assert "updated: 2025-05-20" in note_text(vault, "papers/Alpha.md")


def test_a_post_changed_just_now_is_read_again_by_the_next_build(posts: Path,
                                                                  tmp_path: Path) -> None:
    """A post changed a moment before a build may change again within the same tick of its
    clock, its size the same: the next build reads it again rather than trust its size and
    mtime."""
    vault = tmp_path / "vault"
    post = posts / "2025-05-02.txt"
    post.write_text(DAY2, encoding="utf-8")  # mtime: now
    build_vault([posts], vault, source=CountingSource())
    assert "Abstract gamma." in note_text(vault, "papers/Gamma.md")
    stat = post.stat()
    post.write_text(DAY2.replace("Abstract gamma.", "Abstract GAMMA."), encoding="utf-8")
    os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert post.stat().st_size == stat.st_size
    build_vault([posts], vault, source=CountingSource())
    assert "Abstract GAMMA." in note_text(vault, "papers/Gamma.md")


def test_a_dry_run_records_nothing(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    result = build_vault([posts], vault, source=CountingSource(), dry_run=True)
    assert result.write.written and not vault.exists()
    build_vault([posts], vault, source=CountingSource())
    before = files_with_times(vault)
    write_post(posts / "2025-05-02.txt", DAY2)
    (vault / "papers" / "Beta.md").unlink()
    del before["papers/Beta.md"]
    dry = build_vault([posts], vault, source=CountingSource({ALPHA.title: ALPHA}, version=2),
                      dry_run=True)
    assert "papers/Gamma.md" in dry.write.written and "papers/Beta.md" in dry.write.written
    assert files_with_times(vault) == before  # the state store too
    real = build_vault([posts], vault, source=CountingSource({ALPHA.title: ALPHA}, version=2))
    assert sorted(real.write.written) == sorted(dry.write.written)


def test_a_new_vaultgen_renders_every_note_again_and_writes_none(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.plan

    vault = tmp_path / "vault"
    first = build_vault([posts], vault, source=CountingSource())
    assert build_vault([posts], vault, source=CountingSource()).rendered == 0
    monkeypatch.setattr(vaultgen.plan, "code_digest", lambda: "0" * 32)  # an upgrade
    again = build_vault([posts], vault, source=CountingSource())
    assert again.rendered == first.rendered > 5  # every note rendered again
    assert again.write.changed == 0 and not again.write.merged  # and, the same, none written


@pytest.mark.parametrize("change", ["add", "edit"])
def test_a_post_changed_while_a_build_runs_is_read_by_the_next(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """The build records the posts as they were when it began: a post edited meanwhile is
    recorded with its size and mtime from before, a post added meanwhile not at all."""
    import vaultgen.build

    vault = tmp_path / "vault"
    planned = vaultgen.build.plan_vault

    def plan_then_change(*args, **kwargs):  # type: ignore[no-untyped-def]
        if change == "add":
            write_post(posts / "2025-05-02.txt", DAY2)
        else:
            write_post(posts / "2025-05-01.txt", DAY1 + "\n" + DAY2.split("\n", 1)[1])
        return planned(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(vaultgen.build, "plan_vault", plan_then_change)
        first = build_vault([posts], vault, source=CountingSource())
    assert first.counts.papers == 2
    second = build_vault([posts], vault, source=CountingSource())
    assert second.counts.papers == 3 and (vault / "papers" / "Gamma.md").exists()


NO_ABSTRACT = """2025-05-03
Delta Net
(Dee Author)
코멘트 델타.
"""
DELTA = ArxivRecord("2505.00004", "Delta Net", ("Dee Author",), summary="Delta from arXiv.",
                    published="2025-04-01")


def test_notes_rendered_again_from_posts_read_before_have_their_texts(
        posts: Path, tmp_path: Path) -> None:
    """New arXiv answers render every paper's note again, from posts read by an earlier
    build: each note has its post's abstract and commentary, and arXiv's summary only where
    the post gives no abstract."""
    write_post(posts / "2025-05-03.txt", NO_ABSTRACT)
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource({ALPHA.title: ALPHA, DELTA.title: DELTA}))
    newer = {ALPHA.title: dataclasses.replace(ALPHA, version=2),
             DELTA.title: dataclasses.replace(DELTA, version=2)}
    again = build_vault([posts], vault, source=CountingSource(newer, version=2),
                        keep_notes=True)
    rendered = {n.path: n.text for n in again.notes}
    assert {"papers/Alpha.md", "papers/Delta Net.md"} <= set(rendered)
    assert "Abstract alpha." in rendered["papers/Alpha.md"]
    assert "코멘트 알파." in rendered["papers/Alpha.md"]
    assert "From arXiv." not in rendered["papers/Alpha.md"]
    assert "Delta from arXiv." in rendered["papers/Delta Net.md"]
    assert "코멘트 델타." in rendered["papers/Delta Net.md"]
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=CountingSource(newer))
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)


# --- Property: a vault rebuilt step by step is the vault one build makes -------------------

TITLES = ["Alpha: First Paper", "Beta: Second Paper", "Gamma: Third Paper", "Delta Net",
          "Epsilon Scaling", "Zeta Search"]
RECORDS = {t: ArxivRecord(f"2501.{i:05d}", t, ("Ann Author",), published="2025-01-01")
           for i, t in enumerate(TITLES[:4])}


def entry_text(title: str, abstract: str, cites: list[int], tags: list[str]) -> str:
    cite_text = " ".join(f"See (https://arxiv.org/abs/2501.{c:05d})." for c in cites)
    return (f"{title}\n(Ann Author)\n{abstract}\n코멘트 {cite_text}\n"
            + (" ".join(f"#{t}" for t in tags) + "\n" if tags else ""))


POST = st.tuples(
    st.integers(1, 5),  # day of May
    st.lists(st.tuples(st.sampled_from(TITLES), st.sampled_from(["A.", "B b.", "C c c."]),
                       st.lists(st.integers(0, 4), max_size=2),
                       st.lists(st.sampled_from(["llm", "rl", "vision"]), max_size=2,
                                unique=True)),
             min_size=1, max_size=3, unique_by=lambda e: e[0]))
STEPS = st.lists(st.one_of(st.tuples(st.just("write"), POST),
                           st.tuples(st.just("remove"), st.integers(1, 5))),
                 min_size=1, max_size=6)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(STEPS)
def test_rebuilds_equal_a_build_from_scratch(
        tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("rebuilds")
    posts = root / "input"
    posts.mkdir()
    write_post(posts / "2025-04-30.txt", "2025-04-30\n" + entry_text(TITLES[0], "Base.", [], []))
    vault = root / "vault"
    for number, (action, detail) in enumerate(steps):
        if action == "write":
            day, entries = detail
            text = f"2025-05-0{day}\n" + "".join(entry_text(*e) for e in entries)
            write_post(posts / f"2025-05-0{day}.txt", text)
        else:
            (posts / f"2025-05-0{detail}.txt").unlink(missing_ok=True)
        build_vault([posts], vault, source=CountingSource(RECORDS))
        fresh = root / f"fresh-{number}"
        build_vault([posts], fresh, source=CountingSource(RECORDS))
        assert rebuilt_tree(vault) == rebuilt_tree(fresh), number


# --- Finding the posts ------------------------------------------------------------------------

@pytest.mark.parametrize("named", [".", "./posts", "posts/", "posts"])
def test_posts_are_named_as_their_paths_write_them(tmp_path: Path, named: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The names of the posts found (in the state store and every note's source) are those
    of ``Path.as_posix``, sorted by folder, then name; hidden ones skipped."""
    from vaultgen.parse.inputs import find_input_files

    posts = tmp_path / "posts"
    for relative in ("b.txt", "a/z.md", "a.txt", ".hidden.txt", ".drafts/x.txt", "c.json"):
        (posts / relative).parent.mkdir(parents=True, exist_ok=True)
        (posts / relative).write_text("x", encoding="utf-8")
    monkeypatch.chdir(posts if named == "." else tmp_path)
    files, problems = find_input_files([Path(named)])
    expected = sorted((p for p in Path(named).rglob("*") if p.suffix in (".txt", ".md") and
                       not any(part.startswith(".") for part in p.relative_to(named).parts)),
                      key=lambda p: p.parts)
    assert files == [p.as_posix() for p in expected]
    assert [f.rsplit("/", 1)[-1] for f in files] == ["z.md", "a.txt", "b.txt"]  # a/ < a.txt
    assert not problems


@given(st.lists(st.lists(st.text(" !#-.0_aAé~\u3131", min_size=1, max_size=3), min_size=1,
                         max_size=3).map("/".join), max_size=12))
def test_posts_are_sorted_as_their_paths_parts_compare(names: list[str]) -> None:
    from vaultgen.parse.inputs import _parts_order

    assert sorted(names, key=_parts_order) == sorted(names, key=lambda n: n.split("/"))


def test_entries_matched_in_batches_give_the_vault_one_batch_gives(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    beta = dataclasses.replace(ALPHA, id="2505.00002", title="Beta: Second Paper")
    records = {ALPHA.title: ALPHA, beta.title: beta}
    whole = tmp_path / "whole"
    build_vault([posts], whole, source=CountingSource(records))
    monkeypatch.setattr("vaultgen.build.MATCH_BATCH", 1)
    batched = tmp_path / "batched"
    source = CountingSource(records)
    result = build_vault([posts], batched, source=source)
    assert source.asked == result.counts.entries > 1  # (one entry a batch)
    assert tree(batched) == tree(whole)


def test_a_note_the_user_wrote_in_is_kept_when_its_paper_leaves_after_a_rewrite(
        tmp_path: Path) -> None:
    """The user's section survives a rewrite of the note's generated part (the file then
    holds what vaultgen wrote, the user's section in it) and then its paper leaving."""
    from .posts import make_posts

    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=3, per_day=2, seed=3)
    build_vault([inputs], vault, jobs=1)
    post = sorted(inputs.glob("*.txt"))[-1]
    note = vault / "papers" / "Paper5.md"
    assert "2024-01-03" in note.read_text(encoding="utf-8")  # (a paper of that post)
    note.write_text(note.read_text(encoding="utf-8") + "A thought of mine.\n", encoding="utf-8")
    write_post(post, post.read_text(encoding="utf-8").replace("A study of", "A new look at"))
    assert "papers/Paper5.md" in build_vault([inputs], vault, jobs=1).write.merged
    post.unlink()
    result = build_vault([inputs], vault, jobs=1)
    assert "papers/Paper5.md" not in result.write.removed
    assert note.read_text(encoding="utf-8").endswith("A thought of mine.\n")
    assert [path for path, _ in result.write.kept] == ["papers/Paper5.md"]

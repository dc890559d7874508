"""Incremental builds (``vaultgen.increment``): a build of the posts added since the last one
plans only the notes they change, and must leave the vault exactly as a full build would.

The property test adds posts one at a time and builds twice from the same vault: once as
``vaultgen build`` does (incrementally when it can), once the full way; the two vaults, their
manifests (but for mtimes) and their snapshots must be the same, build for build.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from vaultgen.build import BuildResult, build_vault
from vaultgen.model import ArxivRecord, Entry
from vaultgen.snapshot import SNAPSHOT, load_snapshot

from .conftest import tree
from .test_incremental import write_post

TITLES = ["Alpha: First Paper", "Beta: Second Paper", "Gamma Net", "Delta Scaling",
          "Epsilon Search", "Zeta: Sixth", "Eta Theta", "Iota"]
# Titles 0-4 are on arXiv as 2501.0000i; 2501.00005-7 are only cited; 8-9 unknown to arXiv.
RECORDS = {t: ArxivRecord(f"2501.{i:05d}", t, ("Ann Author",), summary=f"Summary {i}.",
                          published="2025-01-01") for i, t in enumerate(TITLES[:5])}
CITED = {f"2501.{i:05d}": ArxivRecord(f"2501.{i:05d}", f"Cited Work {i}", ("Bo Writer",),
                                      summary=f"Cited summary {i}.", published="2024-12-01")
         for i in range(5, 8)}


class PaperSource:
    """Records by title and by id, from memory; counts the entries it is asked to match."""

    def __init__(self) -> None:
        self.matched = 0

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        self.matched += len(entries)
        return {i: RECORDS[e.title] for i, e in enumerate(entries) if e.title in RECORDS}

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        known = {r.id: r for r in [*RECORDS.values(), *CITED.values()]}
        return {i: known[i] for i in ids if i in known}

    def state(self) -> dict[str, object]:
        return {"source": "memory"}

    def still_valid(self, recheck_on: str | None) -> bool:
        return True

    def recheck_on(self) -> str | None:
        return None


def post_text(day: int, entries: Sequence[tuple[int, str, list[int], list[str]]]) -> str:
    lines = [f"2025-05-{day:02d}"]
    for title, abstract, cites, tags in entries:
        cite_text = " ".join(f"See (https://arxiv.org/abs/2501.{c:05d})." for c in cites)
        lines += [TITLES[title], "(Ann Author)", abstract, f"코멘트 {cite_text}",
                  *([" ".join(f"#{t}" for t in tags)] if tags else [])]
    return "\n".join(lines) + "\n"


def manifest_of(vault: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    files = json.loads((vault / ".vaultgen" / "manifest.json").read_text("utf-8"))["files"]
    for entry in files.values():
        del entry["mtime_ns"]
    return files


def snapshot_of(vault: Path) -> dict[str, object]:
    """The snapshot's fields as read back, but those of this very vault (its folders' mtimes,
    the build record it goes with); the names' keys and the files, which it keeps in no order,
    sorted."""
    snapshot = load_snapshot(vault)
    assert snapshot is not None
    fields = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(snapshot)
              if f.name not in ("folders", "root_files", "fingerprint")}
    fields["papers"] = [column.values() for column in snapshot.papers]
    fields["names"] = sorted(snapshot.names.values())
    fields["files"] = sorted(snapshot.files.values())
    return fields


def build(posts: Path, vault: Path) -> BuildResult:
    return build_vault([posts], vault, source=PaperSource())


def build_both(posts: Path, vault: Path, full: Path) -> BuildResult:
    """Build ``vault`` as ``vaultgen build`` does, and a copy of it as it was the full way;
    the two must agree in everything."""
    shutil.rmtree(full, ignore_errors=True)
    shutil.copytree(vault, full)
    (full / SNAPSHOT).unlink(missing_ok=True)
    result = build(posts, vault)
    fully = build(posts, full)
    assert not fully.incremental
    assert tree(vault) == tree(full)
    assert manifest_of(vault) == manifest_of(full)
    assert (vault / SNAPSHOT).exists() == (full / SNAPSHOT).exists()
    if (full / SNAPSHOT).exists():
        assert snapshot_of(vault) == snapshot_of(full)
    assert result.counts == fully.counts
    assert [str(d) for d in result.diagnostics] == [str(d) for d in fully.diagnostics]
    assert len(result.write.unchanged) == len(fully.write.unchanged)
    assert sorted(result.write.written) == sorted(fully.write.written)
    return result


ENTRY = st.tuples(st.integers(0, len(TITLES) - 1), st.sampled_from(["A.", "B b.", ""]),
                  st.lists(st.integers(0, 9), max_size=3),
                  st.lists(st.sampled_from(["llm", "rl", "LLM", "vision", "rl-2"]),
                           max_size=2, unique=True))
# (days after the last post: 0 is the same day, in a second file; entries)
ADDED = st.tuples(st.integers(0, 2), st.lists(ENTRY, min_size=0, max_size=3,
                                              unique_by=lambda e: e[0]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ENTRY, min_size=1, max_size=3, unique_by=lambda e: e[0]),
       st.lists(ADDED, min_size=1, max_size=5))
def test_an_incremental_build_equals_a_full_one(tmp_path_factory: pytest.TempPathFactory,
                                               first: list, added: list) -> None:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("increment")
    posts, vault = root / "input", root / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, first))
    build(posts, vault)
    day = 1
    for number, (later, entries) in enumerate(added):
        day += later
        name = f"2025-05-{day:02d}" + ("" if later else f"-{number}") + ".txt"
        write_post(posts / name, post_text(day, entries))
        result = build_both(posts, vault, root / "full")
        event("incremental" if result.incremental else "full")


def test_a_new_day_plans_only_the_notes_it_changes(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [6], ["llm"]),
                                                       (1, "B.", [], ["rl"])]))
    build(posts, vault)
    untouched = {p: (vault / p).stat().st_mtime_ns
                 for p in ("papers/Beta.md", "cited/Cited Work 6.md", "tags/rl (tag).md")}
    write_post(posts / "2025-05-02.txt", post_text(2, [(2, "C.", [0, 7], ["llm"])]))
    source = PaperSource()
    result = build_vault([posts], vault, source=source)
    assert result.incremental and source.matched == 2  # Gamma, and Alpha's entry again
    assert sorted(result.write.written) == [
        "Index.md", "cited/Cited Work 7.md", "days/2025-05-01.md", "days/2025-05-02.md",
        "papers/Alpha.md", "papers/Gamma Net.md", "tags/llm (tag).md"]
    assert "[[Gamma Net]]" in (vault / "papers" / "Alpha.md").read_text("utf-8")  # cited by
    assert {p: (vault / p).stat().st_mtime_ns for p in untouched} == untouched
    assert len(result.write.unchanged) == len(manifest_of(vault)) + 3 - 7  # + settings


class TupleStateSource(PaperSource):
    def state(self) -> dict[str, object]:
        return {"source": "memory", "versions": (1, 2)}  # a list once the record is read


def test_a_source_state_holding_a_tuple_still_lets_a_new_day_be_added(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], ["llm"])]))
    build_vault([posts], vault, source=TupleStateSource())
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [], ["llm"])]))
    assert build_vault([posts], vault, source=TupleStateSource()).incremental


def test_a_title_inside_an_older_one_is_a_new_paper(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(6, "A.", [], ["llm"])]))  # Eta Theta
    build(posts, vault)
    write_post(posts / "2025-05-02.txt", "2025-05-02\nTheta\n(Ann Author)\nA.\n#llm\n")
    result = build_both(posts, vault, tmp_path / "full")
    assert result.incremental  # "theta" is no title key of the vault's, only part of one
    assert (vault / "papers" / "Theta.md").exists()


@pytest.mark.parametrize("change", ["a post edited", "a paper posted again",
                                   "a cited paper posted", "a post dated before the last",
                                   "a note added by the user", "a note moved by the user",
                                   "a tag only differing in case"])
def test_what_it_cannot_be_sure_of_makes_a_full_build(tmp_path: Path, change: str) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-03.txt", post_text(3, [(0, "A.", [5, 1], ["llm"])]))
    build(posts, vault)
    new = (4, [(2, "C.", [], ["rl"])])
    if change == "a post edited":
        write_post(posts / "2025-05-03.txt", post_text(3, [(0, "A, again.", [5], ["llm"])]))
    elif change == "a paper posted again":
        new = (4, [(0, "A.", [], [])])
    elif change == "a cited paper posted":
        new = (4, [(1, "B.", [], [])])  # Alpha cited Beta's arXiv id
    elif change == "a post dated before the last":
        new = (2, new[1])
    elif change == "a note added by the user":
        (vault / "papers" / "My own.md").write_text("mine\n", encoding="utf-8")
    elif change == "a note moved by the user":
        (vault / "mine").mkdir()
        shutil.move(vault / "papers" / "Alpha.md", vault / "mine" / "Alpha.md")
    elif change == "a tag only differing in case":
        new = (4, [(2, "C.", [], ["LLM"])])
    write_post(posts / f"2025-05-{new[0]:02d}.txt", post_text(*new))
    result = build_both(posts, vault, tmp_path / "full")
    assert not result.incremental
    write_post(posts / "2025-05-09.txt", post_text(9, [(7, "I.", [], ["rl"])]))
    assert build_both(posts, vault, tmp_path / "full").incremental  # and the next one is


def test_what_the_user_wrote_in_a_note_it_changes_is_kept(tmp_path: Path) -> None:
    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], ["llm"])]))
    build(posts, vault)
    alpha = vault / "papers" / "Alpha.md"
    with alpha.open("a", encoding="utf-8") as handle:  # in place, as Obsidian saves
        handle.write("my thought\n")
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [0], ["llm"])]))
    result = build_both(posts, vault, tmp_path / "full")
    assert result.incremental and "papers/Alpha.md" in result.write.merged
    text = alpha.read_text("utf-8")
    assert "my thought" in text and "[[Beta]]" in text


def test_a_build_that_fails_leaves_no_snapshot(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.build
    from vaultgen.errors import BrokenVaultError
    from vaultgen.model import Note
    from vaultgen.render import NotePlan

    posts, vault = tmp_path / "input", tmp_path / "vault"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt", post_text(1, [(0, "A.", [], [])]))
    build(posts, vault)
    assert (vault / SNAPSHOT).exists()
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "B.", [], [])]))
    bad = Note("papers/Zeta.md", "[[Nowhere]]\n", "paper", "zeta")
    planned = vaultgen.build._write_notes

    def with_a_broken_note(plans, *args):  # type: ignore[no-untyped-def]
        return planned([*plans, NotePlan(bad.path, bad.kind, bad.key, "x", lambda: bad)],
                       *args)

    monkeypatch.setattr(vaultgen.build, "_write_notes", with_a_broken_note)
    with pytest.raises(BrokenVaultError):
        build(posts, vault)
    assert not (vault / SNAPSHOT).exists()
    monkeypatch.setattr(vaultgen.build, "_write_notes", planned)
    result = build(posts, vault)
    assert not result.incremental and result.counts.papers == 2

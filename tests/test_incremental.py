"""The shortcuts of rebuilds: cached parses, and skipping a build when nothing changed.

Each test makes a change the shortcuts must notice and checks that the rebuild saw it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultgen.build import build_vault
from vaultgen.errors import InputError
from vaultgen.model import ArxivRecord, Entry

from .conftest import tree
from .test_write import DAY1, DAY2

HOUR_AGO = time.time_ns() - 3600 * 10**9


def write_post(path: Path, text: str) -> None:
    """Write a post as if some time ago: the shortcuts do not trust files changed within the
    last seconds (their mtime could not tell a second change apart)."""
    stamp = path.stat().st_mtime_ns + 10**9 if path.exists() else HOUR_AGO
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))


def parse_cache_text(vault: Path) -> str:
    return "".join(p.read_text(encoding="utf-8")
                   for p in sorted((vault / ".vaultgen" / "parsed").glob("*.json")))


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    write_post(folder / "2025-05-01.txt", DAY1)
    return folder


def test_a_file_changed_just_now_is_not_trusted(posts: Path, tmp_path: Path) -> None:
    (posts / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")  # mtime: now
    build_vault([posts], tmp_path / "vault", source=CountingSource())
    assert not build_vault([posts], tmp_path / "vault", source=CountingSource()).skipped
    cached = parse_cache_text(tmp_path / "vault")
    assert "Abstract alpha." in cached and "Abstract gamma." not in cached


class CountingSource:
    """A record source that knows one record and counts how often it is asked."""

    def __init__(self, records: dict[str, ArxivRecord] | None = None, *, today: str = "2025-06-01",
                 recheck_on: str | None = None, version: int = 1) -> None:
        self.records = records or {}
        self.asked = 0
        self.today = today
        self._recheck_on = recheck_on
        self.version = version

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        self.asked += 1
        return {i: self.records[e.title] for i, e in enumerate(entries) if e.title in self.records}

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        return {}

    def state(self) -> dict[str, object]:
        return {"version": self.version}

    def still_valid(self, recheck_on: str | None) -> bool:
        return recheck_on is None or self.today < recheck_on

    def recheck_on(self) -> str | None:
        return self._recheck_on


def test_nothing_changed_skips_the_pipeline_and_reports_the_same(posts: Path,
                                                                  tmp_path: Path) -> None:
    write_post(posts / "bad.txt", "no date header here\n")
    source = CountingSource()
    first = build_vault([posts], tmp_path / "vault", source=source)
    second = build_vault([posts], tmp_path / "vault", source=source)
    assert second.skipped and source.asked == 1
    assert second.counts == first.counts
    assert [str(d) for d in second.diagnostics] == [str(d) for d in first.diagnostics]
    assert second.write.changed == 0


def test_an_edited_post_is_read_again(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    revised = DAY1.replace("Abstract alpha.", "Abstract alpha, revised.")
    write_post(posts / "2025-05-01.txt", revised)
    result = build_vault([posts], vault, source=CountingSource())
    assert not result.skipped
    assert "Abstract alpha, revised." in (vault / "papers" / "Alpha.md").read_text(
        encoding="utf-8")


def test_a_new_post_is_read_and_old_ones_come_from_the_cache(posts: Path,
                                                             tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    write_post(posts / "2025-05-02.txt", DAY2)
    result = build_vault([posts], vault, source=CountingSource())
    assert result.counts.papers == 3 and (vault / "papers" / "Gamma.md").exists()
    cached = parse_cache_text(vault)
    assert "Abstract gamma." in cached and "Abstract alpha." in cached


def test_a_deleted_or_edited_note_is_noticed(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    note = vault / "papers" / "Alpha.md"
    note.unlink()
    assert not build_vault([posts], vault, source=CountingSource()).skipped
    assert note.exists()
    with note.open("a", encoding="utf-8") as handle:
        handle.write("my thought\n")
    result = build_vault([posts], vault, source=CountingSource())
    assert not result.skipped and "my thought" in note.read_text(encoding="utf-8")
    assert build_vault([posts], vault, source=CountingSource()).skipped


def test_new_arxiv_answers_are_taken_in(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    record = ArxivRecord("2505.00001", "Alpha: First Paper", ("Ann Author",),
                         published="2025-04-30")
    source = CountingSource({"Alpha: First Paper": record}, version=2)  # the cache changed
    result = build_vault([posts], vault, source=source)
    assert not result.skipped and source.asked == 1
    assert "arxiv: '2505.00001'" in (vault / "papers" / "Alpha.md").read_text(encoding="utf-8")


def test_answers_due_to_be_asked_again_make_a_full_build(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource(recheck_on="2025-06-10"))
    before = CountingSource(today="2025-06-09")
    assert build_vault([posts], vault, source=before).skipped and before.asked == 0
    due = CountingSource(today="2025-06-10")
    assert not build_vault([posts], vault, source=due).skipped and due.asked == 1


def test_a_source_that_cannot_tell_its_state_never_skips(posts: Path, tmp_path: Path) -> None:
    class Refreshing(CountingSource):
        def state(self) -> None:  # type: ignore[override]
            return None

    source = Refreshing()
    build_vault([posts], tmp_path / "vault", source=source)
    assert not build_vault([posts], tmp_path / "vault", source=source).skipped
    assert source.asked == 2


def test_a_dry_run_records_nothing(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource(), dry_run=True)
    assert not (vault / ".vaultgen").exists()


# --- Property: an incremental build gives the vault a build from scratch gives ----------------

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
def test_incremental_builds_equal_a_build_from_scratch(
        tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("incremental")
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
        assert tree(vault, skip=(".vaultgen",)) == tree(fresh, skip=(".vaultgen",)), number


def test_another_vaultgen_reuses_nothing(posts: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.build
    import vaultgen.inputs
    import vaultgen.render

    vault = tmp_path / "vault"
    first = build_vault([posts], vault, source=CountingSource(), keep_notes=True)
    assert build_vault([posts], vault, source=CountingSource()).skipped
    for module in (vaultgen.build, vaultgen.inputs, vaultgen.render):
        monkeypatch.setattr(module, "code_digest", lambda: "0" * 32)  # an upgrade, or an edit
    again = build_vault([posts], vault, source=CountingSource(), keep_notes=True)
    assert not again.skipped
    assert len(again.notes or ()) == len(first.notes or ())  # every note rendered again
    assert again.write.changed == 0  # and, being the same, none written


def test_a_new_post_rewrites_one_pair_of_shards_of_the_parse_cache(posts: Path,
                                                                    tmp_path: Path) -> None:
    from vaultgen.inputs import ParseCache

    for day in range(2, 9):
        write_post(posts / f"2025-05-0{day}.txt", DAY2.replace("2025-05-02", f"2025-05-0{day}")
                   .replace("Gamma", f"Gamma{day}"))
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    shards = {p.name: p.stat().st_mtime_ns for p in (vault / ".vaultgen" / "parsed").iterdir()}
    assert len(shards) > 2
    new = posts / "2025-05-09.txt"
    write_post(new, DAY2.replace("2025-05-02", "2025-05-09").replace("Gamma", "Gamma9"))
    build_vault([posts], vault, source=CountingSource())
    after = {p.name: p.stat().st_mtime_ns for p in (vault / ".vaultgen" / "parsed").iterdir()}
    changed = {name for name in after if after[name] != shards.get(name)}
    shard = ParseCache.shard_of(new.as_posix())
    assert changed == {f"{shard:02d}.json", f"{shard:02d}.text.json"}
    new.unlink()
    build_vault([posts], vault, source=CountingSource())
    assert "Gamma9" not in parse_cache_text(vault)


def test_a_shard_written_in_part_is_the_shard_written_whole(posts: Path,
                                                           tmp_path: Path) -> None:
    """A new day writes a shard of the parse cache back as read, with its new post's lines
    put in (``ParseCache._save_lines``): the same bytes as the shard written whole."""
    from vaultgen.inputs import ParseCache

    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource())
    shard = ParseCache.shard_of((posts / "2025-05-01.txt").as_posix())
    new = next(post for k in range(1000) if ParseCache.shard_of(
        (post := posts / f"2025-05-02-{k}.txt").as_posix()) == shard)  # in the same shard
    write_post(new, DAY2)
    assert build_vault([posts], vault, source=CountingSource()).incremental
    folder = vault / ".vaultgen" / "parsed"
    assert len(list(folder.iterdir())) == 2  # the one shard, its two files
    in_part = {p.name: p.read_bytes() for p in folder.iterdir()}
    cache = ParseCache.load(folder)
    for post in posts.iterdir():
        result = cache.get(post.as_posix(), post.stat())
        assert result is not None and result.entries
        assert all(cache.text_of(entry) is not None for entry in result.entries)
    cache.dirty = set(range(ParseCache.SHARDS))
    cache.save()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == in_part


@pytest.mark.parametrize("change", ["add", "edit"])
def test_a_post_changed_while_a_build_runs_is_read_by_the_next(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """The build records the posts as they were when it began: a post edited meanwhile is
    recorded with its size and mtime from before, a post added meanwhile not at all, so the
    next build is not skipped."""
    import vaultgen.build

    vault = tmp_path / "vault"
    planned = vaultgen.build.plan_notes

    def plan_then_change(*args, **kwargs):  # type: ignore[no-untyped-def]
        if change == "add":
            write_post(posts / "2025-05-02.txt", DAY2)
        else:
            write_post(posts / "2025-05-01.txt", DAY1 + "\n" + DAY2.split("\n", 1)[1])
        return planned(*args, **kwargs)

    monkeypatch.setattr(vaultgen.build, "plan_notes", plan_then_change)
    first = build_vault([posts], vault, source=CountingSource())
    monkeypatch.setattr(vaultgen.build, "plan_notes", planned)
    assert first.counts.papers == 2
    second = build_vault([posts], vault, source=CountingSource())
    assert not second.skipped and second.counts.papers == 3


def test_every_field_of_a_record_is_in_its_notes_digest() -> None:
    """Every field, the summary by a digest of it: the same whether the record holds its
    summary (from arXiv) or not (read from the cache)."""
    from vaultgen.arxiv_client import record_from_dict, record_to_dict
    from vaultgen.model import text_digest
    from vaultgen.render import record_values

    record = ArxivRecord("2401.00001", "T", ("A B",), "S", "2024-01-01", "2024-01-02", "cs.LG",
                         ("cs.LG",), 2)
    fields = dataclasses.astuple(record)
    assert fields[-1] == ""  # summary_digest: none, the summary is held
    assert record_values(record) == (*fields[:3], text_digest("S"), *fields[4:-1])
    apart = record_from_dict(record_to_dict(record), hold_summary=False)
    assert apart.summary == "" and record_values(apart) == record_values(record)


ALPHA = ArxivRecord("2505.00001", "Alpha: First Paper", ("Ann Author",), summary="From arXiv.",
                    published="2025-04-01")
NO_ABSTRACT = """2025-05-03
Delta Net
(Dee Author)
코멘트 델타.
"""
DELTA = ArxivRecord("2505.00004", "Delta Net", ("Dee Author",), summary="Delta from arXiv.",
                    published="2025-04-01")


def rerender_from_the_cache(posts: Path, vault: Path, *,  # type: ignore[no-untyped-def]
                            drop_texts: bool = False):
    """Build, then build again with new arXiv answers for every paper: their notes are
    rendered again, from posts the parse cache holds."""
    first = build_vault([posts], vault, source=CountingSource({"Alpha: First Paper": ALPHA,
                                                               "Delta Net": DELTA}))
    if drop_texts:
        for shard in (vault / ".vaultgen" / "parsed").glob("*.text.json"):
            shard.unlink()
    newer = {"Alpha: First Paper": dataclasses.replace(ALPHA, version=2),
             "Delta Net": dataclasses.replace(DELTA, version=2)}
    again = build_vault([posts], vault, source=CountingSource(newer, version=2), keep_notes=True)
    return first, again


@pytest.mark.parametrize("drop_texts", [False, True])
def test_notes_of_cached_posts_are_rendered_with_their_text(posts: Path, tmp_path: Path,
                                                            drop_texts: bool) -> None:
    """A rebuild holds entries without their text and reads it, for the notes it renders,
    from the parse cache's text files, or from the post again when those are gone."""
    write_post(posts / "2025-05-03.txt", NO_ABSTRACT)
    vault = tmp_path / "vault"
    _, again = rerender_from_the_cache(posts, vault, drop_texts=drop_texts)
    assert not any(e.text_held for p in again.library.papers for e in p.entries)
    rendered = {n.path: n.text for n in again.notes}
    assert "Abstract alpha." in rendered["papers/Alpha.md"]
    assert "코멘트 알파." in rendered["papers/Alpha.md"]
    # The record's summary shows only where the post gives no abstract; only there is it kept.
    assert "From arXiv." not in rendered["papers/Alpha.md"]
    assert "Delta from arXiv." in rendered["papers/Delta Net.md"]
    summaries = {p.first.title: p.record.summary for p in again.library.papers if p.record}
    assert summaries == {"Alpha: First Paper": "", "Delta Net": "Delta from arXiv."}
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=CountingSource({
        "Alpha: First Paper": dataclasses.replace(ALPHA, version=2),
        "Delta Net": dataclasses.replace(DELTA, version=2)}))
    assert tree(vault, skip=(".vaultgen",)) == tree(fresh, skip=(".vaultgen",))


def test_a_post_that_changed_unseen_is_named_when_its_text_is_needed(
        posts: Path, tmp_path: Path) -> None:
    """A post edited with its size and mtime kept looks unchanged to the cache; if its text
    must then be read from it again, the build stops naming it, and leaves the vault as it
    was."""
    vault = tmp_path / "vault"
    build_vault([posts], vault, source=CountingSource({"Alpha: First Paper": ALPHA}))
    for shard in (vault / ".vaultgen" / "parsed").glob("*.text.json"):
        shard.unlink()
    post = posts / "2025-05-01.txt"
    stat = post.stat()
    post.write_text(DAY1.replace("Abstract alpha.", "Abstract ALPHA."), encoding="utf-8")
    os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = tree(vault)
    with pytest.raises(InputError) as raised:
        build_vault([posts], vault, source=CountingSource(
            {"Alpha: First Paper": dataclasses.replace(ALPHA, version=2)}, version=2))
    assert post.as_posix() in str(raised.value) and "line 2" in str(raised.value)
    assert tree(vault) == before


@pytest.mark.parametrize("named", [".", "./posts", "posts/", "posts"])
def test_posts_are_named_as_their_paths_write_them(tmp_path: Path, named: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The names of the posts found (in the parse cache, the fingerprint and every note's
    source) are those of ``Path.as_posix``, sorted by folder, then name; hidden ones skipped."""
    from vaultgen.inputs import find_input_files

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
    from vaultgen.inputs import _parts_order

    assert sorted(names, key=_parts_order) == sorted(names, key=lambda n: n.split("/"))


@given(names=st.lists(st.text("ab\"\\é/ ", min_size=1, max_size=4), unique=True, max_size=4),
       state=st.dictionaries(st.text("xy\"", max_size=2), st.one_of(st.integers(), st.text()),
                             max_size=2))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_fingerprint_is_its_value_as_sorted_json(names: list[str], state: dict[str, object],
                                                   tmp_path: Path) -> None:
    """The fingerprint's text (which the next build compares) is ``json.dumps`` of its value
    with sorted keys, though the posts' part of it is encoded once for a build."""
    import json

    from vaultgen.build import _fingerprint
    from vaultgen.model import Diagnostic, SourceRef

    source = CountingSource()
    source.state = lambda: state  # type: ignore[method-assign]
    posts = [str(tmp_path / f"{n}.txt") for n in range(len(names))]
    for post in posts[::2]:
        write_post(Path(post), "x")
    found = (posts, [Diagnostic(SourceRef(name, 1), "odd") for name in names])
    first = _fingerprint(found, tmp_path, source)
    assert first is not None
    assert first.text == json.dumps(first.value, sort_keys=True)
    again = _fingerprint(found, tmp_path, source, first)
    assert again is not None and again.text == first.text

"""Re-running never loses a user's work and writes only what changed."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultgen.build import build_vault
from vaultgen.cli import cli
from vaultgen.errors import UnsafePathError
from vaultgen.model import Note
from vaultgen.state import STATE_FILE, Store
from vaultgen.write import VaultWriter, safe_target

from .conftest import DATA, post_folder, tree
from .doubles import break_a_link

DAY1 = """2025-05-01
Alpha: First Paper
(Ann Author)
Abstract alpha.
코멘트 알파.
#llm
Beta: Second Paper
(Bob Builder)
Abstract beta.
#llm #rl
"""
DAY2 = """2025-05-02
Gamma: Third Paper
(Cy Coder)
Abstract gamma.
인용: https://arxiv.org/abs/2401.00001
#rl
"""


def build(inputs: Path, vault: Path, **options: object):  # type: ignore[no-untyped-def]
    return build_vault([inputs], vault, **options).write  # type: ignore[arg-type]


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return post_folder(tmp_path, DAY1)


def snapshot(vault: Path) -> dict[str, tuple[int, bytes]]:
    return {p.relative_to(vault).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in vault.rglob("*") if p.is_file()}


def test_rebuild_without_change_writes_nothing(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    first = build(posts, vault)
    assert first.written and not first.kept
    before = snapshot(vault)
    second = build(posts, vault)
    assert second.changed == 0 and not second.merged
    assert snapshot(vault) == before


def test_a_new_day_rewrites_only_what_changed(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"  # (related papers aside: each list would take the new one)
    build(posts, vault, related=0)
    (posts / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")
    report = build(posts, vault)
    assert sorted(report.written) == sorted([
        "papers/Gamma.md", "cited/arXiv 2401.00001.md", "days/2025-05-02.md",
        "days/2025-05-01.md", "tags/rl (tag).md", "Index.md"])


def test_user_section_and_properties_survive_rebuilds(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build(posts, vault)
    note = vault / "papers" / "Alpha.md"
    text = note.read_text(encoding="utf-8")
    text = text.replace("type: paper\n", "type: paper\nrating: 5\n")
    text += "My own thought, kept verbatim.\n\n- [[Beta]] is related\n"
    note.write_text(text, encoding="utf-8")
    (posts / "2025-05-01.txt").write_text(DAY1.replace("Abstract alpha.", "Abstract alpha v2."),
                                          encoding="utf-8")
    report = build(posts, vault)
    assert "papers/Alpha.md" in report.merged
    new = note.read_text(encoding="utf-8")
    assert "Abstract alpha v2." in new
    assert new.endswith("My own thought, kept verbatim.\n\n- [[Beta]] is related\n")
    assert "rating: 5" in new
    again = build(posts, vault)
    assert again.changed == 0 and not again.merged


def test_edited_generated_part_is_kept_until_forced(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build(posts, vault)
    note = vault / "papers" / "Beta.md"
    edited = note.read_text(encoding="utf-8").replace("Abstract beta.", "My better abstract.")
    note.write_text(edited, encoding="utf-8")
    (posts / "2025-05-01.txt").write_text(DAY1.replace("#llm #rl", "#rl"), encoding="utf-8")
    report = build(posts, vault)
    assert [p for p, _ in report.kept] == ["papers/Beta.md"]
    assert note.read_text(encoding="utf-8") == edited
    forced = build(posts, vault, force=True)
    assert "papers/Beta.md" in forced.merged
    [backup] = forced.backups
    assert (vault / backup).read_text(encoding="utf-8") == edited
    assert "My better abstract." not in note.read_text(encoding="utf-8")


def test_files_the_user_made_are_never_touched(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "papers").mkdir(parents=True)
    mine = vault / "papers" / "Alpha.md"
    mine.write_text("my own note about Alpha\n", encoding="utf-8")
    (vault / "Ideas.md").write_text("[[Beta]]\n", encoding="utf-8")
    report = build(posts, vault)
    assert ("papers/Alpha.md", "not written by vaultgen; left as it is") in report.kept
    assert mine.read_text(encoding="utf-8") == "my own note about Alpha\n"
    assert (vault / "Ideas.md").read_text(encoding="utf-8") == "[[Beta]]\n"


def test_a_paper_leaving_the_input_is_removed_only_if_untouched(posts: Path,
                                                                tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (posts / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")
    build(posts, vault)
    (vault / "papers" / "Alpha.md").write_text(
        (vault / "papers" / "Alpha.md").read_text(encoding="utf-8") + "mine\n", encoding="utf-8")
    (posts / "2025-05-01.txt").unlink()
    report = build(posts, vault)
    assert "papers/Beta.md" in report.removed and not (vault / "papers/Beta.md").exists()
    assert "papers/Alpha.md" in [p for p, _ in report.kept]
    assert (vault / "papers" / "Alpha.md").exists()


def test_a_renamed_note_is_recognised_and_not_duplicated(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    build(posts, vault)
    (vault / "reading").mkdir()
    os.replace(vault / "papers" / "Alpha.md", vault / "reading" / "Alpha (read).md")
    report = build(posts, vault)
    assert not (vault / "papers" / "Alpha.md").exists()
    assert "reading/Alpha (read).md" not in [p for p, _ in report.kept]
    again = build(posts, vault)
    assert again.changed == 0
    moved = vault / "reading" / "Alpha (read).md"
    (posts / "2025-05-01.txt").write_text(DAY1.replace("Abstract alpha.", "Abstract alpha v2."),
                                          encoding="utf-8")
    report = build(posts, vault)
    assert report.written == ["reading/Alpha (read).md"]
    assert "Abstract alpha v2." in moved.read_text(encoding="utf-8")
    assert sorted(p.name for p in (vault / "papers").iterdir()) == ["Beta.md"]
    assert "[[Alpha (read)]]" in (vault / "days" / "2025-05-01.md").read_text(encoding="utf-8")


def test_notes_go_beside_the_users_files_in_a_folder_they_made(posts: Path,
                                                              tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "papers").mkdir(parents=True)
    (vault / "papers" / "Mine.md").write_text("mine\n", encoding="utf-8")
    build(posts, vault)
    notes = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md")
                   if ".vaultgen" not in p.parts)
    assert notes == ["Index.md", "days/2025-05-01.md", "papers/Alpha.md", "papers/Beta.md",
                     "papers/Mine.md", "tags/llm (tag).md", "tags/rl (tag).md"]
    assert (vault / "papers" / "Mine.md").read_text(encoding="utf-8") == "mine\n"
    assert build(posts, vault).changed == 0


def test_dry_run_touches_nothing(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    report = build(posts, vault, dry_run=True)
    assert report.written and not vault.exists()


def test_paths_cannot_escape_the_vault(tmp_path: Path) -> None:
    for bad in ("../outside.md", "/etc/passwd", "a/../../x.md", "a\\..\\x.md"):
        with pytest.raises(UnsafePathError):
            safe_target(tmp_path, bad)


@given(st.text(alphabet="a./\\", max_size=12))
def test_safe_target_reads_a_path_as_posix_does(relative: str) -> None:
    vault = Path("/vault")
    pure = PurePosixPath(relative)
    leaves = pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in relative
    try:
        target = safe_target(vault, relative)
    except UnsafePathError:
        assert leaves
    else:
        assert not leaves and target == vault.joinpath(*pure.parts)


def test_symlinks_are_not_written_through(posts: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "papers").symlink_to(outside, target_is_directory=True)
    report = build(posts, vault)
    assert sorted(p for p, why in report.kept if "symlink" in why) == \
        ["papers/Alpha.md", "papers/Beta.md"]
    assert list(outside.iterdir()) == []
    assert (vault / "Index.md").exists()


def test_two_notes_may_not_share_a_path(tmp_path: Path) -> None:
    notes = [Note("papers/X.md", "a\n", "paper", "a"), Note("papers/x.md", "b\n", "paper", "b")]
    store = Store.open(tmp_path)
    try:
        with pytest.raises(UnsafePathError):
            VaultWriter(tmp_path, store).write([(note, f"paper:{note.key}", None, 0)
                                                for note in notes])
    finally:
        store.close()
    assert not (tmp_path / "papers").exists()


def test_graph_settings_are_merged_not_overwritten(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "graph.json").write_text(
        '{"showTags": true, "colorGroups": [{"query": "tag:#mine", "color": {"a": 1, "rgb": 1}}]}',
        encoding="utf-8")
    (vault / ".obsidian" / "app.json").write_text('{"mine": 1}', encoding="utf-8")
    build(posts, vault)
    graph = json.loads((vault / ".obsidian" / "graph.json").read_text(encoding="utf-8"))
    assert graph["showTags"] is True
    assert graph["colorGroups"][0]["query"] == "tag:#mine"
    assert {g["query"] for g in graph["colorGroups"]} >= {"path:papers", "path:tags"}
    assert (vault / ".obsidian" / "app.json").read_text(encoding="utf-8") == '{"mine": 1}'


# --- Property test: random sequences of builds and user actions ------------------------------

ACTIONS = st.lists(st.sampled_from(["build", "own-section", "property", "new-file",
                                    "edit-generated", "delete", "rename", "new-post"]),
                   min_size=1, max_size=8)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ACTIONS)
def test_no_user_byte_is_ever_lost(tmp_path_factory: pytest.TempPathFactory,
                                   actions: list[str]) -> None:
    root = tmp_path_factory.mktemp("run")
    posts = root / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text(DAY1, encoding="utf-8")
    vault = root / "vault"
    build(posts, vault)
    user_bytes: dict[Path, list[str]] = {}  # file → fragments the user wrote into it
    for step, action in enumerate(actions):
        papers = sorted((vault / "papers").glob("*.md")) if (vault / "papers").exists() else []
        target = papers[step % len(papers)] if papers else None
        if action == "own-section" and target:
            fragment = f"user line {step}\n"
            with target.open("a", encoding="utf-8") as handle:
                handle.write(fragment)
            user_bytes.setdefault(target, []).append(fragment)
        elif action == "property" and target:
            text = target.read_text(encoding="utf-8")
            target.write_text(text.replace("---\n", f"---\nmine{step}: {step}\n", 1),
                              encoding="utf-8")
            user_bytes.setdefault(target, []).append(f"mine{step}: {step}")
        elif action == "new-file":
            (vault / f"Own {step}.md").write_text(f"own {step}\n", encoding="utf-8")
            user_bytes.setdefault(vault / f"Own {step}.md", []).append(f"own {step}\n")
        elif action == "edit-generated" and target:
            text = target.read_text(encoding="utf-8").replace(
                "## Links", f"edited generated part {step}\n\n## Links")
            target.write_text(text, encoding="utf-8")
            user_bytes.setdefault(target, []).append(f"edited generated part {step}")
        elif action == "delete" and target and target not in user_bytes:
            target.unlink()
        elif action == "rename" and target:
            moved = vault / f"Moved {step}.md"
            os.replace(target, moved)
            if target in user_bytes:
                user_bytes[moved] = user_bytes.pop(target)
        elif action == "new-post":
            (posts / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")
        build(posts, vault)
        for file, fragments in user_bytes.items():
            text = file.read_text(encoding="utf-8")
            assert all(f in text for f in fragments), (action, file)
        again = build(posts, vault)
        assert again.changed == 0 and not again.merged, (action, again)


def test_a_killed_build_leaves_whole_files_and_the_next_completes(posts: Path,
                                                                  tmp_path: Path) -> None:
    for n in range(40):
        (posts / f"2025-06-{n % 28 + 1:02d}-{n}.txt").write_text(
            DAY1.replace("Alpha", f"Alpha{n}").replace("Beta", f"Beta{n}")
            .replace("2025-05-01", f"2025-06-{n % 28 + 1:02d}"), encoding="utf-8")
    vault = tmp_path / "vault"
    command = [sys.executable, "-m", "vaultgen.cli", "build", str(posts), "-o", str(vault),
               "--offline"]
    for delay in (0.3, 0.6, 0.9):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for file in vault.rglob("*.md"):
            text = file.read_text(encoding="utf-8")
            assert text.startswith("---\n") and text.endswith("## My notes\n"), file
    subprocess.run(command, check=True, capture_output=True)
    assert (vault / STATE_FILE).exists()
    leftovers = [p for p in vault.rglob("*.tmp") if ".vaultgen" not in p.parts]
    assert leftovers == []  # the new files a killed build left unrenamed: gone
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    assert "nothing changed" in result.stderr


@pytest.mark.parametrize("case", ["golden/basic/input", "golden/edge-cases/input", "../../input"])
def test_what_a_note_was_made_of_agrees_with_its_text(case: str, tmp_path: Path) -> None:
    """The writer takes a rendered note's properties and body as given instead of parsing its
    YAML; what it takes must be what a later run reads back from the file."""
    from vaultgen.arxiv.client import ArxivCache, ArxivSource
    from vaultgen.check.notes import read_frontmatter
    from vaultgen.write import generated_hash, note_generated_hash

    from .conftest import DATA

    inputs = (DATA / case).resolve()
    source = ArxivSource(ArxivCache.load(inputs / "arxiv-cache.json"), offline=True)
    notes = build_vault([inputs], tmp_path / "vault", source=source, dry_run=True,
                        keep_notes=True).notes
    checked = 0
    dated = False
    for note in notes:
        if note.properties is None:
            continue
        front = read_frontmatter(note.text)
        assert (note.properties, note.body) == (front.properties, front.body), note.path
        assert note_generated_hash(note) == generated_hash(note.text, list(front.properties or {}))
        checked += 1
        dated = dated or "published" in front.properties  # type: ignore[operator]
    assert checked > 5
    assert dated or case != "../../input"  # arXiv records (with dates) were in play


def test_a_broken_link_leaves_the_vault_as_it_was(posts: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from vaultgen.errors import BrokenVaultError

    vault = tmp_path / "vault"
    build(posts, vault)
    before = tree(vault)
    (posts / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")
    with monkeypatch.context() as patch:
        break_a_link(patch, "papers/Gamma.md")
        with pytest.raises(BrokenVaultError, match=r"papers/Gamma.md:\d+: error: broken link "
                                                   r"\[\[Nowhere\]\]"):
            build(posts, vault)
        assert tree(vault) == before
        fresh = tmp_path / "fresh"
        with pytest.raises(BrokenVaultError):
            build(posts, fresh)
        assert not fresh.exists()
    report = build(posts, vault)  # the link mended: the new post is built
    assert "papers/Gamma.md" in report.written and not report.kept
    assert "[[Nowhere]]" not in (vault / "papers" / "Gamma.md").read_text(encoding="utf-8")


# --- A vault built by an older vaultgen -------------------------------------------------------

def take_over(old: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The notes of the vault at ``old`` (``input`` and ``vault``, as ``tests/data/old-vault``)
    once built by this vaultgen, in ``old`` (as its notes name their posts)."""
    monkeypatch.chdir(old)
    result = CliRunner().invoke(cli, ["build", "input", "-o", "vault", "--offline"])
    assert result.exit_code == 0, result.output
    assert not (old / "vault" / ".vaultgen" / "manifest.json").exists()
    return tree(old / "vault")


def test_a_manifest_of_either_version_is_taken_over_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest of version 1 names every field of every file; one of version 2 leaves
    out the properties a note of its kind usually owns. Either is taken over alike."""
    shutil.copytree(DATA / "old-vault", tmp_path / "v2")
    shutil.copytree(DATA / "old-vault", tmp_path / "v1")
    manifest = tmp_path / "v1" / "vault" / ".vaultgen" / "manifest.json"
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    usual = {"day": ["type", "date", "count"], "tag": ["type", "tag", "count"]}
    assert any("owned" not in entry for entry in raw["files"].values())
    for entry in raw["files"].values():
        if "owned" not in entry:
            entry["owned"] = usual[entry["kind"]]
        entry.setdefault("source", entry["sha256"])
    raw["version"] = 1
    manifest.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    taken = take_over(tmp_path / "v2", monkeypatch)
    assert take_over(tmp_path / "v1", monkeypatch) == taken
    assert "status: read" in taken["papers/GaLore 2.md"].decode()  # the user's property


def test_a_manifest_that_cannot_be_read_leaves_every_note_of_the_user(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the record of what it wrote, the build takes a note as vaultgen's only when
    its generated part is the one it renders now: the notes the user changed are kept."""
    shutil.copytree(DATA / "old-vault", tmp_path / "old")
    before = tree(tmp_path / "old" / "vault")
    (tmp_path / "old" / "vault" / ".vaultgen" / "manifest.json").write_text(
        "{not json", encoding="utf-8")
    after = take_over(tmp_path / "old", monkeypatch)
    for path in ("papers/μP.md", "My ideas.md"):
        assert after[path] == before[path]
    assert "status: read" in after["papers/GaLore 2.md"].decode()


def test_a_lookup_left_unfinished_by_ctrl_c_says_nothing_once_the_store_closes(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the middle of reading entries' texts leaves the reading unfinished; the
    store is closed as the build stops, and the unfinished reading is then let go without a
    traceback on the terminal."""
    vault = tmp_path / "vault"
    build(posts, vault)
    reported: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    store = Store.open(vault)
    keys = [row[:2] for row in store.entry_rows()]
    rows = store._texts_at(keys, "authors")
    next(rows)
    store.close()
    del rows
    gc.collect()
    assert reported == []

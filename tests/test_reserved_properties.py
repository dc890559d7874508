"""Obsidian's reserved properties (tags, aliases, cssclasses) are lists in every note vaultgen
writes, and every property the vault's ``.obsidian/types.json`` declares holds a value of the
declared kind: readers that go by them (ObsidianHtml, Obsidian's properties view) never meet a
number where a list of tags should be."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vaultgen.cli import cli
from vaultgen.model import Note
from vaultgen.render import notes as render

from .conftest import DATA, post_folder

RESERVED = ("tags", "aliases", "cssclasses")
KINDS = {"paper", "cited", "tag", "day", "index"}


def build(posts: str | Path, vault: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(posts), "-o", str(vault), "--offline"])
    assert result.exit_code == 0, result.output


def notes_properties(vault: Path) -> dict[str, dict[str, object]]:
    """Every markdown note's properties (as PyYAML reads them), by vault-relative path."""
    notes = {}
    for path in sorted(vault.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\n"), path
        notes[path.relative_to(vault).as_posix()] = yaml.safe_load(text.split("---\n")[1])
    return notes


def of_declared_type(value: object, declared: str) -> bool:
    """Whether ``value`` is what Obsidian's property type ``declared`` holds."""
    if declared in ("tags", "aliases", "multitext"):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if declared == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if declared == "checkbox":
        return isinstance(value, bool)
    if declared == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if declared == "datetime":
        return isinstance(value, dt.datetime)
    return isinstance(value, str)


@pytest.mark.parametrize("case", ["basic", "edge-cases"])
def test_every_note_holds_lists_in_reserved_properties_and_declared_types_elsewhere(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "golden" / case)
    vault = tmp_path / "vault"
    build("input", vault)
    declared = json.loads((vault / ".obsidian" / "types.json").read_text())["types"]
    assert {declared[key] for key in RESERVED if key in declared} <= {"tags", "aliases",
                                                                       "multitext"}
    notes = notes_properties(vault)
    if case == "basic":
        assert {properties["type"] for properties in notes.values()} == KINDS
    for path, properties in notes.items():
        for key, value in properties.items():
            if key in RESERVED:
                assert isinstance(value, list), (path, key, value)
            if key in declared:
                assert of_declared_type(value, declared[key]), (path, key, value)


def test_the_index_counts_its_tags_in_a_property_of_its_own(tmp_path: Path) -> None:
    posts = post_folder(tmp_path, "2025-05-01\nA Title\n(Ann Author)\nAn abstract.\n#llm #rl\n")
    build(posts, tmp_path / "vault")
    index = notes_properties(tmp_path / "vault")["Index.md"]
    assert "tags" not in index and index["tag_count"] == 2
    declared = json.loads((tmp_path / "vault" / ".obsidian" / "types.json").read_text())
    assert declared["types"]["tag_count"] == "number"


def test_a_vault_whose_index_held_its_tag_count_in_tags_loses_it_on_a_rebuild(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index an earlier vaultgen wrote with ``tags: 2`` (and the user's notes below its
    marker): the next build leaves no number in ``tags`` and keeps the user's notes."""
    import vaultgen.plan

    rendered = render.render_index

    def index_with_count_in_tags(*args: object) -> Note:
        note = rendered(*args)  # type: ignore[arg-type]
        assert note.properties is not None and note.body is not None
        properties = {"tags" if key == "tag_count" else key: value
                      for key, value in note.properties.items()}
        lines = note.body.removesuffix("\n" + render.USER_SECTION).split("\n")
        return render.generated_note(note.path, note.kind, note.key, properties, lines)

    posts = post_folder(tmp_path, "2025-05-01\nA Title\n(Ann Author)\nAn abstract.\n#llm #rl\n")
    vault = tmp_path / "vault"
    with monkeypatch.context() as patch:
        patch.setattr(render, "render_index", index_with_count_in_tags)
        patch.setattr(vaultgen.plan, "code_digest", lambda: "0" * 32)  # an earlier vaultgen
        build(posts, vault)
    assert notes_properties(vault)["Index.md"]["tags"] == 2
    with (vault / "Index.md").open("a", encoding="utf-8") as index:
        index.write("My own words.\n")
    build(posts, vault)
    text = (vault / "Index.md").read_text(encoding="utf-8")
    index = notes_properties(vault)["Index.md"]
    assert "tags" not in index and index["tag_count"] == 2
    assert text.endswith(render.USER_SECTION + "My own words.\n")

"""``Papers.base``: the Bases view of the papers, and how a build keeps it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vaultgen.check.notes import read_frontmatter
from vaultgen.cli import cli
from vaultgen.state import Store
from vaultgen.write import sha256

from .citing import citing_posts

# What Bases knows of every file (help.obsidian.md, "Bases syntax": file properties).
FILE_PROPERTIES = {"name", "basename", "path", "folder", "ext", "size", "ctime", "mtime",
                   "tags", "links", "backlinks", "embeds", "properties"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(\s*\()?")


def build(inputs: Path, vault: Path, *extra: str) -> str:
    result = CliRunner().invoke(cli, ["build", str(inputs), "-o", str(vault), "--offline",
                                      *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stderr


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    build(citing_posts(tmp_path / "input"), tmp_path / "vault")
    return tmp_path / "vault"


def expression_names(expression: str) -> set[str]:
    """The properties an expression of Bases reads: names that are neither a function called
    (``if(``) nor a method (after a ``.`` that follows a value), with string literals left
    out."""
    names = set()
    for match in _NAME.finditer(_STRING.sub('""', expression)):
        name, called = match.group(1), match.group(2)
        if called:  # a global function (``if``, ``list``), or a method of a property
            name = name.rpartition(".")[0] if "." in name else ""
        if name:
            names.add(name)
    return names


def named_properties(base: dict) -> set[str]:
    """Every property and formula a base names: in its filters, formulas, property settings
    and each view's filters, order, sort and grouping."""
    names: set[str] = set()

    def filters(value: object) -> None:
        if isinstance(value, str):
            names.update(expression_names(value))
        elif isinstance(value, dict):
            for item in value.values():
                filters(item)
        elif isinstance(value, list):
            for item in value:
                filters(item)

    filters(base.get("filters"))
    for formula in base.get("formulas", {}).values():
        names.update(expression_names(formula))
    names.update(base.get("properties", {}))
    for view in base["views"]:
        filters(view.get("filters"))
        names.update(view.get("order", []))
        names.update(s["property"] for s in view.get("sort", []))
        if "groupBy" in view:
            names.add(view["groupBy"]["property"])
    return names


def test_every_property_and_formula_the_base_names_exists(vault: Path) -> None:
    base = yaml.safe_load((vault / "Papers.base").read_text(encoding="utf-8"))
    assert set(base) <= {"filters", "formulas", "properties", "summaries", "views"}
    note_properties: set[str] = set()
    for note in vault.rglob("*.md"):
        note_properties |= set(read_frontmatter(note.read_text(encoding="utf-8")).properties
                               or {})
    names = named_properties(base)
    assert {"date", "tags", "authors", "arxiv", "cited_by_count", "type"} <= names
    for name in names:
        scope, _, rest = name.partition(".")
        if scope == "formula":
            assert rest in base["formulas"], name
        elif scope == "file":
            assert rest in FILE_PROPERTIES, name
        else:
            assert (rest if scope == "note" else name) in note_properties, name


def test_the_views_a_reader_needs(vault: Path) -> None:
    base = yaml.safe_load((vault / "Papers.base").read_text(encoding="utf-8"))
    views = {view["name"]: view for view in base["views"]}
    assert list(views) == ["All papers", "By tag", "Without an arXiv id", "Only cited",
                           "Most cited"]
    assert views["All papers"]["order"][:5] == ["file.name", "date", "tags", "authors",
                                                "arxiv"]
    assert views["All papers"]["sort"] == [{"property": "date", "direction": "DESC"}]
    # Bases groups a list by the whole list: papers are grouped by their first tag.
    assert views["By tag"]["groupBy"]["property"] == "formula.main_tag"
    assert views["Most cited"]["sort"][0] == {"property": "cited_by_count",
                                              "direction": "DESC"}


def test_cited_by_count_is_a_number_on_every_paper(vault: Path) -> None:
    types = json.loads((vault / ".obsidian" / "types.json").read_text(encoding="utf-8"))
    assert types["types"]["cited_by_count"] == "number"
    assert types["types"]["citekey"] == "text"
    counts = {}
    for note in [*vault.glob("papers/*.md"), *vault.glob("cited/*.md")]:
        properties = read_frontmatter(note.read_text(encoding="utf-8")).properties or {}
        counts[note.stem] = properties["cited_by_count"]
    assert counts["GaLore 2"] == 2 and counts["MiMo"] == 0
    assert counts["The Hyperfitting Phenomenon"] == 1 and counts["arXiv 2301.99999"] == 1


OLDER = "views:\n- type: table\n  name: Papers\n"


def test_papers_base_is_rewritten_while_unchanged_since_written(vault: Path,
                                                                tmp_path: Path) -> None:
    base = vault / "Papers.base"
    current = base.read_text(encoding="utf-8")
    base.write_text(OLDER, encoding="utf-8")  # as an older vaultgen wrote it
    store = Store.open(vault)
    with store.transaction():
        store.set_view_hash("Papers.base", sha256(OLDER))
    store.close()
    err = build(tmp_path / "input", vault)
    assert base.read_text(encoding="utf-8") == current and "1 written" in err
    base.unlink()
    build(tmp_path / "input", vault)
    assert base.read_text(encoding="utf-8") == current


def test_a_base_the_user_changed_is_theirs_and_force_replaces_it(vault: Path,
                                                                 tmp_path: Path) -> None:
    base = vault / "Papers.base"
    current = base.read_text(encoding="utf-8")
    mine = current.replace("name: All papers", "name: My papers")  # as Obsidian saves it
    base.write_text(mine, encoding="utf-8")
    err = build(tmp_path / "input", vault)
    assert base.read_text(encoding="utf-8") == mine
    assert "Papers.base" not in err and "nothing changed" in err
    build(tmp_path / "input", vault, "--force")
    assert base.read_text(encoding="utf-8") == current
    [backup] = (vault / ".vaultgen" / "backup").glob("*/Papers.base")
    assert backup.read_text(encoding="utf-8") == mine


def test_a_base_the_user_made_is_never_replaced_without_force(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Papers.base").write_text(OLDER, encoding="utf-8")
    build(citing_posts(tmp_path / "input"), vault)
    assert (vault / "Papers.base").read_text(encoding="utf-8") == OLDER

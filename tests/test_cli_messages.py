"""What the commands say: warnings, counts, the build's summary, progress, names of papers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from vaultgen import __version__
from vaultgen.cli import cli

from .conftest import ROOT

HYPERFITTING = {"id": "2412.04318", "title": "The Hyperfitting Phenomenon: Sharpening and "
                "Stabilizing LLMs for Open-Ended Text Generation",
                "authors": ["Fredrik Carlsson"], "published": "2024-12-05T00:00:00Z"}
ALPHA = {"id": "2505.00001", "title": "Alpha: A Paper", "authors": ["Ann Author"],
         "published": "2025-04-20T00:00:00Z"}


def post(day: int, titles: list[str], *, tags: str = "#llm", cite: str = "") -> str:
    """A post of ``day`` (May 2025) with one entry per title."""
    lines = [f"2025-05-{day:02d}"]
    for title in titles:
        lines += [title, "(Ann Author)", "An abstract.", f"코멘트 {cite}".rstrip(), tags]
    return "\n".join(lines) + "\n"


def posts_of(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    for number, text in enumerate(texts, start=1):
        (folder / f"2025-05-{number:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def run(*args: str, color: bool = False) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, color=color)
    return result.exit_code, result.stdout, result.stderr


def vaultgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaultgen", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


# --- python -m vaultgen -------------------------------------------------------------------------

def test_python_dash_m_runs_the_command_line() -> None:
    helped = vaultgen("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout and "build" in helped.stdout
    versioned = vaultgen("--version")
    assert versioned.returncode == 0 and __version__ in versioned.stdout


# --- Names of papers ----------------------------------------------------------------------------

def test_a_cited_paper_unknown_to_the_cache_is_headed_by_its_note_name(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:1804.01756)"))
    vault = tmp_path / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    note = (vault / "cited" / "arXiv 1804.01756.md").read_text(encoding="utf-8")
    assert "\n# arXiv 1804.01756\n" in note
    assert "\ntitle: arXiv 1804.01756\n" in note
    assert "arXiv:1804.01756\n" in note  # still an alias, for searches by id

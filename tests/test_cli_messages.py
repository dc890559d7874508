"""What the commands say: warnings, counts, the build's summary, progress, names of papers."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen import __version__
from vaultgen.arxiv_mirror import Catalogue, MirrorServer
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


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    mirror = MirrorServer(Catalogue([HYPERFITTING, ALPHA])).start()
    yield mirror
    mirror.stop()


# --- python -m vaultgen -------------------------------------------------------------------------

def test_python_dash_m_runs_the_command_line() -> None:
    helped = vaultgen("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout and "build" in helped.stdout
    versioned = vaultgen("--version")
    assert versioned.returncode == 0 and __version__ in versioned.stdout


# --- Counts and nouns ---------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 papers"), (1, "1 paper"), (2, "2 papers"), (1, "1 entry"), (2, "2 entries"),
    (1, "1 cited paper"), (2, "2 cited papers"), (2, "2 communities"), (2, "2 indexes"),
    (2, "2 days"), (1, "1 day"), (1_000, "1000 warnings"),
])
def test_plural_names_the_count(count: int, expected: str) -> None:
    from vaultgen.wording import plural

    noun = {"papers": "paper", "entries": "entry", "communities": "community",
            "indexes": "index", "days": "day", "warnings": "warning"}
    word = expected.split(" ", 1)[1]
    singular = " ".join(noun.get(w, w) for w in word.split())
    assert plural(count, singular) == expected


NOUNS = ("post", "entry", "paper", "cited paper", "tag", "day", "link", "note", "file",
         "warning", "error", "component", "citation", "community", "request", "author", "title")
ONE = "|".join(NOUNS)
MANY = "|".join(re.sub("y$", "ie", noun) + "s" for noun in NOUNS)
SINGULAR_AFTER_MANY = re.compile(rf"(?<![\d.,:])\b(?:0|[2-9]|\d\d+) (?:{ONE})\b")
PLURAL_AFTER_ONE = re.compile(rf"(?<![\d.,:])\b1 (?:{MANY})\b")


def messages_of(tmp_path: Path, papers: int) -> str:
    """All that check, graph, stats and parse print for a vault of ``papers`` papers
    (one a day, each with one tag, the second citing the first)."""
    titles = ["Alpha: A Paper", "Beta: Another Paper"][:papers]
    texts = [post(n + 1, [title], tags=f"#t{n}",
                  cite="(arXiv:2412.04318)" if n == 0 else "") for n, title in enumerate(titles)]
    posts = posts_of(tmp_path, *texts)
    (posts / "2025-05-09.txt").write_text("2025-05-09\nstray text\n", encoding="utf-8")
    vault = tmp_path / "vault"
    said = []
    for args in (["build", str(posts), "-o", str(vault), "--offline"],
                 ["build", str(posts), "-o", str(vault), "--offline"],
                 ["parse", str(posts)], ["check", str(vault)], ["stats", str(vault)],
                 ["graph", str(vault)], ["graph", str(vault), "-f", "json"]):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        if args[0] != "build":
            said.append(result.stdout + result.stderr)
    return "\n".join(said)


@pytest.mark.parametrize("papers", [1, 2])
def test_every_command_names_its_counts_in_the_right_number(tmp_path: Path,
                                                            papers: int) -> None:
    said = messages_of(tmp_path, papers)
    assert not SINGULAR_AFTER_MANY.findall(said), said
    assert not PLURAL_AFTER_ONE.findall(said), said
    if papers == 1:
        assert "1 paper" in said and "1 day" in said and "1 warning" in said
    else:
        assert "2 papers" in said and "2 days" in said


# --- Names of papers ----------------------------------------------------------------------------

def test_a_cited_paper_unknown_to_the_cache_is_headed_by_its_note_name(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:1804.01756)"))
    vault = tmp_path / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    note = (vault / "cited" / "arXiv 1804.01756.md").read_text(encoding="utf-8")
    assert "\n# arXiv 1804.01756\n" in note
    assert "\ntitle: arXiv 1804.01756\n" in note
    assert "arXiv:1804.01756\n" in note  # still an alias, for searches by id


def test_stats_and_check_name_the_most_cited_papers_by_title(server: MirrorServer,
                                                             tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"),
                     post(2, ["Beta: Another Paper"], cite="(arXiv:1804.01756)"))
    vault = tmp_path / "vault"
    code, _, _ = run("build", str(posts), "-o", str(vault), "--arxiv-url", server.base_url,
                     "--arxiv-delay", "0")
    assert code == 0
    _, out, _ = run("stats", str(vault))
    assert re.search(r"^\s+1  The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for "
                     r"Open-Ended Text Generation \(arXiv:2412\.04318\)$", out, re.M), out
    assert re.search(r"^\s+1  arXiv 1804\.01756$", out, re.M), out
    _, out, _ = run("check", str(vault))
    assert "most cited: The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for " \
           "Open-Ended Text Generation (arXiv:2412.04318), cited by 1 paper" in out


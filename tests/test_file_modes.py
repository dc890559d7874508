"""Files vaultgen creates get the mode of a new file under the user's umask; files it replaces
keep the mode they had."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli

from .arxiv_server import Catalogue, MirrorServer
from .conftest import file_modes, post_folder, umask

POST = ("2025-05-01\nAlpha: A Paper\n(Ann Author)\nAbstract.\n코멘트.\n#llm\n"
        "Beta: Another Paper\n(Bo Author)\nAbstract.\nBuilds on arXiv:2203.03466.\n#llm #rl\n")
LATER_POST = "2025-05-02\nGamma: A Third Paper\n(Cy Author)\nAbstract.\n코멘트.\n#llm\n"
RECORDS = [{"id": "2203.03466", "title": "Tensor Programs V", "authors": ["Greg Yang"],
            "published": "2022-03-07T00:00:00Z"}]


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    server = MirrorServer(Catalogue(RECORDS)).start()
    yield server
    server.stop()


def write_post(folder: Path, name: str, text: str) -> None:
    """A post last changed an hour ago (a build records what it read only of settled files)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    hour_ago = path.stat().st_mtime - 3600
    os.utime(path, (hour_ago, hour_ago))


def build(posts: Path, vault: Path, server: MirrorServer, *options: str) -> None:
    result = CliRunner().invoke(cli, ["build", str(posts), "-o", str(vault), "--arxiv-url",
                                      server.base_url, "--arxiv-delay", "0", *options])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_every_file_a_build_creates_has_the_umask_mode(tmp_path: Path, server: MirrorServer,
                                                       mask: int) -> None:
    vault = tmp_path / "vault"
    with umask(mask):
        posts = post_folder(tmp_path, POST)
        write_post(posts, "2025-05-01.txt", POST)
        build(posts, vault, server)
        write_post(posts, "2025-05-02.txt", LATER_POST)
        build(posts, vault, server)
        note = vault / "papers" / "Alpha.md"
        note.write_text(note.read_text(encoding="utf-8").replace("Abstract.", "Mine."),
                        encoding="utf-8")
        build(posts, vault, server, "--force")  # a backup of the edited note
        plot = tmp_path / "plot.png"
        result = CliRunner().invoke(cli, ["stats", str(vault), "--plot", str(plot)])
        assert result.exit_code == 0, result.output
    found = file_modes(tmp_path)
    found.pop("input/2025-05-01.txt")  # written by the test
    found.pop("input/2025-05-02.txt")
    found.pop("vault/papers/Alpha.md")  # written by the test, then replaced
    for expected in ("input/arxiv-cache.json", "vault/.vaultgen/state.sqlite",
                     "vault/.vaultgen/lock", "vault/.obsidian/graph.json", "plot.png"):
        assert expected in found
    assert any(p.startswith("vault/.vaultgen/backup/") for p in found)
    assert {p: m for p, m in found.items() if m != 0o666 & ~mask} == {}


def test_a_file_a_build_replaces_keeps_its_mode(tmp_path: Path, server: MirrorServer) -> None:
    vault = tmp_path / "vault"
    with umask(0o022):
        posts = post_folder(tmp_path, POST)
        write_post(posts, "2025-05-01.txt", POST)
        build(posts, vault, server)
        build(posts, vault, server)  # every file of vaultgen's own written once
        for path in (*vault.rglob("*"), *posts.iterdir()):
            if path.is_file():
                path.chmod(0o640)
        before = {p.relative_to(tmp_path).as_posix(): p.stat().st_mtime_ns
                  for p in tmp_path.rglob("*") if p.is_file()}
        write_post(posts, "2025-05-02.txt", LATER_POST)
        build(posts, vault, server)
    after = file_modes(tmp_path)
    replaced = {p for p, mtime in before.items() if (tmp_path / p).stat().st_mtime_ns != mtime}
    assert {"vault/Index.md", "vault/.vaultgen/state.sqlite",
            "input/arxiv-cache.json"} <= replaced
    assert {p: oct(after[p]) for p in before if after[p] != 0o640} == {}
    assert set(after) - set(before) >= {"vault/papers/Gamma.md"}
    assert {p: oct(m) for p, m in after.items() if p not in before and m != 0o644} == {}

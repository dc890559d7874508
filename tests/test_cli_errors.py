"""Ordinary mistakes and file-system trouble, as a user meets them: one line, never a traceback."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.arxiv_mirror import Catalogue, MirrorServer
from vaultgen.cli import cli

from .conftest import post_folder, tree

POST = "2025-05-01\nAlpha: A Paper\n(Ann Author)\nAbstract.\n코멘트.\n#llm\n"
SECOND_POST = "2025-05-02\nBeta: Another Paper\n(Bo Author)\nAbstract.\n#llm\n"
NOBODY = 65534
RECORD = {"id": "2501.00001", "title": "Alpha: A Paper", "authors": ["Ann Author"],
          "published": "2025-04-30", "summary": "S"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def old_post_folder(tmp_path: Path, text: str = POST) -> Path:
    """``post_folder`` whose post was last changed a minute ago (a build records it)."""
    folder = post_folder(tmp_path, text)
    past = time.time() - 60
    for post in folder.iterdir():
        os.utime(post, (past, past))
    return folder


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return old_post_folder(tmp_path)


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    """A local arXiv API that knows the paper of ``POST``."""
    server = MirrorServer(Catalogue([RECORD])).start()
    yield server
    server.stop()


def assert_one_error(err: str, *parts: str) -> None:
    """An error of one line (and a hint) naming ``parts``, no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    for part in parts:
        assert part in lines[0], err


def files_with_times(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (vaultgen's own too), with its bytes and mtime."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- Usage: where to write ----------------------------------------------------------------

def test_output_that_is_a_file_is_a_usage_error(posts: Path, tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    code, _, err = run("build", str(posts), "-o", str(taken), "--offline")
    assert code == 2 and "Traceback" not in err
    assert f"{taken} is a file" in err
    assert taken.read_text(encoding="utf-8") == "mine\n"


def test_output_under_a_file_is_a_usage_error(posts: Path, tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    code, _, err = run("build", str(posts), "-o", str(taken / "vault"), "--offline")
    assert code == 2 and f"{taken} is a file" in err
    assert taken.read_text(encoding="utf-8") == "mine\n"


def test_cache_that_is_a_folder_or_under_a_file_is_a_usage_error(posts: Path,
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"), "--offline",
                       "--cache", str(folder))
    assert code == 2 and f"{folder} is a folder" in err
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"), "--offline",
                       "--cache", str(taken / "arxiv-cache.json"))
    assert code == 2 and f"{taken} is a file" in err
    assert not (tmp_path / "v").exists()


def test_a_missing_input_is_reported_and_the_rest_built(posts: Path, tmp_path: Path,
                                                        server: MirrorServer) -> None:
    missing = tmp_path / "nope"
    code, _, err = run("build", str(missing), str(posts), "-o", str(tmp_path / "v"),
                       "--arxiv-url", server.base_url, "--arxiv-delay", "0")
    assert code == 1 and f"{missing.as_posix()}:0: error: no such file or folder" in err
    assert (tmp_path / "v" / "papers" / "Alpha.md").exists()
    assert not missing.exists()  # the arXiv cache goes beside the first input that is there


def test_an_input_file_that_is_not_a_post(posts: Path, tmp_path: Path) -> None:
    other = tmp_path / "shopping.txt"
    other.write_text("milk\neggs\n", encoding="utf-8")
    code, _, err = run("build", str(other), "-o", str(tmp_path / "v"), "--offline")
    assert_one_error(err, "nothing to build", "shopping.txt:1")
    assert code == 1 and not (tmp_path / "v").exists()
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    code, _, err = run("build", str(picture), str(posts), "-o", str(tmp_path / "v"),
                       "--offline")
    assert code == 1 and "photo.png:1: error: not UTF-8" in err
    assert (tmp_path / "v" / "papers" / "Alpha.md").exists()


def test_an_input_that_is_neither_file_nor_folder(posts: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    code, _, err = run("build", str(pipe), str(posts), "-o", str(tmp_path / "v"), "--offline")
    assert code == 1 and f"{pipe.as_posix()}:0: error: not a file or folder" in err
    assert (tmp_path / "v" / "papers" / "Alpha.md").exists()


# --- A vault inside the input folder ------------------------------------------------------------

def test_vault_inside_the_input_folder_is_not_read_as_posts(posts: Path) -> None:
    vault = posts / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    notes = tree(vault)
    (posts / "2025-05-01.txt").touch()  # read again: not the short way of "nothing changed"
    code, _, second = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0 and ": warning:" not in second, second
    assert "1 entries" in second and "0 warnings" in second
    assert tree(vault) == notes


def test_folders_holding_a_vault_are_not_read_as_posts(posts: Path, tmp_path: Path) -> None:
    for marker in (".vaultgen", ".obsidian"):
        (posts / f"notes-{marker[1:]}" / marker).mkdir(parents=True)
        (posts / f"notes-{marker[1:]}" / "Some note.md").write_text("# A note\n",
                                                                    encoding="utf-8")
    # the output vault, before a build gave it its .vaultgen folder
    (posts / "out").mkdir()
    (posts / "out" / "Mine.md").write_text("mine\n", encoding="utf-8")
    code, _, err = run("build", str(posts), "-o", str(posts / "out"), "--offline")
    assert code == 0 and ": warning:" not in err, err
    code, out, err = run("parse", str(posts))
    assert code == 0 and "0 warnings" in err and len(out.splitlines()) == 1


def test_a_vault_named_as_input_is_refused(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    for named, output, why in ((vault, tmp_path / "other", "is a vault vaultgen built"),
                               (posts, posts, "is the vault being built")):
        code, _, err = run("build", str(named), "-o", str(output), "--offline")
        assert code == 1
        assert_one_error(err, "nothing to build", f"{named.as_posix()}:0: error: {why}")


def test_a_named_folder_obsidian_opened_is_read(posts: Path) -> None:
    (posts / ".obsidian").mkdir()
    code, out, _ = run("parse", str(posts))
    assert code == 0 and len(out.splitlines()) == 1

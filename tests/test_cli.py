"""The commands as a user runs them, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli

from .conftest import post_folder
from .doubles import break_a_link

POST = "2025-05-01\nAlpha: A Paper\n(Ann Author)\nAbstract.\n코멘트.\n#llm\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return post_folder(tmp_path, POST)


def test_parse_json_prints_one_object_per_entry(posts: Path) -> None:
    code, out, _ = run("parse", str(posts), "--json")
    assert code == 0
    [line] = out.splitlines()
    entry = json.loads(line)
    assert list(entry) == ["date", "title", "authors", "abstract", "comment_ko", "comment_en",
                           "tags", "cites", "source"]
    assert entry["date"] == "2025-05-01" and entry["tags"] == ["llm"]
    assert entry["source"] == f"{posts.as_posix()}/2025-05-01.txt:2"


def test_parse_summary_and_strict(posts: Path) -> None:
    (posts / "2025-05-02.txt").write_text("2025-05-02\nstray text\nB\n(X)\nabs\n",
                                          encoding="utf-8")
    code, out, err = run("parse", str(posts))
    assert code == 0 and "Alpha: A Paper" in out
    assert "2025-05-02.txt:2: warning" in err
    assert run("parse", str(posts), "--strict")[0] == 1


def test_parse_missing_input_and_bad_encoding(tmp_path: Path) -> None:
    code, _, err = run("parse", str(tmp_path / "nope"))
    assert code == 1 and "no such file or folder" in err
    bad = tmp_path / "2025-05-01.txt"
    bad.write_bytes(b"2025-05-01\nT\n(A)\n\xff\xfe bad\n")
    code, _, err = run("parse", str(bad))
    assert code == 1 and "2025-05-01.txt:4: error: not UTF-8" in err


def test_build_then_check(posts: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0
    assert "1 post, 1 entry" in err and "1 paper (" in err and "8 written" in err
    assert (vault / "papers" / "Alpha.md").exists()
    code, out, _ = run("check", str(vault))
    assert code == 0 and "0 errors" in out
    code, out, _ = run("check", str(vault), "--json")
    assert json.loads(out)["summary"]["by_type"]["paper"] == 1
    (vault / "Mine.md").write_text("[[Nowhere]]\n", encoding="utf-8")
    code, out, _ = run("check", str(vault))
    assert code == 1 and "Mine.md:1: error: broken link [[Nowhere]]" in out


def test_check_usage_error_exits_2(tmp_path: Path) -> None:
    assert run("check", str(tmp_path / "missing"))[0] == 2


def test_build_dry_run_lists_and_writes_nothing(posts: Path, tmp_path: Path) -> None:
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"), "--offline", "--dry-run")
    assert code == 0 and "would write papers/Alpha.md" in err
    assert not (tmp_path / "v").exists()


def test_build_refuses_a_vault_with_broken_links(posts: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    break_a_link(monkeypatch, "papers/Alpha.md", "Missing")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"), "--offline")
    assert code == 1 and "papers/Alpha.md:" in err and "broken link [[Missing]]" in err
    assert "Hint:" in err and "Traceback" not in err
    assert not (tmp_path / "v").exists()


def test_build_with_unreachable_arxiv_warns_once_and_finishes(posts: Path,
                                                              tmp_path: Path) -> None:
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"),
                       "--arxiv-url", "http://127.0.0.1:9", "--arxiv-delay", "0")
    assert code == 0 and err.count("continuing offline") == 1
    assert (tmp_path / "v" / "papers" / "Alpha.md").exists()


def test_build_without_any_entry_fails_and_writes_nothing(tmp_path: Path) -> None:
    code, _, err = run("build", str(tmp_path / "nope"), "-o", str(tmp_path / "v"), "--offline")
    assert code == 1 and "nothing to build" in err and "no such file or folder" in err
    assert not (tmp_path / "v").exists()


def test_build_goes_on_past_a_bad_file_and_exits_1(posts: Path, tmp_path: Path) -> None:
    (posts / "2025-05-02.txt").write_bytes(b"2025-05-02\nT\n(A)\n\xff\n")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "v"), "--offline")
    assert code == 1 and "2025-05-02.txt:4: error: not UTF-8" in err
    assert (tmp_path / "v" / "papers" / "Alpha.md").exists()

"""Ordinary mistakes and file-system trouble, as a user meets them: one line, never a traceback.

Tests about permissions run vaultgen in a process of an unprivileged user (``setpriv``), so
that mode bits bind even when the tests run as root (which ignores them); they are skipped
where no such process can be started.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli

from .arxiv_server import Catalogue, MirrorServer
from .conftest import post_folder, rebuilt_tree, tree
from .posts import write_post

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


# --- Full disks ------------------------------------------------------------------------------

def _disk_full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_writing_notes_fails_in_one_line(posts: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import vaultgen.write

    monkeypatch.setattr(vaultgen.write, "write_files", _disk_full)
    vault = tmp_path / "v"
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline", "-j", "1")
    assert code == 1
    assert_one_error(err, str(vault), "no space left on the device")
    assert not vault.exists()  # a vault the build would have made is not left behind
    monkeypatch.undo()
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0, err
    assert (vault / "papers" / "Alpha.md").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_disk_full_halfway_through_the_notes_loses_nothing(
        posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """The disk fills after some of a rebuild's notes are written: the build fails in one
    line; built again with room on the disk, the notes written before are taken as
    vaultgen's (not as notes the user changed), and the vault is the one a build from
    scratch makes."""
    import vaultgen.write

    vault = tmp_path / "v"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    for day in range(2, 9):
        (posts / f"2025-05-0{day}.txt").write_text(
            SECOND_POST.replace("2025-05-02", f"2025-05-0{day}").replace("Beta", f"Beta{day}"),
            encoding="utf-8")
    write_files = vaultgen.write.write_files
    room = [3]  # files the disk has room for

    def fills_up(batch: list[tuple[str, bytes, int | None]]) -> list[str]:
        written = []
        for item in batch:
            if room[0] == 0:
                _disk_full()
            room[0] -= 1
            written += write_files([item])
        return written

    with monkeypatch.context() as patch:
        patch.setattr(vaultgen.write, "write_files", fills_up)
        code, _, err = run("build", str(posts), "-o", str(vault), "--offline", "-j", "1")
    assert code == 1
    assert_one_error(err, str(vault), "no space left on the device")
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline", "-j", jobs)
    assert code == 0 and "\nkept " not in "\n" + err, err
    fresh = tmp_path / "fresh"
    assert run("build", str(posts), "-o", str(fresh), "--offline")[0] == 0
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)


def _limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``vaultgen ARGS`` in a process whose files may not grow past ``limit`` bytes: a real
    write error from the kernel (EFBIG: over the file size limit)."""
    limited = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
               "from vaultgen.cli import main; sys.argv[0] = 'vaultgen'; main()")
    return subprocess.run([sys.executable, "-c", limited, *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("limit", [200, 300_000])
def test_a_file_size_limit_fails_the_build_in_one_line(posts: Path, tmp_path: Path,
                                                       limit: int) -> None:
    """Over the limit when the build makes its state (200 bytes), or when a large post is
    recorded in it (300 KB): one line, no traceback; the next build completes."""
    write_post(posts / "2025-05-02.txt", SECOND_POST.replace(
        "Abstract.", "A long abstract. " * 25_000))
    vault = tmp_path / "v"
    done = _limited(limit, "build", str(posts), "-o", str(vault), "--offline")
    assert done.returncode == 1, done.stderr
    assert_one_error(done.stderr, str(vault))
    # the kernel's "File too large", or SQLite's word for it
    assert re.search(r"(too large|disk I/O error)", done.stderr), done.stderr
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0, err
    assert (vault / "papers" / "Beta.md").exists()


# --- Permissions --------------------------------------------------------------------------------

def _unprivileged_prefix() -> list[str] | None:
    """The command prefix that runs a process as a user that mode bits bind: none when this
    process is not root; ``setpriv`` to user nobody when it is; None when neither works."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder an unprivileged user owns, and a runner of vaultgen as that user (skips
    the test when no such process can run vaultgen here)."""
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot drop privileges")
    folder = Path(tempfile.mkdtemp(prefix="vaultgen-perm-"))
    os.chmod(folder, 0o755)
    if prefix:
        os.chown(folder, NOBODY, NOBODY)
    try:
        probe = subprocess.run([*prefix, sys.executable, "-c", "import vaultgen.cli"],
                               cwd=folder, capture_output=True, text=True)
        why = probe.stderr[-200:] if probe.returncode != 0 else None
    except OSError as err:
        why = str(err)
    if why is not None:
        shutil.rmtree(folder)
        pytest.skip(f"vaultgen cannot run as an unprivileged user here: {why}")
    yield folder
    _unlock(folder)
    shutil.rmtree(folder)


def _unlock(folder: Path) -> None:
    """Give back the permissions a test took from ``folder`` and the folders in it."""
    os.chmod(folder, 0o755)
    for inside in folder.iterdir():
        if inside.is_dir() and not inside.is_symlink():
            _unlock(inside)


def vaultgen(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``vaultgen ARGS`` in ``folder``, as the user who owns it."""
    prefix = _unprivileged_prefix()
    assert prefix is not None
    env = {**os.environ, "HOME": str(folder)}
    return subprocess.run([*prefix, sys.executable, "-m", "vaultgen.cli", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120, env=env)


def make_posts(folder: Path, *texts: str) -> Path:
    """An input folder of posts last changed a minute ago, owned as ``folder`` is."""
    posts = folder / "input"
    posts.mkdir(exist_ok=True)
    past = time.time() - 60
    for number, text in enumerate(texts, start=1):
        post = posts / f"2025-05-0{number}.txt"
        post.write_text(text, encoding="utf-8")
        os.utime(post, (past, past))
    _own_like(folder)
    return posts


def _own_like(folder: Path) -> None:
    owner = folder.stat()
    for inside in folder.rglob("*"):
        os.chown(inside, owner.st_uid, owner.st_gid, follow_symlinks=False)


def read_only(folder: Path) -> None:
    """Take write permission from ``folder`` and everything in it."""
    for inside in [folder, *folder.rglob("*")]:
        mode = inside.stat().st_mode
        os.chmod(inside, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.mark.parametrize("state", ["kept", "lost"])
def test_read_only_vault_with_nothing_to_do_succeeds_writing_nothing(shared_tmp: Path,
                                                                     state: str) -> None:
    """A read-only vault, with its ``.vaultgen`` or without it (a copy of the notes alone):
    the build works out that nothing would change, and writes nothing."""
    make_posts(shared_tmp, POST)
    assert vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline").returncode == 0
    vault = shared_tmp / "vault"
    if state == "lost":
        shutil.rmtree(vault / ".vaultgen")
    read_only(vault)
    before = files_with_times(vault)
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "nothing to change" in done.stderr
    assert files_with_times(vault) == before


def test_read_only_vault_that_must_change_fails_in_one_line(shared_tmp: Path) -> None:
    make_posts(shared_tmp, POST)
    assert vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline").returncode == 0
    vault = shared_tmp / "vault"
    make_posts(shared_tmp, POST, SECOND_POST)
    read_only(vault)
    before = files_with_times(vault)
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline")
    assert done.returncode == 1
    assert_one_error(done.stderr, "vault", "not writable")
    assert files_with_times(vault) == before


def test_vault_in_a_read_only_folder_fails_in_one_line(shared_tmp: Path) -> None:
    make_posts(shared_tmp, POST)
    (shared_tmp / "locked").mkdir()
    _own_like(shared_tmp)
    read_only(shared_tmp / "locked")
    done = vaultgen(shared_tmp, "build", "input", "-o", "locked/vault", "--offline")
    assert done.returncode == 1
    assert_one_error(done.stderr, "locked", "not writable")


def test_read_only_notes_folder_fails_in_one_line(shared_tmp: Path) -> None:
    make_posts(shared_tmp, POST)
    assert vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline").returncode == 0
    make_posts(shared_tmp, POST, SECOND_POST)
    read_only(shared_tmp / "vault" / "papers")
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline")
    assert done.returncode == 1
    assert_one_error(done.stderr, "vault/papers", "permission denied")


def test_unreadable_post_is_reported_and_the_rest_built(shared_tmp: Path) -> None:
    posts = make_posts(shared_tmp, POST, SECOND_POST)
    os.chmod(posts / "2025-05-02.txt", 0)
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "input/2025-05-02.txt:0: error: cannot read: Permission denied" in done.stderr
    assert (shared_tmp / "vault" / "papers" / "Alpha.md").exists()
    done = vaultgen(shared_tmp, "build", "input/2025-05-02.txt", "input/2025-05-01.txt",
                    "-o", "vault2", "--offline")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "input/2025-05-02.txt:0: error: cannot read: Permission denied" in done.stderr
    assert (shared_tmp / "vault2" / "papers" / "Alpha.md").exists()


def test_unreadable_input_folder_is_reported_and_the_rest_built(shared_tmp: Path) -> None:
    posts = make_posts(shared_tmp, POST)
    (posts / "2024").mkdir()
    (posts / "2024" / "2024-01-01.txt").write_text(SECOND_POST, encoding="utf-8")
    _own_like(shared_tmp)
    os.chmod(posts / "2024", 0)
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--offline")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "input/2024:0: error: cannot read folder: Permission denied" in done.stderr
    assert (shared_tmp / "vault" / "papers" / "Alpha.md").exists()
    os.chmod(posts, 0)
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault2", "--offline")
    assert done.returncode == 1
    assert_one_error(done.stderr, "nothing to build",
                     "input:0: error: cannot read folder: Permission denied")


def test_read_only_cache_fails_in_one_line(shared_tmp: Path, server: MirrorServer) -> None:
    make_posts(shared_tmp, POST)
    (shared_tmp / "caches").mkdir()
    _own_like(shared_tmp)
    read_only(shared_tmp / "caches")
    done = vaultgen(shared_tmp, "build", "input", "-o", "vault", "--cache",
                    "caches/arxiv-cache.json", "--arxiv-url", server.base_url,
                    "--arxiv-delay", "0")
    assert done.returncode == 1
    assert_one_error(done.stderr, "caches", "permission denied")


# --- A vault inside the input folder ------------------------------------------------------------

def test_vault_inside_the_input_folder_is_not_read_as_posts(posts: Path) -> None:
    vault = posts / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    notes = tree(vault)
    (posts / "2025-05-01.txt").touch()  # read again: not the short way of "nothing changed"
    code, _, second = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0 and ": warning:" not in second, second
    assert "1 post, 1 entry" in second and "warnings  none" in second
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


# --- check -------------------------------------------------------------------------------------

def test_check_of_a_folder_without_notes_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("not a note\n", encoding="utf-8")
    code, out, err = run("check", str(empty))
    assert code == 1 and "0 errors" not in out
    assert_one_error(err, str(empty), "holds no notes")
    code, out, err = run("check", str(empty), "--json")
    assert code == 1 and json.loads(out)["summary"]["notes"] == 0
    assert_one_error(err, str(empty), "holds no notes")


def test_a_ctrl_c_python_drops_in_a_callback_still_stops_the_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C that comes while Python runs a weakref callback or a finalizer is dropped by
    Python, with a traceback printed, and the command would go on: vaultgen presses it
    again, silently, and the command stops at its next step."""
    import weakref

    import vaultgen.cli

    def runs_with_the_hook(**_options: object) -> int:
        assert sys.unraisablehook is vaultgen.cli.press_ctrl_c_again_when_dropped
        return 0

    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # (put back after)
    monkeypatch.setattr(vaultgen.cli.cli, "main", runs_with_the_hook)
    with pytest.raises(SystemExit):
        vaultgen.cli.main()

    class Thing:
        pass

    def ctrl_c_in_a_callback(_: object) -> None:
        raise KeyboardInterrupt

    thing = Thing()
    ref = weakref.ref(thing, ctrl_c_in_a_callback)
    stopped = False
    try:
        del thing  # the callback runs, and its KeyboardInterrupt is dropped
        time.sleep(2)
    except KeyboardInterrupt:
        stopped = True
    assert stopped and ref() is None
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_while_the_command_is_still_importing_ends_it_quietly(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The ``vaultgen`` command pressed Ctrl-C to while Python imports its modules exits 130
    with a word, as it does later, and no traceback."""
    import importlib
    import tomllib

    import vaultgen

    scripts = tomllib.loads((Path(vaultgen.__file__).parents[1] / "pyproject.toml").read_text(
        encoding="utf-8"))["project"]["scripts"]
    module, function = scripts["vaultgen"].split(":")
    command = getattr(importlib.import_module(module), function)
    import builtins

    imported = builtins.__import__

    def import_pressed(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "vaultgen.cli":
            raise KeyboardInterrupt
        return imported(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", import_pressed)
    with pytest.raises(SystemExit) as stopped:
        command()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"

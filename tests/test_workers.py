"""Worker processes (``vaultgen build -j``): what they parse and write is what the build's own
process parses and writes, and a build that fails with them fails cleanly."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vaultgen.build import build_vault
from vaultgen.cli import cli
from vaultgen.errors import BrokenVaultError
from vaultgen.parse.inputs import read_post, read_posts_with
from vaultgen.workers import available_cpus, jobs_for, worker_pool

from .conftest import tree
from .doubles import PaperSource, break_a_link, post_text
from .posts import write_post


def posts_folder(tmp_path: Path) -> Path:
    """Five posts citing one another's papers, and one that is not UTF-8."""
    posts = tmp_path / "input"
    posts.mkdir()
    for day in range(1, 6):
        write_post(posts / f"2025-05-{day:02d}.txt", post_text(day, [
            (day - 1, "An abstract.", [day % 5, 5 + day % 3], ["llm", f"t{day}"]),
            (7, "", [], ["rl"]) if day == 3 else (day % 5 + 2, "B b.", [], [])]))
    (posts / "2025-05-09.txt").write_bytes(b"2025-05-09\nTitle \xff\n")
    os.utime(posts / "2025-05-09.txt", ns=(1_000_000_000, 1_000_000_000))
    return posts


def test_workers_read_the_posts_as_the_build_does(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    paths = sorted(p.as_posix() for p in posts.iterdir())
    alone = list(read_posts_with(paths, None))
    with worker_pool(2) as pool:
        spread = list(read_posts_with(paths, pool))
    assert spread == alone == [read_post(path) for path in paths]
    assert sum(len(read.entries) for read in spread) == 10
    assert any("not UTF-8" in str(d) for read in spread for d in read.diagnostics)


def test_a_build_with_workers_writes_what_one_process_writes(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    alone = build_vault([posts], one, source=PaperSource(), jobs=1)
    spread = build_vault([posts], two, source=PaperSource(), jobs=2)
    assert tree(two) == tree(one) and len(tree(one)) > 20
    assert spread.counts == alone.counts
    assert [str(d) for d in spread.diagnostics] == [str(d) for d in alone.diagnostics]
    assert sorted(spread.write.written) == sorted(alone.write.written)
    assert list(two.rglob("*.tmp")) == []  # every file the workers wrote renamed into place
    # the files the workers wrote are recorded as vaultgen's: nothing to do, and a change
    # rewrites only the notes it changes
    assert build_vault([posts], two, source=PaperSource(), jobs=2).write.changed == 0
    write_post(posts / "2025-05-02.txt", post_text(2, [(1, "Changed.", [], [])]))
    again = build_vault([posts], two, source=PaperSource(), jobs=2)
    assert 0 < len(again.write.written) < len(spread.write.written)
    assert not again.write.kept and not again.write.merged
    build_vault([posts], one, source=PaperSource(), jobs=1)
    assert tree(two) == tree(one)


def test_a_failed_build_with_workers_leaves_the_notes_as_they_were(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts, vault = posts_folder(tmp_path), tmp_path / "vault"
    build_vault([posts], vault, source=PaperSource(), jobs=2)
    before = tree(vault)
    write_post(posts / "2025-05-06.txt", post_text(6, [(4, "New.", [1], ["new"])]))
    with monkeypatch.context() as patch:
        break_a_link(patch, "tags/new (tag).md")
        with pytest.raises(BrokenVaultError, match=r"tags/new \(tag\).md:\d+: error: broken "
                                                   r"link \[\[Nowhere\]\]"):
            build_vault([posts], vault, source=PaperSource(), jobs=2)
    assert tree(vault) == before
    result = build_vault([posts], vault, source=PaperSource(), jobs=2)
    assert "tags/new (tag).md" in result.write.written and not result.write.kept


def test_how_many_jobs_a_build_starts() -> None:
    assert jobs_for(None, 3, 200) == 1 and jobs_for(0, 199, 200) == 1  # too little to gain
    assert jobs_for(0, 200, 200) == available_cpus()
    assert jobs_for(3, 1, 200) == 3 and jobs_for(1, 10_000, 200) == 1  # as asked


def test_the_command_line_takes_jobs(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    runner = CliRunner()
    one = runner.invoke(cli, ["build", str(posts), "-o", str(tmp_path / "one"), "--offline"])
    two = runner.invoke(cli, ["build", str(posts), "-o", str(tmp_path / "two"), "--offline",
                              "-j", "2"])
    assert one.exit_code == two.exit_code == 1, two.output  # the post that is not UTF-8
    assert "2025-05-09.txt:2: error: not UTF-8" in two.output
    assert two.output.replace("two", "one") == one.output
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
    refused = runner.invoke(cli, ["build", str(posts), "-j", "-1"])
    assert refused.exit_code == 2 and "-1" in refused.output


def _stop_this_worker(*_args: object) -> list[str]:
    os._exit(1)  # as a worker killed by the system


@pytest.mark.parametrize("stage", ["reading", "writing"])
def test_a_worker_that_stops_fails_the_build_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    """A worker process that dies (killed by the system) fails the build with one error;
    a vault the build was making is not left behind, and the next build completes."""
    import vaultgen.parse.inputs
    import vaultgen.write
    from vaultgen.errors import WorkerError

    posts, vault = posts_folder(tmp_path), tmp_path / "vault"
    with monkeypatch.context() as patch:
        if stage == "reading":
            patch.setattr(vaultgen.parse.inputs, "read_post", _stop_this_worker)
        else:
            patch.setattr(vaultgen.write, "write_files", _stop_this_worker)
        with pytest.raises(WorkerError, match="worker process stopped"):
            build_vault([posts], vault, source=PaperSource(), jobs=2)
    assert not vault.exists()
    build_vault([posts], vault, source=PaperSource(), jobs=2)
    fresh = tmp_path / "fresh"
    build_vault([posts], fresh, source=PaperSource(), jobs=1)
    assert tree(vault) == tree(fresh)


needs_signal_masks = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"),
                                        reason="Ctrl-C reaches the workers themselves")


@needs_signal_masks
def test_ctrl_c_while_the_workers_start_stops_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C pressed as the pool starts its workers stops the build once they have started,
    and no worker is left running."""
    from concurrent.futures.process import ProcessPoolExecutor

    submit = ProcessPoolExecutor.submit
    pressed: list[bool] = []

    def submit_then_press(self: ProcessPoolExecutor, *args: Any, **kwargs: Any) -> Any:
        if not pressed:
            pressed.append(True)
            signal.raise_signal(signal.SIGINT)
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit_then_press)
    entered = False
    with pytest.raises(KeyboardInterrupt), worker_pool(2):
        entered = True
    assert pressed and not entered
    assert multiprocessing.active_children() == []


def _press_ctrl_c_then_shut_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures.process import ProcessPoolExecutor

    shutdown = ProcessPoolExecutor.shutdown

    def press_then_shut_down(self: ProcessPoolExecutor, *args: Any, **kwargs: Any) -> None:
        signal.raise_signal(signal.SIGINT)
        shutdown(self, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "shutdown", press_then_shut_down)


@needs_signal_masks
def test_ctrl_c_while_the_pool_shuts_down_lets_the_work_under_way_finish(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C pressed while the pool waits for the work under way lets that work finish and
    every worker stop, and then stops the build."""
    _press_ctrl_c_then_shut_down(monkeypatch)
    with pytest.raises(KeyboardInterrupt), worker_pool(2) as pool:
        assert pool is not None
        under_way = pool.submit(time.sleep, 0.3)
        while not under_way.running():
            time.sleep(0.01)
    assert under_way.done() and under_way.exception() is None
    assert multiprocessing.active_children() == []


@needs_signal_masks
def test_an_error_that_stops_the_build_is_not_hidden_by_a_ctrl_c_as_the_pool_shuts_down(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _press_ctrl_c_then_shut_down(monkeypatch)
    with pytest.raises(BrokenVaultError), worker_pool(2):
        raise BrokenVaultError(["a.md:1: error: broken link [[b]]"])
    assert multiprocessing.active_children() == []


_MASKS = """
import os, signal
from vaultgen.workers import worker_pool

def blocked(pid):
    with open(f"/proc/{pid}/status") as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
    return bool(mask & 1 << (signal.SIGINT - 1))

def masks():
    return blocked(os.getppid()), blocked(os.getpid())

if __name__ == "__main__":
    with worker_pool(2) as pool:
        print(*pool.submit(masks).result(), blocked(os.getpid()))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_workers_and_their_server_start_with_ctrl_c_blocked(tmp_path: Path) -> None:
    """A worker process and the server it is forked from hold Ctrl-C blocked from their
    first moment (a Ctrl-C while they start up would stop them halfway, with a traceback),
    and the build's own process is left as it was."""
    script = tmp_path / "masks.py"
    script.write_text(_MASKS, encoding="utf-8")
    root = str(Path(__file__).resolve().parents[1])
    shown = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           check=True, timeout=60, env={**os.environ, "PYTHONPATH": root})
    assert shown.stdout.split() == ["True", "True", "False"], shown.stderr

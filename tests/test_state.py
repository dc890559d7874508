"""The state store at work: builds killed at any moment, two builds at once, vaults built by
an older vaultgen or whose state was lost."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.cli import cli
from vaultgen.state import STATE_FILE, BuildLock

from .conftest import DATA, rebuilt_tree
from .posts import make_posts, write_post

ROOT = Path(__file__).resolve().parents[1]


def build(inputs: Path, vault: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``vaultgen build`` in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "vaultgen", "build", str(inputs), "-o",
                           str(vault), "--offline", *extra], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=120)


def _default_sigint() -> None:
    # A child started from a background job inherits SIGINT ignored: a terminal's Ctrl-C
    # reaches a build that has it at its default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def build_killed(inputs: Path, vault: Path, after: float, sig: int, *extra: str
                 ) -> subprocess.CompletedProcess[str]:
    """A build whose whole process group gets ``sig`` ``after`` seconds in, as Ctrl-C in a
    terminal (SIGINT) or a kill (SIGKILL) does."""
    child = subprocess.Popen([sys.executable, "-m", "vaultgen", "build", str(inputs), "-o",
                              str(vault), "--offline", *extra], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, preexec_fn=_default_sigint)
    time.sleep(after)
    started = time.monotonic()
    with contextlib.suppress(ProcessLookupError):  # (it had finished)
        os.killpg(child.pid, sig)
    out, err = child.communicate(timeout=60)
    assert time.monotonic() - started < 10, "the build took long to stop"
    deadline = time.monotonic() + 5  # its workers and their server follow it out
    while time.monotonic() < deadline:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("processes of the build were left behind")
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def notes(vault: Path) -> dict[str, bytes]:
    return rebuilt_tree(vault)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three versions of a set of posts (each an input folder), and the vault a fresh
    build of each makes: ``v1``; ``v2``, every post edited; ``v3``, posts added and
    removed."""
    root = tmp_path_factory.mktemp("versions")
    made: dict[str, Path] = {}
    v1 = root / "v1"
    make_posts(v1, days=40, per_day=6, seed=1)
    v2 = root / "v2"
    shutil.copytree(v1, v2)
    for post in sorted(v2.glob("*.txt")):
        text = post.read_text(encoding="utf-8").replace("A study of", "A close study of")
        write_post(post, text)
    v3 = root / "v3"
    shutil.copytree(v2, v3)
    for post in sorted(v3.glob("*.txt"))[:3]:
        post.unlink()
    make_posts(v3, days=2, per_day=6, seed=9, first=1000,
               start=__import__("datetime").date(2024, 3, 1))
    for name, folder in (("v1", v1), ("v2", v2), ("v3", v3)):
        made[name] = folder
        fresh = root / f"fresh-{name}"
        result = build(folder, fresh)
        assert result.returncode == 0, result.stderr
        made[f"fresh-{name}"] = fresh
    return made


def _moments(count: int, seed: int, longest: float) -> list[float]:
    rng = random.Random(seed)
    return sorted(rng.uniform(0.05, longest) for _ in range(count))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_build_killed_at_any_moment_is_finished_by_the_next(
        versions: dict[str, Path], tmp_path: Path, sig: int) -> None:
    """A cold build, and a rebuild that rewrites every paper note, stopped at moments spread
    over their run; one more build gives the vault a fresh build gives, and when the posts
    change again every note follows."""
    started = time.monotonic()
    assert build(versions["v1"], tmp_path / "timing").returncode == 0
    longest = (time.monotonic() - started) * 1.2
    for trial, after in enumerate(_moments(4, seed=sig, longest=longest)):
        for scenario in ("cold", "rebuild"):
            vault = tmp_path / f"{scenario}-{trial}"
            inputs = versions["v1"]
            if scenario == "rebuild":
                shutil.copytree(versions["fresh-v1"], vault)
                inputs = versions["v2"]
            jobs = ("-j", "2") if trial % 2 else ()
            stopped = build_killed(inputs, vault, after, sig, *jobs)
            assert "Traceback" not in stopped.stderr, stopped.stderr
            if sig == signal.SIGINT and stopped.returncode != 0:
                # 130; or killed by the signal itself (a shell shows 130 too) before Python
                # had set its handler, in the first moments of the interpreter's start
                assert stopped.returncode in (130, -signal.SIGINT), stopped.stderr
            again = build(inputs, vault)
            assert again.returncode == 0, again.stderr
            assert "\nkept " not in "\n" + again.stderr, again.stderr
            fresh = versions["fresh-v1" if scenario == "cold" else "fresh-v2"]
            assert notes(vault) == notes(fresh), f"{scenario} stopped at {after:.2f} s"
            assert build(versions["v3"], vault).returncode == 0
            assert notes(vault) == notes(versions["fresh-v3"]), \
                f"{scenario} stopped at {after:.2f} s, then posts changed"


def test_two_builds_at_once_never_break_the_vault(versions: dict[str, Path],
                                                  tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    children = [subprocess.Popen([sys.executable, "-m", "vaultgen", "build",
                                  str(versions["v1"]), "-o", str(vault), "--offline"],
                                 cwd=ROOT, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(3)]
    results = [(child.wait(timeout=120), child.stderr.read()) for child in children]
    for code, err in results:
        assert "Traceback" not in err, err
        assert code == 0 or (code == 1 and "another build is running on" in err), err
    assert any(code == 0 for code, _ in results)
    assert notes(vault) == notes(versions["fresh-v1"])


def test_a_second_build_waits_then_says_another_is_running(versions: dict[str, Path],
                                                           tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    with BuildLock(vault):
        result = CliRunner().invoke(cli, ["build", str(versions["v1"]), "-o", str(vault),
                                          "--offline"])
    assert result.exit_code == 1
    assert f"another build is running on {vault}" in result.output
    assert not (vault / "papers").exists()
    assert build(versions["v1"], vault).returncode == 0  # the lock is free again


def test_a_vault_built_by_the_previous_vaultgen_is_taken_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vault an older vaultgen built (``vaultgen build input -o vault`` in its folder: its
    manifest), then used: a user section and a property added, a generated part edited, a
    note moved, a note of the user's."""
    shutil.copytree(DATA / "old-vault", tmp_path / "old")
    monkeypatch.chdir(tmp_path / "old")
    inputs, vault = Path("input"), Path("vault")
    before = notes(vault)
    result = CliRunner().invoke(cli, ["build", str(inputs), "-o", str(vault), "--offline"])
    assert result.exit_code == 0, result.output
    after = notes(vault)
    kept = [line for line in result.output.splitlines() if line.startswith("kept")]
    assert kept == ["kept papers/μP.md: you changed a generated part; kept (--force "
                    "regenerates it, saving yours in .vaultgen/backup)"]
    assert not (vault / ".vaultgen" / "manifest.json").exists()
    assert (vault / STATE_FILE).exists()
    fresh = tmp_path / "old" / "fresh"
    assert CliRunner().invoke(cli, ["build", str(inputs), "-o", str(fresh),
                                    "--offline"]).exit_code == 0
    want = notes(fresh)
    want["reading/S²R.md"] = want.pop("papers/S²R.md")  # where the user moved it
    for path in ("papers/μP.md", "My ideas.md", *(p for p in before if  # the user's
                                                  p.startswith(".obsidian/"))):
        want[path] = before[path]
    galore = after.pop("papers/GaLore 2.md").decode()
    assert "status: read" in galore and "on our runs" in galore
    assert galore.replace("status: read\n", "").replace(
        "I should try this optimiser on our runs.\n", "") == \
        want.pop("papers/GaLore 2.md").decode()
    assert after == want
    # the posts change: every note follows, the user's parts kept
    post = inputs / "2025-05-02.txt"
    write_post(post, post.read_text(encoding="utf-8").replace("#efficiency", "#memory"))
    result = CliRunner().invoke(cli, ["build", str(inputs), "-o", str(vault), "--offline"])
    assert result.exit_code == 0, result.output
    galore = (vault / "papers" / "GaLore 2.md").read_text(encoding="utf-8")
    assert "memory" in galore and "status: read" in galore and "on our runs" in galore
    assert (vault / "tags" / "memory (tag).md").exists()
    assert not (vault / "tags" / "efficiency (tag).md").exists()


def test_a_vault_whose_state_was_lost_keeps_its_names_and_the_users_notes(
        versions: dict[str, Path], tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(versions["fresh-v1"], vault)
    some = sorted((vault / "papers").glob("*.md"))[3]
    some.write_text(some.read_text(encoding="utf-8") + "My thoughts.\n", encoding="utf-8")
    shutil.rmtree(vault / ".vaultgen")
    before = notes(vault)
    result = build(versions["v1"], vault)
    assert result.returncode == 0, result.stderr
    assert "\nkept " not in "\n" + result.stderr
    assert notes(vault) == before
    assert build(versions["v2"], vault).returncode == 0
    assert "My thoughts." in some.read_text(encoding="utf-8")
    assert "A close study" in some.read_text(encoding="utf-8")


def test_check_stats_and_graph_read_a_read_only_vault(versions: dict[str, Path],
                                                      tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(versions["fresh-v1"], vault)
    state = json.dumps(sorted(p.name for p in (vault / ".vaultgen").iterdir()))
    for command in (["check", str(vault)], ["stats", str(vault)],
                    ["graph", str(vault), "-f", "json", "-o", str(tmp_path / "g.json")]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, result.output
    assert json.dumps(sorted(p.name for p in (vault / ".vaultgen").iterdir())) == state


def test_a_note_the_user_renamed_keeps_its_name_and_is_linked_by_it(
        versions: dict[str, Path], tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(versions["fresh-v1"], vault)
    old = sorted((vault / "papers").glob("*.md"))[7]
    (vault / "reading").mkdir()
    new = vault / "reading" / "A name of my own.md"
    old.rename(new)
    result = build(versions["v2"], vault)
    assert result.returncode == 0, result.stderr
    assert not old.exists() and "A close study" in new.read_text(encoding="utf-8")
    linking = [p for p in vault.rglob("*.md") if f"[[{old.stem}]]" in p.read_text("utf-8")]
    assert linking == []
    assert any("[[A name of my own]]" in p.read_text(encoding="utf-8")
               for p in (vault / "days").glob("*.md"))
    check = CliRunner().invoke(cli, ["check", str(vault)])
    assert "broken" not in check.output, check.output

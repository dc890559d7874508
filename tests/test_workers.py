"""Worker processes (``vaultgen build -j``): what they parse and write is what the build's own
process parses and writes, and a build that fails with them leaves the vault as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen.build import build_vault
from vaultgen.cli import cli
from vaultgen.errors import BrokenVaultError
from vaultgen.inputs import ParseCache, read_posts_apart
from vaultgen.workers import FileBatches, available_cpus, jobs_for, worker_pool

from .conftest import tree
from .test_increment import PaperSource, manifest_of, post_text
from .test_incremental import write_post


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


def test_workers_parse_the_posts_as_the_build_does(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    alone, alone_texts = read_posts_apart([posts], ParseCache(None))
    spread, spread_texts = read_posts_apart([posts], ParseCache(None), jobs=2)
    assert spread.entries == alone.entries and len(alone.entries) == 10
    assert [e.digest for e in spread.entries] == [e.digest for e in alone.entries]
    assert [str(d) for d in spread.diagnostics] == [str(d) for d in alone.diagnostics]
    assert any("not UTF-8" in str(d) for d in spread.diagnostics)
    assert [spread_texts.full(e) for e in spread.entries] == \
        [alone_texts.full(e) for e in alone.entries]


def test_the_parse_cache_rows_workers_make_are_those_made_here(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    saved = {}
    for jobs in (1, 2):
        cache = ParseCache.load(tmp_path / f"cache-{jobs}")
        read_posts_apart([posts], cache, jobs=jobs)
        cache.save()
        saved[jobs] = {shard.name: json.loads(shard.read_bytes())
                       for shard in sorted((tmp_path / f"cache-{jobs}").iterdir())}
    assert saved[2] == saved[1]
    rows = [row for name, shard in saved[1].items() if not name.endswith(".text.json")
            for row in shard["files"].values()]
    assert sum(len(row["entries"]) for row in rows) == 10
    assert any("not UTF-8" in d[2] for row in rows for d in row["diagnostics"])
    again = ParseCache.load(tmp_path / "cache-2")  # and read back, nothing parsed again
    assert read_posts_apart([posts], again, jobs=2)[0].entries == \
        read_posts_apart([posts], ParseCache(None))[0].entries
    assert not again.dirty  # every post read from the cache, none parsed


def test_a_build_with_workers_writes_what_one_process_writes(tmp_path: Path) -> None:
    posts = posts_folder(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    alone = build_vault([posts], one, source=PaperSource(), jobs=1)
    spread = build_vault([posts], two, source=PaperSource(), jobs=2)
    assert tree(two) == tree(one) and len(tree(one)) > 20
    assert manifest_of(two) == manifest_of(one)
    assert spread.counts == alone.counts
    assert [str(d) for d in spread.diagnostics] == [str(d) for d in alone.diagnostics]
    assert not (two / ".vaultgen" / "staging").exists()  # every staged file moved
    # each file's size and mtime recorded as the worker left them, so that the next build
    # takes the file as vaultgen wrote it
    for path, entry in manifest_of(two).items():
        assert entry["size"] == (two / path).stat().st_size, path
    (posts / "2025-05-02.txt").write_text(post_text(2, [(1, "Changed.", [], [])]), "utf-8")
    again = build_vault([posts], two, source=PaperSource(), jobs=2)
    assert 0 < len(again.write.written) < len(spread.write.written)
    assert len(again.write.unchanged) > 10


def test_a_failed_build_with_workers_leaves_the_vault_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.build
    from vaultgen.model import Note
    from vaultgen.render import NotePlan

    posts, vault = posts_folder(tmp_path), tmp_path / "vault"
    build_vault([posts], vault, source=PaperSource(), jobs=2)
    before = tree(vault, skip=())
    write_post(posts / "2025-05-06.txt", post_text(6, [(4, "New.", [1], ["new"])]))
    bad = Note("papers/Zeta.md", "[[Nowhere]]\n", "paper", "zeta")
    planned = vaultgen.build._write_notes

    def with_a_broken_note(plans, *args):  # type: ignore[no-untyped-def]
        return planned([NotePlan(bad.path, bad.kind, bad.key, "x", lambda: bad), *plans],
                       *args)

    monkeypatch.setattr(vaultgen.build, "_write_notes", with_a_broken_note)
    with pytest.raises(BrokenVaultError, match=r"papers/Zeta.md:\d+: error: broken link "
                                               r"\[\[Nowhere\]\]"):
        build_vault([posts], vault, source=PaperSource(), jobs=2)
    after = tree(vault, skip=())
    assert {p: after[p] for p in before if not p.startswith(".vaultgen/")} == \
        {p: before[p] for p in before if not p.startswith(".vaultgen/")}
    assert not (vault / ".vaultgen" / "staging").exists()  # what the workers wrote dropped
    assert after[".vaultgen/manifest.json"] == before[".vaultgen/manifest.json"]


def test_file_batches_give_each_files_size_and_time(tmp_path: Path) -> None:
    with worker_pool(2) as pool:
        files = FileBatches(pool, batch_bytes=100)
        paths = [os.fspath(tmp_path / f"{number}.tmp") for number in range(40)]
        for number, path in enumerate(paths):
            files.write(path, b"x" * number)
        sizes, mtimes = files.finish()
        assert list(sizes) == list(range(40))
        assert list(mtimes) == [os.stat(path).st_mtime_ns for path in paths]
        refused = FileBatches(pool, batch_bytes=1)
        refused.write(os.fspath(tmp_path / "0.tmp"), b"again")  # there already
        with pytest.raises(FileExistsError):
            refused.finish()
    assert (tmp_path / "0.tmp").read_bytes() == b""


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


def _stop_this_worker(batch: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    os._exit(1)  # as a worker killed by the system


def test_a_worker_that_stops_fails_the_build_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vaultgen.workers
    from vaultgen.errors import WorkerError

    posts, vault = posts_folder(tmp_path), tmp_path / "vault"
    monkeypatch.setattr(vaultgen.workers, "write_files", _stop_this_worker)
    with pytest.raises(WorkerError, match="worker process stopped"):
        build_vault([posts], vault, source=PaperSource(), jobs=2)
    assert not (vault / ".vaultgen" / "staging").exists()
    assert not (vault / "papers").exists()

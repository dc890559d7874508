"""Related papers in a built vault: each paper note's ``related`` property and Links line,
the ``--related`` setting the vault remembers, and a daily build that updates only the lists
its papers touch."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import frontmatter
from click.testing import CliRunner

from vaultgen.arxiv.client import ArxivCache, ArxivSource
from vaultgen.build import build_vault
from vaultgen.cli import cli

from .posts import make_posts


def build(inputs: Path, vault: Path, **options: object):  # type: ignore[no-untyped-def]
    source = ArxivSource(ArxivCache(inputs / "arxiv-cache.json"), offline=True)
    return build_vault([inputs], vault, source=source, jobs=1, **options)  # type: ignore[arg-type]


def related_lists(vault: Path) -> dict[str, list[str]]:
    """Each paper note's related papers, by note name, as its property names them."""
    lists = {}
    for path in sorted((vault / "papers").glob("*.md")):
        values = frontmatter.loads(path.read_text(encoding="utf-8")).metadata.get("related", [])
        lists[path.stem] = [re.fullmatch(r"\[\[(.+)\]\]", v).group(1) for v in values]  # type: ignore[union-attr]
    return lists


def links_line(vault: Path, name: str) -> str | None:
    text = (vault / "papers" / f"{name}.md").read_text(encoding="utf-8")
    found = re.search(r"^Related (.*)$", text, re.M)
    return found.group(1) if found else None


def test_every_paper_lists_other_paper_notes_most_similar_first(tmp_path: Path) -> None:
    inputs = tmp_path / "input"
    make_posts(inputs, days=6, per_day=3, seed=11)
    build(inputs, tmp_path / "one")
    build(inputs, tmp_path / "two")
    lists = related_lists(tmp_path / "one")
    assert lists == related_lists(tmp_path / "two")  # the same posts, the same lists
    assert sum(1 for near in lists.values() if near) == len(lists) == 18
    for name, near in lists.items():
        assert name not in near and len(near) == len(set(near)) <= 5
        assert all((tmp_path / "one" / "papers" / f"{n}.md").exists() for n in near)
        assert links_line(tmp_path / "one", name) == ", ".join(f"[[{n}]]" for n in near)


def test_the_number_of_related_papers_is_remembered_and_zero_turns_them_off(
        tmp_path: Path) -> None:
    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=4, per_day=3, seed=12)
    runner = CliRunner()
    args = ["build", str(inputs), "-o", str(vault), "--offline"]
    assert runner.invoke(cli, [*args, "--related", "2"]).exit_code == 0
    assert max(len(near) for near in related_lists(vault).values()) == 2
    assert runner.invoke(cli, args).exit_code == 0  # (remembered)
    assert max(len(near) for near in related_lists(vault).values()) == 2
    assert runner.invoke(cli, [*args, "--related", "0"]).exit_code == 0
    assert not any(related_lists(vault).values())
    assert all(links_line(vault, name) is None for name in related_lists(vault))
    result = runner.invoke(cli, args)
    assert result.exit_code == 0 and "nothing changed" in result.stderr
    assert runner.invoke(cli, [*args, "--related", "5"]).exit_code == 0
    assert max(len(near) for near in related_lists(vault).values()) == 5


def test_a_new_day_changes_only_its_papers_lists_and_those_it_enters(tmp_path: Path) -> None:
    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=8, per_day=3, seed=13)
    build(inputs, vault)
    before = related_lists(vault)
    make_posts(inputs, days=1, per_day=3, seed=14, first=100, start=dt.date(2024, 2, 1))
    result = build(inputs, vault)
    after = related_lists(vault)
    new = set(after) - set(before)
    assert len(new) == 3 and all(after[name] for name in new)
    changed = {name for name in before if after[name] != before[name]}
    assert changed, "no list took in a new paper"
    for name in changed:  # a list changes only by taking in new papers
        assert set(after[name]) - set(before[name]) <= new
        assert set(after[name]) & new
    rewritten = {Path(p).stem for p in result.write.written + result.write.merged
                 if p.startswith("papers/")}
    assert rewritten - new <= changed | cited_or_citing(vault, new)


def cited_or_citing(vault: Path, names: set[str]) -> set[str]:
    """The papers whose notes link to ``names`` in their text, or that they cite (their
    "Cited by" lists change)."""
    found = set()
    for path in (vault / "papers").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        body = text.split("## Links")[0]
        if path.stem in names:
            found |= set(re.findall(r"\[\[([^\]|#]+)", body))
        elif any(f"[[{n}" in body for n in names):
            found.add(path.stem)
    return found


def test_a_removed_post_leaves_no_list_naming_its_papers(tmp_path: Path) -> None:
    inputs, vault = tmp_path / "input", tmp_path / "vault"
    posts = make_posts(inputs, days=6, per_day=3, seed=15)
    build(inputs, vault)
    gone_names = set(related_lists(vault))
    posts[2].unlink()
    build(inputs, vault)
    lists = related_lists(vault)
    gone_names -= set(lists)
    assert len(gone_names) == 3
    assert not any(set(near) & gone_names for near in lists.values())
    assert sum(1 for near in lists.values() if len(near) == 5) == len(lists)


def test_a_vault_whose_state_was_lost_takes_fresh_lists_and_keeps_every_note(
        tmp_path: Path) -> None:
    import shutil

    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=6, per_day=3, seed=16)
    build(inputs, vault)
    for day in range(3):  # lists updated day by day, under the model of the first build
        make_posts(inputs, days=1, per_day=3, seed=20 + day, first=100 + 10 * day,
                   start=dt.date(2024, 2, 1) + dt.timedelta(days=day))
        build(inputs, vault)
    stepwise = related_lists(vault)
    shutil.rmtree(vault / ".vaultgen")
    result = build(inputs, vault)
    assert result.write.kept == []
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert related_lists(vault) == related_lists(fresh) != stepwise


def test_a_build_without_change_writes_nothing_with_related_papers_turned_off(
        tmp_path: Path) -> None:
    inputs, vault = tmp_path / "input", tmp_path / "vault"
    make_posts(inputs, days=3, per_day=2, seed=17)
    build(inputs, vault, related=0)
    store = vault / ".vaultgen" / "state.sqlite"
    before = store.stat().st_mtime_ns, store.read_bytes()
    assert build(inputs, vault, related=0).write.changed == 0
    assert (store.stat().st_mtime_ns, store.read_bytes()) == before

"""Test doubles for builds: arXiv record sources held in memory, small posts that cite one
another, and a renderer that puts a broken link into a note."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from vaultgen.model import ArxivRecord, Entry, Note


class CountingSource:
    """A record source that knows the records of some titles and counts how often it is
    asked. ``version`` stands for the state of its answers (an arXiv cache file): a build
    that finds it changed asks again for every entry."""

    def __init__(self, records: dict[str, ArxivRecord] | None = None, *,
                 version: int | None = 1) -> None:
        self.records = records or {}
        self.asked = 0
        self.titles_asked: list[str] = []
        self.version = version

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        self.asked += 1
        self.titles_asked += [e.title for e in entries]
        return {i: self.records[e.title] for i, e in enumerate(entries)
                if e.title in self.records}

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        known = {r.id: r for r in self.records.values()}
        return {i: known[i] for i in ids if i in known}

    def state(self) -> dict[str, object] | None:
        return None if self.version is None else {"version": self.version}


TITLES = ["Alpha: First Paper", "Beta: Second Paper", "Gamma Net", "Delta Scaling",
          "Epsilon Search", "Zeta: Sixth", "Eta Theta", "Iota"]
# Titles 0-4 are on arXiv as 2501.0000N, titles 5-7 are not; 2501.00005-7 are papers only cited.
RECORDS = {t: ArxivRecord(f"2501.{i:05d}", t, ("Ann Author",), summary=f"Summary {i}.",
                          published="2025-01-01") for i, t in enumerate(TITLES[:5])}
CITED = {f"2501.{i:05d}": ArxivRecord(f"2501.{i:05d}", f"Cited Work {i}", ("Bo Writer",),
                                      summary=f"Cited summary {i}.", published="2024-12-01")
         for i in range(5, 8)}


class PaperSource(CountingSource):
    """``RECORDS`` by title, and ``CITED`` too by id."""

    def __init__(self) -> None:
        super().__init__(RECORDS)

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        known = {r.id: r for r in [*RECORDS.values(), *CITED.values()]}
        return {i: known[i] for i in ids if i in known}


def post_text(day: int, entries: Sequence[tuple[int, str, list[int], list[str]]]) -> str:
    """A post of May ``day``, 2025: entries as (title number in ``TITLES``, abstract, the
    numbers of the arXiv ids 2501.0000N its commentary cites, tags)."""
    lines = [f"2025-05-{day:02d}"]
    for title, abstract, cites, tags in entries:
        cite_text = " ".join(f"See (https://arxiv.org/abs/2501.{c:05d})." for c in cites)
        lines += [TITLES[title], "(Ann Author)", abstract, f"코멘트 {cite_text}",
                  *([" ".join(f"#{t}" for t in tags)] if tags else [])]
    return "\n".join(lines) + "\n"


def break_a_link(monkeypatch: pytest.MonkeyPatch, path: str, target: str = "Nowhere") -> None:
    """Make the build render the note at ``path`` with a link to ``target``, a note the
    vault does not hold."""
    import vaultgen.build

    render = vaultgen.build.render_spec

    def with_a_broken_link(*args, **kwargs):  # type: ignore[no-untyped-def]
        note: Note = render(*args, **kwargs)
        if note.path != path:
            return note
        return dataclasses.replace(note, text=f"{note.text}[[{target}]]\n")

    monkeypatch.setattr(vaultgen.build, "render_spec", with_a_broken_link)


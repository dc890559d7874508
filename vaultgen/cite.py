"""What a build keeps for citing from the vault: citation keys, and ``papers.bib``.

``citekeys_for`` gives every paper's note (and every cited paper's, once arXiv knows its
authors and title) a citation key, kept for good in the state store: a key never changes once
given, whatever later posts bring. ``BibKeeper`` keeps ``papers.bib`` at the vault root (with
``vaultgen build --bib``): the BibTeX entry of each note is made when the note is rendered and
held in the store, and the file is written again only when an entry changed.

What makes keys and entries (anyascii, bibtexparser) is imported when a build first needs it:
a build that changes nothing needs neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor

from .model import PAPER_TYPES, Note
from .plan import NoteSpec, PlannedPaper
from .state import Store
from .workers import Batches
from .write import KEPT_CHANGED, VaultWriter

BIB_PATH = "papers.bib"
BIB_SETTING = "setting:bib"  # (meta) "on" while the vault keeps papers.bib
_BIB_STALE = "papers.bib:stale"  # (meta) set while papers.bib lags behind the entries held


def citekeys_for(store: Store, papers: Sequence[PlannedPaper],
                 cited: Sequence[str]) -> dict[str, str]:
    """The citation key of each paper's note, by identity (``plan.plan_vault`` asks for them):
    those given before, and new ones for the notes without, given in order (papers in order
    of first posting, then papers only cited) and kept in the store."""
    given = store.citekeys()
    keys: dict[str, str] = {}
    carried: dict[str, str] = {}
    forget: list[str] = []
    new_papers: list[PlannedPaper] = []
    for paper in papers:
        note = f"paper:{paper.key}"
        key = given.get(note)
        if key is None and paper.arxiv:  # the same paper known before by its title, or cited
            for before in (f"paper:title:{paper.first.title}", f"cited:{paper.arxiv}"):
                if before in given:
                    key = carried[note] = given[before]
                    forget.append(before)
                    break
        if key is None:
            new_papers.append(paper)
        else:
            keys[note] = key
    new_cited = []
    for arxiv_id in cited:
        note = f"cited:{arxiv_id}"
        key = given.get(note)
        if key is None and f"paper:{arxiv_id}" in given:  # a paper no longer posted, cited
            key = carried[note] = given[f"paper:{arxiv_id}"]
            forget.append(f"paper:{arxiv_id}")
        if key is None:
            new_cited.append(arxiv_id)
        else:
            keys[note] = key
    if not (new_papers or new_cited or carried):
        return keys
    records = store.record_citations([p.arxiv for p in new_papers if p.arxiv] + new_cited)
    new_cited = [i for i in new_cited  # (arXiv knows its first author and title)
                 if (record := records.get(i)) is not None and record[0] and record[2]]
    if not (new_papers or new_cited or carried):
        return keys
    from .render.citekeys import assign_citekeys

    wanted = _key_bases(store, new_papers, new_cited, records)
    new = assign_citekeys(wanted, given.values())
    store.give_citekeys({**carried, **new}, forget)
    keys.update(new)
    return keys


def _key_bases(store: Store, papers: Sequence[PlannedPaper], cited: Sequence[str],
               records: Mapping[str, tuple[str | None, int, str, str]]
               ) -> list[tuple[str, str]]:
    """(note, key base) of new notes, in order (papers only cited: those whose first author
    and title arXiv gives). A paper's first author is its note's (``paper_authors``:
    arXiv's when the post named fewer authors); ``records``: (first author, authors, title,
    published) of the records of their ids (``Store.record_citations``)."""
    from .render.citekeys import citekey_base

    posted = store.first_authors((p.first.source.path, p.first.source.line) for p in papers)
    wanted = []
    for paper in papers:
        first = paper.first
        author, count = posted.get((first.source.path, first.source.line), (None, 0))
        record = records.get(paper.arxiv) if paper.arxiv else None
        year = first.date.year
        if record is not None:
            if record[1] > count and record[0]:
                author = record[0]
            year = _year(record[3]) or year
        wanted.append((f"paper:{paper.key}", citekey_base(author, year, first.title)))
    for arxiv_id in cited:
        found = records[arxiv_id]
        wanted.append((f"cited:{arxiv_id}", citekey_base(found[0], _year(found[3]), found[2])))
    return wanted


def _year(published: str) -> int | None:
    return int(published[:4]) if published[:4].isdigit() else None


class BibKeeper:
    """``papers.bib`` at the vault root, while the vault keeps one (``on``): the BibTeX entry
    of every paper's note with a citation key, in the order of the keys. The entries of the
    notes a build renders are made as they come (by the pool's workers, when there is one)."""

    def __init__(self, store: Store, on: bool) -> None:
        self.store = store
        self.on = on
        self.held = store.bib_notes() if on else set()  # notes whose entry the store holds
        if not on:  # (a vault that kept one no longer does: entries made anew if it will)
            store.forget_bib_entries()
            store.set_meta(_BIB_STALE, None)
        self._batches: Batches[tuple[str, Mapping[str, object]], tuple[str, str, str]] | None \
            = None

    def wanted(self, spec: NoteSpec) -> bool:
        """Whether a note is to be rendered for its entry alone (the store holds none)."""
        return self.on and spec.kind in PAPER_TYPES and spec.note not in self.held

    def start(self, pool: Executor | None) -> None:
        """Make the entries of the notes to come in ``pool``'s workers (None: in this
        process), 500 at a time."""
        if self.on:
            from .render.references import bibtex_rows

            self._batches = Batches(pool, bibtex_rows, self._keep, batch_size=500,
                                    in_flight=8)

    def add(self, specs: Sequence[NoteSpec], notes: Sequence[Note]) -> None:
        """The entries of notes just rendered (after ``start``)."""
        if self._batches is None:
            return
        for spec, note in zip(specs, notes, strict=True):
            if spec.kind in PAPER_TYPES:
                self._batches.put((spec.note, note.properties or {}))

    def settle(self) -> None:
        """Every entry under way made and held."""
        if self._batches is not None:
            self._batches.finish()
            self._batches = None

    def _keep(self, rows: list[tuple[str, str, str]]) -> None:
        if not rows:
            return
        with self.store.transaction():
            if self.store.put_bib_entries(rows):
                self.store.set_meta(_BIB_STALE, "1")

    def finish(self, planned: Iterable[str], writer: VaultWriter) -> None:
        """Forget the entries of notes the vault no longer has, and write ``papers.bib`` when
        an entry changed since it was written, or it is missing."""
        if not self.on:
            return
        self.settle()
        store = self.store
        gone = self.held.difference(planned)
        if gone:
            with store.transaction():
                if store.forget_bib_entries(gone):
                    store.set_meta(_BIB_STALE, "1")
        if store.meta(_BIB_STALE) is None and (writer.vault / BIB_PATH).exists():
            return
        if not writer.force and writer.owned_by_user(BIB_PATH):  # (its entries not even read)
            writer.report.kept.append((BIB_PATH, KEPT_CHANGED))
            return
        from .render.references import bibtex_file

        if writer.write_owned(BIB_PATH, bibtex_file(store.bib_entries())) \
                and not writer.dry_run:
            with store.transaction():
                store.set_meta(_BIB_STALE, None)

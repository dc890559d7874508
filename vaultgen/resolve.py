"""Resolving entries into papers: arXiv records matched to entries, duplicates merged.

The matching rules are pure functions here; the network sits behind a ``RecordSource``
(``vaultgen.arxiv_client.ArxivSource``) passed in from the edge.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import ArxivRecord, Entry, EntryTextSource, Library, Paper
from .names import tex_to_text
from .tags import NO_ALIASES, TagAliases, with_canonical_tags

_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_NON_WORD = re.compile(r"[^\w]+")


@functools.lru_cache(maxsize=1 << 20)  # titles and author names of a run, computed once
def title_key(title: str) -> str:
    """A title reduced to what two spellings of it share: case, TeX, accents, dashes, spacing.

    ``$\\mu$P: Scaling`` and ``μP — scaling`` have one key.
    """
    text = tex_to_text(title)
    if not text.isascii():  # ASCII has no accents, compatibility forms or Unicode dashes
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = _DASHES.sub("-", text)
    text = text.casefold()
    text = text.replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


@functools.lru_cache(maxsize=1 << 20)
def _surname_key(author: str) -> str:
    parts = title_key(author).split()
    return parts[-1] if parts else ""


def authors_consistent(entry: Entry, record: ArxivRecord) -> bool:
    """Whether the post's author line can be the record's: a team name, or shared surnames."""
    if not entry.authors or not record.authors:
        return True
    spelled_alike = set(record.authors)  # the usual case, decided without normalising names
    if any(a in spelled_alike and _surname_key(a) for a in entry.authors):
        return True
    ours = {_surname_key(a) for a in entry.authors} - {""}
    theirs = {_surname_key(a) for a in record.authors} - {""}
    if ours & theirs:
        return True
    # A post may name only a team ("Xiaomi LLM-Core Team", "DeepSeek-AI"): no person to compare.
    return len(entry.authors) <= 2 and any(
        len(a.split()) == 1 or re.search(r"\b(?:team|ai|lab|labs|inc)\b", a, re.I)
        for a in entry.authors
    )


def accept_match(entry: Entry, record: ArxivRecord) -> bool:
    """A record is the entry's paper only when titles agree, authors fit, and dates allow it."""
    if title_key(entry.title) != title_key(record.title):
        return False
    if record.published:
        try:
            published = dt.date.fromisoformat(record.published[:10])
        except ValueError:
            return False
        if published > entry.date:
            return False  # not published yet when the post discussed it
    return authors_consistent(entry, record)


class RecordSource(Protocol):
    """Where arXiv records come from (the network client with its cache, or a test double).

    A source may also offer what lets a build skip work, used when present (see
    ``ArxivSource``): ``state()``, what its answers depend on (None: cannot tell);
    ``still_valid(recheck_on)`` and ``recheck_on()``, whether answers a build used still stand;
    ``release()``, to free its answers once the library holds them;
    ``summaries(ids)``, the summaries of the records it gave without them (``summary_digest``);
    ``expect_few_lookups()``, told before a build looks up a few entries of a large vault.
    """

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        """Records accepted for entries, by the entry's index in ``entries``."""
        ...

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        """Records of the given ids; missing ids are absent from the answer."""
        ...


@dataclass
class _Group:
    """Entries found to be one paper so far (mutable while grouping, then frozen as a Paper)."""

    entries: list[Entry]
    record: ArxivRecord | None


def group_papers(entries: Sequence[Entry], records: dict[int, ArxivRecord]) -> list[Paper]:
    """Merge entries of the same paper (same arXiv id or same title) into one ``Paper``.

    Entries are taken in (date, source) order, so the first posting leads; ``records`` maps an
    entry's index in ``entries`` to its accepted record.
    """
    indexed = sorted(enumerate(entries), key=lambda pair: (pair[1].date, pair[1].source))
    groups: list[_Group] = []
    by_id: dict[str, _Group] = {}
    by_title: dict[str, _Group] = {}
    for index, entry in indexed:
        record = records.get(index)
        key = title_key(entry.title)
        group = (by_id.get(record.id) if record else None) or by_title.get(key)
        if group is None:
            group = _Group([], None)
            groups.append(group)
        group.entries.append(entry)
        if record and group.record is None:
            group.record = record
        by_title.setdefault(key, group)
        if group.record:
            by_id.setdefault(group.record.id, group)
    return [Paper(tuple(g.entries), g.record) for g in groups]


def as_shown(paper: Paper, texts: EntryTextSource | None) -> Paper:
    """The paper with its record as its note shows it: the note gives the post's abstract
    when there is one, so the record's summary (as long, for each of tens of thousands of
    papers) is not kept."""
    if paper.record is None or not (paper.record.summary or paper.record.summary_digest):
        return paper
    first = paper.first
    if not (texts.has_abstract(first) if texts is not None else first.abstract):
        return paper
    record = paper.record  # made directly: dataclasses.replace is slow, 50,000 times
    return Paper(paper.entries, ArxivRecord(
        record.id, record.title, record.authors, "", record.published, record.updated,
        record.primary_category, record.categories, record.version))


def build_library(entries: Sequence[Entry], source: RecordSource | None = None,
                  texts: EntryTextSource | None = None,
                  aliases: TagAliases = NO_ALIASES) -> Library:
    """Papers from entries, with records from ``source`` when given, and the ids they cite.
    ``texts``: where the entries' text is, when they hold none; ``aliases``: the tags that
    absorb others (``tags.canonical_tags``)."""
    entries = with_canonical_tags(entries, aliases)
    records = source.match_titles(entries) if source else {}
    papers = [as_shown(paper, texts) for paper in group_papers(entries, records)]
    own_ids = {p.arxiv_id for p in papers if p.arxiv_id}
    cited: dict[str, None] = {}
    for paper in papers:
        for entry in paper.entries:
            for arxiv_id in entry.cites:
                if arxiv_id not in own_ids:
                    cited.setdefault(arxiv_id, None)
    cited_records = source.fetch_ids(list(cited)) if source and cited else {}
    # The keys served this library's matching; a vault of 50,000 papers holds 100,000 of them.
    title_key.cache_clear()
    _surname_key.cache_clear()
    return Library(
        papers=tuple(papers),
        cited=tuple(cited),
        records=dict(cited_records),
        unresolved=tuple(p for p in papers if p.record is None),
        texts=texts,
    )

"""Resolving entries: which arXiv record is an entry's paper.

The matching rules are pure functions here; the network sits behind a ``RecordSource``
(``vaultgen.arxiv.client.ArxivSource``) passed in from the edge. Entries of one paper are
grouped by ``plan.group_papers``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from ..model import ArxivRecord, Entry
from ..render.names import tex_to_text

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

    A source may also offer, used when present (see ``ArxivSource``): ``state()``, what its
    answers depend on (None: cannot tell), and ``use_store(db)``, to keep its answers in the
    build's state store.
    """

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        """Records accepted for entries, by the entry's index in ``entries``."""
        ...

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        """Records of the given ids; missing ids are absent from the answer."""
        ...

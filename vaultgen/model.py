"""The plain values that flow between the stages: parse → resolve → render → write."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar


@dataclass(frozen=True, order=True, slots=True)
class SourceRef:
    """Where something stands in the user's input: a file (as the user named it) and a line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """A warning or error about the input, with the place it concerns."""

    source: SourceRef
    message: str
    severity: str = "warning"  # "warning" or "error"

    def __str__(self) -> str:
        return f"{self.source}: {self.severity}: {self.message}"

    def as_row(self) -> list[object]:
        """The diagnostic as a JSON-ready list (what the caches of a build keep)."""
        return [self.source.path, self.source.line, self.message, self.severity]

    @classmethod
    def from_row(cls, row: list) -> Diagnostic:
        return cls(SourceRef(row[0], row[1]), row[2], row[3])


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper as a digest post presents it."""

    date: dt.date
    title: str
    authors: tuple[str, ...]
    abstract: str
    comment_ko: str | None
    comment_en: str | None
    tags: tuple[str, ...]
    cites: tuple[str, ...]
    source: SourceRef
    # A digest of all of the above (``parse.inputs.entry_digest``), as the state store holds it:
    # an entry planned without its abstract and commentary (blank) stands for them by it.
    # Not part of the entry's value.
    digest: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class ParseResult:
    """What parsing one or more posts gave: the entries in input order, and what went wrong."""

    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class ArxivRecord:
    """The arXiv metadata of one paper (a version-free id)."""

    id: str
    title: str
    authors: tuple[str, ...]
    summary: str = ""
    published: str = ""  # ISO date, YYYY-MM-DD
    updated: str = ""
    primary_category: str = ""
    categories: tuple[str, ...] = ()
    version: int = 1
    doi: str = ""  # of the published version, when arXiv knows it
    journal: str = ""  # arXiv's journal reference, when it has one

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper of the digests: one or more entries (the same paper posted twice) and its record
    (without its summary when the post gives the abstract, which the note shows instead)."""

    entries: tuple[Entry, ...]
    record: ArxivRecord | None = None

    @property
    def first(self) -> Entry:
        return self.entries[0]

    @property
    def arxiv_id(self) -> str | None:
        return self.record.id if self.record else None


@dataclass(frozen=True)
class Note:
    """A file of the vault as it should be: a vault-relative POSIX path and its text."""

    path: str
    text: str
    kind: str  # paper, cited, tag, day, index, settings
    key: str  # what it stands for: an arXiv id, a title key, a tag, a date
    # What the text was made of, so that later stages need not parse it again: the properties
    # in its frontmatter, and where the text after the frontmatter starts (None for files
    # without one).
    properties: dict[str, object] | None = field(default=None, compare=False, repr=False)
    body_start: int | None = field(default=None, compare=False, repr=False)

    @property
    def body(self) -> str | None:
        """The text after the frontmatter, when the note was rendered with one."""
        return None if self.body_start is None else self.text[self.body_start:]

    @property
    def name(self) -> str:
        """The note's name as a link target: its file name without ``.md``."""
        base = self.path.rsplit("/", 1)[-1]
        return base[:-3] if base.endswith(".md") else base


_SHARED: dict[object, object] = {}

PAPER_TYPES = frozenset({"paper", "cited"})  # notes of papers: of the digests, only cited

H = TypeVar("H", bound=Hashable)


def text_digest(text: str) -> str:
    """A short digest of a text that stands for it where the text is not held."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def one_copy(value: H) -> H:
    """The one copy of a hashable value kept for the whole run: values that recur across tens
    of thousands of records (categories, dates, lists of property keys) are held once."""
    return _SHARED.setdefault(value, value)  # type: ignore[return-value]


def names_once(names: Iterable[str]) -> tuple[str, ...]:
    """Author names, each held once for the whole run: a name recurs in the post's author line,
    the arXiv record of the same paper and the author's other papers."""
    return tuple(map(sys.intern, names))

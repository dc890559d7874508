"""The plain values that flow between the stages: parse → resolve → render → write."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar


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
    def from_row(cls, row: list) -> Diagnostic:  # type: ignore[type-arg]
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
    # A digest of all of the above, when known (from the parse cache): notes made from the
    # entry compare it instead of its text. Not part of the entry's value.
    digest: str = field(default="", compare=False, repr=False)
    # False for an entry as a build's library holds it: its abstract and commentary are
    # blank here and kept apart (``inputs.EntryTexts``) until its note is rendered.
    text_held: bool = field(default=True, compare=False, repr=False)

    @property
    def text(self) -> EntryText:
        return EntryText(self.abstract, self.comment_ko, self.comment_en)

    def without_text(self, digest: str) -> Entry:
        """The entry with its abstract and commentary left out (``text_held`` False) and
        ``digest``, of the whole entry, standing for them."""
        return Entry(self.date, self.title, self.authors, "", None, None, self.tags,
                     self.cites, self.source, digest, False)

    def with_text(self, text: EntryText) -> Entry:
        return Entry(self.date, self.title, self.authors, text.abstract, text.comment_ko,
                     text.comment_en, self.tags, self.cites, self.source, self.digest, True)


@dataclass(frozen=True, slots=True)
class EntryText:
    """The bulk of an entry: its abstract and its commentary (Korean, English)."""

    abstract: str
    comment_ko: str | None
    comment_en: str | None


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
    # Set when the summary is not held (as read from the arXiv cache, ``summary`` is blank):
    # a digest of it, which stands for it in a note's inputs (``Library.with_summary``
    # gives the record with it).
    summary_digest: str = field(default="", compare=False, repr=False)

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper of the digests: one or more entries (the same paper posted twice) and its record
    (as ``resolve.build_library`` keeps it: without its summary when the post gives the
    abstract)."""

    entries: tuple[Entry, ...]
    record: ArxivRecord | None = None

    @property
    def first(self) -> Entry:
        return self.entries[0]

    @property
    def arxiv_id(self) -> str | None:
        return self.record.id if self.record else None


class EntryTextSource(Protocol):
    """Where the text of entries held without it is (``inputs.EntryTexts``)."""

    def has_abstract(self, entry: Entry) -> bool:
        ...

    def full(self, entry: Entry) -> Entry:
        """The entry with its abstract and commentary."""
        ...


@dataclass(frozen=True)
class Library:
    """Everything resolved: the papers of the digests and the arXiv papers they only cite."""

    papers: tuple[Paper, ...]
    cited: tuple[str, ...]  # arXiv ids cited but not among the papers, first-citation order
    records: dict[str, ArxivRecord] = field(default_factory=dict)  # by id, for cited papers
    unresolved: tuple[Paper, ...] = ()  # papers no arXiv record was accepted for
    # Where the entries' text is when they hold none (a build's); None: they hold it.
    texts: EntryTextSource | None = field(default=None, compare=False, repr=False)

    # Summaries read for the records that hold none, by arXiv id (``build`` reads those the
    # notes it renders need).
    summaries: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def with_summary(self, record: ArxivRecord) -> ArxivRecord:
        """The record with its summary (read before the notes that show it are rendered)."""
        if not record.summary_digest:
            return record
        summary = self.summaries.get(record.id)
        if summary is None:
            raise LookupError(f"the summary of arXiv:{record.id} was not read before rendering")
        return ArxivRecord(record.id, record.title, record.authors, summary, record.published,
                           record.updated, record.primary_category, record.categories,
                           record.version)

    def summaries_wanted(self, keys: Iterable[str]) -> set[str]:
        """Of the arXiv ids in ``keys`` (of the notes to render), those whose records hold
        no summary, not yet read."""
        held_apart = {paper.record.id for paper in self.papers
                      if paper.record is not None and paper.record.summary_digest}
        held_apart.update(arxiv_id for arxiv_id, record in self.records.items()
                          if record.summary_digest)
        return held_apart.intersection(keys) - self.summaries.keys()

    def full(self, paper: Paper) -> Paper:
        """The paper with the text of its entries."""
        if self.texts is None or all(e.text_held for e in paper.entries):
            return paper
        return Paper(tuple(map(self.texts.full, paper.entries)), paper.record)


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

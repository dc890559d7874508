"""arXiv identifiers in free text: every form people paste, and nothing else."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# New-style ids (since 2007): YYMM.NNNN (until 2014) or YYMM.NNNNN, optional version.
_NEW = r"(?P<new>(?:0[7-9]|1\d|2\d|3\d)(?:0[1-9]|1[0-2])\.\d{4,5})(?:v(?P<newv>\d+))?"
# Old-style ids: archive(.SUBJ)/YYMMNNN, e.g. hep-th/9901001, cs/0112017, math.GT/0309136.
_OLD = r"(?P<old>[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<oldv>\d+))?"
_ID = rf"(?:{_NEW}|{_OLD})"

_HOSTS = (
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|src)/"
    r"|(?:https?://)?(?:www\.)?alphaxiv\.org/(?:abs|overview|pdf)/"
    r"|(?:https?://)?(?:www\.)?huggingface\.co/papers/"
    r"|(?:https?://)?(?:www\.)?arxiv-sanity(?:-lite)?\.com/abs/"
)
ARXIV_REF = re.compile(
    rf"(?:(?P<url>{_HOSTS})|(?<![\w/.])(?P<prefix>arXiv:\s?))"
    rf"{_ID}(?:\.pdf)?"
    r"(?![\w]|\.\d)",
    re.IGNORECASE,
)


_URL_TAIL = re.compile(r"[/?#][^\s()<>\[\]\"']*(?<![.,;:!?])")


@dataclass(frozen=True)
class ArxivRef:
    """One arXiv reference in a text: the bare id and the span of text that named it."""

    id: str
    start: int
    end: int


def _id_of(match: re.Match[str]) -> str:
    if match.group("new"):
        return match.group("new")
    old = match.group("old")
    archive, number = old.split("/", 1)
    return f"{archive.lower() if '.' not in archive else archive}/{number}"


# Every form above names one of these (in any case; İ and ı are what IGNORECASE also takes
# for an "i", and str.lower() does not turn into one).
_MARKERS = ("arxiv", "alphaxiv", "huggingface")
_ODD_I = ("\u0130", "\u0131")


# A reference starts at most this many characters before the marker it holds
# ("https://export." before "arxiv").
_MARKER_LEAD = 16
_MARKER = re.compile("|".join(_MARKERS))


@functools.lru_cache(maxsize=64)  # a note's commentary is read for links, then linked
def find_refs(text: str) -> tuple[ArxivRef, ...]:
    """Every arXiv reference in ``text``, in order. Versions are dropped from the id."""
    lowered = text.lower()
    if any(c in text for c in _ODD_I) or len(lowered) != len(text):
        return tuple(_refs_of(text, ARXIV_REF.finditer(text)))
    if not any(m in lowered for m in _MARKERS):
        return ()  # most texts name no paper, and the full pattern is slow to rule that out
    return tuple(_refs_of(text, _matches_near_markers(text, lowered)))


def _matches_near_markers(text: str, lowered: str) -> Iterator[re.Match[str]]:
    """``ARXIV_REF.finditer(text)``, its pattern tried only just before each marker: the
    pattern finds no literal prefix to skip ahead by, so scanning a whole commentary with it
    is slow. ``lowered``: the text in lower case, of the same length."""
    position = 0
    while (marker := _MARKER.search(lowered, position)) is not None:
        # No reference starts between ``position`` and the lead before this marker, the
        # first after ``position``: one that did would hold an earlier marker.
        match = ARXIV_REF.search(text, max(position, marker.start() - _MARKER_LEAD))
        if match is None:
            return
        yield match
        position = match.end()


def _refs_of(text: str, matches: Iterable[re.Match[str]]) -> Iterator[ArxivRef]:
    for match in matches:
        end = match.end()
        if match.group("url"):
            # A URL may go on with a fragment or query (#S3, ?context=cs); a full stop or
            # comma that ends the sentence stays outside it.
            tail = _URL_TAIL.match(text, end)
            if tail:
                end = tail.end()
        yield ArxivRef(_id_of(match), match.start(), end)


def find_ids(text: str) -> list[str]:
    """The distinct arXiv ids referred to in ``text``, in order of first appearance."""
    seen: dict[str, None] = {}
    for ref in find_refs(text):
        seen.setdefault(ref.id, None)
    return list(seen)


def normalise_id(raw: str) -> str | None:
    """A bare version-free id from an id, ``arXiv:`` form or URL; ``None`` when it is none."""
    raw = raw.strip()
    match = re.fullmatch(rf"(?:arXiv:\s?)?{_ID}", raw, re.IGNORECASE)
    if match:
        return _id_of(match)
    refs = list(find_refs(raw))
    return refs[0].id if refs else None

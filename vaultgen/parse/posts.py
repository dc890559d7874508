"""Parsing digest posts: text in, entries and diagnostics out. No file system here.

A post is a date header followed by entries. An entry is a title line, an ``(authors)`` line,
the abstract (one paragraph a line), the Korean commentary, the English commentary and a tag
line, any of the last three possibly missing; blank lines and ``---`` rules between lines are
optional. What anchors an entry is the pair "title line, author line": the next entry may start
right after an abstract when an entry has no commentary and no tags.

An author line is told from a parenthesised sentence by its shape: one pair of parentheses
around the whole line, holding names (mostly capitalised words, no numbers, no sentence's full
stop) separated by commas, "and" or "&". An author line that lost a parenthesis or gained text
after it, and a line of bare names after the commentary or tags of the entry before, still
start an entry, with a warning. Lines standing where the format has none (text after the tag
line, a second tag line, Korean commentary after English, a title-like line over a line of
names) are warned about with their line: no entry runs into its neighbour unwarned.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from ..model import Diagnostic, Entry, ParseResult, SourceRef, names_once
from ..wording import plural
from .arxiv_ids import find_ids
from .tags import is_valid_tag

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_BARE_URL = re.compile(r"<?https?://\S+>?")
_RULE = re.compile(r"(?:-{3,}|\*{3,}|_{3,}|={3,})")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAY = (
    r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
)
_HEADING = r"(?:#{1,6}\s+)?"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_HEADING + r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"
                r"(?:\s*\(?[월화수목금토일](?:요일)?\)?)?\s*"), "ymd"),
    (re.compile(_HEADING + r"(\d{4})-(\d{1,2})-(\d{1,2})\s*"), "ymd"),
    (re.compile(_HEADING + r"(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})\.?\s*"), "ymd"),
    (re.compile(_HEADING + r"(\d{4})/(\d{1,2})/(\d{1,2})\s*"), "ymd"),
    (re.compile(_HEADING + _WEEKDAY + r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\s*",
                re.IGNORECASE), "mdy"),
    (re.compile(_HEADING + _WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})\s*",
                re.IGNORECASE), "dmy"),
)
# No header has more words than "## 2025 년 4 월 30 일 (수)".
_HEADER_WORDS = 8
_FILENAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Author lists: what separates names besides commas, and what says a list is cut short.
_AND = re.compile(r"(?:^|\s+)(?:and|&)\s+")
_COMMA = re.compile(",")
# An ASCII list of capitalised names and commas only, the usual author line: all names.
_NAME_WORD = r"[A-Z][^\s,$\\=%^<>|~`]*"
_CAPITALISED_LIST = re.compile(rf"{_NAME_WORD}(?:\s+{_NAME_WORD})*(?:\s*,\s*{_NAME_WORD}"
                               rf"(?:\s+{_NAME_WORD})*)*")
# What no name holds: TeX, formulas, markup.
_NOT_IN_NAMES = re.compile(r"[$\\=%^<>|~`]")
_ET_AL = re.compile(r",?\s+et\.?\s+al\.?$", re.IGNORECASE)
_CUT_MARKS = frozenset({"et al.", "et al", "et. al.", "others"})
# The shape of a name: small words a name or a team's name may hold ("Jean de la Fontaine",
# "University of Tokyo"), elisions ("d’Autume"), and what ends a name with a full stop.
_NAME_SMALL_WORDS = frozenset({
    "de", "da", "di", "do", "dos", "das", "du", "del", "della", "der", "den", "des", "van", "von",
    "la", "le", "lo", "ten", "ter", "bin", "ibn", "al", "el", "y", "e", "zu", "af", "av",
    "of", "the", "for", "at", "in", "on", "from",
})
_ELIDED = re.compile(r"[dl]['’]\w")
_NAME_FULL_STOP = re.compile(r"(?:\bal|\b[A-Z]|\bJr|\bSr|\bInc|\bLtd|\bCo)\.$")
_NAME_FULL_STOP_ENDS = ("al.", "Jr.", "Sr.", "Inc.", "Ltd.", "Co.")
_NESTED = re.compile(r"\([^()]*\)")
_NUMBER = re.compile(r"[\d.,:;/+\u2013-]+")
# A Korean name: a family name (one syllable, or one of the two-syllable ones), then a given
# name of one or two syllables, written together or apart ("김철수", "남궁 민", "이 영희").
_KOREAN_FAMILY = (
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채"
    "원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목"
)
_KOREAN_NAME = re.compile(f"(?:[{_KOREAN_FAMILY}]|남궁|제갈|선우|독고|황보|사공|서문|동방)"
                          r" ?[\uac00-\ud7a3]{1,2}")


class _Line(NamedTuple):
    number: int  # 1-based line number in the file
    text: str  # stripped


def normalise_text(text: str) -> str:
    """Drop a BOM, turn CRLF and CR into LF, and compose Unicode (NFC)."""
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def parse_date_header(line: str) -> dt.date | None:
    """The date a header line names, or ``None`` when the line is not a date header.

    Raises ``ValueError`` for a header-shaped line naming an impossible date (2025-02-30).
    """
    if len(line.split(None, _HEADER_WORDS)) > _HEADER_WORDS:
        return None  # a line of text: ruled out faster than by trying each pattern
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(line)
        if not match:
            continue
        a, b, c = match.groups()
        if order == "ymd":
            return dt.date(int(a), int(b), int(c))
        if order == "mdy":
            month = _MONTHS.get(a.lower())
            if month is None:
                continue
            return dt.date(int(c), month, int(b))
        month = _MONTHS.get(b.lower())
        if month is None:
            continue
        return dt.date(int(c), month, int(a))
    return None


def date_from_filename(name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date found in a file name, or ``None``."""
    match = _FILENAME_DATE.search(name)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def split_authors(inner: str) -> tuple[str, ...]:
    """The names of an author list (the text inside its parentheses).

    Names are separated by commas outside parentheses (``A (B, C), D`` → ``A (B, C)``, ``D``)
    and by ``and`` or ``&``: ``A, B, and C``, ``A, B and C``, ``A and B and C`` (BibTeX) all
    give ``A``, ``B``, ``C``; BibTeX's ``Last, First and Last, First`` gives ``First Last``.
    "et al." and BibTeX's "and others" say the list is cut; they are not names.
    """
    return names_once(_author_names(inner))


def _author_names(inner: str) -> list[str]:
    if "(" not in inner and not _has_list_words(inner):  # the usual line: commas only
        return [name for part in inner.split(",") if (name := part.strip())]
    parts = [p for p in _split_outside_parentheses(inner, _AND) if p.lower() not in _CUT_MARKS]
    if len(parts) > 1 and all(len(_split_outside_parentheses(p, _COMMA)) == 2 for p in parts):
        names = [" ".join(reversed(_split_outside_parentheses(p, _COMMA))) for p in parts]
    else:
        names = [name for item in _split_outside_parentheses(inner, _COMMA)
                 for name in _split_outside_parentheses(item, _AND)]
    return [name for name in map(_without_et_al, names) if name]


def _has_list_words(inner: str) -> bool:
    """False when ``inner`` surely holds no "and", "&", "et al." or "others" (true for some
    that hold none, such as "Ahmed al Sayed": the slower splitting then finds no separator)."""
    return " and " in inner or "&" in inner or " al" in inner or "others" in inner


def _split_outside_parentheses(text: str, separator: re.Pattern[str]) -> list[str]:
    """``text`` cut at each match of ``separator`` that stands outside parentheses, stripped,
    empty pieces left out."""
    pieces: list[str] = []
    start = 0
    for match in separator.finditer(text):
        if _depth_at(text, match.start()) == 0:
            pieces.append(text[start:match.start()])
            start = match.end()
    pieces.append(text[start:])
    return [piece for p in pieces if (piece := p.strip())]


def _depth_at(text: str, index: int) -> int:
    """How many parentheses are open at ``index`` of ``text`` (a stray ``)`` closes none)."""
    if "(" not in text:
        return 0
    depth = 0
    for char in text[:index]:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
    return depth


def _without_et_al(name: str) -> str:
    """``name`` without a trailing "et al." ("John Smith et al." → "John Smith"); "" for a
    mark that the list is cut ("et al.", "others")."""
    if name.lower() in _CUT_MARKS:
        return ""
    return _ET_AL.sub("", name)


def _closing_parenthesis(line: str) -> int | None:
    """Where the ``)`` that closes the ``(`` ``line`` starts with stands, or ``None``."""
    if line.count("(") == 1:
        close = line.find(")")
        return close if close > 0 else None
    depth = 0
    for index, char in enumerate(line):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _author_inner(line: str) -> str | None:
    """The text inside an author line ``(A, B, …)``: its first ``(`` is closed at its end."""
    if not (line.startswith("(") and line.endswith(")")) or len(line) < 3:
        return None
    if _closing_parenthesis(line) != len(line) - 1:
        return None  # "(a) … (b)": two parenthesised parts, not one list
    return line[1:-1].strip()


def _ends_a_sentence(text: str) -> bool:
    """True when ``text`` ends with a full stop that is not an initial's or "et al."'s."""
    last = text[-1]
    if last != ".":
        return last in "!?"
    if not (text[-2:-1].isupper() or text.endswith(_NAME_FULL_STOP_ENDS)):
        return True  # the usual sentence: no regular expression needed
    return not _NAME_FULL_STOP.search(text[-6:])


def _word_kinds(name: str) -> tuple[int, int] | None:
    """``(capitalised, lower-case)`` words of ``name``, or ``None`` when a word rules out a
    name: a number ("2023"), or Hangul in more than a Korean name ("김철수", "남궁 민")."""
    bare = name
    while "(" in bare and (unnested := _NESTED.sub(" ", bare)) != bare:
        bare = unnested
    words = bare.split()
    if not words or _NOT_IN_NAMES.search(bare):
        return None
    if not bare.isascii() and _HANGUL.search(bare):
        return (1, 0) if _KOREAN_NAME.fullmatch(" ".join(words)) else None
    capitalised = lower = 0
    for word in words:
        if word.lower() != word:
            capitalised += 1  # holds a capital: "Smith", "eBay", "d’Autume", "LLM-Core"
        elif word.upper() != word:  # cased letters, all small
            if word.rstrip(".,:") not in _NAME_SMALL_WORDS and not _ELIDED.match(word):
                lower += 1
        elif _NUMBER.fullmatch(word):
            return None
        elif any(char.isalpha() for char in word):
            capitalised += 1  # a script without case: "张伟", "田中"
    return capitalised, lower


def _is_name(name: str) -> bool:
    """True for a person's or a team's name: "Ann Author", "Xiaomi LLM-Core Team", "Ahmet
    Üstün", "Anonymous authors", "김철수"; false for words of a sentence and for numbers."""
    kinds = _word_kinds(name)
    if kinds is None:
        return False
    capitalised, lower = kinds
    return capitalised > 0 and lower <= max(1, (capitalised + lower) // 3)


def _is_plain_name(name: str) -> bool:
    """True for a name of two to five capitalised words ("Ann Author", "Jean de la Fontaine"),
    what a list of names is made of when it has lost its parentheses."""
    if "(" in name or ")" in name or _HANGUL.search(name):
        return False
    kinds = _word_kinds(name)
    return kinds is not None and kinds[1] == 0 and 2 <= kinds[0] <= 5


def looks_like_author_line(line: str) -> bool:
    """True for ``(Name, Name, …)``, ``(Name and Name)``, ``(Team Name)``: one pair of
    parentheses around the whole line holding names; false for a parenthesised sentence of
    commentary or a citation such as ``(Smith et al., 2023)``."""
    return _author_line_names(line) is not None


def _author_line_names(line: str) -> tuple[str, ...] | None:
    """The names of an author line (see ``looks_like_author_line``), or ``None``."""
    inner = _author_inner(line)
    if not inner or _ends_a_sentence(inner) or _BARE_URL.search(line):
        return None
    names = _author_names(inner)
    if not names:
        return None
    if not ((inner.isascii() and _CAPITALISED_LIST.fullmatch(inner))
            or all(map(_is_name, names))):
        return None
    return names_once(names)


class _Authors(NamedTuple):
    """An author line read: its names, text standing after its ``)``, and what was wrong
    with it ("" for a well-formed line)."""

    names: tuple[str, ...]
    trailing: str = ""
    problem: str = ""


def _broken_author_line(line: str) -> _Authors | None:
    """The names of an author line that lost a parenthesis or gained text after it:
    ``(A, B``, ``A, B)``, ``(A, B) text``, ``A, B and C``; ``None`` for any other line."""
    if _BARE_URL.search(line):
        return None
    trailing = ""
    if line.startswith("("):
        close = _closing_parenthesis(line)
        if close is None:
            inner, problem = line[1:], "has no closing ')'"
        elif close < len(line) - 1:
            inner, trailing = line[1:close], line[close + 1:].strip()
            if trailing[:1].islower():
                return None  # "(LLMs) are …": a sentence
            problem = "has text after its closing ')'"
        else:
            return None  # parenthesised, and not names
    elif line.endswith(")") and line.count(")") == line.count("(") + 1:
        inner, problem = line[:-1], "has no opening '('"
    else:
        if ("," not in line and " and " not in line and "&" not in line) or _ends_a_sentence(line):
            return None  # one name at most, or a sentence
        names = _author_names(line)
        if len(names) < 2 or not all(map(_is_plain_name, names)):
            return None
        return _Authors(names_once(names), "", "is not in parentheses")
    inner = inner.strip()
    if not inner or _ends_a_sentence(inner):
        return None
    names = _author_names(inner)
    if not names or not all(map(_is_name, names)):
        return None
    return _Authors(names_once(names), trailing, problem)


def _bare_names(line: str) -> tuple[str, ...] | None:
    """The names of a line of names without parentheses ("Xiaomi LLM-Core Team", "Ann
    Author, Bob Builder"), or ``None``."""
    if _ends_a_sentence(line) or line[-1] in ":;" or _BARE_URL.search(line):
        return None
    names = _author_names(line.strip("()[]{}"))
    return names_once(names) if names and all(map(_is_name, names)) else None


def parse_tag_line(line: str) -> tuple[list[str], list[str]] | None:
    """``(tags, rejected tokens)`` for a line made of ``#tag`` tokens only, else ``None``."""
    if not line.lstrip().startswith("#"):
        return None  # most lines: ruled out before they are split into words
    tokens = line.split()
    if not all(t.startswith("#") for t in tokens):
        return None
    tags: list[str] = []
    rejected: list[str] = []
    for token in tokens:
        tag = token.lstrip("#")
        if is_valid_tag(tag) and not token.startswith("##"):
            if tag not in tags:
                tags.append(tag)
        else:
            rejected.append(token)
    if not tags and any(t.startswith("##") or t == "#" for t in tokens):
        return None  # a markdown heading, not tags
    return tags, rejected


def _is_title_candidate(line: str) -> bool:
    if len(line) > 500 or _BARE_URL.fullmatch(line) or parse_tag_line(line) is not None:
        return False
    try:
        return parse_date_header(line) is None
    except ValueError:
        return False


def _is_title_like(line: str) -> bool:
    """A title candidate that is not a sentence of the abstract or commentary: no title of
    the real posts ends with a full stop or holds Hangul."""
    return line[-1] not in ".。" and not _has_hangul(line) and _is_title_candidate(line)


def _has_hangul(line: str) -> bool:
    return not line.isascii() and _HANGUL.search(line) is not None  # isascii: no scan


class _Open(NamedTuple):
    """The entry being read: its title line, its authors and the lines after them."""

    title: _Line
    authors: _Authors
    body: list[_Line]


class _PostParser:
    """Walks the lines of one file, collecting entries and diagnostics."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = [
            _Line(number, stripped)
            for number, raw in enumerate(normalise_text(text).split("\n"), start=1)
            if (stripped := raw.strip()) and not _RULE.fullmatch(stripped)
        ]
        self.entries: list[Entry] = []
        self.diagnostics: list[Diagnostic] = []
        self.fallback_date = date_from_filename(path.rsplit("/", 1)[-1])
        self.undated: list[int] = []
        self.warned: set[int] = set()  # lines warned about as the start of an entry

    def warn(self, line: int, message: str, severity: str = "warning") -> None:
        self.diagnostics.append(Diagnostic(SourceRef(self.path, line), message, severity))

    def run(self) -> ParseResult:
        date: dt.date | None = None
        entry: _Open | None = None
        i = 0
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            header = self._header(line)
            if header is not None:
                if entry is not None:
                    self._finish(date, entry)
                entry = None
                date = header
                i += 1
                continue
            following = lines[i + 1] if i + 1 < len(lines) else None
            authors = None
            if following is not None and following.text[0] != "#" and (
                    following.text[0] == "(" or not _ends_a_sentence(following.text)):
                authors = self._authors(line, following, lines[i + 2] if i + 2 < len(lines)
                                        else None, entry)
            if authors is not None and following is not None:
                if entry is not None:
                    self._finish(date, entry)
                body = [_Line(following.number, authors.trailing)] if authors.trailing else []
                entry = _Open(line, authors, body)
                if authors.problem:
                    self._warn_author_line(line, following, authors)
                i += 2
                continue
            if entry is None:
                self.warn(line.number, "expected a date header or a paper title followed by an "
                          f"'(author, author, …)' line; skipped: {_clip(line.text)}")
            else:
                entry.body.append(line)
            i += 1
        if entry is not None:
            self._finish(date, entry)
        if self.undated:
            one = len(self.undated) == 1
            self.warn(self.undated[0], f"{plural(len(self.undated), 'entry')} "
                      f"{'stands' if one else 'stand'} before any date header (e.g. "
                      "'2025년 4월 30일', 'April 30, 2025' or '2025-04-30') and the file name "
                      f"holds no YYYY-MM-DD date; {'it was' if one else 'they were'} skipped",
                      "error")
        elif not self.entries and not self.diagnostics:
            self.warn(1, "no entries found (a post is a date header, then entries: title, "
                      "'(authors)' line, abstract, commentary, '#tag' line)")
        return ParseResult(tuple(self.entries), tuple(self.diagnostics))

    def _authors(self, line: _Line, following: _Line, after: _Line | None,
                 entry: _Open | None) -> _Authors | None:
        """The authors when ``line`` is a title and ``following`` its author line, else
        ``None``. An author line that lost a parenthesis or gained text after it still
        starts an entry (its ``problem`` says what is wrong), and so does a line of bare
        names after the commentary or tags of the entry before. A title-like line followed
        by a line of names that starts no entry is warned about."""
        text = following.text
        if text[0] == "(" and text[-1] == ")" and _is_title_candidate(line.text) and (
                names := _author_line_names(text)) is not None and not (
                _has_hangul(text) and _has_hangul(line.text)):
            return _Authors(names)
        if _ends_a_sentence(text) or not _is_title_like(line.text):
            return None
        if after is not None and looks_like_author_line(after.text):
            return None  # ``following`` is the title of the next entry
        broken = _broken_author_line(text)
        if broken is not None:
            return broken
        names = _bare_names(text)
        if names is None:
            return None
        if entry is None or any(_has_hangul(body_line.text) or parse_tag_line(body_line.text)
                                is not None for body_line in entry.body):
            return _Authors(names, "", "is not in parentheses")  # past the abstract
        if line.number not in self.warned:
            self.warned.add(line.number)
            self.warn(line.number, f"'{_clip(line.text)}' looks like the title of a new entry "
                      f"but line {following.number} is not an '(author, …)' line; both are "
                      f"kept in '{_clip(entry.title.text)}' (line {entry.title.number})")
        return None

    def _warn_author_line(self, title: _Line, authors_line: _Line, authors: _Authors) -> None:
        self.warned.add(title.number)
        names = ", ".join(authors.names)
        kept = f"; the text after it begins the abstract: {_clip(authors.trailing)}" \
            if authors.trailing else ""
        self.warn(authors_line.number, f"the author line of '{_clip(title.text)}' "
                  f"{authors.problem} (write it as '(author, author, …)'); read as the "
                  f"authors: {_clip(names)}{kept}")

    def _header(self, line: _Line) -> dt.date | None:
        try:
            return parse_date_header(line.text)
        except ValueError as err:
            self.warn(line.number, f"date header names no real date ({err}): {line.text}")
            return None

    def _finish(self, date: dt.date | None, entry: _Open) -> None:
        date = date or self.fallback_date
        if date is None:
            self.undated.append(entry.title.number)  # reported once for the whole file
            return
        tags: list[str] = []
        text_lines: list[_Line] = []
        tag_lines: list[_Line] = []
        for line in entry.body:
            parsed = parse_tag_line(line.text)
            if parsed is None:
                text_lines.append(line)
                continue
            tag_lines.append(line)
            found, rejected = parsed
            tags.extend(t for t in found if t not in tags)
            for token in rejected:
                self.warn(line.number, f"not a valid tag (letters, digits, _ - / only, not only "
                          f"digits): {token}")
        texts = [line.text for line in text_lines]
        hangul = [k for k, t in enumerate(texts) if _has_hangul(t)]
        first_hangul = hangul[0] if hangul else len(texts)
        start = next((k for k in range(first_hangul) if _BARE_URL.fullmatch(texts[k])),
                     first_hangul)
        end = hangul[-1] + 1 if hangul else start
        # Bare URL lines (a project page) belong to the Korean commentary they stand beside.
        while end < len(texts) and _BARE_URL.fullmatch(texts[end]):
            end += 1
        self._check_order(entry, tag_lines)
        if len(hangul) > 1 and hangul[-1] - hangul[0] >= len(hangul):
            self._check_korean_block(entry, text_lines, hangul, tag_lines)
        abstract = texts[:start]
        comment_ko = texts[start:end]
        comment_en = texts[end:]
        cites = find_ids("\n".join(comment_ko + comment_en))
        self.entries.append(
            Entry(
                date=date,
                title=entry.title.text,
                authors=entry.authors.names,
                abstract="\n".join(abstract),
                comment_ko="\n".join(comment_ko) or None,
                comment_en="\n".join(comment_en) or None,
                tags=tuple(tags),
                cites=tuple(cites),
                source=SourceRef(self.path, entry.title.number),
            )
        )

    def _check_order(self, entry: _Open, tag_lines: list[_Line]) -> None:
        """Warn about text after an entry's tag line (the title of an entry whose author line
        was not recognised, most often) and about a second tag line."""
        body = entry.body
        if tag_lines:
            first_tag = body.index(tag_lines[0])
            late_text = next((line for line in body[first_tag + 1:]
                              if line.text[0] != "#" or parse_tag_line(line.text) is None), None)
            if late_text is not None:
                self._warn_once(late_text, f"text after the tag line (line {tag_lines[0].number})"
                                f" of '{_clip(entry.title.text)}': an entry ends with its tags; "
                                "if this line is the title of a new entry, put its '(author, "
                                f"…)' line right under it; kept in that entry: "
                                f"{_clip(late_text.text)}")
            elif len(tag_lines) > 1:
                self.warn(tag_lines[1].number, f"a second tag line in '{_clip(entry.title.text)}'"
                          f" (the first is line {tag_lines[0].number}); their tags are merged")

    def _check_korean_block(self, entry: _Open, text_lines: list[_Line], hangul: list[int],
                            tag_lines: list[_Line]) -> None:
        """Warn when English lines stand between Korean ones (before the tag line): the
        Korean commentary of a second entry, or misplaced commentary."""
        if tag_lines:  # lines after the tag line are warned about as such
            hangul = [k for k in hangul if text_lines[k].number < tag_lines[0].number]
        if len(hangul) < 2 or hangul[-1] - hangul[0] < len(hangul):
            return  # the Korean lines stand together
        hangul_set = set(hangul)
        gap = next((k for k in range(hangul[0] + 1, hangul[-1]) if k not in hangul_set
                    and not _BARE_URL.fullmatch(text_lines[k].text)), None)
        if gap is None:
            return
        resume = next(k for k in hangul if k > gap)
        if any(line.number in self.warned for line in text_lines[gap:resume + 1]):
            return
        title = next((line for line in text_lines[gap:resume] if _is_title_like(line.text)), None)
        order = (f"Korean commentary (line {text_lines[resume].number}) follows English "
                 f"commentary (line {text_lines[gap].number}) in '{_clip(entry.title.text)}', "
                 "whose lines are the abstract, Korean, then English commentary, then tags")
        if title is None:
            self._warn_once(text_lines[resume], f"{order}; kept as they stand")
        else:
            self._warn_once(title, f"{order}: two entries seem to have run together here; if "
                            "this line is the title of a new entry, put its '(author, …)' line "
                            f"right under it; kept in that entry: {_clip(title.text)}")

    def _warn_once(self, line: _Line, message: str) -> None:
        if line.number not in self.warned:
            self.warned.add(line.number)
            self.warn(line.number, message)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_post(text: str, path: str) -> ParseResult:
    """Parse the text of one input file (one or more dated posts).

    ``path`` is how diagnostics and ``Entry.source`` name the file; a ``YYYY-MM-DD`` in its
    last component dates entries that stand before any date header.
    """
    return _PostParser(text, path).run()


def merge_results(results: Iterable[ParseResult]) -> ParseResult:
    """One result holding the entries and diagnostics of several, in order."""
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    for result in results:
        entries.extend(result.entries)
        diagnostics.extend(result.diagnostics)
    return ParseResult(tuple(entries), tuple(diagnostics))

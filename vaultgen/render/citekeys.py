"""Citation keys in the shape of Google Scholar's BibTeX, and the parts of an author's name.

A key is the first author's family name (a team's first word), the year and the first
significant word of the title, lower case ASCII: ``su2025galore``, ``xiaomi2025mimo``. Keys
are unique in a vault: a key already given gets a letter (``su2025galorea``). A key once given
is kept for good (``assign_citekeys``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from anyascii import anyascii

from .names import tex_to_text

# Words a key's title word is never taken from (Google Scholar's keys skip them too).
_STOP_WORDS = frozenset({
    "a", "an", "the", "on", "in", "of", "for", "to", "and", "or", "at", "by", "with", "from",
    "as", "into", "via", "is", "are",
})
# The words that make an author a team or an organisation rather than a person ("AI" in
# capitals only: "Ai" is a given name).
TEAM_WORDS = frozenset(
    [*(word for name in ("team", "lab", "labs", "laboratory", "group", "corporation",
                         "consortium", "collaboration", "project", "institute", "university",
                         "foundation", "committee", "community", "contributors")
       for word in (name, name.capitalize())),
     "AI", "Inc", "Inc.", "Ltd", "Ltd.", "Corp", "Corp."])
_NAME_WORD_BREAK = re.compile(r"[\s\-‐‑–—/(),]+")
# Scripts whose names are written family name first: Han, Kana, Hangul.
_FAMILY_FIRST = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
                           r"\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_KOREAN_TWO_SYLLABLE_FAMILIES = frozenset({"남궁", "제갈", "선우", "독고", "황보", "사공", "서문",
                                           "동방"})
_AFFILIATION = re.compile(r"\s*\([^()]*\)")
_SPLIT_APART = re.compile(r"[,{}\\]")  # what BibTeX reads in a name besides its words
SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_NON_KEY = re.compile(r"[^a-z0-9]+")
_WORD_BREAK = re.compile(r"[\s\-‐‑–—/]+")


class PersonName(NamedTuple):
    """A person's name in its parts, as BibTeX splits it (``particle``: "van", "de la")."""

    given: str
    particle: str
    family: str
    suffix: str = ""

    @property
    def surname(self) -> str:
        """The family name with its particle: "van den Oord"."""
        return f"{self.particle} {self.family}".strip()


def plain_author(author: str) -> str:
    """An author without the affiliation a post may add in brackets ("Peisong Wang
    (Tencent)" → "Peisong Wang"; a team's name, "Xiaomi (LLM-Core Team)", kept whole),
    spaces made single."""
    if "(" in author:
        person = _AFFILIATION.sub(" ", author).split()
        if len(person) > 1:
            return " ".join(person)
    return " ".join(author.split())


def is_team(author: str) -> bool:
    """Whether an author is a team or an organisation ("Xiaomi LLM-Core Team", "DeepSeek-AI",
    "OpenAI"): a name naming one, or a single word."""
    if not TEAM_WORDS.isdisjoint(_NAME_WORD_BREAK.split(author)):
        return True
    return len(author.split()) == 1 and not is_family_first(author)


def is_family_first(author: str) -> bool:
    """Whether a name is written family name first: in Han, Kana or Hangul, without Latin."""
    return bool(_FAMILY_FIRST.search(author)) and not _LATIN.search(author)


def family_first_parts(author: str) -> tuple[str, str]:
    """(family, given) of a name written family name first: "김철수" → ("김", "철수"),
    "이 영희" → ("이", "영희"), "남궁민" → ("남궁", "민")."""
    words = author.split()
    if len(words) > 1:
        return words[0], " ".join(words[1:])
    name = words[0] if words else ""
    size = 2 if name[:2] in _KOREAN_TWO_SYLLABLE_FAMILIES and len(name) > 2 else 1
    return name[:size], name[size:]


@functools.lru_cache(maxsize=1 << 16)  # (an author recurs in the papers of a vault)
def person_name(author: str) -> PersonName | None:
    """A person's name split into its parts ("First von Last", or BibTeX's "von Last, First");
    None for a team, a name written family name first, or one BibTeX cannot split."""
    author = plain_author(author)
    words = author.split()
    if len(words) > 1 and words[-1] not in SUFFIXES and \
            all(word[0].isupper() for word in words) and not _SPLIT_APART.search(author) \
            and TEAM_WORDS.isdisjoint(_NAME_WORD_BREAK.split(author)):
        # Capitalised words alone, the usual name: no "von" part (its words start in lower
        # case), the last word is the last name. BibTeX's rule, which
        # ``parse_single_name_into_parts`` follows, without its parsing.
        return PersonName(" ".join(words[:-1]), "", words[-1])
    if not author or is_team(author) or is_family_first(author):
        return None
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    suffix = ""
    if "," not in author and len(words) > 2 and words[-1] in SUFFIXES:
        suffix, author = words[-1], " ".join(words[:-1])
    try:
        parts = parse_single_name_into_parts(author)
    except InvalidNameError:
        return None
    if not parts.last:
        return None
    return PersonName(" ".join(parts.first), " ".join(parts.von), " ".join(parts.last),
                      suffix or " ".join(parts.jr))


def key_surname(author: str) -> str:
    """The word of an author's name a key starts with: a person's family name (its first
    word, particle included: "van den Oord" → "van"), a team's first word that is not
    "Team", "Lab"… ("Team OLMo" → "olmo")."""
    author = plain_author(author)
    person = person_name(author)
    if person is not None:
        return _first_key_word(person.surname)
    if is_family_first(author):
        return _first_key_word(family_first_parts(author)[0])
    words = _NAME_WORD_BREAK.split(author)
    return _first_key_word(" ".join(w for w in words if w not in TEAM_WORDS) or author)


def title_word(title: str) -> str:
    """The first significant word of a title (no stop word, no number), as a key holds it
    (TeX read, ASCII, lower case): "On the GaLore 2: …" → "galore", "2 OLMo 2" → "olmo"."""
    words = _key_words(tex_to_text(title))
    for word in words:
        if word not in _STOP_WORDS and not word.isdigit():
            return word
    return words[0] if words else ""


def citekey_base(first_author: str | None, year: int | None, title: str) -> str:
    """The key of a paper before any letter that sets it apart: ``su2025galore``."""
    surname = key_surname(first_author) if first_author else ""
    return f"{surname or 'anon'}{year if year else ''}{title_word(title)}"


def _first_key_word(text: str) -> str:
    for word in _WORD_BREAK.split(text):
        found = _key_words(word)
        if found:
            return "".join(found)
    return ""


def _key_words(text: str) -> list[str]:
    """The words of ``text`` in ASCII lower case, an apostrophe dropped within a word."""
    ascii_text = anyascii(unicodedata.normalize("NFC", text)).lower().replace("'", "")
    return [word for word in _NON_KEY.split(ascii_text) if word]


def letters(number: int) -> str:
    """The letters that set the ``number``-th key of one base apart: 1 → "a", 26 → "z",
    27 → "aa"; 0 → ""."""
    text = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def assign_citekeys(wanted: Iterable[tuple[str, str]], taken: Iterable[str]) -> dict[str, str]:
    """A key for each note of ``wanted`` (note, key base), in order: its base, else the base
    with the first letters no key of ``taken`` (the keys given before, compared ignoring
    case) nor an earlier note holds."""
    held = {key.casefold() for key in taken}
    given: dict[str, str] = {}
    for note, base in wanted:
        number = 0
        key = base
        while key.casefold() in held:
            number += 1
            key = base + letters(number)
        held.add(key.casefold())
        given[note] = key
    return given


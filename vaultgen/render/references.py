"""References to the papers of a vault, as BibTeX and CSL-JSON, from their notes' properties.

``reference_of`` reads what a citation needs from a paper or cited note's properties (as the
build renders them, or as ``vaultgen export`` reads them from the notes); ``bibtex_entries``
and ``csl_item`` write it. BibTeX is written by bibtexparser: arXiv papers as ``@misc`` with
``eprint``, ``archivePrefix`` and ``primaryClass`` (``@article`` when arXiv knows a journal
reference), authors as ``Last, First and …`` (a team's name braced whole), BibTeX's special
characters escaped and Unicode kept as it is; TeX math in a title (``$\\mu$P``) is kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import bibtexparser
from bibtexparser.middlewares import AddEnclosingMiddleware, MonthAbbreviationMiddleware
from bibtexparser.model import Entry, Field

from ..model import PAPER_TYPES
from .citekeys import (
    family_first_parts,
    is_family_first,
    person_name,
    plain_author,
)
from .names import tex_to_text


@dataclass(frozen=True)
class Reference:
    """What a citation of a paper needs, read from its note's properties."""

    key: str
    title: str  # as the note holds it: the post's or arXiv's, TeX math and all
    authors: tuple[str, ...]
    issued: dt.date | None  # when arXiv first published it, else when it was posted
    arxiv: str = ""
    primary_category: str = ""
    doi: str = ""
    journal: str = ""
    url: str = ""


def reference_of(properties: Mapping[str, object], key: str | None = None) -> Reference | None:
    """The reference of a note (``key``: its citekey, else the note's ``citekey``); None for
    a note that is not a paper's, has no title or key, or is of a paper only cited whose
    authors are unknown."""
    kind = properties.get("type")
    title = _text(properties.get("title"))
    key = key if key is not None else _text(properties.get("citekey"))
    if kind not in PAPER_TYPES or not title or not key:
        return None
    authors = _texts(properties.get("authors"))
    if kind == "cited" and not authors:
        return None
    issued = _date(properties.get("published")) or _date(properties.get("date"))
    return Reference(key, title, authors, issued, _text(properties.get("arxiv")),
                     _text(properties.get("primary_category")), _text(properties.get("doi")),
                     _text(properties.get("journal")), _text(properties.get("url")))


def _text(value: object) -> str:
    if value is None or isinstance(value, (list, dict)):
        return ""
    return " ".join(str(value).split())


def _texts(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(text for item in items if (text := _text(item)))


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


# --- BibTeX ---------------------------------------------------------------------------------

_SPECIAL = str.maketrans({"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&",
                          "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$",
                          "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"})
# A text-mode command, which TeX refuses in math (``\textbf`` and the like are allowed).
_TEXT_MODE = re.compile(r"\\text(?!(?:bf|it|rm|sf|tt|up|md|sc|normal)?\b)[a-z]+")
_INNER_CAPITAL = re.compile(r"^\S+?[A-Z]")  # a word with a capital after its first letter


def bibtex_escape(text: str) -> str:
    """Text with BibTeX's and LaTeX's special characters escaped; Unicode kept."""
    return text.translate(_SPECIAL)


def _balanced(text: str) -> bool:
    depth = 0
    for char in text.replace(r"\{", "").replace(r"\}", ""):
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def bibtex_title(title: str) -> str:
    """A title for BibTeX: TeX math between a pair of ``$`` kept as it is, the rest escaped,
    and each word with a capital inside it (``GaLore``, ``LLM``) braced, so that styles
    that change a title's case leave it be. Math that is no TeX math (braces out of pair, a
    text-mode symbol such as ``\textbackslash``) is written as the text it reads as."""
    parts = title.split("$")
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # after a "$": TeX math when a "$" closes it
            closed = index < len(parts) - 1
            if closed and _balanced(part) and not _TEXT_MODE.search(part):
                out.append(f"${part}$")
                continue
            part = tex_to_text(f"${part}$") if closed else f"${part}"
        words = re.split(r"(\s+)", bibtex_escape(part))
        out.append("".join(f"{{{word}}}" if _INNER_CAPITAL.match(word) else word
                           for word in words))
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)  # (an author recurs in the papers of a vault)
def bibtex_name(author: str) -> str:
    """An author for BibTeX: a person as ``von Last, Jr, First``; a team, or a name written
    family name first, braced whole."""
    author = plain_author(author)
    person = person_name(author)
    if person is None:
        return f"{{{bibtex_escape(author)}}}"
    surname, given = bibtex_escape(person.surname), bibtex_escape(person.given)
    if person.suffix:
        return f"{surname}, {bibtex_escape(person.suffix)}, {given}"
    return f"{surname}, {given}" if given else surname


def bibtex_entry(reference: Reference) -> Entry:
    """The BibTeX entry of a reference (a bibtexparser ``Entry``)."""
    fields = [Field("title", bibtex_title(reference.title))]
    if reference.authors:
        fields.append(Field("author", " and ".join(map(bibtex_name, reference.authors))))
    if reference.issued:
        fields += [Field("year", str(reference.issued.year)),
                   Field("month", reference.issued.month)]
    if reference.arxiv:
        fields += [Field("eprint", reference.arxiv), Field("archivePrefix", "arXiv")]
        if reference.primary_category:
            fields.append(Field("primaryClass", reference.primary_category))
    if reference.journal:
        fields.append(Field("journal", bibtex_escape(reference.journal)))
    if reference.doi and _balanced(reference.doi):
        fields.append(Field("doi", reference.doi))
    url = reference.url or (f"https://arxiv.org/abs/{reference.arxiv}" if reference.arxiv
                            else "")
    if url and _balanced(url):
        fields.append(Field("url", url))
    return Entry("article" if reference.journal else "misc", reference.key, fields)


_FORMAT = bibtexparser.BibtexFormat()
_FORMAT.indent = "  "
_FORMAT.block_separator = "\0"  # (never in a value: entries are told apart by it)


def bibtex_entries(references: Sequence[Reference]) -> list[str]:
    """The BibTeX text of each reference (keys unique), in order; each ends with a line
    end."""
    if not references:
        return []
    library = bibtexparser.Library([bibtex_entry(r) for r in references])
    stack = [MonthAbbreviationMiddleware(allow_inplace_modification=True),
             AddEnclosingMiddleware(allow_inplace_modification=True, default_enclosing="{",
                                    reuse_previous_enclosing=False, enclose_integers=True)]
    text = bibtexparser.write_string(library, unparse_stack=stack, bibtex_format=_FORMAT)
    return text.split("\0")


def bibtex_rows(notes: Sequence[tuple[str, Mapping[str, object]]]
                ) -> list[tuple[str, str, str]]:
    """(note, key, BibTeX entry) of each note of ``notes`` (note, properties); key and entry
    empty for a note without a reference. Run in a build's worker processes too."""
    found = [(note, reference_of(properties)) for note, properties in notes]
    texts = iter(bibtex_entries([ref for _, ref in found if ref is not None]))
    return [(note, ref.key, next(texts)) if ref is not None else (note, "", "")
            for note, ref in found]


def bibtex_file(entries: Sequence[str]) -> str:
    """A BibTeX file of entries (each as ``bibtex_entries`` writes it), a blank line between
    them."""
    return "\n".join(entries)


# --- CSL-JSON -------------------------------------------------------------------------------

def csl_name(author: str) -> dict[str, str]:
    """An author as a CSL name: family, given, particle and suffix; a team as a literal."""
    author = plain_author(author)
    person = person_name(author)
    if person is not None:
        name = {"family": person.family, "given": person.given}
        if person.particle:
            name["non-dropping-particle"] = person.particle
        if person.suffix:
            name["suffix"] = person.suffix
        return {k: v for k, v in name.items() if v}
    if is_family_first(author):
        family, given = family_first_parts(author)
        return {"family": family, "given": given} if given else {"family": family}
    return {"literal": author}


def csl_item(reference: Reference) -> dict[str, object]:
    """The CSL-JSON item of a reference (CSL 1.0 data schema): an arXiv preprint as an
    ``article`` published by arXiv, a paper with a journal reference as ``article-journal``."""
    item: dict[str, object] = {
        "id": reference.key,
        "type": "article-journal" if reference.journal else "article",
        "title": tex_to_text(reference.title),
    }
    if reference.authors:
        item["author"] = [csl_name(a) for a in reference.authors]
    if reference.issued:
        day = reference.issued
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if reference.journal:
        item["container-title"] = reference.journal
    elif reference.arxiv:
        item["publisher"] = "arXiv"
    if reference.arxiv:
        item["number"] = f"arXiv:{reference.arxiv}"
    if reference.doi:
        item["DOI"] = reference.doi
    url = reference.url or (f"https://arxiv.org/abs/{reference.arxiv}" if reference.arxiv
                            else "")
    if url:
        item["URL"] = url
    return item

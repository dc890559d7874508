"""``vaultgen export``: the papers of a vault as BibTeX or CSL-JSON, read from its notes.

Every paper's note, and every cited paper's whose authors are known, as its properties are
now: what the user edited counts. A note without a ``citekey`` gets one made as a build makes
them; a key two notes share is the paper's note's (else the first by path), and the other
gets a letter (``ExportedReferences.clashes`` tells which).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .check.links import list_vault, note_frontmatter, read_note_text
from .model import PAPER_TYPES
from .render.citekeys import assign_citekeys, citekey_base
from .render.references import (
    Reference,
    bibtex_entries,
    bibtex_file,
    csl_item,
    reference_of,
)


@dataclass
class ExportedReferences:
    """The references of a vault's papers, in the order of their keys."""

    references: list[Reference]
    clashes: list[tuple[str, str, str]] = field(default_factory=list)  # (path, key, key given)
    unreadable: list[str] = field(default_factory=list)  # notes that could not be read


def read_references(vault: Path) -> ExportedReferences:
    """The reference of every paper's note of ``vault`` (see the module's docstring)."""
    notes = list_vault(vault).notes
    found: list[tuple[str, Mapping[str, object]]] = []
    unreadable = []
    for path, location in notes.items():
        if not path.endswith(".md"):
            continue
        try:
            text = read_note_text(location)
        except OSError:
            unreadable.append(path)
            continue
        properties = note_frontmatter(text).properties
        if properties and properties.get("type") in PAPER_TYPES:
            found.append((path, properties))
    return _keyed(found, unreadable)


def _keyed(found: Iterable[tuple[str, Mapping[str, object]]],
           unreadable: list[str]) -> ExportedReferences:
    """References with keys unique in the export: a note's own key, papers' notes first,
    then by path; a new one for a note without a key, or whose key an earlier note has."""
    taken: set[str] = set()
    kept: list[Reference] = []
    later: list[tuple[str, Mapping[str, object], Reference, str]] = []  # (…, draft, key base)
    for path, properties in sorted(found, key=lambda f: (f[1].get("type") != "paper", f[0])):
        reference = reference_of(properties)
        if reference is not None and reference.key.casefold() not in taken:
            taken.add(reference.key.casefold())
            kept.append(reference)
            continue
        draft = reference_of(properties, key="?")
        if draft is None:
            continue  # no title, or a paper only cited whose authors are unknown
        base = reference.key if reference is not None else citekey_base(
            draft.authors[0] if draft.authors else None,
            draft.issued.year if draft.issued else None, draft.title)
        later.append((path, properties, draft, base))
    clashes = []
    given = assign_citekeys(((path, base) for path, _, _, base in later), taken)
    for path, properties, draft, base in later:
        kept.append(replace(draft, key=given[path]))
        if properties.get("citekey"):
            clashes.append((path, base, given[path]))
    kept.sort(key=lambda r: r.key)
    return ExportedReferences(kept, clashes, unreadable)


def bibtex_export(references: Iterable[Reference]) -> str:
    """The references as one BibTeX file."""
    return bibtex_file(bibtex_entries(list(references)))


def csl_json_export(references: Iterable[Reference]) -> str:
    """The references as one CSL-JSON file (an array of items)."""
    items = [csl_item(reference) for reference in references]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


EXPORTERS = {"bibtex": bibtex_export, "csl-json": csl_json_export}

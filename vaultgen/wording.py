"""How messages name counts: "1 paper", "2 papers", "1 entry", "0 entries"."""

from __future__ import annotations

_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


def plural_of(noun: str) -> str:
    """The plural of a regular English noun (of its last word: "cited paper" → "cited
    papers")."""
    if noun.endswith("y") and noun[-2:-1] not in ("", "a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(_SIBILANT_ENDINGS):
        return noun + "es"
    return noun + "s"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` followed by ``noun`` in the number it takes (``nouns``: its plural, when not
    regular)."""
    return f"{count} {noun if count == 1 else nouns or plural_of(noun)}"

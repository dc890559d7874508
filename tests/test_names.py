"""Note names: readable TeX, safe on every OS, unique regardless of case."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultgen.render.names import NameRegistry, name_key, safe_name, short_title, tex_to_text

FORBIDDEN = set('\\/:*"<>?|#^[]+\'')


@pytest.mark.parametrize("title, short", [
    ("$\\mu$P: Scaling", "μP"), ("$\\infty$Bench: Long Context", "∞Bench"),
    ("S$^2$R: Self-verify", "S²R"), ("GaLore 2: Large-Scale", "GaLore 2"),
    ("RAGEN: Understanding", "RAGEN"), ("From $r$ to $Q^*$: Your LM", "From r to Q*"),
    ("A: too short a prefix", "A: too short a prefix"), ("No colon here", "No colon here"),
    ("1024$\\times$1024 Video", "1024×1024 Video"),
])
def test_short_titles(title: str, short: str) -> None:
    assert short_title(title) == short
    assert "$" not in tex_to_text(title)


def test_no_words_glued_where_a_character_went() -> None:
    assert safe_name("Beyond Thumbs Up/Down") == "Beyond Thumbs Up∕Down"
    assert safe_name("a [b] c") == "a (b) c"


@pytest.mark.parametrize("name, safe", [
    ("CON", "CON (note)"), ("nul.txt", "nul.txt (note)"), (".hidden", "hidden"),
    ("trailing dots...", "trailing dots"), ("", "Untitled"), ("a%%b", "a%b"),
])
def test_special_names(name: str, safe: str) -> None:
    assert safe_name(name) == safe


@given(st.text(max_size=400))
def test_safe_names_obey_every_os(text: str) -> None:
    name = safe_name(text)
    assert name and not FORBIDDEN & set(name)
    assert "%%" not in name
    assert len(name.encode("utf-8")) <= 255 - len(".md")
    assert not name.startswith(".") and not name.endswith((".", " "))
    assert unicodedata.normalize("NFC", name) == name
    assert not any(ord(c) < 32 for c in name)
    assert safe_name(name) == name  # idempotent


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=30))
def test_registry_names_are_unique_regardless_of_case(names: list[str]) -> None:
    registry = NameRegistry()
    taken = [registry.take(n) for n in names]
    assert len({name_key(n) for n in taken}) == len(taken)


def test_long_korean_titles_are_cut_by_bytes_at_a_word() -> None:
    name = safe_name("한국어 제목 " * 60)
    assert len(name.encode()) <= 240 and name.endswith("…")


def test_no_leading_dot_behind_a_space() -> None:
    """Found by the property test above: the spaces between leading dots went after the dots
    were stripped, leaving a hidden name (".0"), which Obsidian does not show."""
    assert safe_name(". .0") == "0"
    assert safe_name(" . . .hidden") == "hidden"

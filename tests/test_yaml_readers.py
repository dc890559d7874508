"""Frontmatter read by YAML 1.1 and YAML 1.2 readers alike: every value vaultgen writes reads
back as itself, of its own type, through PyYAML (YAML 1.1 as PyYAML reads it), ruamel.yaml
in YAML 1.2 (the schema of Obsidian's JavaScript parser, js-yaml and the npm yaml package)
and ruamel.yaml in YAML 1.1 (its types as the spec defines them: y and n are booleans)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.test_notes import SCALAR_TEXT
from vaultgen.cli import cli
from vaultgen.render.frontmatter import dump_flat, dump_pyyaml
from vaultgen.render.notes import dump_properties

from .conftest import post_folder


def read_pyyaml(text: str) -> object:
    return yaml.safe_load(text)


def read_yaml12(text: str) -> object:
    return YAML(typ="safe").load(io.StringIO(text))


def read_yaml11(text: str) -> object:
    """As the YAML 1.1 types read (where y, n, Y and N are booleans too, unlike PyYAML's)."""
    reader = YAML(typ="safe")
    reader.version = (1, 1)
    with warnings.catch_warnings():  # (that 1e5 is a float only in YAML 1.2)
        warnings.simplefilter("ignore")
        return reader.load(io.StringIO(text))


READERS = (read_pyyaml, read_yaml11, read_yaml12)


def typed(value: object) -> object:
    """``value`` with the type of every scalar in it, so that "1" and 1, 1 and True, and 1
    and 1.0 differ."""
    if isinstance(value, dict):
        return [(typed(key), typed(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def cases(*words: str) -> list[str]:
    """Each word as written, in lower case, capitalised and in upper case."""
    return sorted({form for word in words
                   for form in (word, word.lower(), word.capitalize(), word.upper())})


# Plain words one schema or the other reads as a number: YAML 1.1's and 1.2's integers
# (decimal, 0b, 0o, old octal, hex, sexagesimal, underscores) and floats (exponents with and
# without a sign or a dot, a leading dot, a sign before a dot, .inf, .nan).
NUMBER_LIKE = st.one_of(
    st.from_regex(r"\A[-+]?(?:[0-9][0-9_]{0,4}(?:\.[0-9_]{0,3})?|\.[0-9_]{1,3})"
                  r"(?:[eE][-+]?[0-9]{1,3})?\Z"),
    st.from_regex(r"\A[-+]?0(?:b[01_]{1,5}|o?[0-7_]{1,5}|x[0-9a-fA-F_]{1,5})\Z"),
    st.from_regex(r"\A[-+]?[0-9][0-9_]{0,2}(?::[0-5]?[0-9]){1,2}(?:\.[0-9_]{0,2})?\Z"),
    st.from_regex(r"\A[-+]?[_0-9]{1,3}\Z"),
    st.sampled_from(["1e5", "1.5e3", "2E10", "0o17", "+.5", "-.5", "09", "1.", "-1_0",
                     "0x1F", "0b101", "1:20", "190:20:30.15", *cases(".inf", "+.inf",
                     "-.inf", ".nan", "-.nan", ".Inf", ".NaN")]),
)
BOOL_OR_NULL_LIKE = st.sampled_from([
    *cases("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nULL", "tRUE"),
    "", " ", "<<", "="])
DATE_LIKE = st.one_of(
    st.dates(min_value=dt.date(1000, 1, 1)).map(dt.date.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                  r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{0,3})?"
                  r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?\Z"),
)
LOOKALIKE = st.one_of(NUMBER_LIKE, BOOL_OR_NULL_LIKE, DATE_LIKE)
TEXT = st.one_of(
    LOOKALIKE, SCALAR_TEXT,
    # texts like those with more before or after (a title that starts with a number, a tag)
    st.builds("".join, st.lists(st.one_of(LOOKALIKE, st.sampled_from(
        [" ", ": ", " #", "-", "e", ".", "_", ":", ",", "'", "a"])), min_size=2, max_size=4)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
)
VALUE = st.one_of(
    TEXT, st.lists(TEXT, max_size=4),  # titles, authors, tags, aliases, sources …
    st.integers(), st.booleans(), st.dates(min_value=dt.date(1000, 1, 1)),  # counts, days
)
KEY = st.one_of(st.sampled_from(["type", "title", "aliases", "authors", "date", "tags",
                                 "arxiv", "count", "tag_count", "source"]),
                st.from_regex(r"\A[a-z][a-z_]{0,8}\Z"), TEXT.filter(bool))


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(KEY, VALUE, min_size=1, max_size=6))
def test_every_reader_reads_back_the_values_written(properties: dict[str, object]) -> None:
    for written in (dump_properties(properties).removeprefix("---\n").removesuffix("---\n"),
                    dump_pyyaml(properties)):
        for read in READERS:
            assert typed(read(written)) == typed(properties), (read.__name__, written)


@pytest.mark.parametrize("text", [
    "1e5", "1.5e3", "2E10", "0o17", "+.5", "09", "1_000", "-_", ".5e5", "0x1F", "0b11",
    "1:20", ".inf", "-.Inf", ".NaN", "y", "N", "yes", "Off", "TRUE", "false", "~", "null",
    "NULL", "", "2025-04-30", "2025-4-3", "2001-12-14t21:59:43.10-05:00", "<<", "="])
def test_a_text_any_schema_reads_otherwise_is_quoted(text: str) -> None:
    for properties in ({"title": text}, {"tags": [text, "llm"]}, {text or "k": "v"}):
        written = dump_properties(properties).removeprefix("---\n").removesuffix("---\n")
        assert written == dump_pyyaml(properties)
        for read in READERS:
            assert typed(read(written)) == typed(properties), (read.__name__, written)


def test_a_text_no_schema_reads_otherwise_stays_plain() -> None:
    for text in ("llm", "Ann O'Neil", "1e5x", "0o8", "v1.5", "2025-04-30.txt:12",
                 "https://arxiv.org/abs/2505.07608", "yes please", "nota bene", "e5", "x1"):
        assert dump_flat({"title": text}) == f"title: {text}\n"


POST = """2025-05-01
1e5
(Y, No, Null, On)
An abstract.
#1e5 #0x1F #y #llm

---

1.5e3 tokens: scaling, again
(Ann Author)
Another abstract.
#llm #2025-05-01
"""


def test_every_note_of_a_vault_reads_the_same_in_yaml_1_1_and_1_2(tmp_path: Path) -> None:
    """Titles, authors and tags that look like numbers, booleans or dates stay text for a
    YAML 1.2 reader too (the one Obsidian reads properties with)."""
    posts = post_folder(tmp_path, POST)
    vault = tmp_path / "vault"
    result = CliRunner().invoke(cli, ["build", str(posts), "-o", str(vault), "--offline"])
    assert result.exit_code == 0, result.output
    seen = []
    for path in sorted(vault.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        front = text.split("---\n")[1]
        properties = read_pyyaml(front)
        for read in READERS:
            assert typed(read(front)) == typed(properties), (read.__name__, path)
        seen.append(properties)
    titles = {p["title"] for p in seen if p["type"] == "paper"}
    assert titles == {"1e5", "1.5e3 tokens: scaling, again"}
    authors = list(itertools.chain(*(p["authors"] for p in seen if p["type"] == "paper")))
    assert sorted(authors) == sorted(["Ann Author", "Y", "No", "Null", "On"])
    assert {p["tag"] for p in seen if p["type"] == "tag"} >= {"1e5", "0x1F", "y", "llm"}

"""Writing frontmatter: the flat writer must write what PyYAML's emitter writes, wherever it
answers, and answer for the properties vaultgen's notes hold."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_notes import KEY_TEXT, SCALAR_TEXT
from vaultgen.render.frontmatter import _dump_plain, dump_flat, dump_pyyaml
from vaultgen.render.notes import dump_properties

TEXT = st.one_of(
    SCALAR_TEXT,
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.text(alphabet=" ab:#-'\"\t\n.?,[]{}\u2028\x85\xa0\ufeff한μ😀", max_size=12),
    st.builds(lambda a, b: f"{a}: {b}", st.text(max_size=8), st.text(max_size=8)),
)
VALUE = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(),
                  st.dates(), st.datetimes(), st.lists(TEXT, max_size=4),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def pyyaml(properties: dict[str, object]) -> str:
    return dump_pyyaml(properties)


@settings(max_examples=3000)
@given(st.dictionaries(st.one_of(KEY_TEXT, st.sampled_from(["aliases", "on", "null"])),
                       VALUE, max_size=6), st.booleans())
def test_the_flat_writer_writes_what_pyyaml_writes_wherever_it_answers(
        properties: dict[str, object], share: bool) -> None:
    if share and properties:  # one value object under two keys, or in its own list
        value = next(iter(properties.values()))
        properties["shared"] = value
        properties["within"] = [value]
    written = dump_flat(properties)
    if written is not None:
        assert written == pyyaml(properties), properties


# Texts near what decides plain or quoted at once for a whole note: booleans and nulls and
# words that only start like them, first characters the resolver or the emitter looks at,
# spaces, colons and hashes at either end.
WORDISH = st.one_of(
    st.sampled_from(["yes", "No", "NULL", "off", "On", "true", "y", "n", "~", "nota bene",
                     "Nora Noodle", "off-policy", "Yann", "tüy", "0.5", "2025-04-30",
                     "3209.00007", "-x", "- x", ".inf", "=", "<<", "a:", "a: b", "a #b",
                     "a#b", " a", "a ", "", "\u2028", "x\ny"]),
    st.text(alphabet="FNOTYfnotyabz -:#.0\n ", min_size=1, max_size=6),
)


@settings(max_examples=3000)
@given(st.lists(st.tuples(st.sampled_from(["title", "authors", "tags", "arxiv", "date"]),
                          st.one_of(WORDISH, st.lists(WORDISH, max_size=4), st.dates())),
                max_size=6))
def test_a_note_written_in_one_pass_is_written_as_pyyaml_writes_it(
        pairs: list[tuple[str, object]]) -> None:
    properties = dict(pairs)
    written = _dump_plain(properties)
    if written is not None:
        assert written == pyyaml(properties), properties


def test_the_flat_writer_answers_for_a_paper_note() -> None:
    properties: dict[str, object] = {
        "type": "paper", "title": "MiMo: Unlocking the Reasoning Potential",
        "aliases": ["MiMo: Unlocking the Reasoning Potential", "μP — it's 한국어"],
        "authors": ["Ann O'Neil", "Bob"], "date": dt.date(2025, 4, 30),
        "dates": ["2025-04-30", "2025-05-02"], "tags": ["llm", "rl"], "arxiv": "2505.07608",
        "url": "https://arxiv.org/abs/2505.07608", "count": 3, "code": [],
        "source": ["input/2025-04-30.txt:12"], "primary_category": "cs.CL",
    }
    written = dump_flat(properties)
    assert written is not None
    assert written == pyyaml(properties)
    assert dump_properties(properties) == f"---\n{written}---\n"
    assert _dump_plain(properties) == written  # in one pass, the way of the usual note


def test_an_object_met_twice_is_written_twice_not_as_an_alias() -> None:
    """Equal dates read from a note are one object; PyYAML would write the second as an alias
    of the first (``&id001``, ``*id001``), which Obsidian's properties do not know."""
    day, tags, nested = dt.date(2025, 4, 30), ["llm"], [1]
    for properties in ({"published": day, "updated": day}, {"tags": tags, "aliases": tags},
                       {"date": day, "dates": [day]}, {"a": [nested], "b": [nested]}):
        assert "&id" in yaml.dump(properties, Dumper=yaml.CSafeDumper)
        written = dump_properties(properties)
        assert "&id" not in written and "*id" not in written
        assert yaml.safe_load(written.strip("-\n")) == properties
    assert dump_flat({"published": day, "updated": day}) == "published: 2025-04-30\n" \
        "updated: 2025-04-30\n"


def test_what_the_flat_writer_leaves_to_pyyaml() -> None:
    for value in ("two\nlines", "tab\there", "x" * 20_000, 1.5, None, {"a": 1},
                  dt.datetime(2025, 1, 1, 10, 0)):
        assert dump_flat({"title": value}) is None, value
        assert dump_properties({"title": value}) == f"---\n{pyyaml({'title': value})}---\n"

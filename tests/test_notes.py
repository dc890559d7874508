"""Reading frontmatter: the simple-shape reader must agree with PyYAML wherever it answers."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.check.notes import read_frontmatter, simple_properties

SCALAR_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    st.sampled_from(["yes", "No", "on", "OFF", "true", "~", "null", "12", "012", "0x1F", "1_000",
                     "12:30", "1.5", ".inf", "-.NaN", "2025-04-30", "2025-4-3",
                     "2025-04-30 10:00:00", "'quoted'", "'it''s'", '"dq"', "[]", "[a, b]",
                     "{a: 1}", "a: b", "a #b", "a#b", "#c", "&x a", "*x", "!!str 1", "- a",
                     "-a", "-1", "http://x.org/a?b=c", "a:", ":a", "|", ">", "'open",
                     "Paper: a title", "μP", "한국어", "=", "<<", "", " "]))
KEY_TEXT = st.one_of(st.sampled_from(["type", "title", "tags", "date", "yes", "12", "a b",
                                      "key ", "a-b", "_x", "k.k"]),
                     st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                             min_size=1, max_size=8))
LINE = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", KEY_TEXT, SCALAR_TEXT),
    st.builds(lambda k: f"{k}:", KEY_TEXT),
    st.builds(lambda v: f"- {v}", SCALAR_TEXT),
    st.builds(lambda v: f"  - {v}", SCALAR_TEXT),
    st.sampled_from(["", "  continued", "# comment", "...", "-", "key:value", "\tk: v"]),
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=3000)
@given(st.lists(LINE, max_size=8))
def test_the_simple_reader_agrees_with_pyyaml_wherever_it_answers(lines: list[str]) -> None:
    front = "\n".join(lines) + "\n"
    simple = simple_properties(front)
    if simple is None:
        return
    loaded = yaml.load(front, Loader=yaml.CSafeLoader)  # must not raise where we answered
    assert _same(simple, loaded if loaded is not None else {}), (front, simple, loaded)


PROPERTY = st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none(),
                     st.dates(min_value=dt.date(1900, 1, 1)),
                     st.lists(st.text(max_size=15), max_size=4))


@settings(max_examples=500)
@given(st.dictionaries(st.text(min_size=1, max_size=10), PROPERTY, max_size=8))
def test_what_pyyaml_dumps_is_read_back_the_same(properties: dict[str, object]) -> None:
    front = yaml.safe_dump(properties, sort_keys=False, allow_unicode=True, width=1_000_000)
    simple = simple_properties(front)
    if simple is not None:
        assert _same(simple, yaml.safe_load(front) or {})


@pytest.mark.parametrize("front", [
    "type: paper\ntitle: 'MiMo: Unlocking'\ntags:\n- llm\n- rl\ndate: 2025-04-30\n",
    "tags:\n  - a\n  - b\ncount: 3\ndone: yes\nnothing:\n",
])
def test_common_frontmatter_takes_the_simple_path(front: str) -> None:
    assert simple_properties(front) == yaml.safe_load(front)


def test_anything_else_goes_to_pyyaml() -> None:
    for front in ("a: [1, 2]\n", "a:\n  b: 1\n", "a: |\n  text\n", "a: &x 1\nb: *x\n",
                  "a: 1 # note\n", "a: b\n  c\n"):
        assert simple_properties(front) is None, front
    note = read_frontmatter("---\na:\n  b: 1\n---\nbody\n")
    assert note.properties == {"a": {"b": 1}} and note.body == "body\n"

"""YAML for flat property maps, written exactly as PyYAML's emitter would write them, faster.

A note's frontmatter is a map of plain keys to text, numbers, dates and lists of text. For
such a map PyYAML spends most of its time deciding, character by character, how each value
may be written (plain, 'single-quoted', "double-quoted"). ``dump_flat`` decides the common
cases by a few whole-string checks and PyYAML's own resolver (which says whether a plain word
would read back as text), and answers None for anything else — line breaks, tabs, control
characters, nested maps, very long text — which the caller then hands to PyYAML. A
differential test (``tests/test_flat_yaml.py``) holds it to PyYAML's output.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import yaml
from yaml.resolver import Resolver

try:  # the C emitter is many times faster; the output is the same
    _DUMPER: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _DUMPER = yaml.SafeDumper
_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = Resolver()
# The first characters the resolver looks further at (a plain word starting otherwise is text).
_RESOLVED_FIRST = frozenset(Resolver.yaml_implicit_resolvers)
_MAX_LENGTH = 10_000  # far below the emitter's line width: no value is ever folded
_KEY = re.compile(r"[a-z][a-z_]*")
# Characters both emitters (PyYAML's and libyaml's) print as they are, in any quoting: no
# tab, no line break (\x85, \u2028, \u2029), no control or other non-printable character.
# Characters beyond the BMP (emoji) libyaml writes escaped: left to it.
_PRINTABLE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
# What keeps a value from being written plain in a block map or list (the emitter's rules,
# for text of the characters above): space at either end; a document marker first; an
# indicator first ("?", ":" and "-" only when a space or the end follows); ": " or " #"
# inside, or ":" last; and reading back as anything but text (yes, 12, 2025-04-30, null).
_INDICATORS_FIRST = frozenset("#,[]{}&*!|>'\"%@`")


def _plain_allowed(text: str) -> bool:
    first = text[0]
    if first == " " or text[-1] == " " or first in _INDICATORS_FIRST:
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if text.startswith(("---", "...")) or ": " in text or text[-1] == ":" or " #" in text:
        return False
    return first not in _RESOLVED_FIRST or \
        _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


@functools.lru_cache(maxsize=1 << 12)  # tags, categories, frequent authors recur
def _text(value: str) -> str | None:
    if not value:
        return "''"
    if len(value) > _MAX_LENGTH or not _PRINTABLE.fullmatch(value):
        return None
    if _plain_allowed(value):
        return value
    return "'" + value.replace("'", "''") + "'"


@functools.lru_cache(maxsize=256)
def _plain_key(key: str) -> bool:
    return bool(_KEY.fullmatch(key)) and _plain_allowed(key)


def _scalar(value: object) -> str | None:
    """How PyYAML writes ``value`` as a map value or list item; None when not sure."""
    if type(value) is str:
        return _text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return None


class _NoAliasDumper(_DUMPER):  # type: ignore[misc, valid-type]
    """PyYAML's dumper, never writing a value met twice as an anchor and an alias (equal
    dates read from a note are one object; Obsidian's properties know no anchors)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def dump_pyyaml(properties: dict[str, object]) -> str:
    """The YAML block map of ``properties`` by PyYAML (keys in order, unicode kept, no
    folding, no anchors)."""
    return yaml.dump(properties, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1_000_000)


def dump_flat(properties: dict[str, object]) -> str | None:
    """The YAML block map ``dump_pyyaml`` writes for ``properties``, or None when a key or
    value is not of the flat kinds this knows."""
    lines: list[str] = []
    for key, value in properties.items():
        if type(key) is not str or not _plain_key(key):
            return None
        if type(value) is list:
            if not value:
                lines.append(f"{key}: []")
                continue
            lines.append(f"{key}:")
            for item in value:  # (text mostly: ``_text`` called here, not through ``_scalar``)
                written = _text(item) if type(item) is str else _scalar(item)
                if written is None:
                    return None
                lines.append("- " + written)
            continue
        written = _text(value) if type(value) is str else _scalar(value)
        if written is None:
            return None
        lines.append(f"{key}: {written}")
    if not lines:
        return None
    lines.append("")
    return "\n".join(lines)

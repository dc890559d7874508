"""YAML for flat property maps, written exactly as PyYAML's emitter would write them, faster.

A note's frontmatter is a map of plain keys to text, numbers, dates and lists of text. For
such a map PyYAML spends most of its time deciding, character by character, how each value
may be written (plain, 'single-quoted', "double-quoted"). ``dump_flat`` decides the common
cases by a few whole-string checks and a resolver (which says whether a plain word would read
back as text), and answers None for anything else — line breaks, tabs, control characters,
nested maps, very long text — which the caller then hands to PyYAML. A differential test
(``tests/test_flat_yaml.py``) holds it to PyYAML's output.

Text is written plain only where every reader reads it back as text: PyYAML (YAML 1.1) and
the YAML 1.2 readers Obsidian and most tools use (``1e5``, ``0o17``, ``+.5`` are numbers
there), and YAML 1.1 as its types define it (``y`` and ``n`` are booleans there). Both
writers, PyYAML's emitter and ``dump_flat``, use the one resolver that knows all of them.
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
# Plain words that YAML 1.2 readers (Obsidian's JavaScript parser, js-yaml, the npm yaml
# package, ruamel.yaml), or YAML 1.1 as its types define it, read as other than text while
# PyYAML's resolver reads them as text: 1e5, 1.5e3, 2E10, +.5, 0o17, 09, 1_000, y, N ...
# (tag, pattern, first characters). Any reader's number, boolean, null or date is quoted.
_OTHER_READERS_IMPLICIT = (
    ("tag:yaml.org,2002:bool", r"^(?:y|Y|n|N)$", "yYnN"),
    ("tag:yaml.org,2002:int", r"""^(?:[-+]?0b[0-1_]+
                                   |[-+]?0o?[0-7_]+
                                   |[-+]?[0-9_]+
                                   |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
                                     |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                                     |[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))$""",
     "-+0123456789."),
    ("tag:yaml.org,2002:timestamp", r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?$",
     "0123456789"),
)


def _read_as_every_reader_does(resolver: type[Resolver]) -> None:
    """Make ``resolver`` (a class) take for other than text what any YAML reader does."""
    for tag, pattern, first in _OTHER_READERS_IMPLICIT:
        resolver.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


class _Resolver(Resolver):
    """PyYAML's resolver, reading a plain word as text only where every reader does."""


_read_as_every_reader_does(_Resolver)
_RESOLVER = _Resolver()
# The first characters the resolver looks further at (a plain word starting otherwise is text).
_RESOLVED_FIRST = frozenset(_Resolver.yaml_implicit_resolvers)
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


_read_as_every_reader_does(_NoAliasDumper)  # the emitter quotes what they read otherwise


def dump_pyyaml(properties: dict[str, object]) -> str:
    """The YAML block map of ``properties`` by PyYAML (keys in order, unicode kept, no
    folding, no anchors, text quoted wherever some YAML reader would read it otherwise)."""
    return yaml.dump(properties, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1_000_000)


def dump_flat(properties: dict[str, object]) -> str | None:
    """The YAML block map ``dump_pyyaml`` writes for ``properties``, or None when a key or
    value is not of the flat kinds this knows."""
    quick = _dump_plain(properties)
    return quick if quick is not None else _dump_each(properties)


# A text that starts with none of these, and passes ``_plain_throughout``'s checks, is written
# plain: what else keeps a text from it is about its first characters.
_LOOK_FIRST = _INDICATORS_FIRST | _RESOLVED_FIRST | frozenset(" ?:-")
# Of those, the letters that start only PyYAML's booleans and nulls (yes, No, true, null …):
# words of letters alone, so that a text going on with a space or a hyphen is text.
_WORD_FIRST = "".join(sorted(
    first for first, resolvers in _Resolver.yaml_implicit_resolvers.items()
    if first.isalpha() and {tag for tag, _ in resolvers} <=
    {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}))
# A list item (in a block "- a\n- b") that starts with a character of ``_LOOK_FIRST``, but
# for a word of such a letter going on with more than letters.
_LOOK_ITEM = re.compile(
    "(?:^|\n)- (?:[" + re.escape("".join(sorted(_LOOK_FIRST - set(_WORD_FIRST)))) + "]|["
    + _WORD_FIRST + "][A-Za-z]*(?:\n|$))")


def _dump_plain(properties: dict[str, object]) -> str | None:
    """``dump_flat`` for the usual note: each text written plain, unless its first
    characters or a ": " or " #" in it may ask for quotes (``_text`` decides then, for a
    list's every item). The rest of what would keep a text from being plain is checked on
    all the texts at once, as one string (``_plain_throughout``), not one at a time: most
    texts of a note (its title, its authors) are new to it. None when that check fails, or
    a value is not a text, a list of texts or a ``_scalar``: ``_dump_each`` decides then."""
    lines: list[str] = []
    texts: list[str] = []  # the texts written plain, a list's joined by line breaks
    items = 0
    for key, value in properties.items():
        if type(key) is not str or not _plain_key(key):
            return None
        if type(value) is str:
            if not value or value[0] in _LOOK_FIRST or ": " in value or " #" in value:
                written = _text(value)
                if written is None:
                    return None
            else:
                written = value
                texts.append(value)
                items += 1
            lines.append(f"{key}: {written}")
        elif type(value) is list:
            if not value:
                lines.append(f"{key}: []")
                continue
            try:
                block = "- " + "\n- ".join(value)  # (a TypeError: not texts alone)
            except TypeError:
                return None
            if ": " in block or " #" in block or _LOOK_ITEM.search(block):
                each = _item_lines(value)  # each item written as ``_text`` says
                if each is None:
                    return None
                lines += (f"{key}:", *each)
                continue
            lines.append(f"{key}:\n{block}")
            texts.append("\n".join(value))
            items += len(value)
        else:
            written = _scalar(value)
            if written is None:
                return None
            lines.append(f"{key}: {written}")
    if not lines or (texts and not _plain_throughout("\n".join(texts), items)):
        return None
    lines.append("")
    return "\n".join(lines)


def _plain_throughout(joined: str, items: int) -> bool:
    """Whether the ``items`` texts joined by line breaks, whose first characters ask for
    no quotes and which hold no ": " or " #", are each written plain: none is empty or
    long or holds a line break or a character the emitters escape, starts or ends with a
    space or ends with ":"."""
    return (len(joined) <= _MAX_LENGTH and joined.count("\n") == items - 1
            and joined[:1] not in ("", "\n", " ") and joined[-1] not in " :\n"
            and "\n\n" not in joined and " \n" not in joined and "\n " not in joined
            and ":\n" not in joined
            and _PRINTABLE.fullmatch(joined.replace("\n", " ")) is not None)


def _dump_each(properties: dict[str, object]) -> str | None:
    """``dump_flat`` deciding how to write each value on its own."""
    lines: list[str] = []
    for key, value in properties.items():
        if type(key) is not str or not _plain_key(key):
            return None
        if type(value) is list:
            if not value:
                lines.append(f"{key}: []")
                continue
            each = _item_lines(value)
            if each is None:
                return None
            lines += (f"{key}:", *each)
            continue
        written = _text(value) if type(value) is str else _scalar(value)
        if written is None:
            return None
        lines.append(f"{key}: {written}")
    if not lines:
        return None
    lines.append("")
    return "\n".join(lines)


def _item_lines(value: list[object]) -> list[str] | None:
    """The lines of a list's items, each written as ``_text`` or ``_scalar`` says; None when
    one is not of the flat kinds."""
    lines = []
    for item in value:  # (text mostly: ``_text`` called here, not through ``_scalar``)
        written = _text(item) if type(item) is str else _scalar(item)
        if written is None:
            return None
        lines.append("- " + written)
    return lines

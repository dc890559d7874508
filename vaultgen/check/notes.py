"""Reading a note's properties: python-frontmatter splits, PyYAML loads.

Most frontmatter is a flat map of plain or quoted scalars and lists of them — all vaultgen
writes, and what Obsidian's property editor writes. ``simple_properties`` reads that shape
line by line, with PyYAML's own resolver and constructors deciding every value's type, and
gives up (None) on anything else, which PyYAML's C loader then reads in full. It saves the
composing of YAML nodes, which was half of the time ``vaultgen check`` spent on a vault.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_HANDLER = YAMLHandler()
_RESOLVERS = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()
_KEY_LINE = re.compile(r"([^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\t]*):(?: (.*))?")
_ITEM_LINE = re.compile(r"( *)-(?: (.*))?")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_STR = "tag:yaml.org,2002:str"


class _NotSimple(Exception):
    """The frontmatter is not of the simple shape; PyYAML reads it."""


@functools.lru_cache(maxsize=1 << 16)  # values repeat: types, tags, dates
def _scalar(text: str) -> object:
    """One scalar as PyYAML's safe loader would construct it, or ``_NotSimple``. Only
    immutable values (str, int, float, bool, None, dates) come out, so results can be shared."""
    if not text.isprintable():  # tabs, other line breaks, controls: PyYAML's own rules
        raise _NotSimple
    text = text.strip(" ")
    if not text:
        return None
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or inner.replace("''", "").count("'"):
            raise _NotSimple
        return inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _NotSimple
        return inner
    if (first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " ")) \
            or ": " in text or " #" in text or text.endswith(":"):
        raise _NotSimple
    for tag, pattern in _RESOLVERS.get(first, ()):
        if pattern.match(text):
            constructor = _CONSTRUCTOR.yaml_constructors.get(tag)
            if tag == _STR:
                return text
            if constructor is None or tag.endswith((":merge", ":value")):
                raise _NotSimple
            return constructor(_CONSTRUCTOR, ScalarNode(tag, text))
    return text


_BLANK, _VALUE, _OPEN, _ITEM, _EMPTY_LIST = range(5)


@functools.lru_cache(maxsize=1 << 16)  # lines repeat too: "type: paper", "- cs.LG", "tags:"
def _line(line: str) -> tuple[int, object, object]:
    """What one line of flat frontmatter is: (_BLANK, ...), (_VALUE, key, value),
    (_EMPTY_LIST, key, None) for ``key: []``, (_OPEN, key, None) for a key whose list (or
    null) follows, (_ITEM, indent, value); ``_NotSimple`` for anything else."""
    if not line.strip(" "):
        return _BLANK, None, None
    item = _ITEM_LINE.fullmatch(line)
    if item is not None:
        return _ITEM, item.group(1), _scalar(item.group(2) or "")
    match = _KEY_LINE.fullmatch(line)
    if match is None:
        raise _NotSimple
    key = _scalar(match.group(1))
    if not isinstance(key, str):
        raise _NotSimple
    value = match.group(2)
    if value is None or not value.strip(" "):
        return _OPEN, key, None
    if value.strip(" ") == "[]":
        return _EMPTY_LIST, key, None
    return _VALUE, key, _scalar(value)


def simple_properties(front: str) -> dict[str, object] | None:
    """``front`` read as a flat map of scalars and lists of scalars, exactly as PyYAML's safe
    loader reads it; None when it has any other shape (nesting, flow collections, block
    scalars, comments, anchors, multi-line scalars...)."""
    properties: dict[str, object] = {}
    listing: str | None = None  # the key whose list is being read
    items: list[object] = []
    indent: object = None
    try:
        for line in front.split("\n"):
            kind, first, second = _line(line)
            if kind == _ITEM:
                if listing is None or (indent is not None and first != indent):
                    return None  # an item under no key, or out of line with the others
                indent = first
                items.append(second)
                continue
            if listing is not None:
                properties[listing] = items if indent is not None else None
                listing = None
            if kind == _VALUE:
                properties[first] = second  # type: ignore[index]
            elif kind == _EMPTY_LIST:
                properties[first] = []  # type: ignore[index]
            elif kind == _OPEN:
                listing, items, indent = first, [], None  # type: ignore[assignment]
    except (_NotSimple, yaml.YAMLError, ValueError):
        return None
    if listing is not None:
        properties[listing] = items if indent is not None else None
    return properties


@dataclass(frozen=True)
class Frontmatter:
    """A note split at its frontmatter."""

    properties: dict[str, object] | None  # None: no frontmatter, or not a YAML map
    body: str  # the text after the frontmatter (all of it when there is none)
    body_line: int  # 1-based line number where ``body`` starts
    error: str | None = None  # why the frontmatter could not be read


def read_frontmatter(text: str) -> Frontmatter:
    """Split ``text`` (LF line ends) into properties and body; bad YAML is reported, not raised."""
    if not text.startswith("---\n") or not _HANDLER.detect(text):
        return Frontmatter(None, text, 1)
    try:
        front, body = _HANDLER.split(text)
    except ValueError:
        return Frontmatter(None, text, 1, "frontmatter is not closed by a '---' line")
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    if body.startswith("\n"):  # the line end of the closing '---'
        body, body_line = body[1:], body_line + 1
    simple = simple_properties(front)
    if simple is not None:
        return Frontmatter(simple, body, body_line)
    try:
        loaded = _HANDLER.load(front, Loader=_Loader)
    except yaml.YAMLError as err:
        return Frontmatter(None, body, body_line, " ".join(str(err).split()))
    if loaded is None:
        return Frontmatter({}, body, body_line)
    if not isinstance(loaded, dict):
        return Frontmatter(None, body, body_line, "frontmatter is not a map of properties")
    return Frontmatter(loaded, body, body_line)

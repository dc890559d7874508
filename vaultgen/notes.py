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


def simple_properties(front: str) -> dict[str, object] | None:
    """``front`` read as a flat map of scalars and lists of scalars, exactly as PyYAML's safe
    loader reads it; None when it has any other shape (nesting, flow collections, block
    scalars, comments, anchors, multi-line scalars...)."""
    properties: dict[str, object] = {}
    lines = front.split("\n")
    count = len(lines)
    index = 0
    try:
        while index < count:
            line = lines[index]
            index += 1
            if not line.strip(" "):
                continue
            match = _KEY_LINE.fullmatch(line)
            if match is None:
                return None
            key = _scalar(match.group(1))
            if not isinstance(key, str):
                return None
            value = match.group(2)
            if value is not None and value.strip(" "):
                properties[key] = [] if value.strip(" ") == "[]" else _scalar(value)
                continue
            items: list[object] = []
            indent: str | None = None
            while index < count:
                item = _ITEM_LINE.fullmatch(lines[index])
                if item is None:
                    break
                if indent is None:
                    indent = item.group(1)
                elif item.group(1) != indent:
                    return None
                items.append(_scalar(item.group(2) or ""))
                index += 1
            properties[key] = items if indent is not None else None
    except (_NotSimple, yaml.YAMLError, ValueError):
        return None
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

"""Reading a note's properties: python-frontmatter splits, PyYAML's C loader loads."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from frontmatter.default_handlers import YAMLHandler

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_HANDLER = YAMLHandler()


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
    try:
        loaded = _HANDLER.load(front, Loader=_Loader)
    except yaml.YAMLError as err:
        return Frontmatter(None, body, body_line, " ".join(str(err).split()))
    if loaded is None:
        return Frontmatter({}, body, body_line)
    if not isinstance(loaded, dict):
        return Frontmatter(None, body, body_line, "frontmatter is not a map of properties")
    return Frontmatter(loaded, body, body_line)

"""Post text written into a note so that Obsidian's reading view shows what the post says.

Abstracts, commentary and titles are plain text, but a note is Markdown: ``8*16B ... 384*384``
would turn italic, ``<tokens>`` vanish as HTML, ``#word`` become a tag, ``%%`` hide the rest.
``escape_markdown`` backslash-escapes whatever CommonMark, GFM or Obsidian would read as
markup, and leaves alone what the text's author meant as Markdown or TeX:

- TeX math, ``$…$`` and ``$$…$$`` (no blank just inside a ``$``, no digit just after the
  closing one, the first unescaped ``$`` closes or none does: ``$5 and $10`` is no math,
  ``2.7$\\times$`` is), stays as written;
- bold and links the author wrote (``**GRAPE**``, ``[page](https://…)``) stay Markdown;
- TeX quotes ``like this'' become “like this”;
- a bare ``http(s)://`` address is written as an autolink ``<…>``, inside which nothing is
  markup (a backslash-escape next to a bare address would be taken into the address).

Each line of the text is escaped as the start of a block (``# ``, ``> ``, ``- ``, ``1. ``
lose their meaning); its leading and trailing blanks go (Markdown drops them, or reads four
leading spaces as code).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence

_ASCII_PUNCTUATION = frozenset(string.punctuation)
# What starts a block at the start of a line (``*``, ``_``, ``#``, ``<``, ``` ` ``` and ``~``
# are escaped wherever they stand).
_BLOCK_START = re.compile(r"[-+](?=[ \t]|$)|-(?=-)|>|(?P<number>\d{1,9})[.)](?=[ \t]|$)")
_TEX_QUOTE = re.compile(r"(?<![\\`])``(?!`)([^`$\n]+?)''")
_NAMED = r"(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"  # after "&"
_ENTITY = re.compile(rf"&(?={_NAMED})")
_URL_START = ("http://", "https://")
_URL_HEAD = re.compile(r"https?://[A-Za-z0-9]")
# A bare address: ASCII characters a URL holds, but none a note would read as markup before
# the address (brackets, "$", backquote, "|", "^", "\", braces, quotes) and no "%%" or entity.
_URL = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9\-._~:/?#@!'*+,;=()&%]*")
_URL_INERT = re.compile(rf"%%|&{_NAMED}")
_WWW_END = re.compile(r"\s", re.ASCII)  # GFM ends an address at ASCII space only
_URL_TRAILING = frozenset(".,:;!?*_~'")  # a sentence's punctuation after an address
_AUTHOR_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://(?:[A-Za-z0-9\-._~:/?#@!'*+,;=]"
                          rf"|&(?!{_NAMED})|%[0-9A-Fa-f]{{2}})+)\)")
_AUTHOR_BOLD = re.compile(r"\*\*([^\W_](?:[^\W_]|[ .,;'’\-/()+!?])*?(?<! ))\*\*(?!\*)")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that Obsidian (and any CommonMark/GFM reader) shows as ``text``."""
    return _escape_text(text, None, iter(()))


def escape_around_links(text: str, links: Sequence[tuple[int, int, str]]) -> str:
    """``text`` escaped as ``escape_markdown`` does, each ``(start, end, markdown)`` span of it
    replaced by ``markdown`` written as is (a wiki-link put where a citation stood)."""
    if not links:
        return escape_markdown(text)
    mark = _free_mark(text)
    pieces = []
    position = 0
    for start, end, _markdown in links:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return _escape_text(mark.join(pieces), mark, iter([markdown for *_, markdown in links]))


def _free_mark(text: str) -> str:
    """A private-use character ``text`` does not hold, to stand for a link while escaping."""
    if "\ue000" not in text:
        return "\ue000"
    return next(chr(code) for code in range(0xE001, 0xF900) if chr(code) not in text)


def _escape_text(text: str, mark: str | None, links: Iterator[str]) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # a lone CR ends a line too
    lines = text.split("\n")
    if not _may_hold_markup(text) and (mark is None or not (
            ("!" in text and f"!{mark}" in text) or ("(" in text and f"{mark}(" in text))):
        # Most texts: their lines' starts alone need escaping, and the links put in.
        escaped = "\n".join([_escape_block_start(line.strip(" \t")) for line in lines])
        if mark is None:
            return escaped
        pieces = escaped.split(mark)
        linked = (part for pair in zip(links, pieces[1:], strict=True) for part in pair)
        return "".join([pieces[0], *linked])
    return "\n".join([_escape_line(line.strip(" \t"), mark, links) for line in lines])


# The characters where markup may start, looked for with str.find (memchr: many times faster
# than a regular expression's character class); "%" and "=" only as "%%" and "==", "!" and "("
# only beside a wiki-link. Bare addresses are looked for apart, by the text they start with.
_TRIGGERS = "\\`*_[]<~^$#&"
_WWW_AFTER = frozenset(" \t*_~(")  # GFM reads "www." as an address after these only


def _may_hold_markup(text: str) -> bool:
    """Whether ``text`` holds anything inline that may need escaping (single characters first:
    "in" and str.find look for one with memchr, fast). A "www." address needs none in a text
    that holds nothing else."""
    return ((":" in text and "://" in text) or _has_pair(text, "%") or _has_pair(text, "=")
            or any(map(text.__contains__, _TRIGGERS)))


def _block_start(line: str) -> tuple[str, int]:
    """What would start a block at the start of ``line``, escaped, and its length there."""
    block = _BLOCK_START.match(line)
    if not block:
        return "", 0
    number = block.group("number")
    if number:
        return f"{number}\\{line[len(number)]}", block.end()
    return f"\\{line[0]}", 1


def _escape_block_start(line: str) -> str:
    start, length = _block_start(line)
    return start + line[length:] if length else line


def _escape_line(line: str, mark: str | None, links: Iterator[str]) -> str:
    if mark is not None and mark not in line:
        mark = None
    if mark is None and not _may_hold_markup(line):
        return _escape_block_start(line)
    start, position = _block_start(line)
    out = [start]
    if "`" in line and "``" in line:
        line = _TEX_QUOTE.sub("“\\1”", line)
    runs = _has_pair(line, "%") or _has_pair(line, "=")
    _escape_inline(line, position, len(line), mark, links, out, addresses=True, runs=runs)
    return "".join(out)


def _has_pair(line: str, char: str) -> bool:
    """Whether ``char`` stands twice in a row in ``line``."""
    at = line.find(char)
    while at >= 0:
        if line[at + 1:at + 2] == char:
            return True
        at = line.find(char, at + 2)
    return False


def _found(line: str, text: str, start: int, end: int, step: int = 1) -> list[int]:
    """Every place ``text`` stands in ``line[start:end]`` (``step``: how far on to look next)."""
    places = []
    at = line.find(text, start, end)
    while at >= 0:
        places.append(at)
        at = line.find(text, at + step, end)
    return places


def _events(line: str, start: int, end: int, mark: str | None, *, addresses: bool,
            runs: bool) -> list[int]:
    """Where in ``line[start:end]`` markup may start, in order."""
    events = [at for char in _TRIGGERS if char in line for at in _found(line, char, start, end)]
    if runs:
        events += _found(line, "%%", start, end, 2) + _found(line, "==", start, end, 2)
    if mark is not None:
        for at in _found(line, mark, start, end):
            events.append(at)
            if at > start and line[at - 1] == "!":
                events.append(at - 1)
            if line[at + 1:at + 2] == "(":
                events.append(at + 1)
    if addresses:
        for at in _found(line, ":", start, end):
            if line.startswith("//", at + 1):
                begin = at - 5 if line.startswith("https", at - 5) else at - 4
                if begin >= start and _URL_HEAD.match(line, begin, end):
                    events.append(begin)
        if "www." in line:
            events += [at for at in _found(line, "www.", start, end, 4)
                       if at == 0 or line[at - 1] in _WWW_AFTER or line[at - 1].isspace()]
    events.sort()
    return events


def _escape_inline(line: str, position: int, end: int, mark: str | None,
                   links: Iterator[str], out: list[str], *, addresses: bool, runs: bool) -> None:
    """Append ``line[position:end]`` escaped to ``out``; the characters around it are read as
    its context. ``addresses``: bare addresses are looked for (not inside a link's label);
    ``runs``: the line holds "%%" or "==" somewhere."""
    for at in _events(line, position, end, mark, addresses=addresses, runs=runs):
        if at < position:
            continue  # inside math, a link, an address or a run already written
        out.append(line[position:at])
        char = line[at]
        position = at + 1
        if char in "`~]<^":
            out.append("\\" + char)
        elif char == "\\":
            following = line[at + 1] if at + 1 < end else ""
            markup_follows = (following in _ASCII_PUNCTUATION or following == mark
                              or line.startswith(_URL_START, at + 1))
            out.append("\\\\" if markup_follows else "\\")
        elif char == "_":
            inside_word = (at > 0 and line[at - 1].isalnum() and at + 1 < end
                           and line[at + 1].isalnum() and not line.startswith(_URL_START, at + 1))
            out.append("_" if inside_word else "\\_")
        elif char == "#":
            out.append("#" if at > 0 and line[at - 1].isalnum() else "\\#")
        elif char in "%=":  # a run of two or more
            run = position
            while run < end and line[run] == char:
                run += 1
            out.append(("\\" + char) * (run - at))
            position = run
        elif char == "&":
            out.append("\\&" if _ENTITY.match(line, at) else "&")
        elif char == "$":
            math_end = _math_end(line, at, end, mark)
            if at == 0 and math_end not in (None, end) and line.startswith("$$"):
                math_end = None  # "$$" starting a line starts a block of math: all the line
            if math_end is None:
                out.append("\\$")
            else:
                out.append(line[at:math_end])
                position = math_end
        elif char == "*":
            bold = _AUTHOR_BOLD.match(line, at, end)
            if bold and "www." in bold.group(1):
                bold = None  # an address's markup is its own
            out.append(bold.group(0) if bold else "\\*")
            position = bold.end() if bold else position
        elif char == "[":
            link = _AUTHOR_LINK.match(line, at, end)
            label = link.group(1) if link else ""
            if link and (at == 0 or line[at - 1] != "!") and (mark is None or mark not in label) \
                    and "www." not in label and "://" not in label:
                out.append("[")
                _escape_inline(line, link.start(1), link.end(1), mark, links, out,
                               addresses=False, runs=runs)
                out.append(f"]({link.group(2)})")
                position = link.end()
            else:
                out.append("\\[")
        elif char == mark:
            out.append(next(links))
        elif char == "!":  # before a wiki-link it would embed it
            out.append("\\!")
        elif char == "(":  # after a wiki-link, it makes "[…](…)" of it for a CommonMark reader
            out.append("\\(")
        else:  # "h" or "w": a bare address
            position = _escape_address(line, at, end, out)
    out.append(line[position:end])


def _escape_address(line: str, at: int, end: int, out: list[str]) -> int:
    """Append the bare address at ``at`` to ``out``; where the text goes on after it."""
    if line.startswith("www.", at):
        # GFM and Obsidian read a bare "www." address on to the next blank or "<", with any
        # backslash in it: one to escape in there makes the first "w" an entity.
        found = _WWW_END.search(line, at, end)
        span = line[at + 4:found.start() if found else end]
        escapes_inside = any(map(span.__contains__, _TRIGGERS)) or "%%" in span or "==" in span
        out.append("&#119;" if escapes_inside else "w")
        return at + 1
    stop = _url_end(line, at, end)
    out.append(f"<{line[at:stop]}>")  # nothing in an autolink is markup
    return stop


def _url_end(line: str, start: int, end: int) -> int:
    """Where the bare address starting at ``start`` ends: before "%%" and an entity, and a
    sentence's closing punctuation and a ``)`` that closes no ``(`` of the address are left
    outside it."""
    stop = _URL.match(line, start, end).end()  # type: ignore[union-attr]  # an address starts
    inert = _URL_INERT.search(line, start, stop)
    if inert:
        stop = inert.start()
    while stop > start + 9:
        last = line[stop - 1]
        if last in _URL_TRAILING or (last == ")" and line.count("(", start, stop)
                                     < line.count(")", start, stop)):
            stop -= 1
        else:
            break
    return stop


def escaped(line: str, at: int) -> bool:
    """Whether the character at ``at`` follows an odd number of backslashes (is escaped)."""
    count = 0
    while at - count > 0 and line[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _math_end(line: str, start: int, end: int, mark: str | None) -> int | None:
    """The end of the TeX math the ``$`` at ``start`` opens, else None: no blank just inside a
    delimiter, no digit just after the closing one, ``$$`` for display, the first unescaped
    ``$`` (``$$``) closes; and holding no ``[[``, ``]]`` or ``%%`` that Obsidian or a link
    checker would read out of it."""
    if start + 1 >= end or line[start + 1].isspace() or escaped(line, start):
        return None
    double = line[start + 1] == "$"
    search = start + 2 if double else start + 1
    while True:
        close = line.find("$", search, end)
        if close < 0:
            return None
        search = close + 1
        if escaped(line, close):
            continue
        if double:
            if close + 1 >= end:
                return None
            if line[close + 1] != "$":
                continue
            close += 1
        break
    if line[close - 1].isspace() or (close + 1 < end and line[close + 1].isdigit()):
        return None
    content = line[start + 2:close - 1] if double else line[start + 1:close]
    if (not content or "[[" in content or "]]" in content or "%%" in content
            or (mark is not None and mark in content)):
        return None
    return close + 1

"""Checking the link graph of any Obsidian vault, with networkx.

``list_vault`` and ``read_note_text`` are the file-system edge; ``check_parsed`` is pure: notes
parsed one at a time in, a ``CheckReport`` (findings, summary, the graph) out, and
``check_files`` takes texts by vault-relative path. ``vaultgen build`` runs the same check
on the notes it is about to write.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import json
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote

if TYPE_CHECKING:  # imported where a graph is built: a build's link check needs none
    import networkx as nx

from ..gcpause import paused_gc
from ..model import PAPER_TYPES, one_copy
from ..parse.tags import TagUse, TagUses, variants_hint, variants_message
from ..render.markdown import escaped
from .notes import Frontmatter, read_frontmatter

SKIPPED_DIRS = (".obsidian", ".trash", ".vaultgen", ".git")
# A backslash-escaped character (the first alternative) opens neither a code span nor a link.
_INLINE_CODE = re.compile(r"\\.|(`+)(?:(?!\1).)+?\1")
_COMMENT = re.compile(r"%%.*?%%", re.DOTALL)
_MARKUP = re.compile(r"[\[#^`~]")  # what a comment must hold to hide a link, heading or code
_WIKI = re.compile(r"\[\[([^\[\]\n]+?)\]\]")  # an embed has "!" before; a literal start is fast
_MDLINK = re.compile(r"\\.|(!?)\[[^\]\n]*\]\(<?([^)\s>]+)>?\)")
# Per line of a whole text: [^\S\n] is whitespace that does not end the line. A heading is
# found after its line's "\n" (searched for as a literal, much faster than a multi-line "^"):
# the text is searched with a "\n" put before it, so a match starts at its line's offset.
_HEADING_LINE = re.compile(r"\n(#{1,6})[^\S\n]+([^\n]+?)[^\S\n]*#*[^\S\n]*(?=\n|\Z)")
_BLOCK_LINE = re.compile(r"[^\S\n]\^([A-Za-z0-9-]+)[^\S\n]*$", re.MULTILINE)
_FENCE_LINE = re.compile(r"^[^\S\n]*(?:```|~~~).*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class Link(NamedTuple):
    """A link in a note: where it stands, what it points to, and how it was written (a tuple:
    a vault holds hundreds of thousands, and a tuple is the cheapest immutable record)."""

    source: str  # vault-relative path of the linking note
    line: int
    target: str  # the path or name part, "" for a link within the note
    heading: str | None
    block: str | None
    form: str  # wiki, embed, markdown, property, canvas
    section: str  # the heading the link stands under ("" before any)
    raw: str


@dataclass(frozen=True)
class Finding:
    """One thing wrong (error) or worth a look (warning) in a vault."""

    kind: str
    severity: str
    path: str
    line: int
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}: {self.severity}: {self.message}{hint}"


@dataclass(frozen=True)
class ParsedNote:
    """A note as the checker sees it."""

    path: str
    properties: Mapping[str, object]
    links: tuple[Link, ...]
    headings: frozenset[str]
    blocks: frozenset[str]
    frontmatter_error: str | None = None
    read_error: str | None = None  # why the file could not be read (it is then taken as empty)


@dataclass
class CheckReport:
    """Findings, a summary, and the link graph (nodes: note paths; edges: resolved links)."""

    findings: list[Finding]
    summary: dict[str, object]
    graph: nx.DiGraph = field(repr=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def as_json(self) -> str:
        return json.dumps({"summary": self.summary,
                           "findings": [vars(f) for f in self.findings]},
                          ensure_ascii=False, indent=2, default=str)


# --- Reading notes ----------------------------------------------------------------------------

def _mask(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with every match blanked out (newlines kept, so line numbers hold)."""
    return pattern.sub(lambda m: "\n".join(" " * len(p) for p in m.group(0).split("\n")), text)


def _mask_code(text: str) -> str:
    """``text`` with inline code spans blanked (an escaped backquote opens none)."""
    return _INLINE_CODE.sub(lambda m: " " * len(m.group(0)) if m.group(1) else m.group(0), text)



def _mask_fences(text: str) -> str:
    """``text`` with fenced code blocks (fence lines included) blanked; an unclosed fence runs
    to the end."""
    fences = list(_FENCE_LINE.finditer(text))
    if not fences:
        return text
    parts = []
    position = 0
    for opening, closing in itertools.zip_longest(fences[::2], fences[1::2]):
        end = closing.end() if closing else len(text)
        parts.append(text[position:opening.start()])
        parts.append(re.sub(r"[^\n]", " ", text[opening.start():end]))
        position = end
    parts.append(text[position:])
    return "".join(parts)


class _Placer:
    """Line numbers and sections of offsets in a note's body, asked in increasing order: each
    answer counts only the newlines since the last (a note with thousands of links stays
    linear, one with a few needs no table of lines)."""

    def __init__(self, body: str, first_line: int, heading_at: list[int],
                 sections: list[str]) -> None:
        self.body = body
        self.line = first_line
        self.offset = 0
        self.heading_at = heading_at
        self.sections = sections

    def __call__(self, offset: int) -> tuple[int, str]:
        self.line += self.body.count("\n", self.offset, offset)
        self.offset = offset
        if not self.heading_at:
            return self.line, ""
        index = bisect.bisect_right(self.heading_at, offset) - 1
        return self.line, self.sections[index] if index >= 0 else ""


_PIPE = re.compile(r"\\?\|")


def _split_target(inner: str) -> tuple[str, str | None, str | None]:
    target = (_PIPE.split(inner, maxsplit=1)[0] if "|" in inner else inner).strip()
    heading = block = None
    if "#" in target:
        target, _, anchor = target.partition("#")
        if anchor.startswith("^"):
            block = anchor[1:].strip()
        else:
            heading = anchor.strip()
    return target.strip(), heading, block


def _property_links(value: object, path: str, out: list[Link]) -> None:
    if isinstance(value, str):
        if "[[" not in value:
            return
        for match in _WIKI.finditer(value):
            target, heading, block = _split_target(match.group(1))
            out.append(Link(path, 1, target, heading, block, "property", "", match.group(0)))
    elif isinstance(value, list):
        for item in value:
            _property_links(item, path, out)


def ranked_link_targets(links: object, scores: object) -> list[tuple[int, str, float | None]]:
    """The target of the wiki link in each item of a list property (``related``), with the
    item's 1-based position and the number at that position of a parallel list
    (``related_scores``) when there is one. An item without a link is skipped; its position
    still counts. A single text is a list of one."""
    items = [links] if isinstance(links, str) else links if isinstance(links, list) else []
    numbers = scores if isinstance(scores, list) else []
    ranked = []
    for position, item in enumerate(items, start=1):
        match = _WIKI.search(item) if isinstance(item, str) else None
        if match is None:
            continue
        score = numbers[position - 1] if position <= len(numbers) else None
        ranked.append((position, _split_target(match.group(1))[0],
                       float(score) if isinstance(score, int | float)
                       and not isinstance(score, bool) else None))
    return ranked


def parse_note(path: str, text: str, front: Frontmatter | None = None) -> ParsedNote:
    """Links, headings and block ids of one markdown note; bad frontmatter is noted, not fatal.

    ``front``: the note's frontmatter when the caller knows it already (a note it rendered).
    """
    front = _front_of(text, front)
    properties = front.properties or {}
    error = front.error
    first_line = front.body_line
    links: list[Link] = []
    for value in properties.values():
        _property_links(value, path, links)
    body = _blank_comments_and_fences(front.body)
    # Headings and block ids first (on the text as written), then links (code spans blanked).
    heading_at: list[int] = []
    sections: list[str] = []
    headings: set[str] = set()
    if "#" in body:
        for match in _HEADING_LINE.finditer("\n" + body):
            heading_at.append(match.start())
            sections.append(match.group(2).strip())
            headings.add(_heading_key(sections[-1]))
    blocks = {m.group(1).lower() for m in _BLOCK_LINE.finditer(body)} if "^" in body else set()
    if "[" in body:
        if "`" in body:
            body = _mask_code(body)
        if "[[" in body:
            place = _Placer(body, first_line, heading_at, sections)
            for match in _WIKI.finditer(body):
                target, anchor, block_ref = _split_target(match.group(1))
                start = match.start()
                number, section = place(start)
                embed = start > 0 and body[start - 1] == "!" and not escaped(body, start - 1)
                links.append(Link(path, number, target, anchor, block_ref,
                                  "embed" if embed else "wiki", section,
                                  f"!{match.group(0)}" if embed else match.group(0)))
        if "](" in body:
            place = _Placer(body, first_line, heading_at, sections)
            for match in _MDLINK.finditer(body):
                split = _markdown_target(match)
                if split is None:  # an escaped character, a URL
                    continue
                target, anchor, block_ref = split
                number, section = place(match.start())
                links.append(Link(path, number, target, anchor, block_ref, "markdown",
                                  section, match.group(0)))
        links.sort(key=lambda link: link.line)
    return ParsedNote(path, properties, tuple(links), frozenset(headings), frozenset(blocks),
                      error)


def link_targets(path: str, text: str, front: Frontmatter | None = None) -> list[str]:
    """The targets of the links ``parse_note`` finds in a note, and only they (no lines,
    sections, headings or block ids): what checking a note about to be written needs."""
    front = _front_of(text, front)
    targets: list[str] = []
    if front.properties:
        found: list[Link] = []
        for value in front.properties.values():
            _property_links(value, path, found)
        targets += (link.target for link in found)
    body = _blank_comments_and_fences(front.body)
    if "[" in body:
        if "`" in body:
            body = _mask_code(body)
        if "[[" in body:
            targets += (_split_target(match.group(1))[0] for match in _WIKI.finditer(body))
        if "](" in body:
            for match in _MDLINK.finditer(body):
                split = _markdown_target(match)
                if split is not None:
                    targets.append(split[0])
    return targets


def _front_of(text: str, front: Frontmatter | None) -> Frontmatter:
    return front if front is not None else note_frontmatter(text)


def note_frontmatter(text: str) -> Frontmatter:
    """A note's properties and body as Obsidian reads them (a leading BOM left out)."""
    return read_frontmatter(text.removeprefix("\ufeff").replace("\r\n", "\n"))


def _blank_comments_and_fences(body: str) -> str:
    """The body with what no link or heading is read from blanked: comments holding
    markup, fenced code."""
    if "%%" in body and any(_MARKUP.search(m.group(0)) for m in _COMMENT.finditer(body)):
        body = _mask(_COMMENT, body)  # else no comment holds anything a link or heading needs
    if "```" in body or "~~~" in body:
        body = _mask_fences(body)
    return body


def _markdown_target(match: re.Match[str]) -> tuple[str, str | None, str | None] | None:
    """A markdown link's target, heading and block id; None for a URL or a bare "#", and for
    a backslash-escaped character (``_MDLINK``'s other match)."""
    url = match.group(2)
    if url is None or _SCHEME.match(url) or url == "#":
        return None
    return _split_target(unquote(url))


def parse_canvas(path: str, text: str) -> ParsedNote:
    """The file nodes of a JSON Canvas file, as links from the canvas."""
    links: list[Link] = []
    error = None
    try:
        data = json.loads(text)
        nodes = data.get("nodes", []) if isinstance(data, dict) else []
        for node in nodes:
            if isinstance(node, dict) and node.get("type") == "file" and node.get("file"):
                links.append(Link(path, 0, str(node["file"]), None, None, "canvas", "",
                                  str(node["file"])))
    except ValueError as err:
        error = f"not valid JSON: {err}"
    return ParsedNote(path, {"type": "canvas"}, tuple(links), frozenset(), frozenset(), error)


def _heading_key(heading: str) -> str:
    return " ".join(heading.replace("[[", "").replace("]]", "").split()).casefold()


def _key(text: str) -> str:
    """How Obsidian compares names: case-insensitively, NFC and NFD alike."""
    if text.isascii():
        return text.lower()  # the same as NFC and casefold for ASCII, and much faster
    return unicodedata.normalize("NFC", text).casefold()


class VaultListing(NamedTuple):
    """The files of a vault: its notes and canvases (vault-relative path → where to read it),
    and every file's vault-relative path."""

    notes: dict[str, str]
    files: list[str]


def list_vault(vault: Path) -> VaultListing:
    """The notes, canvases and other files under ``vault``, by vault-relative POSIX path (in
    NFC), in folder order; the settings and vaultgen's own folders are skipped."""
    notes: dict[str, str] = {}
    files: list[str] = []
    root = str(vault)
    for folder, dirs, names in os.walk(root):
        if folder == root:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        dirs.sort()
        relative_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if relative_folder == "." else relative_folder + "/"
        for name in sorted(names):
            posix = prefix + name
            if not posix.isascii():
                posix = unicodedata.normalize("NFC", posix)
            files.append(posix)
            if name.endswith((".md", ".canvas")):
                notes[posix] = os.path.join(folder, name)
    return VaultListing(notes, files)


def no_notes_message(vault: Path) -> str:
    """What to tell of a folder ``list_vault`` found no notes in."""
    if not os.access(vault, os.R_OK | os.X_OK):
        return f"{vault}: cannot be read (permission denied)"
    return f"{vault}: holds no notes (.md or .canvas files); is it the vault's folder?"


def read_note_text(location: str) -> str:
    """A note's text as Obsidian reads it: UTF-8 (a bad byte replaced), lines ending in "\\n"."""
    with open(location, "rb") as f:  # bytes: no text layer
        text = f.read().decode("utf-8", "replace")
    if "\r" in text:  # line ends as text mode reads them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# --- Resolving links --------------------------------------------------------------------------

class Resolver:
    """Resolves link targets as Obsidian does: case-insensitive; exact path, then the linking
    note's folder, then the shortest path. Aliases are never targets."""

    def __init__(self, files: Iterable[str]) -> None:
        # linking note's folder → target → answer: links to one note from one folder recur
        self._answers: dict[str, dict[str, str | tuple[str | None, list[str]]]] = {}
        self._paths = list(files)  # its own copy: the path index is made from it later
        # key → its file, or its files when several share it (a list only then: most keys
        # have one file, and a vault may have tens of thousands)
        self._by_path: dict[str, str | list[str]] | None = None  # made when first needed
        # A note's name key without ".md", any other file's name key → file(s): one key a
        # file (``named`` answers for a name with ".md" too).
        self.by_name: dict[str, str | list[str]] = {}
        by_name = self.by_name
        for file in self._paths:
            # NFC and case folding act within a name, never across a "/" or on ".md", so the
            # name's key is a slice of the path's. A key is new for almost every file:
            # setdefault stores it in one call.
            name = _key(file).rpartition("/")[2]
            if name.endswith(".md"):
                name = name[:-3]
            if by_name.setdefault(name, file) is not file:
                _index(by_name, name, file)

    def named(self, key: str) -> list[str]:
        """The files whose name has this key, with or without a note's ".md", in the order
        of the paths."""
        files = _files(self.by_name, key)
        if not key.endswith(".md"):
            return files
        # "x.md" names the notes x.md (under "x") and x.md.md (under "x.md").
        notes = [file for file in _files(self.by_name, key[:-3]) if _key(file).endswith(".md")]
        if not files or not notes:
            return files or notes
        order = {file: index for index, file in enumerate(self._paths)}  # rare: both at once
        return sorted([*files, *notes], key=order.__getitem__)

    @property
    def by_path(self) -> dict[str, str | list[str]]:
        """Path key (with and without ".md") → file(s); needed only for targets with a "/"
        (a target without one names a file at the root, which ``named`` finds too)."""
        if self._by_path is None:
            by_path: dict[str, str | list[str]] = {}
            for file in self._paths:
                key = _key(file)
                if by_path.setdefault(key, file) is not file:
                    _index(by_path, key, file)
                if key.endswith(".md") and by_path.setdefault(key[:-3], file) is not file:
                    _index(by_path, key[:-3], file)
            self._by_path = by_path
        return self._by_path

    def resolve(self, target: str, source: str) -> tuple[str | None, list[str]]:
        """(the file a link points to, or None; every candidate when it is ambiguous)."""
        # Most links name a note alone ("2025-04-30", a tag's hub, a paper), whose name no
        # other file has: that file, from wherever it is linked (what ``_resolve`` answers for
        # such a name: no "/", which no name holds, no ".md" to read two ways, no space to
        # strip).
        key = _key(target)
        held = self.by_name.get(key)
        if type(held) is str and not key.endswith(".md") and target.strip() == target:
            return held, [held]
        folder = source.rpartition("/")[0]
        answers = self._answers.get(folder)
        if answers is None:
            answers = self._answers[folder] = {}
        answer: str | tuple[str | None, list[str]] | None = answers.get(target)
        if answer is None:
            resolved = self._resolve(target, source)
            # The file alone when it is the one candidate (most links): no tuple, no list.
            answer = answers[target] = resolved[0] if resolved[1] == [resolved[0]] and \
                resolved[0] is not None else resolved
        if isinstance(answer, str):
            return answer, [answer]
        return (source, [source]) if answer[0] == "" else answer

    def _resolve(self, target: str, source: str) -> tuple[str | None, list[str]]:
        target = target.strip().lstrip("/")
        if not target:
            return "", []  # the linking note itself
        key = _key(target)
        if "/" in key:
            exact = _files(self.by_path, key)
        else:  # the files at the root of that name: the same list, in the same order
            exact = [file for file in self.named(key) if "/" not in file]
        if len(exact) == 1:
            return exact[0], exact
        if "/" in target and not exact:
            folder = source.rsplit("/", 1)[0] if "/" in source else ""
            relative = _key(f"{folder}/{target}") if folder else key
            found = _files(self.by_path, relative)
            if len(found) == 1:
                return found[0], found
            # A path link also matches a note whose path ends with it.
            name = key.rsplit("/", 1)[-1]
            candidates = [c for c in self.named(name)
                          if _key(c).removesuffix(".md").endswith(key.removesuffix(".md"))]
        else:
            candidates = exact or self.named(key)
        if not candidates:
            return None, []
        if len(candidates) == 1:
            return candidates[0], candidates
        folder = source.rsplit("/", 1)[0] if "/" in source else ""
        same_folder = [c for c in candidates if (c.rsplit("/", 1)[0] if "/" in c else "") ==
                       folder]
        if len(same_folder) == 1:
            return same_folder[0], candidates
        if any(c == target or c == f"{target}.md" for c in candidates):
            return next(c for c in candidates if c in (target, f"{target}.md")), candidates
        depth = min(c.count("/") for c in candidates)
        shortest = [c for c in candidates if c.count("/") == depth]
        if len(shortest) == 1:
            return shortest[0], candidates
        return None, candidates


def _index(index: dict[str, str | list[str]], key: str, file: str) -> None:
    """Add ``file`` under a key that another file holds already."""
    held = index[key]
    if isinstance(held, str):
        index[key] = [held, file]
    else:
        held.append(file)


def _files(index: dict[str, str | list[str]], key: str) -> list[str]:
    held = index.get(key)
    if held is None:
        return []
    return [held] if isinstance(held, str) else held


# --- Checking ---------------------------------------------------------------------------------

def check_files(texts: Mapping[str, str], files: Iterable[str] | None = None, *,
                strict: bool = False,
                fronts: Mapping[str, Frontmatter] | None = None) -> CheckReport:
    """Check a vault given as texts by vault-relative path (``files``: every file, for links
    to attachments). Orphans and isolated notes are warnings, errors when ``strict``.
    ``fronts``: frontmatter already known, by path (it is not parsed again)."""
    fronts = fronts or {}
    parsed = (parse_any(path, text, fronts.get(path)) for path, text in texts.items())
    return check_parsed(parsed, list(texts), files if files is not None else texts.keys(),
                        strict=strict)


def parse_any(path: str, text: str, front: Frontmatter | None = None) -> ParsedNote:
    """A note or (by its name) a canvas, parsed."""
    if path.endswith(".canvas"):
        return parse_canvas(path, text)
    return parse_note(path, text, front)


def check_parsed(parsed: Iterable[ParsedNote], note_paths: list[str], files: Iterable[str], *,
                 strict: bool = False) -> CheckReport:
    """Check a vault given as its notes parsed, one at a time (``note_paths``: every note's
    path, in the order they come; ``files``: every file, for links to attachments).

    Only what the check needs of each note is kept once it is read: its node and edges in
    the graph, its headings and block ids, and the papers its "Cited by" list names. A
    vault's notes are never all held, parsed or as text."""
    import networkx as nx

    checker = LinkChecker(files, hint_paths=note_paths)
    findings: list[Finding] = []
    graph = nx.DiGraph()
    graph.add_nodes_from(note_paths)  # in order, before any link makes a node of one
    anchors: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # headings, block ids
    anchored: list[tuple[Link, str]] = []  # links to a heading or block, with their note
    cited_by: dict[str, set[str | None]] = {}  # paper → what its "Cited by" list names
    citekeys: dict[str, list[tuple[str, str]]] = defaultdict(list)  # key folded → (path, key)
    tag_uses = TagUses()
    for note in parsed:
        path = note.path
        if note.frontmatter_error:
            findings.append(Finding("frontmatter", "warning", path, 1,
                                    f"invalid frontmatter: {note.frontmatter_error}"))
        if note.read_error:
            findings.append(Finding("unreadable", "error", path, 0,
                                    f"cannot be read: {note.read_error}"))
        graph.nodes[path].update(_node_attributes(path, note))
        if note.properties.get("related"):
            graph.nodes[path]["related"] = _related(note, checker.resolver)
        tag_uses.add(path, note.properties.get("tags"))
        if note.headings or note.blocks:
            anchors[path] = (tuple(note.headings), tuple(note.blocks))
        if note.properties.get("type") in PAPER_TYPES:
            cited_by[path] = {checker.resolver.resolve(link.target, path)[0]
                              for link in note.links if link.section == "Cited by"}
            key = note.properties.get("citekey")
            if isinstance(key, str) and key.strip():
                citekeys[key.strip().casefold()].append((path, key.strip()))
        edges: dict[str, tuple[set[str], str]] = {}  # target → (sections, form)
        for link in note.links:
            resolved = checker.resolve(link)
            if resolved is None:
                continue
            if link.heading or link.block:
                anchored.append((link, resolved))
            if resolved != path:
                if resolved not in graph:
                    graph.add_node(resolved, type="file", title=resolved)
                # A link in a property stands in no section of the note.
                sections = set() if link.form == "property" else {link.section}
                edge = edges.get(resolved)
                if edge is None:
                    edges[resolved] = (sections, link.form)
                else:
                    edge[0].update(sections)
        if edges:
            graph.add_edges_from(  # a few sets of sections recur on 350,000 edges: held once
                (path, target, {"sections": one_copy(frozenset(sections)), "form": form})
                for target, (sections, form) in edges.items())
    findings += _anchor_findings(anchored, anchors, note_paths)
    findings += checker.findings
    findings += _structure_findings(note_paths, graph, strict)
    findings += _backlink_findings(cited_by, graph)
    findings += _citekey_findings(citekeys)
    tag_variants = tag_uses.variant_groups()
    findings += _tag_variant_findings(tag_variants)
    findings.sort(key=lambda f: (f.severity != "error", f.path, f.line, f.kind))
    summary = _summary(note_paths, graph, findings)
    summary["tag_variants"] = [[use._asdict() for use in group] for group in tag_variants]
    return CheckReport(findings, summary, graph)


def _related(note: ParsedNote, resolver: Resolver) -> list[tuple[str, int, float | None]]:
    """The notes a note's ``related`` property links to, as (path, rank, similarity): the
    rank is the link's 1-based position in the list, the similarity the number at the same
    position of ``related_scores``. Links that resolve to no single note, or to the note
    itself, are left out."""
    related = []
    for rank, target, score in ranked_link_targets(note.properties.get("related"),
                                                   note.properties.get("related_scores")):
        resolved = resolver.resolve(target, note.path)[0]
        if resolved and resolved != note.path:
            related.append((resolved, rank, score))
    return related


def _tag_variant_findings(groups: Iterable[list[TagUse]]) -> list[Finding]:
    """A warning for each set of tags that differ only in case, ``-`` or ``_``, at a note of
    the least used of them (``TagUses.variant_groups``)."""
    return [Finding("tag-variants", "warning", group[-1].example, 0, variants_message(group),
                    variants_hint(group)) for group in groups]


def _anchor_findings(anchored: list[tuple[Link, str]],
                     anchors: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
                     note_paths: Iterable[str]) -> list[Finding]:
    """Links to a heading or a block id that the note they point to does not hold (a link
    to an attachment's heading is not looked into)."""
    findings: list[Finding] = []
    if not anchored:
        return findings
    notes = set(note_paths)
    for link, resolved in anchored:
        if resolved not in notes:
            continue
        headings, blocks = anchors.get(resolved, ((), ()))
        if link.heading and _heading_key(link.heading) not in headings:
            findings.append(Finding("heading", "warning", link.source, link.line,
                                    f"{link.raw}: no heading '{link.heading}' in {resolved}"))
        if link.block and link.block.lower() not in blocks:
            findings.append(Finding("block", "warning", link.source, link.line,
                                    f"{link.raw}: no block ^{link.block} in {resolved}"))
    return findings


class LinkChecker:
    """Resolves links against every path of a vault and records the broken and ambiguous ones
    as errors. ``check`` takes one note at a time (what ``vaultgen build`` runs on the notes it
    is about to write); ``check_files`` uses ``resolve`` for a whole vault."""

    def __init__(self, paths: Iterable[str], hint_paths: Iterable[str] | None = None) -> None:
        self.paths = list(paths)
        self.findings: list[Finding] = []
        self._hint_paths = hint_paths
        self._resolver: Resolver | None = None  # made when first needed
        self._hints: _HintIndex | None = None

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            self._resolver = Resolver(self.paths)
        return self._resolver

    def resolve(self, link: Link) -> str | None:
        """The file a link points to; None, with an error recorded, when it is broken or
        ambiguous."""
        resolved, candidates = self.resolver.resolve(link.target, link.source)
        if resolved is None and candidates:
            self.findings.append(Finding(
                "ambiguous", "error", link.source, link.line,
                f"ambiguous link {link.raw}: {len(candidates)} notes match",
                ", ".join(sorted(candidates)[:5])))
        elif resolved is None:
            if self._hints is None:
                self._hints = _HintIndex(self._hint_paths if self._hint_paths is not None
                                         else self.paths)
            close = self._hints.closest(link.target)
            self.findings.append(Finding("broken", "error", link.source, link.line,
                                         f"broken link {link.raw}",
                                         f"did you mean [[{close}]]?" if close else None))
        return resolved

    def check(self, path: str, text: str, front: Frontmatter | None = None) -> int:
        """Check one note; the number of notes it links to. (Its links' targets are read
        alone; only a note with a link that does not resolve is read whole, for where.)"""
        resolver = self.resolver
        targets = set()
        for target in link_targets(path, text, front):
            resolved = resolver.resolve(target, path)[0]
            if resolved is None:
                targets = {self.resolve(link) for link in parse_note(path, text, front).links}
                break
            targets.add(resolved)
        return len(targets - {None, path})


class _HintIndex:
    """The closest note name to a broken link, looked for among names that start alike
    (so that a vault of 50,000 notes with many broken links stays fast)."""

    def __init__(self, notes: Iterable[str]) -> None:
        self.buckets: dict[str, list[str]] = defaultdict(list)
        for path in sorted(notes):
            name = path.rsplit("/", 1)[-1].removesuffix(".md")
            self.buckets[_key(name)[:2]].append(name)

    def closest(self, target: str) -> str | None:
        key = _key(target.rsplit("/", 1)[-1])
        candidates = [n for n in self.buckets.get(key[:2], []) if abs(len(n) - len(key)) <= 8]
        close = difflib.get_close_matches(target, candidates, n=1, cutoff=0.6)
        return close[0] if close else None


def _node_attributes(path: str, note: ParsedNote) -> dict[str, object]:
    props = note.properties
    tags = props.get("tags")
    authors = props.get("authors")
    return {
        "type": str(props.get("type") or ("canvas" if path.endswith(".canvas") else "note")),
        "title": str(props.get("title") or path.rsplit("/", 1)[-1].removesuffix(".md")),
        "date": str(props.get("date") or props.get("published") or ""),
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "arxiv": str(props.get("arxiv") or ""),
        "authors": [str(a) for a in authors] if isinstance(authors, list) else [],
    }


def _structure_findings(note_paths: Iterable[str], graph: nx.DiGraph,
                        strict: bool) -> list[Finding]:
    findings = []
    severity = "error" if strict else "warning"
    by_arxiv: dict[str, list[str]] = defaultdict(list)
    nodes = graph.nodes
    for path in note_paths:
        kind = nodes[path]["type"]
        arxiv = nodes[path]["arxiv"]
        if arxiv and kind in PAPER_TYPES:
            by_arxiv[arxiv].append(path)
        if path.endswith(".canvas"):
            continue
        incoming = graph.in_degree(path)
        outgoing = graph.out_degree(path)
        if incoming == 0 and outgoing == 0:
            findings.append(Finding("isolated", severity, path, 0,
                                    "isolated note: no links to or from it"))
        elif incoming == 0 and kind != "index":
            findings.append(Finding("orphan", severity, path, 0, "orphan: no note links to it"))
        if kind in ("tag", "day") and not any(
                nodes[t].get("type") == "paper" for t in graph.successors(path)):
            findings.append(Finding("empty-hub", "warning", path, 0,
                                    f"{kind} note lists no paper"))
    for arxiv, paths in sorted(by_arxiv.items()):
        if len(paths) > 1:
            for path in paths:
                findings.append(Finding("duplicate", "error", path, 0,
                                        f"duplicate paper: arXiv {arxiv} also in "
                                        f"{', '.join(p for p in paths if p != path)}"))
    return findings


def _citekey_findings(citekeys: Mapping[str, list[tuple[str, str]]]) -> list[Finding]:
    """An error at each paper's note whose citation key (ignoring case) another paper's note
    has too: a citation could not tell them apart."""
    findings = []
    for _, held in sorted(citekeys.items()):
        if len(held) > 1:
            for path, key in held:
                others = ", ".join(p for p, _ in held if p != path)
                findings.append(Finding("duplicate-citekey", "error", path, 0,
                                        f"citekey {key} is also that of {others}",
                                        "give one of them another citekey"))
    return findings


NAVIGATION_SECTIONS = frozenset({"Cited by", "Links"})  # vaultgen's own back and hub links


def cites(graph: nx.DiGraph, source: str, target: str) -> bool:
    """Whether the link from ``source`` to ``target`` stands in the text of the note: in a
    section other than the "Cited by" and "Links" lists vaultgen writes (a link in a
    property, such as ``related``, is no citation)."""
    return bool(graph.edges[source, target]["sections"] - NAVIGATION_SECTIONS)


def _backlink_findings(cited_by: Mapping[str, set[str | None]],
                       graph: nx.DiGraph) -> list[Finding]:
    """For vaultgen's own notes: does each "Cited by" list (``cited_by``: what the list of
    each paper names) name exactly the papers citing it?"""
    findings = []
    for path, listed in cited_by.items():
        citing = {source for source in graph.predecessors(path)
                  if graph.nodes[source].get("type") == "paper" and cites(graph, source, path)}
        for missing in sorted(citing - listed):
            findings.append(Finding("backlink", "warning", path, 0,
                                    f"'Cited by' does not list {missing}, which cites it"))
        for extra in sorted(p for p in listed - citing if p):
            findings.append(Finding("backlink", "warning", path, 0,
                                    f"'Cited by' lists {extra}, which does not cite it"))
    return findings


def _summary(note_paths: list[str], graph: nx.DiGraph,
             findings: list[Finding]) -> dict[str, object]:
    import networkx as nx

    types = Counter(str(graph.nodes[p].get("type")) for p in note_paths)
    papers = [p for p in note_paths if graph.nodes[p].get("type") in PAPER_TYPES]
    cited_counts: Counter[str] = Counter()
    for path in papers:
        cited_counts[path] = sum(1 for s in graph.predecessors(path)
                                 if graph.nodes[s].get("type") == "paper" and cites(graph, s, path))
    top = [{"note": p, "cited_by": n} for p, n in
           sorted(cited_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10] if n > 0]
    by_kind = Counter(f.kind for f in findings)
    return {
        "notes": len(note_paths),
        "by_type": dict(sorted(types.items())),
        "links": graph.number_of_edges(),
        "components": nx.number_weakly_connected_components(graph) if len(graph) else 0,
        "most_cited": top,
        "errors": sum(1 for f in findings if f.severity == "error"),
        "warnings": sum(1 for f in findings if f.severity == "warning"),
        "findings_by_kind": dict(sorted(by_kind.items())),
    }


def check_vault(vault: Path, *, strict: bool = False) -> CheckReport:
    """Read a vault from disk and check it, a note at a time (its texts are never all held)."""
    with paused_gc():
        notes, files = list_vault(vault)
        return check_parsed(_read_and_parse(notes), list(notes), files, strict=strict)


def _read_and_parse(notes: Mapping[str, str]) -> Iterator[ParsedNote]:
    """Each note read and parsed in turn (``notes``: vault-relative path → where it is)."""
    for path, location in notes.items():
        try:
            text = read_note_text(location)
        except OSError as err:  # a dangling link, a file without read permission
            yield ParsedNote(path, {}, (), frozenset(), frozenset(),
                             read_error=err.strerror or str(err))
            continue
        yield parse_any(path, text)

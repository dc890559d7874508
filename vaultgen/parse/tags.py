"""Tags that mean one thing: tags a vault spells several ways, and the tag aliases that merge
them when a vault is built.

``tag-aliases.yaml`` in the first input folder (beside ``arxiv-cache.json``) maps a tag to
the variants it absorbs::

    video-generation: [video_generation, videogen]
    pretraining: [pre-training]

A paper tagged with a variant (matched ignoring case, as is the tag itself) carries the tag
instead; no hub is made for a variant. ``load_tag_aliases`` reads the file (a bad row is
warned about with its line and skipped), ``canonical_tags`` is the mapping itself, and
``TagUses`` finds the tags of any vault that differ only in case, ``-`` or ``_``
(what ``vaultgen check`` warns about).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

from ..model import Diagnostic, Entry, SourceRef
from ..wording import plural

ALIASES_NAME = "tag-aliases.yaml"
_TAG = re.compile(r"[\w/-]+")
_SEPARATORS = re.compile(r"[,\s]+")
TAG_RULE = "letters, digits, _ - / only, not only digits"
_EXAMPLE = "pretraining: [pre-training]"


def is_valid_tag(text: str) -> bool:
    """Whether ``text`` is a tag as Obsidian and the post parser take one (without ``#``)."""
    return bool(_TAG.fullmatch(text)) and not text.isdigit()


def tag_key(tag: str) -> str:
    """What two spellings of one tag share when case is ignored (Obsidian's comparison)."""
    if tag.isascii():
        return tag.lower()
    return unicodedata.normalize("NFC", tag).casefold()


def variant_key(tag: str) -> str:
    """What tags that differ only in case, ``-`` or ``_`` share (``pre-training``,
    ``Pre_Training`` and ``pretraining`` have one key)."""
    return tag_key(tag).replace("-", "").replace("_", "")


# --- Merging tags at build time -------------------------------------------------------------

@dataclass(frozen=True)
class TagAliases:
    """The tags that absorb others: ``canonical`` maps the key (``tag_key``) of each such tag
    and of each of its variants to the tag as spelled in the file."""

    canonical: Mapping[str, str] = field(default_factory=dict)
    digest: str | None = None  # of the file's bytes; None when there is no file


NO_ALIASES = TagAliases()


def canonical_tags(tags: Iterable[str], aliases: TagAliases) -> tuple[str, ...]:
    """``tags`` with each variant replaced by the tag that absorbs it, each tag once, first
    seen first."""
    canonical = aliases.canonical
    if not canonical:
        return tuple(dict.fromkeys(tags))
    return tuple(dict.fromkeys(canonical.get(tag_key(tag), tag) for tag in tags))


def with_canonical_tags(entries: Sequence[Entry], aliases: TagAliases) -> Sequence[Entry]:
    """The entries with their tags made canonical (``canonical_tags``); the entries
    themselves when no tag changes."""
    if not aliases.canonical:
        return entries
    changed = False
    merged = []
    for entry in entries:
        tags = canonical_tags(entry.tags, aliases)
        if tags != entry.tags:
            entry = dataclasses.replace(entry, tags=tags)
            changed = True
        merged.append(entry)
    return merged if changed else entries


class _Row(NamedTuple):
    """A row of the aliases file as YAML gives it: the tag, its variants, and their lines."""

    tag: object
    variants: object
    line: int
    variant_lines: tuple[int, ...]


def load_tag_aliases(path: Path | None) -> tuple[TagAliases, list[Diagnostic]]:
    """The tag aliases in ``path`` (none when there is no such file), and what is wrong with
    it: a file that cannot be read, or is not YAML mapping tags to lists of tags, is warned
    about and ignored; a row that is not a tag with its list, or claims a tag another row
    claimed, is warned about (with its line) and skipped."""
    if path is None:
        return NO_ALIASES, []
    name = path.as_posix()
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return NO_ALIASES, []
    except OSError as err:
        return NO_ALIASES, [_warning(name, 0, f"cannot read the tag aliases: "
                                              f"{err.strerror or err}; tag aliases ignored")]
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return TagAliases(digest=digest), [_warning(
            name, line, f"not UTF-8 text ({err.reason} at byte {err.start}); "
            "tag aliases ignored")]
    rows, problem = _yaml_rows(name, text)
    if problem is not None:
        return TagAliases(digest=digest), [problem]
    canonical, diagnostics = _aliases_of_rows(name, rows)
    return TagAliases(canonical, digest), diagnostics


def _yaml_rows(name: str, text: str) -> tuple[list[_Row], Diagnostic | None]:
    """The rows of the file, read with PyYAML's safe loader, each with its line; or why the
    file is not a mapping of tags."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None or root.tag == "tag:yaml.org,2002:null":
            return [], None  # an empty file (or comments alone): no aliases
        if not isinstance(root, yaml.MappingNode):
            return [], _warning(name, root.start_mark.line + 1,
                                f"should map each tag to the list of tags it absorbs, as "
                                f"'{_EXAMPLE}'; tag aliases ignored")
        rows = []
        for key_node, value_node in root.value:
            variant_lines = tuple(item.start_mark.line + 1 for item in value_node.value) \
                if isinstance(value_node, yaml.SequenceNode) else ()
            rows.append(_Row(loader.construct_object(key_node, deep=True),
                             loader.construct_object(value_node, deep=True),
                             key_node.start_mark.line + 1, variant_lines))
        return rows, None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        what = getattr(err, "problem", None) or str(err)
        return [], _warning(name, mark.line + 1 if mark is not None else 0,
                            f"not valid YAML: {what}; tag aliases ignored")
    finally:
        loader.dispose()


def _aliases_of_rows(name: str, rows: Iterable[_Row],
                     ) -> tuple[dict[str, str], list[Diagnostic]]:
    """The mapping the rows make (``TagAliases.canonical``), and the rows or variants
    skipped; a tag claimed by an earlier row stays with it."""
    canonical: dict[str, str] = {}
    claimed_on: dict[str, int] = {}  # key → the line that claimed it
    diagnostics: list[Diagnostic] = []
    for row in rows:
        tag = row.tag
        if not isinstance(tag, str) or not is_valid_tag(tag):
            diagnostics.append(_warning(name, row.line, f"{_shown(tag)} is not a valid tag "
                                                        f"({TAG_RULE}); row skipped"))
            continue
        variants = [] if row.variants is None else row.variants
        if not isinstance(variants, list):
            diagnostics.append(_warning(
                name, row.line, f"the tags {tag} absorbs should be a list, as '{tag}: "
                f"[{variants if isinstance(variants, str) else 'its-variant'}]'; row skipped"))
            continue
        key = tag_key(tag)
        if key in canonical:
            diagnostics.append(_warning(
                name, row.line, f"{tag} is claimed on line {claimed_on[key]} already "
                f"(by {canonical[key]}); row skipped"))
            continue
        canonical[key] = tag
        claimed_on[key] = row.line
        lines = row.variant_lines or (row.line,) * len(variants)
        for variant, line in zip(variants, lines, strict=False):
            if not isinstance(variant, str) or not is_valid_tag(variant):
                diagnostics.append(_warning(
                    name, line, f"{_shown(variant)} (a variant of {tag}) is not a valid tag "
                    f"({TAG_RULE}); skipped"))
                continue
            variant_of = tag_key(variant)
            held = canonical.get(variant_of)
            if held == tag:
                continue  # the tag itself, or a variant listed twice
            if held is not None:
                diagnostics.append(_warning(
                    name, line, f"{variant} is claimed on line {claimed_on[variant_of]} "
                    f"already (by {held}); not merged into {tag}"))
                continue
            canonical[variant_of] = tag
            claimed_on[variant_of] = line
    return canonical, diagnostics


def _shown(value: object) -> str:
    """A value of the file as the user wrote it, about."""
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "an empty value"
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 16).strip() \
        .removesuffix("...").strip()


def _warning(name: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(SourceRef(name, line), message)


# --- Near-duplicate tags in a vault ---------------------------------------------------------

class TagUse(NamedTuple):
    """A tag, how many notes use it, and one of them (the first met)."""

    tag: str
    notes: int
    example: str


class TagUses:
    """The tags of a vault's notes as their ``tags`` properties give them, counted a note at
    a time (``add``); ``variant_groups`` finds those spelled several ways."""

    def __init__(self) -> None:
        self._notes: Counter[str] = Counter()
        self._example: dict[str, str] = {}

    def add(self, path: str, tags: object) -> None:
        """The tags of one note: its ``tags`` property, a list or a text of tags separated by
        commas or spaces (a leading ``#`` is not part of a tag)."""
        if isinstance(tags, str):
            items: list[object] = list(_SEPARATORS.split(tags))
        elif isinstance(tags, list):
            items = tags
        else:
            return
        seen = set()
        for item in items:
            if item is None or isinstance(item, (list, dict)):
                continue
            tag = str(item).strip().lstrip("#")
            if tag and tag not in seen:
                seen.add(tag)
                self._notes[tag] += 1
                self._example.setdefault(tag, path)

    def variant_groups(self) -> list[list[TagUse]]:
        """The tags that differ only in case, ``-`` or ``_``, in groups (by key); each group
        most used first."""
        groups: dict[str, list[str]] = {}
        for tag in self._notes:
            groups.setdefault(variant_key(tag), []).append(tag)
        found = []
        for key in sorted(groups):
            tags = groups[key]
            if len(tags) > 1:
                uses = [TagUse(t, self._notes[t], self._example[t]) for t in tags]
                found.append(sorted(uses, key=lambda u: (-u.notes, tag_key(u.tag), u.tag)))
        return found


def variants_message(group: Sequence[TagUse]) -> str:
    """What a check says of one group of ``TagUses.variant_groups``."""
    uses = ", ".join(f"#{u.tag} ({plural(u.notes, 'note')}, e.g. {u.example})" for u in group)
    return f"tags that differ only in case, '-' or '_': {uses}"


def variants_hint(group: Sequence[TagUse]) -> str:
    """How a vault vaultgen builds merges one group of ``TagUses.variant_groups``."""
    most, *others = group
    return (f"in a vault vaultgen builds, merge them in {ALIASES_NAME} beside the posts: "
            f"'{most.tag}: [{', '.join(u.tag for u in others)}]'")

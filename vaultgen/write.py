"""The only module that writes to a vault.

It writes a set of in-memory notes so that nothing the user wrote is lost:

- ``.vaultgen/manifest.json`` records every file vaultgen generated: its hash as written, the
  hash of its generated part, size and mtime, and the paper or tag it stands for.
- A file whose bytes would not change is not touched. A file vaultgen never generated is
  never overwritten or deleted.
- In a generated note, the user's section below ``USER_MARKER`` and the properties the user
  added are carried over into the new version. If the user changed a generated part, the file
  is kept and reported; ``force`` saves the user's version under ``.vaultgen/backup/`` first.
- A generated note the user renamed or moved is found again by the key in the manifest and
  the ``arxiv``/``title`` property, and updated where it now lives.
- Every write is atomic (a temporary file in the same folder, then ``os.replace``); nothing is
  written outside the vault or through a symlink.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_IMODE, S_ISLNK
from typing import TYPE_CHECKING

from .errors import UnsafePathError
from .keyed_json import (
    SortedSection,
    keyed_lines,
    raw_line,
    raw_value,
    read_keyed_file,
    read_sorted_sections,
)
from .model import Note, one_copy
from .notes import read_frontmatter
from .render import CITED, PAPERS, USER_MARKER, NotePlan, dump_properties, graph_color_groups
from .workers import FileBatches

if TYPE_CHECKING:
    from .check import NoteChecks

MANIFEST = ".vaultgen/manifest.json"
BACKUP_DIR = ".vaultgen/backup"
STAGING = ".vaultgen/staging"
NEW_FOLDERS = "new"  # under STAGING: folders the vault does not have, staged whole
_MANIFEST_VERSION = 2  # 1: every field on every line (still read by ``load_manifest``)
# The property keys a note of each kind owns when it has every property its kind can have: a
# manifest line leaves "owned" out when it is this (nine notes in ten), and "source" when it
# is the line's "sha256" (a note as rendered). Part of the manifest's format: a version of the
# manifest that lists other keys here is a new version, since an entry read with the wrong
# keys would mistake the user's properties for vaultgen's.
_USUAL_OWNED: dict[str, tuple[str, ...]] = {
    "paper": ("type", "title", "aliases", "authors", "date", "tags", "arxiv", "url", "pdf",
              "published", "updated", "categories", "primary_category", "source"),
    "cited": ("type", "title", "aliases", "authors", "arxiv", "url", "pdf", "published",
              "updated", "categories", "primary_category"),
    "day": ("type", "date", "count"),
    "tag": ("type", "tag", "count"),
}


@dataclass
class WriteReport:
    """What a write did (or, in a dry run, would do), path by path."""

    written: list[str] = field(default_factory=list)  # created or updated
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # updated, keeping the user's additions
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, why) left as it was
    removed: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> int:
        return len(self.written) + len(self.removed)


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


# --- Notes: generated part, user part ------------------------------------------------------

@dataclass(frozen=True)
class NoteParts:
    """A markdown note split into properties, the body above the marker, and the user's part."""

    properties: dict[str, object] | None  # None: no frontmatter, or frontmatter not YAML
    body: str  # everything after the frontmatter, up to the marker line
    user: str | None  # the marker line and all below it; None when there is no marker


def split_note(text: str) -> NoteParts:
    """Split a note; a note without valid frontmatter keeps it in ``body``."""
    front = read_frontmatter(text)
    body = front.body if front.properties is not None else text
    marker = body.find(USER_MARKER)
    if marker == -1:
        return NoteParts(front.properties, body, None)
    return NoteParts(front.properties, body[:marker], body[marker:])


def generated_hash(text: str, owned: Iterable[str]) -> str:
    """Hash of what vaultgen owns in a note: its own properties and the body above the marker."""
    parts = split_note(text)
    return _generated_hash(parts.properties, parts.body, owned)


def _generated_hash(properties: dict[str, object] | None, body: str,
                    owned: Iterable[str]) -> str:
    properties = properties or {}
    if owned is not properties:  # (a note as rendered owns all its properties)
        owned = set(owned)
        properties = {k: v for k, v in properties.items() if k in owned}
    return sha256(_CANONICAL.encode(properties) + "\0" + body)


# json.dumps(sort_keys=True, default=str, ensure_ascii=False), made once
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


def note_generated_hash(note: Note) -> str:
    """``generated_hash`` of a rendered note, from what it was made of (no YAML to parse)."""
    return rendered_generated_hash(note.text, note.properties, note.body)


def rendered_generated_hash(text: str, properties: dict[str, object] | None,
                            body: str | None) -> str:
    """``note_generated_hash`` of a note rendered as ``text`` from ``properties`` and
    ``body``."""
    if properties is None or body is None:
        return generated_hash(text, _owned_keys(text))
    marker = body.find(USER_MARKER)
    return _generated_hash(properties, body if marker == -1 else body[:marker], properties)


def merge_user_parts(new_text: str, existing_text: str, owned_before: Iterable[str] = ()) -> str:
    """The new generated note, carrying over the user's properties and section from the old.

    Properties of the old note that vaultgen owned then (``owned_before``) are its own, not
    the user's: they are dropped when the new note no longer has them.
    """
    new = split_note(new_text)
    old = split_note(existing_text)
    properties = dict(new.properties or {})
    owned = set(owned_before)
    for key, value in (old.properties or {}).items():
        if key not in properties and key not in owned:
            properties[key] = value
    user = old.user if old.user is not None else new.user
    front = dump_properties(properties) if new.properties is not None else ""
    return front + new.body + (user or "")


# --- Manifest -------------------------------------------------------------------------------

@dataclass(slots=True)
class ManifestEntry:
    sha256: str  # of the file as written
    source: str  # of the note as rendered, before the user's parts were merged in
    generated: str  # generated_hash of it
    kind: str
    key: str
    owned: tuple[str, ...]  # property keys vaultgen owns in it
    size: int = 0
    mtime_ns: int = 0
    inputs: str = ""  # digest of what the note was rendered from (render.NotePlan.inputs)
    links: int = 0  # links in the note as rendered
    # The entry as JSON, as it was read: written back as it is while the entry is unchanged
    # (``replace`` resets it). Not part of the entry's value.
    as_read: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        # A few kinds and lists of owned keys recur across tens of thousands of entries: one
        # copy of each keeps a large manifest small in memory.
        self.kind = one_copy(self.kind)
        self.owned = one_copy(tuple(self.owned))

    def replace(self, **changes: object) -> ManifestEntry:
        """A copy with ``changes``, to be written anew."""
        return dataclasses.replace(self, **changes, as_read="")  # type: ignore[arg-type]

    def to_json(self) -> str:
        if self.as_read:
            return self.as_read
        value = {f.name: getattr(self, f.name) for f in _MANIFEST_FIELDS}
        if self.source == self.sha256:
            del value["source"]
        if _USUAL_OWNED.get(self.kind) == self.owned:
            del value["owned"]
        return json.dumps(value, ensure_ascii=False)


_MANIFEST_FIELDS = [f for f in dataclasses.fields(ManifestEntry) if f.name != "as_read"]
_MANIFEST_HEAD = {"version": _MANIFEST_VERSION, "generator": "vaultgen"}


def load_manifest(vault: Path) -> dict[str, ManifestEntry]:
    """The manifest; empty when there is none or it cannot be read (every file is then taken
    as the user's, which loses nothing)."""
    try:
        head, sections = read_keyed_file(vault / MANIFEST, _manifest_entry)
    except (OSError, ValueError, TypeError):
        return {}
    if head.get("version") not in (1, _MANIFEST_VERSION):
        return {}
    return sections.get("files", {})  # type: ignore[return-value]


class ManifestTexts(Mapping[str, ManifestEntry]):
    """A manifest read without decoding its entries: each is found by binary search over the
    file's bytes (``keyed_json.SortedSection``: the manifest is written sorted) and becomes a
    ``ManifestEntry`` when first looked up — a build of one new post looks at a few of tens of
    thousands; the others are written back as the bytes read (``manifest_lines``)."""

    def __init__(self, lines: SortedSection) -> None:
        self.lines = lines
        self._entries: dict[str, ManifestEntry] = {}
        self._paths: list[str] | None = None  # every path, once listed

    def __getitem__(self, path: str) -> ManifestEntry:
        entry = self._entries.get(path)
        if entry is None:
            text = raw_value(self.lines[path])
            entry = self._entries[path] = _manifest_entry("files", json.loads(text), text)
        return entry

    def __contains__(self, path: object) -> bool:
        return path in self._entries or path in self.lines

    def take_paths(self, paths: list[str]) -> None:
        """The paths it holds, in any order, as another record of them lists them (the
        snapshot of the build that wrote it): iterating it then does not list them from
        the file's lines."""
        self._paths = paths

    def __iter__(self) -> Iterator[str]:
        if self._paths is None:
            self._paths = list(self.lines)
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths) if self._paths is not None else len(self.lines)


def read_manifest_texts(vault: Path) -> ManifestTexts | None:
    """The manifest as ``ManifestTexts``; None when it is missing, of another version (an
    older one too: its head would be written back with lines of this version) or not laid out
    one entry a line (the full reader, ``load_manifest``, reads any layout)."""
    try:  # its one section found from the end: the 26 MB of a 50k vault are not scanned
        head, sections = read_sorted_sections(vault / MANIFEST, names=["files"])
    except (OSError, ValueError):
        return None
    if head.get("version") != _MANIFEST_VERSION:  # (a section other than "files" raised)
        return None
    return ManifestTexts(sections["files"])


def manifest_stats(vault: Path) -> dict[str, tuple[int, int]]:
    """Each file the manifest records, with its size and modification time as written: what
    a build needs to tell that no file changed, read in one pass of a regex over the
    manifest's lines instead of decoding tens of thousands of entries (``load_manifest``,
    which this falls back on for a manifest laid out otherwise, or with escapes in a path)."""
    texts = read_manifest_texts(vault)
    if texts is not None:
        # The paths and the stats in two passes, each line holding one of each: a pattern
        # for both in one pass tried the stats at every byte between them (0.2 s at 50k).
        stats = texts.lines.find_in_lines(_STATS)
        if len(stats) == len(texts.lines):
            return {path: (int(size), int(mtime))
                    for path, (size, mtime) in zip(texts.lines, stats, strict=True)}
    return {path: (entry.size, entry.mtime_ns) for path, entry in load_manifest(vault).items()}


# The size and mtime of a manifest line as ``ManifestEntry.to_json`` writes it (no string
# value holds '"size": ': a quote in it is escaped).
_STATS = re.compile(rb'"size": (\d+), "mtime_ns": (\d+)[,}]')


def _manifest_entry(_section: str, value: object, text: str) -> ManifestEntry:
    if not isinstance(value, dict):
        raise TypeError("a manifest entry is an object")
    if "source" not in value:
        value["source"] = value.get("sha256")
    if "owned" not in value:
        owned = _USUAL_OWNED.get(value.get("kind"))  # type: ignore[arg-type]
        if owned is None:
            raise TypeError("a manifest entry without its owned keys")
        value["owned"] = owned
    return ManifestEntry(**value, as_read=text)


def manifest_lines(entries: Mapping[str, ManifestEntry],
                   read: SortedSection | None = None) -> Iterable[bytes | memoryview]:
    """The manifest as JSON, one file a line (``keyed_json``), to be written a line at a time;
    entries read and unchanged are written back as they were read. ``read``: the manifest
    as read (``ManifestTexts.lines``), which holds the files not in ``entries``."""
    if read is None:
        files = ((path, entries[path].to_json()) for path in sorted(entries))
        return (line.encode("utf-8") for line in keyed_lines(_MANIFEST_HEAD, {"files": files}))
    return read.document_with({path: raw_line(path, entry.to_json())
                               for path, entry in entries.items()})


# --- Safety ---------------------------------------------------------------------------------

def safe_target(vault: Path, relative: str, folders: dict[str, bool] | None = None) -> Path:
    """The file for a vault-relative path; refuses to leave the vault or follow a symlink.
    ``folders``: folders already looked at (none a symlink), and whether each is there (a
    writer's, filled as it goes: nothing it looked at is made before it commits)."""
    return Path(_safe_file(vault, relative, folders)[0])


def _safe_file(vault: Path, relative: str,
               folders: dict[str, bool] | None = None) -> tuple[str, os.stat_result | None]:
    """``safe_target`` as a string, and the file's ``lstat`` (None: no such file)."""
    parts = [part for part in relative.split("/") if part and part != "."]
    if relative.startswith("/") or ".." in parts or not parts or "\\" in relative:
        raise UnsafePathError(relative, "path would leave the vault")
    current = os.fspath(vault)
    last = len(parts) - 1
    for position, part in enumerate(parts):
        current = os.path.join(current, part)
        if position == last:
            break
        there = folders.get(current) if folders is not None else None
        if there is None:
            there = _lstat_no_link(current, relative) is not None
            if folders is not None:
                folders[current] = there
        if not there:  # nor is anything in it (a cold build's notes: no lstat each)
            return os.path.join(current, *parts[position + 1:]), None
    return current, _lstat_no_link(current, relative)


def _lstat_no_link(path: str, relative: str) -> os.stat_result | None:
    try:
        found = os.lstat(path)
    except OSError:
        return None
    if S_ISLNK(found.st_mode):
        raise UnsafePathError(relative, "passes through a symlink; not written through it")
    return found


def atomic_write(path: Path, data: bytes | Iterable[bytes | memoryview], *,
                 sync: bool = False) -> None:
    """Write ``data`` to ``path`` so that it is whole at any moment: temp file, then rename.

    A killed process leaves the old file or the new one, never a part. ``sync`` also flushes
    the data to disk before the rename (for the manifest and the arXiv cache: the notes can be
    rebuilt, like git's loose objects, which it does not fsync by default either). A new file
    gets the mode the user's umask gives new files; a file replaced keeps its mode.
    """
    try:
        mode: int | None = S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None  # a new file
    temp = write_temp(path.parent, data, sync=sync, mode=mode)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_temp(folder: Path, data: bytes | Iterable[bytes | memoryview], *,
               sync: bool = False, mode: int | None = None) -> Path:
    """``data`` (bytes, or pieces of them written as they come) in a new temporary file in
    ``folder`` (to be renamed where it belongs), with permission bits ``mode`` (None: those
    of a new file under the user's umask, as ``open`` gives them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        temp = folder / f".vaultgen-{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, _TEMP_FLAGS, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{folder}: no free name for a temporary file")
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.chmod(temp, mode)
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


# --- Writing --------------------------------------------------------------------------------

class VaultWriter:
    """Writes notes into one vault, as the module docstring says. One instance per run."""

    def __init__(self, vault: Path, *, force: bool = False, dry_run: bool = False,
                 now: dt.datetime | None = None,
                 manifest: dict[str, ManifestEntry] | None = None,
                 partial: ManifestTexts | None = None, links_before: int = 0) -> None:
        """``partial``: write only the notes staged and leave every other file of the
        manifest (read as ``ManifestTexts``) as it is, recorded as it was — for a build that
        plans only the notes new posts change; ``links_before``: the links its manifest
        records (``recorded_links`` counts from there). Staged files are written at once,
        or by worker processes after ``take_checks``."""
        self.vault = vault
        self.force = force
        self.dry_run = dry_run
        self.now = now or dt.datetime.now(dt.UTC)
        self.partial = partial
        self._links_before = links_before
        self.manifest: dict[str, ManifestEntry] | ManifestTexts = \
            partial if partial is not None else \
            dict(manifest) if manifest is not None else load_manifest(vault)
        self._by_key: dict[str, list[str]] | None = None  # key → manifest paths, when needed
        self.report = WriteReport(dry_run=dry_run)
        self._new_manifest: dict[str, ManifestEntry] = {}
        self._seen: set[str] = set()
        # path → digest of its inputs; the links of a note are recorded from its check
        # (``record_checks``)
        self._inputs: dict[str, str] = {}
        self._current: set[str] = set()  # paths ``pending`` found as last written
        # (staged file, its place in the vault), as strings: tens of thousands at a cold build
        self._staged: list[tuple[str, str]] = []
        # A folder the vault does not have (a cold build's ``papers``) is staged whole, under
        # ``staging/new``, and moved into the vault in one rename (``_move_new_folders``):
        # each note's folder → the outermost new folder it is in ("" when none).
        self._new_folder: dict[str, str] = {}
        self._made: set[str] = set()  # folders made under ``staging/new``
        self._files = FileBatches(None)
        # The note each staged file is recorded for (None: not recorded), in the order staged:
        # ``commit`` gives the manifest its size and mtime.
        self._staged_for: list[str | None] = []
        self._hashes_later = False  # see ``take_checks``
        self._staging: Path | None = None  # the staging folder, once made and checked
        self._folders: dict[str, bool] = {}  # see ``safe_target``
        self._created = not vault.exists()
        if not dry_run:
            shutil.rmtree(vault / STAGING, ignore_errors=True)  # left by a killed build

    def pending(self, plans: Iterable[NotePlan]) -> list[NotePlan]:
        """The planned notes that must be rendered: all but those whose file is as vaultgen
        last wrote it, from the same inputs."""
        todo = []
        root = os.path.join(self.vault, "")  # plain strings: pathlib costs seconds at 50k notes
        for plan in plans:
            self._adopt_moved(plan)
            recorded = self.manifest.get(plan.path)
            if recorded and recorded.inputs == plan.inputs and plan.kind != "settings" \
                    and _stat_matches(root + plan.path, recorded):
                self._current.add(plan.path)
            else:
                todo.append(plan)
        return todo

    def write_all(self, notes: Iterable[Note | NotePlan]) -> WriteReport:
        """Stage every note and commit (``vaultgen build`` stages one note at a time)."""
        for item in notes:
            self.stage(item)
        return self.commit()

    def stage(self, item: Note | NotePlan, note: Note | None = None) -> None:
        """Prepare one note: what it needs is written to a file under ``.vaultgen/staging``,
        and takes its place in the vault only at ``commit``. A planned note ``pending`` found
        unchanged is left alone; another is rendered if ``note`` is not given."""
        path = item.path
        self._adopt_moved(item)
        if path.casefold() in self._seen:
            raise UnsafePathError(path, "two notes of one run would share this path")
        self._seen.add(path.casefold())
        if isinstance(item, NotePlan) and note is None and path in self._current:
            self._new_manifest[path] = self.manifest[path]
            self.report.unchanged.append(path)
            return
        if note is None:
            note = item if isinstance(item, Note) else item.render()
        self._inputs[path] = item.inputs if isinstance(item, NotePlan) else ""
        try:
            self._write_one(note, path)
        except UnsafePathError as err:
            self.report.kept.append((path, str(err).split(": ", 1)[-1]))

    def take_checks(self, pool: Executor | None) -> None:
        """From now on (before anything is staged), have ``pool``'s worker processes create
        the staged files, and take the hashes of the markdown notes staged as rendered, and
        every note's links, from their checks (``record_checks``) instead of making them."""
        assert not self._staged and not self._made, \
            "a writer's pool is chosen before it stages a file"
        self._files = FileBatches(pool)
        self._hashes_later = True

    def record_checks(self, checked: NoteChecks) -> None:
        """Record what the checks of the notes staged found: the number of notes each links
        to and, for those staged as rendered, their hashes (a note kept as the user left it
        keeps what it had)."""
        kept = {path for path, _ in self.report.kept}
        for path, links, source, generated in checked.answers():
            entry = self._new_manifest.get(path)
            if entry is None or path in kept:
                continue
            entry.links = links  # an entry made by this run (``_record``), not one read
            if not entry.source:
                entry.sha256 = entry.source = source
                entry.generated = generated
        self._hashes_later = False

    def finish_staging(self) -> None:
        """Wait until every staged file is written, and record each one's size and mtime
        (which its rename into place keeps)."""
        sizes, mtimes = self._files.finish()
        for path, size, mtime in zip(self._staged_for, sizes, mtimes, strict=True):
            if path is not None:
                entry = self._new_manifest[path]  # made by ``_record`` for this file
                entry.size, entry.mtime_ns = size, mtime
        self._staged_for.clear()

    def commit(self) -> WriteReport:
        """Move every staged file into place, remove stale notes, write the manifest."""
        self.finish_staging()
        assert not self._hashes_later, "the checks of the notes staged are not recorded"
        _replace_all(self._staged)
        self._staged.clear()
        self._move_new_folders()
        if self._staging is not None:
            for emptied in (os.path.join(self._staging, NEW_FOLDERS), self._staging):
                with suppress(OSError):  # not there, or (a file left) not empty
                    os.rmdir(emptied)
            self._staging = None
        if self.partial is not None:
            self._commit_partial(self.partial)
            return self.report
        self._remove_stale()
        if not self.dry_run and (self._new_manifest != self.manifest or not
                                 (self.vault / MANIFEST).exists()):
            atomic_write(self.vault / MANIFEST, manifest_lines(self._new_manifest),
                         sync=True)
        return self.report

    def _commit_partial(self, manifest: ManifestTexts) -> None:
        """The manifest of a partial write: the entries staged, the others as read."""
        changed = any(path not in manifest.lines or
                      entry.to_json() != raw_value(manifest.lines[path])
                      for path, entry in self._new_manifest.items())
        self.report.unchanged += [path for path in manifest
                                  if path.casefold() not in self._seen]
        if changed and not self.dry_run:
            atomic_write(self.vault / MANIFEST,
                         manifest_lines(self._new_manifest, manifest.lines), sync=True)

    def abort(self) -> None:
        """Drop what was staged; the vault stays as it was (a vault this run would have
        created is not left behind)."""
        self._staged.clear()
        self._staged_for.clear()
        self._made.clear()
        self._files.abandon()
        if self.dry_run:
            return
        shutil.rmtree(self.vault / STAGING, ignore_errors=True)
        if self._created and self.vault.is_dir():
            leftovers = [p for p in self.vault.rglob("*") if not p.is_dir()]
            if not leftovers:
                shutil.rmtree(self.vault, ignore_errors=True)

    def recorded_paths(self) -> list[str]:
        """The files this build recorded in the manifest (after ``commit``): every file it
        records; of a partial build, those it wrote or found as written (the others are as
        recorded before)."""
        return list(self._new_manifest)

    def recorded_links(self) -> int:
        """Links between notes of the vault as written (after ``write_all``)."""
        if self.partial is None:
            return sum(entry.links for entry in self._new_manifest.values())
        return self._links_before + sum(
            entry.links - (self.partial[path].links if path in self.partial else 0)
            for path, entry in self._new_manifest.items())

    def _adopt_moved(self, note: Note | NotePlan) -> None:
        """Carry the manifest entry of a note the user moved over to where it is now (a
        partial write is made only while no note was moved: see ``increment``)."""
        if note.path in self.manifest or note.kind not in ("paper", "cited") or \
                self.partial is not None:
            return
        if self._by_key is None:
            self._by_key = {}
            for path, entry in self.manifest.items():
                self._by_key.setdefault(entry.key, []).append(path)
        for old in self._by_key.get(note.key, []):
            if old in self.manifest and old != note.path and not (self.vault / old).exists():
                self.manifest[note.path] = self.manifest.pop(old)
                self._by_key[note.key].append(note.path)
                return

    def _write_one(self, note: Note, path: str) -> None:
        target, found = _safe_file(self.vault, path, self._folders)
        data = note.text
        if note.kind == "settings":
            self._write_settings(note, Path(target), path)
            return
        recorded = self.manifest.get(path)
        if recorded and recorded.source == sha256(data) and _stat_matches(target, recorded):
            # Fast path: same output, file untouched (recorded anew: the inputs may be new).
            self._new_manifest[path] = recorded.replace(inputs=self._inputs.get(path, ""),
                                                        links=0)
            self.report.unchanged.append(path)
            return
        owned = list(note.properties) if note.properties is not None else _owned_keys(note.text)
        if found is None:
            self._put(path, target, data, note, owned)
            return
        with open(target, encoding="utf-8", errors="surrogateescape") as handle:
            existing = handle.read()  # newlines read as ``Path.read_text`` reads them
        if existing == data:  # the same bytes, from an earlier run that did not record them
            self._record(path, target, data, note, owned)
            self.report.unchanged.append(path)
            return
        if recorded is None:
            self.report.kept.append((path, "not generated by vaultgen; left as it is"))
            return
        touched = sha256(existing) != recorded.sha256
        if touched and generated_hash(existing, recorded.owned) != recorded.generated:
            if not self.force:
                self._new_manifest[path] = recorded
                self.report.kept.append((path, "you changed a generated part; kept (--force "
                                         "regenerates it, saving yours in .vaultgen/backup)"))
                return
            self._backup(path, existing)
        merged = merge_user_parts(data, existing, recorded.owned)
        if merged == existing:
            self._record(path, target, merged, note, owned)
            self.report.unchanged.append(path)
        else:
            self._put(path, target, merged, note, owned, merged=touched)

    def _write_settings(self, note: Note, target: Path, path: str) -> None:
        if not target.exists():
            self._put(path, target, note.text, note, [], record=False)
            return
        if note.key != "graph":
            self.report.unchanged.append(path)
            return
        existing = target.read_text(encoding="utf-8")
        merged = merge_graph_settings(existing)
        if merged is None:
            self.report.kept.append((path, "not valid JSON; colour groups not added"))
        elif merged == existing:
            self.report.unchanged.append(path)
        else:
            self._put(path, target, merged, note, [], record=False)

    def _put(self, path: str, target: str | Path, data: str, note: Note, owned: list[str], *,
             merged: bool = False, record: bool = True) -> None:
        staged = None
        if not self.dry_run:
            staged = self._stage_file(path, target, data.encode("utf-8"))
            self._staged_for.append(path if record else None)
        if record:
            self._record(path, target if staged is None else None, data, note, owned)
        (self.report.merged if merged else self.report.written).append(path)

    def _stage_file(self, path: str, target: str | Path, data: bytes) -> str:
        """``data``, the file of vault path ``path`` (at ``target``), in a new file of the
        staging folder: under ``new/`` at that path when a folder it is in is new (see
        ``_move_new_folders``), else named by its number. The folder is vaultgen's, emptied
        when a writer starts, so no random name is needed (``O_EXCL`` still refuses a file
        already there). Written at once or by a worker process, before ``commit``."""
        if self._staging is None:
            self._staging = safe_target(self.vault, STAGING)
            self._staging.mkdir(parents=True, exist_ok=True)
        folder = path.rpartition("/")[0]
        new = self._new_folder.get(folder)
        if new is None:
            new = self._new_folder[folder] = self._outermost_new(folder)
            if new:
                os.makedirs(os.path.join(self._staging, NEW_FOLDERS, folder), exist_ok=True)
                self._made.add(new)
        if new:
            staged = os.path.join(self._staging, NEW_FOLDERS, path)
        else:
            staged = os.path.join(self._staging, f"{len(self._staged)}.tmp")
            self._staged.append((staged, os.fspath(target)))
        self._files.write(staged, data)
        return staged

    def _outermost_new(self, folder: str) -> str:
        """The outermost folder of vault folder ``folder`` (itself included) that was not
        there when the writer looked (``_safe_file``), or ""."""
        current = os.fspath(self.vault)
        parts = folder.split("/") if folder else []
        for position, part in enumerate(parts):
            current = os.path.join(current, part)
            if self._folders.get(current) is False:
                return "/".join(parts[:position + 1])
        return ""

    def _move_new_folders(self) -> None:
        """Each new folder staged whole moved into the vault by one rename (a cold build's
        tens of thousands of notes: a rename a folder, not one a note); file by file where the
        vault has that folder by now."""
        if self._staging is None:
            return
        for folder in sorted(self._made):
            staged = os.path.join(self._staging, NEW_FOLDERS, folder)
            target = os.path.join(self.vault, folder)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.lexists(target):
                try:
                    os.rename(staged, target)
                    continue
                except OSError:
                    pass  # made meanwhile, and not empty: file by file
            _replace_all([(os.path.join(where, name),
                           os.path.join(target, os.path.relpath(where, staged), name))
                          for where, _, names in os.walk(staged) for name in names])
            shutil.rmtree(staged)  # its folders, emptied
        self._made.clear()

    def _record(self, path: str, file: str | Path | None, data: str, note: Note,
                owned: list[str]) -> None:
        """Record a note in the manifest; ``file``: where its bytes are, for their size and
        mtime (None: a staged file, whose are filled in by ``commit``)."""
        size, mtime = 0, 0
        if file is not None and not self.dry_run:
            try:
                stat = os.stat(file)
                size, mtime = stat.st_size, stat.st_mtime_ns
            except OSError:
                pass  # not there (yet): recorded with no size, so never taken as untouched
        as_rendered = data == note.text
        inputs = self._inputs.get(path, "")
        if as_rendered and self._hashes_later and path.endswith(".md"):
            self._new_manifest[path] = ManifestEntry(  # hashed by its check: ``take_checks``
                sha256="", source="", generated="", kind=note.kind, key=note.key,
                owned=tuple(owned), size=size, mtime_ns=mtime, inputs=inputs)
            return
        source = sha256(note.text)
        self._new_manifest[path] = ManifestEntry(
            sha256=source if as_rendered else sha256(data), source=source,
            generated=note_generated_hash(note) if as_rendered else generated_hash(data, owned),
            kind=note.kind, key=note.key, owned=tuple(owned), size=size, mtime_ns=mtime,
            inputs=inputs)

    def _backup(self, path: str, existing: str) -> None:
        stamp = self.now.strftime("%Y%m%dT%H%M%SZ")
        backup = f"{BACKUP_DIR}/{stamp}/{path}"
        if not self.dry_run:
            data = existing.encode("utf-8", "surrogateescape")
            atomic_write(safe_target(self.vault, backup), data, sync=True)
        self.report.backups.append(backup)

    def _remove_stale(self) -> None:
        for path, recorded in sorted(self.manifest.items()):
            if path.casefold() in self._seen or path in self._new_manifest:
                continue
            try:
                target = safe_target(self.vault, path)
            except UnsafePathError:
                continue
            if not target.exists():
                continue
            current = target.read_bytes()
            if sha256(current) != recorded.sha256:
                self._new_manifest[path] = recorded
                self.report.kept.append((path, "its paper left the input, but you changed the "
                                         "note; kept"))
                continue
            if not self.dry_run:
                target.unlink()
            self.report.removed.append(path)


def _replace_all(moves: Iterable[tuple[str, str]]) -> None:
    """Each (staged file, its place) moved into place, its folder made when missing; a file
    replaced keeps its mode (a new one has the mode its staged file was created with)."""
    folders: set[str] = set()
    created: int | None = None  # the mode staged files are created with (the same for all)
    for temp, target in moves:
        folder = os.path.dirname(target)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        try:
            mode = S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        if mode is not None:
            if created is None:
                created = S_IMODE(os.stat(temp).st_mode)
            if mode != created:
                os.chmod(temp, mode)
        os.replace(temp, target)


def note_locations(vault: Path,
                   manifest: dict[str, ManifestEntry] | None = None) -> dict[str, str]:
    """Where the paper and cited notes vaultgen generated are now: ``KIND:KEY`` (KEY an arXiv
    id or ``title:…``) → path, where the manifest put them or where the user moved or renamed
    them (found by their ``arxiv`` or ``title`` property). A note the user moved out of its
    kind's folder is also given as ``any:KEY``: it keeps its place if its paper changes kind
    (a paper only cited that a post now covers). ``manifest``: the vault's, if already read."""
    manifest = load_manifest(vault) if manifest is None else manifest
    located: dict[str, str] = {}
    lost: set[str] = set()
    root = os.path.join(vault, "")
    for path, entry in manifest.items():
        if entry.kind not in ("paper", "cited"):
            continue
        if os.path.isfile(root + path):
            _locate(located, entry.kind, entry.key, path)
        else:
            lost.add(entry.key)
    if not lost:
        return located
    for file in sorted(vault.rglob("*.md")):
        relative = file.relative_to(vault).as_posix()
        if relative in manifest or relative.split("/", 1)[0] in (".vaultgen", ".obsidian",
                                                                  ".trash"):
            continue
        try:
            properties = split_note(file.read_text(encoding="utf-8")).properties or {}
        except (OSError, UnicodeDecodeError):
            continue
        for key in _keys_of(properties):
            if key in lost and f"{properties['type']}:{key}" not in located:
                _locate(located, str(properties["type"]), key, relative)
    return located


def _locate(located: dict[str, str], kind: str, key: str, path: str) -> None:
    located[f"{kind}:{key}"] = path
    if not path.startswith(f"{PAPERS if kind == 'paper' else CITED}/"):
        located.setdefault(f"any:{key}", path)


def _stat_matches(target: str | Path, recorded: ManifestEntry) -> bool:
    try:
        stat = os.stat(target)
    except OSError:
        return False
    return stat.st_size == recorded.size and stat.st_mtime_ns == recorded.mtime_ns


def _owned_keys(text: str) -> list[str]:
    return list((split_note(text).properties or {}).keys())


def _keys_of(properties: dict[str, object]) -> list[str]:
    if properties.get("type") not in ("paper", "cited"):
        return []
    keys = []
    if properties.get("arxiv"):
        keys.append(str(properties["arxiv"]))
    if properties.get("title"):
        keys.append(f"title:{properties['title']}")
    return keys


def merge_graph_settings(existing: str) -> str | None:
    """The user's ``graph.json`` with vaultgen's colour groups put in; ``None`` if not JSON."""
    try:
        settings = json.loads(existing)
    except ValueError:
        return None
    if not isinstance(settings, dict):
        return None
    ours = graph_color_groups()
    our_queries = {g["query"] for g in ours}
    groups = settings.get("colorGroups")
    theirs = [g for g in groups if isinstance(g, dict) and g.get("query") not in our_queries] \
        if isinstance(groups, list) else []
    current = [g for g in groups if isinstance(g, dict) and g.get("query") in our_queries] \
        if isinstance(groups, list) else []
    if len(current) == len(ours):
        return existing  # the user may have recoloured them: leave them be
    settings["colorGroups"] = theirs + ours
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"

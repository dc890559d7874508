"""The only module that writes notes into a vault (the state store is ``state``'s).

It writes rendered notes so that nothing the user wrote is lost:

- A file vaultgen never wrote is never overwritten or deleted.
- In a note vaultgen wrote, the user's section below ``USER_MARKER`` and the properties the
  user added are carried over into the new version. If the user changed a generated part,
  the note is kept and reported; ``force`` saves the user's version under
  ``.vaultgen/backup/`` first.
- Every write is atomic (a new file in the same folder, then ``os.replace``); nothing is
  written outside the vault or through a symlink.
- Each batch of files is recorded as pending in the state store before it is written and
  recorded as written after (``state``): a build killed at any moment leaves files the next
  build knows as its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_IMODE, S_ISLNK

from .check.notes import read_frontmatter
from .errors import UnsafePathError
from .model import Note
from .render.notes import (
    USER_MARKER,
    USER_SECTION,
    dump_properties,
    graph_color_groups,
    without_related,
)
from .state import FileRecord, PendingFile, Store
from .workers import Batches

BACKUP_DIR = ".vaultgen/backup"
_TEMP_PREFIX = ".vaultgen-"  # of the new files a write renames into place


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
    properties, body = note.properties, note.body
    if properties is None or body is None:
        return generated_hash(note.text, _owned_keys(note.text))
    marker = body.find(USER_MARKER)
    return _generated_hash(properties, body if marker == -1 else body[:marker], properties)


KEPT_CHANGED = "changed since vaultgen wrote it (--force replaces it, saving yours in " \
    ".vaultgen/backup)"


def owned_file_action(existing: bytes | None, data: bytes, recorded: str | None,
                      force: bool) -> str:
    """What becomes of a file vaultgen keeps whole, to hold ``data`` (``existing``: its bytes
    now, None when absent; ``recorded``: the hash of what vaultgen last wrote there): "same"
    (it holds them), "write", "theirs" (the user changed or made it: left as it is), or
    "replace" (theirs, and ``force``: replaced after a backup)."""
    if existing == data:
        return "same"
    if existing is not None and sha256(existing) != recorded:
        return "replace" if force else "theirs"
    return "write"


def _same_but_related(existing: str, note: Note) -> bool:
    """Whether the generated part of ``existing`` is the rendered note's but for its related
    papers (computed anew when the state was lost)."""
    if note.kind != "paper":
        return False
    owned = set(note.properties or ()) - {"related"}
    return generated_hash(without_related(existing), owned) == \
        generated_hash(without_related(note.text), owned)


def _holds_users_part(data: bytes, record: FileRecord) -> bool:
    """Whether a note vaultgen wrote holds something of the user's: a section below the
    marker other than the empty one it writes, or properties it does not own."""
    parts = split_note(data.decode("utf-8", "surrogateescape"))
    if parts.user is not None and parts.user != USER_SECTION:
        return True
    owned = set(record.owned) | set(record.pending_owned)
    return any(key not in owned for key in parts.properties or {})


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
        temp = folder / f"{_TEMP_PREFIX}{secrets.token_hex(6)}.tmp"
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


class VaultWriter:
    """Writes notes into one vault and records them in its store. One instance per build."""

    def __init__(self, vault: Path, store: Store, *, force: bool = False,
                 dry_run: bool = False, now: dt.datetime | None = None) -> None:
        self.vault = vault
        self.store = store
        self.force = force
        self.dry_run = dry_run
        self.now = now or dt.datetime.now(dt.UTC)
        self.files = store.files()
        self.report = WriteReport(dry_run=dry_run)
        self._seen: set[str] = set()
        self._folders: dict[str, bool] = {}
        # The files of the last batch, being written by workers, and their paths.
        self._in_flight: tuple[Batches[tuple[str, bytes, int | None], str], list[str]] | None \
            = None

    def settle(self) -> None:
        """Settle what a stopped build left pending: a file that holds its pending version
        is recorded as written; any other keeps what was recorded before."""
        settled = []
        for record in self.files.values():
            if record.pending_sha256 is None:
                continue
            try:
                data = (self.vault / record.path).read_bytes()
            except OSError:
                data = None
            written = (record.pending_sha256 == "" and data is None) or \
                (data is not None and sha256(data) == record.pending_sha256)
            settled.append((record.path, written))
        if settled and not self.dry_run:
            with self.store.transaction():
                self.store.settle_pending(settled)
        if settled:
            self.files = self.store.files()

    def write(self, notes: Sequence[tuple[Note, str, str | None, int]],
              pool: Executor | None = None) -> None:
        """Write a batch of rendered notes, each with its note identity, its inputs digest
        and its links (for the store): recorded as pending, written, then recorded. With a
        ``pool``, its workers write the files while the build renders the next batch: the
        batch is recorded as written by the next ``write``, or by ``finish``."""
        self.finish()
        pending: list[PendingFile] = []
        found: list[PendingFile] = []
        data: list[tuple[str, bytes, int | None]] = []
        for note, identity, inputs, links in notes:
            decided = self._decide(note)
            if decided is None:
                continue
            text, target, written, mode = decided
            record = PendingFile(note.path, identity, note.kind, sha256(text),
                                 note_generated_hash(note), tuple(note.properties or ()),
                                 inputs, links)
            if written:
                pending.append(record)
                data.append((target, text.encode("utf-8", "surrogateescape"), mode))
            else:
                found.append(record)
        if self.dry_run:
            return
        if pending or found:
            with self.store.transaction():
                self.store.record_pending(pending)
                self.store.record_files(found)
        if not pending:
            return
        batches: Batches[tuple[str, bytes, int | None], str] = Batches(
            pool, write_files, _ignore, batch_size=1 << 20, in_flight=64)
        for item in data:
            batches.put(item, len(item[1]))
        self._in_flight = (batches, [p.path for p in pending])
        if pool is None:
            self.finish()

    def finish(self) -> None:
        """Wait for the files of the last batch, then record them as written."""
        if self._in_flight is None:
            return
        batches, paths = self._in_flight
        self._in_flight = None
        batches.finish()
        with self.store.transaction():
            self.store.commit_files(paths)

    def remove_stale(self, planned: set[str]) -> None:
        """Remove the notes vaultgen wrote that the vault no longer has (their papers left
        the posts), unless the user changed them: then they are theirs, kept."""
        stale: list[FileRecord] = []
        forgotten: list[str] = []
        for path, record in sorted(self.files.items()):
            if path in planned or record.kind not in ("paper", "cited", "tag", "day", "index"):
                continue
            try:
                data = safe_target(self.vault, path).read_bytes()
            except (OSError, UnsafePathError):
                forgotten.append(path)
                continue
            if record.is_ours(sha256(data)) and not _holds_users_part(data, record):
                stale.append(record)
                self.report.removed.append(path)
            else:
                forgotten.append(path)
                self.report.kept.append((path, "its paper left the posts, but you changed "
                                         "the note; it is yours now"))
        if self.dry_run or not (stale or forgotten):
            return
        with self.store.transaction():
            self.store.forget_files(forgotten)
            self.store.record_pending(PendingFile(r.path, r.note, r.kind, None, None, (),
                                                  None, 0) for r in stale)
        for record in stale:
            with suppress(FileNotFoundError):
                os.unlink(self.vault / record.path)
        with self.store.transaction():
            self.store.commit_files(r.path for r in stale)

    def write_settings(self, notes: Iterable[Note]) -> None:
        """The ``.obsidian`` settings: created when absent; vaultgen's colour groups merged
        into a ``graph.json`` the user has. Never recorded: they are the user's."""
        for note in notes:
            target = self.vault / note.path
            if not target.exists():
                self._put_plain(note.path, target, note.text)
                continue
            if note.key != "graph":
                continue
            existing = target.read_text(encoding="utf-8")
            merged = merge_graph_settings(existing)
            if merged is None:
                self.report.kept.append((note.path, "not valid JSON; colour groups not added"))
            elif merged != existing:
                self._put_plain(note.path, target, merged)

    def owned_by_user(self, path: str) -> bool:
        """Whether a file vaultgen keeps whole is the user's now (changed since vaultgen wrote
        it): what ``write_owned`` leaves as it is, unless ``force``."""
        recorded = self.store.view_hash(path)
        try:
            return recorded is not None and \
                sha256(safe_target(self.vault, path).read_bytes()) != recorded
        except (OSError, UnsafePathError):
            return False

    def write_owned(self, path: str, text: str, *, quiet: bool = False) -> bool:
        """A file vaultgen keeps whole at the vault's root (``Papers.base``, ``papers.bib``):
        made when absent, written again while it holds what vaultgen last wrote there (its
        hash is in the store). One the user changed, or made, is theirs: left as it is
        (reported unless ``quiet``), or with ``force`` replaced after a backup. Whether the
        file holds ``text`` now (or, in a dry run, would)."""
        data = text.encode("utf-8")
        digest = sha256(data)
        try:
            target = safe_target(self.vault, path)
            existing = target.read_bytes() if target.exists() else None
        except UnsafePathError as err:
            self.report.kept.append((path, str(err).split(": ", 1)[-1]))
            return False
        recorded = self.store.view_hash(path)
        action = owned_file_action(existing, data, recorded, self.force)
        if action == "same":
            if recorded != digest and not self.dry_run:
                with self.store.transaction():
                    self.store.set_view_hash(path, digest)
            return True
        if action == "theirs":
            if not quiet:
                self.report.kept.append((path, KEPT_CHANGED))
            return False
        if action == "replace":
            assert existing is not None
            self._backup(path, existing.decode("utf-8", "surrogateescape"))
        if not self.dry_run:
            atomic_write(target, data)
            with self.store.transaction():
                self.store.set_view_hash(path, digest)
        self.report.written.append(path)
        return True

    def _put_plain(self, path: str, target: Path, text: str) -> None:
        if not self.dry_run:
            atomic_write(target, text.encode("utf-8"))
        self.report.written.append(path)

    def _decide(self, note: Note) -> tuple[str, str, bool, int | None] | None:
        """What to do with a note: (its text, the file, whether to write it, the mode of the
        file it replaces), or None when it is left as it is (reported). A file that already
        holds the text is recorded."""
        path = note.path
        if path.casefold() in self._seen:
            raise UnsafePathError(path, "two notes of one build would share this path")
        self._seen.add(path.casefold())
        try:
            target, found = _safe_file(self.vault, path, self._folders)
        except UnsafePathError as err:
            self.report.kept.append((path, str(err).split(": ", 1)[-1]))
            return None
        if found is None:
            self.report.written.append(path)
            return note.text, target, True, None
        mode = S_IMODE(found.st_mode)
        with open(target, encoding="utf-8", errors="surrogateescape", newline="") as handle:
            existing = handle.read()
        if existing == note.text:  # already what it should be: recorded, nothing to merge
            self.report.unchanged.append(path)
            return existing, target, False, mode
        recorded = self.files.get(path)
        if recorded is None or (recorded.sha256 is None and recorded.pending_sha256 is None):
            # Not recorded: a vault whose state was lost. The note is vaultgen's if its
            # generated part is the one rendered now (the user's part is theirs, kept).
            owned = set(note.properties or ())
            if generated_hash(existing, owned) != note_generated_hash(note) and \
                    not _same_but_related(existing, note):
                self.report.kept.append((path, "not written by vaultgen; left as it is"))
                return None
            ours = False
        else:
            ours = recorded.is_ours(sha256(existing))
            owned = set(recorded.owned) | set(recorded.pending_owned)
            if not ours and generated_hash(existing, owned) not in (
                    recorded.generated, recorded.pending_generated):
                if not self.force:
                    self.report.kept.append((path, "you changed a generated part; kept "
                                             "(--force regenerates it, saving yours in "
                                             ".vaultgen/backup)"))
                    return None
                self._backup(path, existing)
        merged = merge_user_parts(note.text, existing, owned)
        if merged == existing:
            self.report.unchanged.append(path)
            return merged, target, False, mode
        (self.report.written if ours else self.report.merged).append(path)
        return merged, target, True, mode

    def _backup(self, path: str, existing: str) -> None:
        stamp = self.now.strftime("%Y%m%dT%H%M%SZ")
        backup = f"{BACKUP_DIR}/{stamp}/{path}"
        if not self.dry_run:
            data = existing.encode("utf-8", "surrogateescape")
            atomic_write(safe_target(self.vault, backup), data, sync=True)
        self.report.backups.append(backup)


_COUNTER = itertools.count()


def _ignore(_written: list[str]) -> None:
    pass


def write_files(batch: list[tuple[str, bytes, int | None]]) -> list[str]:
    """Write each file of ``batch`` (path, bytes, mode) atomically: a new file beside it,
    renamed into place (its folder made when missing). Its mode is ``mode`` (that of the
    file it replaces), else what a new file gets under the umask. Run in a build's worker
    processes too."""
    folders: set[str] = set()
    for path, data, mode in batch:
        folder = os.path.dirname(path)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        temp = os.path.join(folder, f"{_TEMP_PREFIX}{os.getpid()}-{next(_COUNTER)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                     0o666)
        try:
            try:
                if mode is not None:
                    os.fchmod(fd, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp)
            raise
    return [path for path, _, _ in batch]


def is_leftover(name: str) -> bool:
    """Whether a file name is that of a new file a killed build left unrenamed."""
    return name.startswith(_TEMP_PREFIX) and name.endswith(".tmp")


def _owned_keys(text: str) -> list[str]:
    return list((split_note(text).properties or {}).keys())


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

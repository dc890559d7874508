"""Finding the notes of a vault whose state the store does not hold, or holds elsewhere.

- A vault built by an older vaultgen (``.vaultgen/manifest.json``) is taken over: its record
  of the files vaultgen wrote read once into the store, then the old files removed.
- A vault whose ``.vaultgen/`` was lost (a fresh clone of a synced vault) keeps its names
  and citation keys: they are read from the notes' properties.
- A note the user moved or renamed is found again by its properties (``arxiv``, ``title``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path

from .model import PAPER_TYPES
from .state import FileRecord, PendingFile, Store
from .write import split_note

OLD_STATE = (".vaultgen/manifest.json", ".vaultgen/build.json", ".vaultgen/library.json",
             ".vaultgen/views.json", ".vaultgen/parsed", ".vaultgen/staging")
# The property keys a note of each kind owned in an older manifest that did not list them.
_USUAL_OWNED: dict[str, tuple[str, ...]] = {
    "paper": ("type", "title", "aliases", "authors", "date", "tags", "arxiv", "url", "pdf",
              "published", "updated", "categories", "primary_category", "source"),
    "cited": ("type", "title", "aliases", "authors", "arxiv", "url", "pdf", "published",
              "updated", "categories", "primary_category"),
    "day": ("type", "date", "count"),
    "tag": ("type", "tag", "count"),
}
NOTE_KINDS = ("paper", "cited", "tag", "day", "index")


def note_identity(kind: str, key: str) -> str:
    """The identity of a note across builds (``plan.NoteSpec.note``) from its kind and key."""
    return "index" if kind == "index" else f"{kind}:{key}"


def identities_of(properties: Mapping[str, object]) -> list[str]:
    """The identities a note vaultgen wrote may have, read from its properties."""
    kind = properties.get("type")
    if kind == "paper":
        found = []
        if properties.get("arxiv"):
            found.append(f"paper:{properties['arxiv']}")
        if properties.get("title"):
            found.append(f"paper:title:{properties['title']}")
        return found
    if kind == "cited" and properties.get("arxiv"):
        return [f"cited:{properties['arxiv']}"]
    if kind == "tag" and properties.get("tag"):
        return [f"tag:{properties['tag']}"]
    if kind == "day" and properties.get("date"):
        return [f"day:{properties['date']}"]
    if kind == "index":
        return ["index"]
    return []


def adopt_old_state(vault: Path, store: Store, listing: set[str]) -> bool:
    """Take over what an older vaultgen recorded, or (no record at all) the names of the
    notes the vault holds; whether there was anything. Nothing when the store already knows
    the vault."""
    if not store.is_empty():
        return False
    manifest = _read_manifest(vault)
    if manifest:
        store.record_files(manifest)
        store.set_names({f.note: _stem(f.path) for f in manifest if f.kind in NOTE_KINDS})
        views = _read_json(vault / ".vaultgen/views.json")
        for path, sha in (views or {}).items():
            if isinstance(sha, str):
                store.set_view_hash(path, sha)
        return True
    names: dict[str, str] = {}
    citekeys: dict[str, str] = {}
    for path, properties in _unrecorded_notes(vault, sorted(listing), set()):
        for identity in identities_of(properties)[:1]:
            names.setdefault(identity, _stem(path))
            key = properties.get("citekey")
            if isinstance(key, str) and key.strip():
                citekeys.setdefault(identity, key.strip())
    store.set_names(names)
    store.give_citekeys(citekeys)
    return bool(names)


def remove_old_state(vault: Path) -> None:
    """The files an older vaultgen kept in ``.vaultgen/``, once taken over."""
    for relative in OLD_STATE:
        path = vault / relative
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with suppress(OSError):
                path.unlink()


def locate_notes(vault: Path, listing: set[str],
                 files: Mapping[str, FileRecord]) -> dict[str, tuple[str, str]]:
    """Paper and cited notes the user moved or renamed: identity → (the path recorded, the
    path now). Looked for only when a recorded note is missing."""
    lost = {record.note: record.path for record in files.values()
            if record.kind in PAPER_TYPES and record.path not in listing}
    if not lost:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for path, properties in _unrecorded_notes(vault, sorted(listing), set(files)):
        for identity in identities_of(properties):
            if identity in lost and identity not in found:
                found[identity] = (lost[identity], path)
    return found


def _unrecorded_notes(vault: Path, paths: Iterable[str],
                      recorded: set[str]) -> Iterable[tuple[str, dict[str, object]]]:
    """The markdown notes at ``paths`` the store does not record, with their properties."""
    for path in paths:
        if not path.endswith(".md") or path in recorded:
            continue
        try:
            text = (vault / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        properties = split_note(text).properties
        if properties:
            yield path, properties


def _read_manifest(vault: Path) -> list[PendingFile]:
    """The files an older vaultgen's manifest records; none when it cannot be read."""
    raw = _read_json(vault / ".vaultgen/manifest.json")
    if not raw or raw.get("version") not in (1, 2) or not isinstance(raw.get("files"), dict):
        return []
    files = []
    for path, entry in raw["files"].items():
        if not isinstance(entry, dict) or "kind" not in entry or "sha256" not in entry:
            continue
        kind = str(entry["kind"])
        owned = entry.get("owned", _USUAL_OWNED.get(kind))
        if owned is None:
            continue
        files.append(PendingFile(path, note_identity(kind, str(entry.get("key", ""))), kind,
                                 entry["sha256"], entry.get("generated"), tuple(owned), None,
                                 int(entry.get("links", 0))))
    return files


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")

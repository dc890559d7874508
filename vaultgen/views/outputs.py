"""Writing the files ``vaultgen graph`` makes, without ever overwriting the user's notes.

A file inside the vault (the canvas) is written when it does not exist, or when it is exactly
what vaultgen last wrote there (its hash is recorded in the vault's state store). One
the user made or edited, such as a canvas whose cards they moved, is kept unless ``force``;
then it is first copied under ``VAULT/.vaultgen/backup/``. Nothing is written through a
symlink in the vault.

A file outside the vault is the user's to name: it is written as asked, replacing what is
there, and recorded nowhere; the vault is only read (it may be read-only).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UnsafePathError, VaultgenError
from ..parse.inputs import is_vault as holds_vault_folders
from ..state import Store
from ..write import BACKUP_DIR, atomic_write, owned_file_action, safe_target, sha256

OLD_VIEWS = ".vaultgen/views.json"  # where an older vaultgen recorded them


class OutputError(VaultgenError):
    """An output, or the record of the outputs, cannot be read or written."""

    def __init__(self, path: Path, doing: str, err: OSError) -> None:
        super().__init__(f"{path}: cannot {doing}: {err.strerror or err}")
        self.path = path


class NotAVaultError(VaultgenError):
    """A folder given as a vault is none."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"{folder}: not an Obsidian vault (no .obsidian or .vaultgen folder, "
                         "and no .md notes)")
        self.folder = folder


def is_vault(folder: Path) -> bool:
    """Whether ``folder`` is a vault: it holds Obsidian's settings (``.obsidian/``),
    vaultgen's records (``.vaultgen/``), or a markdown note (in it or any folder under it,
    Obsidian's and vaultgen's own and ``.trash``/``.git`` aside). Looks no further than
    the first note."""
    if holds_vault_folders(os.fspath(folder)):
        return True
    from ..check.links import SKIPPED_DIRS

    root = os.fspath(folder)
    for where, dirs, names in os.walk(root):
        if where == root:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        if any(name.endswith(".md") for name in names):
            return True
    return False


def require_vault(folder: Path) -> None:
    """Raise ``NotAVaultError`` unless ``folder`` is a vault (``is_vault``)."""
    if not is_vault(folder):
        raise NotAVaultError(folder)


@dataclass
class OutputReport:
    """What happened to each file, by its path as given."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)
    backups: list[Path] = field(default_factory=list)


KEPT_EDITED = "changed since vaultgen wrote it (--force replaces it)"


def vault_relative(vault: Path, path: Path) -> str | None:
    """``path`` as a vault-relative POSIX path, or None when it is outside the vault."""
    for inner, outer in ((Path(os.path.abspath(path)), Path(os.path.abspath(vault))),
                         (path.resolve(), vault.resolve())):
        try:
            return inner.relative_to(outer).as_posix()
        except ValueError:
            continue
    return None


def write_outputs(vault: Path, files: Mapping[Path, str], *, force: bool = False,
                  now: dt.datetime | None = None) -> OutputReport:
    """Write ``files`` (path → text); see the module docstring for what is kept. Raises
    ``OutputError`` when a file cannot be written."""
    report = OutputReport()
    inside: dict[str, tuple[Path, bytes]] = {}
    for path, text in files.items():
        relative = vault_relative(vault, path)
        if relative is None:
            _write_outside(path, text.encode("utf-8"), report)
        else:
            inside[relative] = (path, text.encode("utf-8"))
    if inside:
        _write_inside(vault, inside, report, force=force,
                      stamp=(now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ"))
    return report


def _write_outside(path: Path, data: bytes, report: OutputReport) -> None:
    """Write a file outside the vault (through a symlink, as any program writing a file does)
    unless it already holds ``data``."""
    target = Path(os.path.realpath(path))
    if _read(target) == data:
        report.unchanged.append(path)
        return
    _write(target, data, shown=path)
    report.written.append(path)


def _write_inside(vault: Path, files: Mapping[str, tuple[Path, bytes]], report: OutputReport,
                  *, force: bool, stamp: str) -> None:
    recorded = _recorded_views(vault, list(files))
    changed: dict[str, str] = {}
    for relative, (path, data) in files.items():
        try:
            target = safe_target(vault, relative)
        except UnsafePathError as err:
            report.kept.append((path, str(err).removeprefix(f"{relative}: ")))
            continue
        digest = sha256(data)
        existing = _read(target)
        action = owned_file_action(existing, data, recorded.get(relative), force)
        if action == "same":
            if recorded.get(relative) != digest:
                changed[relative] = digest
            report.unchanged.append(path)
            continue
        if action == "theirs":
            report.kept.append((path, KEPT_EDITED))
            continue
        if action == "replace":
            assert existing is not None
            backup = vault / BACKUP_DIR / stamp / "views" / relative
            _write(backup, existing, sync=True)
            report.backups.append(backup)
        _write(target, data, shown=path)
        changed[relative] = digest
        report.written.append(path)
    if changed:
        store = Store.open(vault)
        try:
            with store.transaction():
                for relative, digest in changed.items():
                    store.set_view_hash(relative, digest)
        finally:
            store.close()


def _recorded_views(vault: Path, paths: list[str]) -> dict[str, str]:
    """The hash of each output at ``paths`` as vaultgen last wrote it (in the state store;
    else in the ``views.json`` of an older vaultgen)."""
    store = Store.open(vault, writable=False)
    try:
        recorded = {p: h for p in paths if (h := store.view_hash(p)) is not None}
    finally:
        store.close()
    try:
        older = json.loads((vault / OLD_VIEWS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        older = {}
    if isinstance(older, dict):
        for path in paths:
            if path not in recorded and isinstance(older.get(path), str):
                recorded[path] = older[path]
    return recorded


def _read(path: Path) -> bytes | None:
    """The bytes of a file; None when there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise OutputError(path, "read", err) from err


def _write(path: Path, data: bytes, *, sync: bool = False, shown: Path | None = None) -> None:
    try:
        atomic_write(path, data, sync=sync)
    except OSError as err:
        raise OutputError(shown or path, "write", err) from err

"""Writing the files ``vaultgen graph`` makes, without ever overwriting the user's.

A file is written when it does not exist, or when it is exactly what vaultgen last wrote there
(its hash is recorded in ``VAULT/.vaultgen/views.json``). A file the user made or edited, such
as a canvas whose cards they moved, is kept unless ``force``; then it is first copied under
``VAULT/.vaultgen/backup/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .write import BACKUP_DIR, atomic_write, sha256

VIEWS_MANIFEST = ".vaultgen/views.json"


@dataclass
class OutputReport:
    """What happened to each file, by its path as given."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)


def _record_key(vault: Path, path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(vault.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def write_outputs(vault: Path, files: Mapping[Path, str], *, force: bool = False,
                  now: dt.datetime | None = None) -> OutputReport:
    """Write ``files`` (path → text); see the module docstring for what is kept."""
    manifest_path = vault / VIEWS_MANIFEST
    try:
        recorded: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    report = OutputReport()
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    for path, text in files.items():
        key = _record_key(vault, path)
        data = text.encode("utf-8")
        digest = sha256(data)
        if path.is_symlink():
            report.kept.append(path)
            continue
        if path.exists():
            existing = path.read_bytes()
            if sha256(existing) == digest:
                recorded[key] = digest
                report.unchanged.append(path)
                continue
            if recorded.get(key) != sha256(existing):
                if not force:
                    report.kept.append(path)
                    continue
                backup = vault / BACKUP_DIR / stamp / "views" / path.name
                atomic_write(backup, existing, sync=True)
                report.backups.append(backup)
        atomic_write(path, data)
        recorded[key] = digest
        report.written.append(path)
    atomic_write(manifest_path, (json.dumps(recorded, indent=1, sort_keys=True,
                                            ensure_ascii=False) + "\n").encode("utf-8"))
    return report

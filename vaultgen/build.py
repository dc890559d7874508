"""The whole pipeline of ``vaultgen build``: parse → resolve → render → check → write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .check import CheckReport, check_files
from .errors import BrokenVaultError, InputError
from .inputs import read_posts
from .model import Diagnostic, Library, Note
from .render import render_vault
from .resolve import RecordSource, build_library
from .write import VaultWriter, WriteReport, note_locations


@dataclass(frozen=True)
class BuildResult:
    """What a build read, made and wrote."""

    diagnostics: tuple[Diagnostic, ...]
    entries: int
    library: Library
    notes: tuple[Note, ...]
    check: CheckReport
    write: WriteReport


def build_vault(inputs: Sequence[Path], vault: Path, *, source: RecordSource | None = None,
                force: bool = False, dry_run: bool = False) -> BuildResult:
    """Build (or update) ``vault`` from the digest posts under ``inputs``.

    The vault is rendered and its link graph checked in memory; nothing is written when a link
    would be broken (``BrokenVaultError``).
    """
    parsed = read_posts(inputs)
    if not parsed.entries:
        problems = "; ".join(str(d) for d in parsed.diagnostics[:5]) or "no entries"
        raise InputError(", ".join(p.as_posix() for p in inputs),
                         f"nothing to build: {problems}",
                         hint="name digest post files (.txt/.md) or folders holding them")
    library = build_library(parsed.entries, source)
    notes = render_vault(library, note_locations(vault) if vault.exists() else None)
    report = check_files({n.path: n.text for n in notes if n.path.endswith(".md")})
    broken = [str(f) for f in report.errors]
    if broken:
        raise BrokenVaultError(broken)
    written = VaultWriter(vault, force=force, dry_run=dry_run).write_all(notes)
    return BuildResult(parsed.diagnostics, len(parsed.entries), library, tuple(notes), report,
                       written)

"""The whole pipeline of ``vaultgen build``: parse → resolve → render → check → write.

Every link of every note rendered is checked before anything is written. Three shortcuts keep
rebuilds of a large vault fast, and each falls back to the full work whenever it cannot be
sure:

- posts whose size and mtime did not change are not parsed again (``inputs.ParseCache``);
- a note whose inputs (``render.NotePlan.inputs``) are those recorded for its file, which is
  as vaultgen wrote it, is neither rendered nor written;
- when no input, no arXiv answer and no generated file changed since the last build (its
  ``.vaultgen/build.json`` says what it read), nothing is parsed, rendered or written.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from . import code_digest
from .check import NoteChecks, start_checking
from .errors import (
    BrokenVaultError,
    FileSystemError,
    InputError,
    UnsafePathError,
    file_error,
)
from .gcpause import paused_gc
from .heap import Releaser, release_freed_memory
from .increment import Declined, Fingerprint, plan_increment
from .inputs import RACY_NS, FoundInputs, ParseCache, find_input_files, read_posts_apart
from .model import Diagnostic, Library, Note
from .progress import WRITING, Progress, Ticks
from .render import NotePlan, plan_notes, settings_notes, settle_names
from .resolve import RecordSource, build_library
from .snapshot import (
    fingerprint_digest,
    folders_of,
    forget_snapshot,
    save_snapshot,
    snapshot_of,
)
from .tags import NO_ALIASES, TagAliases, aliases_path, load_tag_aliases
from .workers import NOTES_WORTH_WORKERS, jobs_for, worker_pool
from .write import (
    MANIFEST,
    VaultWriter,
    WriteReport,
    atomic_write,
    load_manifest,
    manifest_stats,
    note_locations,
    safe_target,
)

log = logging.getLogger(__name__)

PARSE_CACHE = ".vaultgen/parsed"
BUILD_STATE = ".vaultgen/build.json"


@dataclass(frozen=True)
class BuildCounts:
    """What a build made, in numbers (what the command line reports)."""

    entries: int = 0
    posts: int = 0
    papers: int = 0
    unresolved: int = 0
    cited: int = 0
    tags: int = 0
    days: int = 0
    links: int = 0


@dataclass(frozen=True)
class BuildResult:
    """What a build read, made and wrote. ``notes`` are the notes it rendered (on a first
    build, all of them; later, those whose inputs changed), when asked to keep them.
    ``library`` and ``notes`` are None when the build found nothing changed since the last one
    and skipped the pipeline; an incremental build's ``library`` holds the papers it planned."""

    diagnostics: tuple[Diagnostic, ...]
    counts: BuildCounts
    write: WriteReport
    library: Library | None = None
    notes: tuple[Note, ...] | None = None
    incremental: bool = False  # planned only the notes new posts change (``increment``)

    @property
    def skipped(self) -> bool:
        return self.library is None


def build_vault(inputs: Sequence[Path], vault: Path, *, source: RecordSource | None = None,
                force: bool = False, dry_run: bool = False,
                keep_notes: bool = False, jobs: int | None = 1,
                progress: Progress | None = None) -> BuildResult:
    """Build (or update) ``vault`` from the digest posts under ``inputs``.

    Notes are rendered one at a time, their links checked, and staged under
    ``.vaultgen/staging``; only when every link resolves do they take their places (else
    ``BrokenVaultError`` and the vault is as it was). ``keep_notes``: return the rendered notes
    in the result (they are otherwise not kept, to keep memory flat). ``jobs``: processes a
    full build parses posts and writes notes with (``workers.jobs_for``; None: one per CPU
    when the input is large). ``progress``: told of the posts parsed and the notes written
    (``progress.Progress``).
    """
    with paused_gc():
        try:
            return _build(inputs, vault, source, force=force, dry_run=dry_run,
                          keep_notes=keep_notes, jobs=jobs, progress=progress)
        except OSError as err:
            if err.errno is None:
                raise  # not the file system's
            raise file_error(err, os.fspath(vault)) from err


def _build(inputs: Sequence[Path], vault: Path, source: RecordSource | None, *, force: bool,
           dry_run: bool, keep_notes: bool, jobs: int | None,
           progress: Progress | None) -> BuildResult:
    found = find_input_files(inputs, skip=vault)
    aliases, alias_problems = load_tag_aliases(aliases_path(inputs))
    found = (found[0], [*found[1], *alias_problems])  # reported as the input's problems
    fingerprint = _fingerprint(found, vault, source, aliases=aliases)
    state = _read_state(vault) if fingerprint is not None else None  # the last build's record
    unchanged = _unchanged_since_last_build(vault, fingerprint, source, state)
    if unchanged is not None:
        return unchanged
    locked = None if dry_run else unwritable_folder(vault)
    if locked is not None:
        return _build_unwritable(inputs, vault, source, found, locked, force=force,
                                 keep_notes=keep_notes, jobs=jobs, aliases=aliases)
    if not dry_run and not force and fingerprint is not None and state is not None:
        increment = _build_increment(vault, found, fingerprint, source, state, keep_notes,
                                     aliases, progress)
        if increment is not None:
            return increment
    if not dry_run:
        forget_snapshot(vault)  # a build that fails or saves no record leaves none behind
    made = not dry_run and not os.path.lexists(vault)
    try:
        return _full_build(inputs, vault, source, found, fingerprint, force=force,
                           dry_run=dry_run, keep_notes=keep_notes, jobs=jobs, aliases=aliases,
                           progress=progress)
    except BaseException:
        if made:
            _remove_unfinished(vault)
        raise


def _remove_unfinished(vault: Path) -> None:
    """Remove the vault a failed build made, unless a file other than vaultgen's own (its
    caches) is in it."""
    for folder, dirs, names in os.walk(vault):
        if folder == os.fspath(vault):
            dirs[:] = [d for d in dirs if d != ".vaultgen"]
        if names:
            return
    shutil.rmtree(vault, ignore_errors=True)


def _build_unwritable(inputs: Sequence[Path], vault: Path, source: RecordSource | None,
                      found: FoundInputs, locked: str, *, force: bool, keep_notes: bool,
                      jobs: int | None, aliases: TagAliases = NO_ALIASES) -> BuildResult:
    """The build of a vault it may not write in (``locked``: the folder): worked out as a
    dry run, whose result it is when nothing would change; else ``FileSystemError``."""
    result = _full_build(inputs, vault, source, found, None, force=force, dry_run=True,
                         keep_notes=keep_notes, jobs=jobs, aliases=aliases)
    write = result.write
    changes = len(write.written) + len(write.merged) + len(write.removed) + len(write.backups)
    if changes:
        inside = os.path.commonpath([os.path.abspath(locked), os.path.abspath(vault)]) == \
            os.path.abspath(vault)
        why = f"this build would change {changes} file(s) of the vault" if inside else \
            f"the vault {vault.as_posix()} cannot be made in it"
        raise FileSystemError(locked, f"not writable, and {why}",
                              hint="make it writable, or build into another folder (-o); "
                                   "--dry-run lists the changes")
    return result


def unwritable_folder(vault: Path) -> str | None:
    """The folder a build of ``vault`` must write in and may not: the vault or its
    ``.vaultgen`` folder, or, for a vault to be made, the folder it is made in; None when
    there is none (a write can still fail, deeper in the vault)."""
    path = os.fspath(vault)
    if os.path.isdir(path):
        for folder in (path, os.path.join(path, ".vaultgen")):
            if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
                return folder
        return None
    parent = path
    while parent and not os.path.lexists(parent):
        parent = os.path.dirname(parent.rstrip(os.sep))
    parent = parent or os.curdir
    if os.path.isdir(parent) and not os.access(parent, os.W_OK | os.X_OK):
        return parent
    return None


def _full_build(inputs: Sequence[Path], vault: Path, source: RecordSource | None,
                found: FoundInputs, fingerprint: Fingerprint | None, *,
                force: bool, dry_run: bool, keep_notes: bool, jobs: int | None,
                aliases: TagAliases = NO_ALIASES,
                progress: Progress | None = None) -> BuildResult:
    """Every post read (those the parse cache holds from it), every note planned; only
    those whose inputs changed rendered and written."""
    cache = ParseCache.load(_inside(vault, PARSE_CACHE))
    parsed, texts = read_posts_apart(inputs, cache, found, jobs, progress)
    if not parsed.entries:
        problems = "; ".join(str(d) for d in parsed.diagnostics[:5]) or "no entries"
        raise InputError(", ".join(p.as_posix() for p in inputs),
                         f"nothing to build: {problems}",
                         hint="name digest post files (.txt/.md) or folders holding them")
    if not dry_run:
        cache.save()  # now, so that the texts of the posts parsed are held once, not twice
    library = build_library(parsed.entries, source, texts, aliases)
    recheck = getattr(source, "recheck_on", None)
    recheck_on = recheck() if recheck is not None else None
    release = getattr(source, "release", None)
    if release is not None:
        release()  # the arXiv answers are in the library now: freed before the manifest is read
    release_freed_memory()  # what reading the posts and the arXiv answers freed
    manifest = load_manifest(vault)
    context = settle_names(library, note_locations(vault, manifest) if vault.exists() else None)
    plans = plan_notes(context)
    writer = VaultWriter(vault, force=force, dry_run=dry_run, manifest=manifest)
    rendered = _write_notes(plans, writer, [p.path for p in plans if p.path.endswith(".md")],
                            library, source, keep_notes, jobs, progress)
    written = writer.commit()
    counts = BuildCounts(
        entries=len(parsed.entries), posts=len(found[0]), papers=len(library.papers),
        unresolved=len(library.unresolved), cited=len(library.cited),
        tags=sum(1 for p in plans if p.kind == "tag"),
        days=sum(1 for p in plans if p.kind == "day"), links=writer.recorded_links())
    if not dry_run and not written.kept and fingerprint is not None:
        saved = _save_state(vault, found, fingerprint, counts, parsed.diagnostics, source,
                            recheck_on)
        if saved is not None:
            recorded = writer.recorded_paths()
            del plans, writer, manifest  # freed before the snapshot is made
            release_freed_memory()
            save_snapshot(vault, snapshot_of(context, saved, counts.entries, counts.links,
                                             vault, recorded))
    return BuildResult(parsed.diagnostics, counts, written, library, tuple(rendered))


def _write_notes(plans: Sequence[NotePlan], writer: VaultWriter, paths: list[str],
                 library: Library, source: RecordSource | None, keep_notes: bool,
                 jobs: int | None, progress: Progress | None = None) -> list[Note]:
    """Render the plans whose notes changed, check their links (against ``paths``, the
    vault's notes) and stage them (the vault is left as it was, ``BrokenVaultError``, if a
    link is broken); the notes rendered, when ``keep_notes``. Worker processes check and
    write the notes while the next are rendered (``jobs``: see ``workers.jobs_for``); the
    notes rendered are told to ``progress``."""
    pending = {plan.path for plan in writer.pending(plans)}
    _read_summaries(library, source, [p.key for p in plans if p.path in pending])
    with worker_pool(jobs_for(jobs, len(pending), NOTES_WORTH_WORKERS),
                     initializer=start_checking, initargs=(paths,)) as pool:
        writer.take_checks(pool)
        checks = NoteChecks(paths, pool)
        rendered: list[Note] = []
        releaser = Releaser(every=2000)  # the texts of the notes written are freed as they go
        ticks = Ticks(progress, WRITING, len(pending))
        try:
            for plan in plans:
                if plan.path not in pending:
                    writer.stage(plan)
                    continue
                releaser.tick()
                note = plan.render()
                if note.path.endswith(".md"):
                    checks.check(note.path, note.text, note.properties, note.body)
                writer.stage(plan, note)
                if keep_notes:
                    rendered.append(note)
                ticks.tick()
            checks.finish()
            if checks.findings:
                raise BrokenVaultError([str(f) for f in checks.findings])
            writer.record_checks(checks)
            writer.finish_staging()
        except BaseException:
            checks.abandon()
            writer.abort()
            raise
    return rendered


def _build_increment(vault: Path, found: FoundInputs,
                     fingerprint: Fingerprint, source: RecordSource | None, state: dict,  # type: ignore[type-arg]
                     keep_notes: bool, aliases: TagAliases = NO_ALIASES,
                     progress: Progress | None = None) -> BuildResult | None:
    """The build of the posts added since the last build (``state``: its record), touching
    only the notes they change (``increment``); None when it must be a full build."""
    cache = _inside(vault, PARSE_CACHE)
    still_valid = getattr(source, "still_valid", None)
    if cache is None or \
            (still_valid is not None and not still_valid(state.get("recheck_on"))):
        return None
    try:
        increment = plan_increment(vault, found, fingerprint, source, state, cache, aliases)
    except Declined as why:
        log.info("a full build: %s", why)
        release = getattr(source, "release", None)
        if release is not None:
            release()
        return None
    forget_snapshot(vault)
    snapshot = increment.snapshot
    writer = VaultWriter(vault, partial=increment.manifest, links_before=snapshot.links)
    paths = [*(p for p in increment.manifest if p.endswith(".md")),
             *(p.path for p in increment.plans if p.path.endswith(".md") and
               p.path not in increment.manifest)]
    library = increment.context.library
    rendered = _write_notes(increment.plans, writer, paths, library, source, keep_notes, 1,
                            progress)
    written = writer.commit()
    counts = BuildCounts(entries=snapshot.entries, posts=len(found[0]),
                         papers=snapshot.paper_count(),
                         unresolved=snapshot.unresolved, cited=len(snapshot.cited),
                         tags=len(snapshot.tags), days=len(snapshot.days),
                         links=writer.recorded_links())
    if not written.kept:
        saved = _save_state(vault, found, fingerprint, counts, increment.diagnostics, source,
                            increment.recheck_on)
        if saved is not None:
            recorded = writer.recorded_paths()
            snapshot.fingerprint = fingerprint_digest(saved)
            snapshot.links = counts.links
            snapshot.files.added = [p for p in recorded if p not in increment.manifest]
            snapshot.folders, snapshot.root_files = folders_of(vault, recorded,
                                                               before=snapshot)
            save_snapshot(vault, snapshot)
    return BuildResult(increment.diagnostics, counts, written, library, tuple(rendered),
                       incremental=True)


def _read_summaries(library: Library, source: RecordSource | None, keys: list[str]) -> None:
    """Read the arXiv summaries the notes to render show, which the library's records do
    not hold (as read from the cache: see ``ArxivCache``)."""
    wanted = library.summaries_wanted(keys)
    read = getattr(source, "summaries", None)
    if wanted and read is not None:
        library.summaries.update(read(wanted))


# --- Knowing that nothing changed ---------------------------------------------------------------

def _inside(vault: Path, relative: str) -> Path | None:
    try:
        return safe_target(vault, relative)
    except UnsafePathError:
        return None


def _stat_key(path: str | Path) -> list[int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _fingerprint(found: FoundInputs, vault: Path, source: RecordSource | None,
                 inputs_as: Fingerprint | None = None, *,
                 aliases: TagAliases = NO_ALIASES) -> Fingerprint | None:
    """What a build reads: vaultgen's code, every input file's size and mtime (of ``found``,
    from ``find_input_files``; ``inputs_as``: a fingerprint whose input stats and tag aliases
    are still those of the files, so that they are neither taken nor encoded again), the
    digest of the tag aliases file, the arXiv cache's and the manifest's. None when the
    source cannot say what it depends on."""
    state = getattr(source, "state", None)
    source_state = state() if state is not None else {"source": None}
    if source is not None and (state is None or source_state is None):
        return None
    files, problems = found
    if inputs_as is None:
        inputs = _input_stats(files)
        inputs_json = json.dumps(inputs)
        aliases_digest = aliases.digest
    else:
        inputs, inputs_json = inputs_as.value["inputs"], inputs_as.inputs_json
        aliases_digest = inputs_as.value["tag_aliases"]
    value = {
        "vaultgen": code_digest(),
        "inputs": inputs,
        "problems": [str(p) for p in problems],
        "source": source_state,
        "manifest": _stat_key(vault / MANIFEST),
        "tag_aliases": aliases_digest,
    }
    # As ``json.dumps(value, sort_keys=True)``: "inputs" is the first key (and holds no
    # object); its JSON, a megabyte for 15,000 posts, is made once a build.
    rest = json.dumps({k: v for k, v in value.items() if k != "inputs"}, sort_keys=True)
    return Fingerprint(f'{{"inputs": {inputs_json}, {rest[1:]}', value, inputs_json)


def _input_stats(files: list[str]) -> list[list[object]]:
    """Each input file with its size and mtime (None: gone), as the fingerprint holds them."""
    return [[file, _stat_key(file)] for file in files]


def _unchanged_since_last_build(vault: Path, fingerprint: Fingerprint | None,
                                source: RecordSource | None,
                                state: dict | None) -> BuildResult | None:  # type: ignore[type-arg]
    """The last build's result (``state``: its record), when it read exactly what this one
    would and every file it wrote is still as it left it; None otherwise. (The manifest is
    read only when the inputs are those of the last build.)"""
    if fingerprint is None or state is None or state.get("fingerprint") != fingerprint.text:
        return None
    still_valid = getattr(source, "still_valid", None)
    if still_valid is not None and not still_valid(state.get("recheck_on")):
        return None
    recorded = manifest_stats(vault)
    root = os.path.join(vault, "")
    for relative, (size, mtime) in recorded.items():
        try:
            stat = os.stat(root + relative)
        except OSError:
            return None
        if stat.st_size != size or stat.st_mtime_ns != mtime:
            return None
    if not all((vault / note.path).exists() for note in settings_notes()):
        return None
    report = WriteReport(unchanged=sorted(recorded) + [n.path for n in settings_notes()])
    diagnostics = tuple(Diagnostic.from_row(d) for d in state.get("diagnostics", []))
    return BuildResult(diagnostics, BuildCounts(**state["counts"]), report)


def _read_state(vault: Path) -> dict | None:  # type: ignore[type-arg]
    """What the last build recorded (``_save_state``), if it can be read."""
    path = _inside(vault, BUILD_STATE)
    try:
        state = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _save_state(vault: Path, found: FoundInputs, before: Fingerprint,
                counts: BuildCounts, diagnostics: Sequence[Diagnostic],
                source: RecordSource | None, recheck_on: str | None) -> str | None:
    """Record what this build read. The manifest and the arXiv cache are taken as the build
    left them; the posts as they were when it began (``before``). A post changed or removed
    while it ran is recorded as it was before, so the next build sees its size or mtime
    differ (stating every post again here would find no change the next build misses, and
    takes 60–75 ms for 15,000 posts); a post added meanwhile is not in the record,
    so the next build, which looks for posts, sees a change."""
    path = _inside(vault, BUILD_STATE)
    if path is None:
        return None
    after = _fingerprint(found, vault, source, before)
    if after is None:
        return None
    racy = time.time_ns() - RACY_NS
    if any(stat and stat[1] > racy for _, stat in before.value["inputs"]):
        return None  # an input changed too recently for its mtime to tell the next change apart
    state = {
        "fingerprint": after.text,
        "recheck_on": recheck_on,
        "counts": asdict(counts),
        "diagnostics": [d.as_row() for d in diagnostics],
    }
    atomic_write(path, (json.dumps(state, ensure_ascii=False, indent=1) + "\n").encode())
    return after.text

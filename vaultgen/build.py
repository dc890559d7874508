"""The pipeline of ``vaultgen build``: read → resolve → plan → render → check → write.

One path for every build. The posts whose size, mtime or bytes changed since the last build
are parsed again, and their entries kept in the state store (``state``); entries not matched
yet are looked up on arXiv. Then every note of the vault is planned from the store
(``plan.plan_vault``: light, no texts) with a digest of its inputs; the notes whose digest
is not the one recorded for their file (or whose file is gone) are rendered, their links
checked, and written (``write``). A cold build is the case where nothing is recorded; a build
after no change renders and writes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import code_digest
from .arxiv.client import record_from_dict, record_to_dict
from .arxiv.match import RecordSource
from .check.links import LinkChecker
from .check.notes import Frontmatter
from .cite import BIB_SETTING, BibKeeper, citekeys_for
from .errors import BrokenVaultError, FileSystemError, InputError, file_error
from .gcpause import paused_gc
from .model import PAPER_TYPES, ArxivRecord, Diagnostic, Entry, Note, Paper, SourceRef, text_digest
from .parse.inputs import RACY_NS, find_input_files, posts_folder, read_posts_with
from .parse.tags import ALIASES_NAME, load_tag_aliases, with_canonical_tags
from .plan import NoteSpec, PlannedPaper, VaultPlan, plan_vault
from .progress import PARSING, WRITING, Progress, Ticks
from .render.bases import BASE_PATH, papers_base
from .render.notes import render_spec, settings_notes
from .state import STATE_DIR, STATE_FILE, BuildLock, Store
from .takeover import adopt_old_state, locate_notes, remove_old_state
from .wording import plural
from .workers import NOTES_WORTH_WORKERS, POSTS_WORTH_WORKERS, jobs_for, worker_pool
from .write import VaultWriter, WriteReport

if TYPE_CHECKING:
    from .related import Neighbour, RelatedText

RELATED_SETTING = "setting:related"  # (meta) how many related papers a paper note lists
RELATED_FITTED = "related:fitted"  # (meta) the count and vaultgen the model was fitted for
DEFAULT_RELATED = 5
RENDER_BATCH = 2000  # notes rendered, checked and written together
MATCH_BATCH = 5000  # entries matched to arXiv records together


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
    """What a build read, made and wrote; ``notes``: the notes it rendered, when asked to
    keep them."""

    diagnostics: tuple[Diagnostic, ...]
    counts: BuildCounts
    write: WriteReport
    notes: tuple[Note, ...] = ()
    rendered: int = 0


def build_vault(inputs: Sequence[Path], vault: Path, *, source: RecordSource | None = None,
                force: bool = False, dry_run: bool = False, keep_notes: bool = False,
                jobs: int | None = None, progress: Progress | None = None,
                bib: bool | None = None, related: int | None = None) -> BuildResult:
    """Build (or update) ``vault`` from the digest posts under ``inputs``.

    ``jobs``: worker processes that parse posts and write notes (``workers.jobs_for``; None
    or 0: one per CPU when the work is large). ``dry_run``: the build's report, with nothing
    written (the store is read into memory and changed there). ``keep_notes``: the notes
    rendered, in the result. ``progress``: told of the posts read and the notes written.
    ``bib``: whether the vault keeps ``papers.bib`` (None: as the vault remembers it).
    ``related``: how many related papers each paper note lists (None: as the vault remembers
    it, at first ``DEFAULT_RELATED``).

    A vault it may not write in is built as a dry run: its result when nothing would change,
    else ``FileSystemError``. Any other trouble of the file system is a ``FileSystemError``
    naming the path; a build that made the vault and failed removes it.
    """
    if vault.exists() and not vault.is_dir():
        raise InputError(str(vault), "not a folder", hint="name a folder for the vault")
    locked = None if dry_run else unwritable_folder(vault)
    made = not dry_run and not os.path.lexists(vault)
    try:
        result = _build(inputs, vault, source, force=force, dry_run=dry_run or bool(locked),
                        keep_notes=keep_notes, jobs=jobs, progress=progress, bib=bib,
                        related=related)
    except OSError as err:
        if made:
            _remove_unfinished(vault)
        if err.errno is None:
            raise  # not the file system's
        raise file_error(err, os.fspath(vault)) from err
    except sqlite3.OperationalError as err:  # the store could not be written (a full disk)
        if made:
            _remove_unfinished(vault)
        raise FileSystemError(os.fspath(vault / STATE_FILE),
                              f"cannot write the build's state ({err})",
                              hint="make room on the disk, then build again") from err
    except BaseException:
        if made:
            _remove_unfinished(vault)
        raise
    if locked is not None:
        write = result.write
        changes = len(write.written) + len(write.merged) + len(write.removed) + \
            len(write.backups)
        if changes:
            inside = os.path.commonpath([os.path.abspath(locked), os.path.abspath(vault)]) == \
                os.path.abspath(vault)
            why = f"this build would change {plural(changes, 'file')} of the vault" \
                if inside else f"the vault {vault.as_posix()} cannot be made in it"
            raise FileSystemError(locked, f"not writable, and {why}",
                                  hint="make it writable, or build into another folder (-o); "
                                       "--dry-run lists the changes")
    return result


def _build(inputs: Sequence[Path], vault: Path, source: RecordSource | None, *, force: bool,
           dry_run: bool, keep_notes: bool, jobs: int | None,
           progress: Progress | None, bib: bool | None,
           related: int | None) -> BuildResult:
    lock = contextlib.nullcontext() if dry_run else BuildLock(vault)
    with lock, paused_gc():
        store = Store.in_memory(vault) if dry_run else Store.open(vault)
        try:
            return _Build(inputs, vault, store, source, force, dry_run, keep_notes, jobs,
                          progress, bib, related).run()
        finally:
            store.close()


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


def _remove_unfinished(vault: Path) -> None:
    """Remove the vault a failed build made, unless a file other than vaultgen's own (its
    caches) is in it."""
    for folder, dirs, names in os.walk(vault):
        if folder == os.fspath(vault):
            dirs[:] = [d for d in dirs if d != ".vaultgen"]
        if names:
            return
    shutil.rmtree(vault, ignore_errors=True)




class _Build:
    def __init__(self, inputs: Sequence[Path], vault: Path, store: Store,
                 source: RecordSource | None, force: bool, dry_run: bool, keep_notes: bool,
                 jobs: int | None, progress: Progress | None, bib: bool | None = None,
                 related: int | None = None) -> None:
        self.inputs = inputs
        self.vault = vault
        self.store = store
        self.source = source
        self.force = force
        self.dry_run = dry_run
        self.keep_notes = keep_notes
        self.jobs = jobs
        self.progress = progress
        self.bib = bib
        self.related = related
        self.today = dt.date.today().isoformat()
        self._title_keys: list[str] = []  # of the entries, as ``_resolve`` read them
        self._record_digests: dict[str, str] = {}  # of the records the vault uses
        self._names: dict[str, str] = {}  # the names the store held when planning began
        self._cited: set[str] = set()  # the arXiv ids only cited

    def run(self) -> BuildResult:
        store, vault = self.store, self.vault
        writer = VaultWriter(vault, store, force=self.force, dry_run=self.dry_run)
        writer.settle()
        files, problems = find_input_files(self.inputs, skip=vault)
        folder = posts_folder(self.inputs)
        aliases, alias_problems = load_tag_aliases(folder / ALIASES_NAME if folder else None)
        problems = [*problems, *alias_problems]
        changed, gone = self._changed_posts(files)
        listing = list_vault_files(vault, clean=not self.dry_run)
        jobs = jobs_for(self.jobs, len(changed), POSTS_WORTH_WORKERS)
        with worker_pool(jobs) as pool, store.transaction():
            if adopt_old_state(vault, store, listing):
                writer.files = store.files()
            self._read_posts(changed, gone, pool)
            entries, matched = self._resolve()
            if not entries:
                found = "; ".join(str(d) for d in self._diagnostics(problems)[:5])
                raise InputError(", ".join(p.as_posix() for p in self.inputs),
                                 f"nothing to build: {found or 'no entries'}",
                                 hint="name digest post files (.txt/.md) or folders holding them")
            plan = self._plan(with_canonical_tags(entries, aliases), matched, listing, writer,
                              pool)
            store.set_names(plan.names, self._names)
            if self.bib is not None:
                store.set_meta(BIB_SETTING, "on" if self.bib else None)
            bib = BibKeeper(store, store.meta(BIB_SETTING) == "on")
        stale = {spec.path for spec in plan.notes
                 if self.force or spec.path not in listing or
                 (record := writer.files.get(spec.path)) is None or
                 record.inputs != spec.inputs}
        todo = [spec for spec in plan.notes if spec.path in stale or bib.wanted(spec)]
        rendered = self._render_and_write(plan, todo, stale, writer, bib)
        writer.remove_stale({spec.path for spec in plan.notes})
        writer.write_settings(settings_notes())
        writer.write_owned(BASE_PATH, papers_base(), quiet=True)
        bib.finish((spec.note for spec in plan.notes), writer)
        if not self.dry_run:
            remove_old_state(vault)
        counts = BuildCounts(entries=len(entries), papers=plan.papers, posts=len(files),
                             unresolved=plan.unresolved, cited=plan.cited, tags=plan.tags,
                             days=plan.days, links=store.links())
        return BuildResult(tuple(self._diagnostics(problems)), counts, writer.report,
                           tuple(rendered), len(todo))

    # --- reading posts ---------------------------------------------------------------------

    def _changed_posts(self, files: list[str]
                       ) -> tuple[list[tuple[str, os.stat_result | None]], list[str]]:
        """The post files whose size or mtime is not what the store holds (with their stat;
        None: unreadable), and the posts the store holds that are gone."""
        known = self.store.posts()
        listed = set(files)
        gone = [path for path in known if path not in listed]
        changed: list[tuple[str, os.stat_result | None]] = []
        for path in files:
            try:
                stat = os.stat(path)
            except OSError:
                changed.append((path, None))
                continue
            held = known.get(path)
            if held is None or held[0] != stat.st_size or held[1] != stat.st_mtime_ns:
                changed.append((path, stat))
        return changed, gone

    def _read_posts(self, changed: list[tuple[str, os.stat_result | None]], gone: list[str],
                    pool: Executor | None) -> None:
        store = self.store
        for path in gone:
            store.forget_post(path)
        if not changed:
            return
        known = store.posts()
        racy = time.time_ns() - RACY_NS
        paths = [path for path, _ in changed]
        stats = dict(changed)
        ticks = Ticks(self.progress, PARSING, len(paths))
        for read in read_posts_with(paths, pool):
            ticks.tick()
            stat = stats[read.path]
            size = stat.st_size if stat is not None else -1
            # A post changed too recently for its mtime to tell the next change apart is
            # read again next time (its bytes' hash then tells whether it changed).
            mtime = stat.st_mtime_ns if stat is not None and stat.st_mtime_ns < racy else 0
            held = known.get(read.path)
            if held is not None and read.sha256 is not None and held[2] == read.sha256:
                store.touch_post(read.path, size, mtime)
                continue
            store.replace_post(read.path, size, mtime, read.sha256 or "",
                               [d.as_row() for d in read.diagnostics], read.entries,
                               read.texts)

    def _diagnostics(self, problems: list[Diagnostic]) -> list[Diagnostic]:
        return [*problems, *(Diagnostic.from_row(row) for row in self.store.post_diagnostics())]

    # --- resolving -------------------------------------------------------------------------

    def _resolve(self) -> tuple[list[Entry], dict[int, str]]:
        """Every entry (without its text) and the arXiv id each matched, by index; the
        entries not matched yet are looked up first, and the records used kept."""
        store, source = self.store, self.source
        use_store = getattr(source, "use_store", None)
        if use_store is not None:
            use_store(store.db)
        rows = store.entry_rows().fetchall()
        entries = [_entry_of(row) for row in rows]
        cache_state = _source_state(source)
        recheck = cache_state is None or cache_state != store.meta("arxiv")
        if source is not None:
            wanted = [i for i, row in enumerate(rows)
                      if row[9] is None or row[8] is None or recheck]
            changed = False
            for start in range(0, len(wanted), MATCH_BATCH):  # (a batch's records held)
                changed |= self._match(rows, entries, wanted[start:start + MATCH_BATCH])
            rows = store.entry_rows().fetchall() if changed else rows
        matched = {i: row[8] for i, row in enumerate(rows) if row[8]}
        own = set(matched.values())
        cited = {i for e in entries for i in e.cites} - own
        held = store.record_digests()
        if source is not None:
            unknown = sorted(i for i in cited if i not in held or recheck)
            if unknown:
                self._keep_records(source.fetch_ids(unknown))
                held = store.record_digests()
            state = _source_state(source)
            store.set_meta("arxiv", state)
        store.drop_records_except(own | cited)
        self._title_keys = [row[4] for row in rows]
        self._cited = cited
        self._record_digests = {i: d for i, d in held.items() if i in own or i in cited}
        return entries, matched

    def _match(self, rows: list[tuple], entries: list[Entry], wanted: list[int]) -> bool:
        """Match the entries at ``wanted`` to arXiv records and keep the records; whether
        any entry's match changed."""
        store, source = self.store, self.source
        assert source is not None
        authors = store.entry_authors((rows[i][0], rows[i][1]) for i in wanted)
        found = source.match_titles([  # (whose authors must fit the record's)
            dataclasses.replace(entries[i], authors=authors[(rows[i][0], rows[i][1])])
            for i in wanted])
        matches = []
        new_records: dict[str, ArxivRecord] = {}
        for position, index in enumerate(wanted):
            record = found.get(position)
            row = rows[index]
            if record is not None:
                new_records[record.id] = record
            if (record.id if record else None) != row[8] or row[9] is None:
                matches.append((record.id if record else None, self.today, row[0], row[1]))
        store.set_matches(matches)
        self._keep_records(new_records)
        return bool(matches)

    def _keep_records(self, records: dict[str, ArxivRecord]) -> None:
        """Records to keep in the store."""
        rows = []
        for record in records.values():
            text = json.dumps(record_to_dict(record), ensure_ascii=False, sort_keys=True)
            rows.append((record.id, text_digest(text), text))
        self.store.put_records(rows)

    # --- planning --------------------------------------------------------------------------

    def _plan(self, entries: Sequence[Entry], matched: dict[int, str], listing: set[str],
              writer: VaultWriter, pool: Executor | None) -> VaultPlan:
        store = self.store
        names = self._names = store.names()
        moved = locate_notes(self.vault, listing, writer.files)
        for old, new in moved.values():
            store.move_file(old, new)
        if moved:
            writer.files = store.files()
        unnamed = [i for i in self._cited if f"cited:{i}" not in names]
        titles = {i: json.loads(text)["title"] for i, text in store.records(unnamed).items()}
        placed = {record.note: record.path for record in writer.files.values()
                  if record.kind in PAPER_TYPES}  # where they are (the user's moves)
        return plan_vault(entries, matched, self._record_digests, names, placed, titles.get,
                          self._title_keys,
                          lambda papers, cited: citekeys_for(store, papers, cited),
                          lambda papers: self._related(papers, pool))

    def _related(self, papers: Sequence[PlannedPaper], pool: Executor | None
                 ) -> dict[str, list[str]]:
        """The papers most like each paper (by key, most similar first), kept in the store:
        the model fitted anew (its words counted in ``pool``, where there is one) on a cold
        or ``--force`` build (or with another number of papers a list holds, or another
        vaultgen), else the lists the papers added, changed or removed touch updated under
        the model as it is."""
        store = self.store
        if self.related is not None:
            store.set_meta(RELATED_SETTING, str(self.related))
        held_setting = store.meta(RELATED_SETTING)
        count = int(held_setting) if held_setting is not None else DEFAULT_RELATED
        if count == 0:
            store.forget_related()
            return {}
        digests = {paper.key: _similarity_digest(paper) for paper in papers}
        held = store.related()
        model_bytes = store.related_model("model")
        fitted = f"{count} {code_digest()}"
        full = self.force or model_bytes is None or store.meta(RELATED_FITTED) != fitted
        added = [paper for paper in papers if held.get(paper.key, ("",))[0] != digests[paper.key]]
        gone = [key for key in held if key not in digests]
        if not (full or added or gone):  # (numpy and scipy not even imported)
            return {key: [near for near, _ in json.loads(text)]
                    for key, (_, text) in held.items()}
        from . import related as similarity

        if full:
            fresh = similarity.refresh(self._related_texts(papers), count, pool=pool)
            store.set_related(
                ((key, digests[key], _list_json(near)) for key, near in fresh.lists.items()),
                (), {"model": fresh.model.to_bytes(), "vectors": fresh.vectors.to_bytes()},
                replace=True)
            store.set_meta(RELATED_FITTED, fitted)
            return {key: [n.key for n in near] for key, near in fresh.lists.items()}
        lists = {key: tuple(similarity.Neighbour(near, score)
                            for near, score in json.loads(text))
                 for key, (_, text) in held.items()}
        model = similarity.RelatedModel.from_bytes(model_bytes or b"")
        vectors = similarity.Vectors.from_bytes(store.related_model("vectors") or b"")
        change = similarity.update(model, vectors, lists, self._related_texts(added), gone,
                                   count)
        for key in gone:
            lists.pop(key, None)
        lists.update(change.lists)
        store.set_related(
            ((key, digests[key], _list_json(near)) for key, near in change.lists.items()),
            gone, {"vectors": change.current.to_bytes()})
        return {key: [n.key for n in near] for key, near in lists.items()}

    def _related_texts(self, papers: Sequence[PlannedPaper]) -> list[RelatedText]:
        """What ``papers`` are compared by: their posts' titles, abstracts, commentary, tags
        and authors."""
        from .related import RelatedText

        texts = self.store.entry_texts((e.source.path, e.source.line)
                                       for paper in papers for e in paper.entries)
        made = []
        for paper in papers:
            held = [texts[(e.source.path, e.source.line)] for e in paper.entries]
            made.append(RelatedText(
                paper.key, paper.first.title, next((t[1] for t in held if t[1]), ""),
                "\n".join(t[2] for t in held if t[2]) or None,
                "\n".join(t[3] for t in held if t[3]) or None, paper.tags, held[0][0]))
        return made

    # --- rendering and writing -------------------------------------------------------------

    def _render_and_write(self, plan: VaultPlan, todo: list[NoteSpec], stale: set[str],
                          writer: VaultWriter, bib: BibKeeper) -> list[Note]:
        """Render ``todo``; check and write the notes at ``stale`` paths (the others are
        rendered for their BibTeX entries alone)."""
        checker = LinkChecker([spec.path for spec in plan.notes])
        kept: list[Note] = []
        ticks = Ticks(self.progress, WRITING, len(todo))
        jobs = jobs_for(self.jobs, len(todo), NOTES_WORTH_WORKERS)
        with worker_pool(jobs) as pool:
            bib.start(pool)
            for start in range(0, len(todo), RENDER_BATCH):
                batch = todo[start:start + RENDER_BATCH]
                notes = self._render(batch)
                bib.add(batch, notes)
                written = []
                for spec, note in zip(batch, notes, strict=True):
                    if spec.path in stale:
                        links = checker.check(note.path, note.text, _front_of(note))
                        written.append((note, spec.note, spec.inputs, links))
                if checker.findings:
                    raise BrokenVaultError([str(f) for f in checker.findings])
                if self.keep_notes:
                    kept += notes
                writer.write(written, pool)  # (its files written while the next renders)
                ticks.tick(len(batch))
            writer.finish()
            bib.settle()
        return kept

    def _render(self, specs: list[NoteSpec]) -> list[Note]:
        """The notes of ``specs``, with the texts and records they need read from the store."""
        store = self.store
        keys = [(e.source.path, e.source.line) for spec in specs if spec.kind == "paper"
                for e in spec.payload[0].entries]  # type: ignore[attr-defined]
        texts = store.entry_texts(keys)
        ids = {spec.payload[0].arxiv for spec in specs  # type: ignore[attr-defined]
               if spec.kind == "paper" and spec.payload[0].arxiv}  # type: ignore[attr-defined]
        ids |= {spec.payload[0] for spec in specs if spec.kind == "cited"}
        records = {i: record_from_dict(json.loads(text)) for i, text in
                   store.records(sorted(ids)).items()}

        def paper_of(planned: PlannedPaper) -> Paper:
            full = []
            for entry in planned.entries:
                authors, abstract, ko, en = texts[(entry.source.path, entry.source.line)]
                full.append(Entry(entry.date, entry.title, authors, abstract, ko, en,
                                  entry.tags, entry.cites, entry.source, entry.digest))
            record = records.get(planned.arxiv) if planned.arxiv else None
            if record is not None and full[0].abstract:
                record = dataclasses.replace(record, summary="")  # the post's abstract shown
            return Paper(tuple(full), record)

        return [render_spec(spec, paper_of, records.get) for spec in specs]


def _similarity_digest(paper: PlannedPaper) -> str:
    """What a paper is compared to others by, in short: its entries' digests and its tags."""
    return f"{','.join(e.digest for e in paper.entries)} {' '.join(paper.tags)}"


def _list_json(near: Sequence[Neighbour]) -> str:
    return json.dumps([[n.key, n.score] for n in near], ensure_ascii=False)


def _front_of(note: Note) -> Frontmatter | None:
    """A rendered note's frontmatter, from what it was rendered from (no YAML read again)."""
    body = note.body
    if note.properties is None or body is None:
        return None
    return Frontmatter(dict(note.properties), body,
                       note.text.count("\n", 0, len(note.text) - len(body)) + 1)


def _entry_of(row: tuple) -> Entry:
    """An entry as the store holds it, without its authors and texts."""
    post, line, date, title, _key, tags, cites, digest = row[:8]
    return Entry(dt.date.fromisoformat(date), title, (), "", None, None,
                 tuple(tags.split()), tuple(cites.split()), SourceRef(post, line), digest)


def _source_state(source: RecordSource | None) -> str | None:
    """What the arXiv answers depend on (the cache file as it is), as text; None: unknown."""
    state = getattr(source, "state", None)
    value = state() if state is not None else None
    return json.dumps(value, sort_keys=True) if value is not None else None


def list_vault_files(vault: Path, *, clean: bool = True) -> set[str]:
    """Every file of the vault (vault-relative POSIX paths), but for vaultgen's and
    Obsidian's own folders; new files a killed build left unrenamed are removed
    (``clean``)."""
    from .write import is_leftover

    found: set[str] = set()
    root = os.fspath(vault)
    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            items = list(os.scandir(os.path.join(root, folder) if folder else root))
        except OSError:
            continue
        for item in items:
            relative = f"{folder}/{item.name}" if folder else item.name
            try:
                if item.is_dir(follow_symlinks=False):
                    if not (folder == "" and item.name in (STATE_DIR, ".obsidian", ".trash",
                                                           ".git")):
                        stack.append(relative)
                elif is_leftover(item.name):
                    if clean:
                        with contextlib.suppress(OSError):
                            os.unlink(item.path)
                else:
                    found.add(relative)
            except OSError:
                continue
    return found


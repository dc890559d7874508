"""Building only what added posts change: the daily build of a vault of years of posts.

A build that records what it read (``build.BUILD_STATE``) also saves a ``LibrarySnapshot``:
for every note, what the others' texts take from it (its name, tags, days, citations). When
the next build finds the same posts plus new ones — none edited or removed, the same arXiv
cache and vaultgen, the vault's folders as that build left them — ``plan_increment``
resolves only the new posts' entries and plans only the notes they change: the notes of their
papers and of the papers they cite (new, or with a new "Cited by" line), their tags' hubs,
their days and the day before, the index. Whatever it cannot be sure of — an entry of a paper
already in the vault, a paper cited before and posted now, a post dated before the last one,
a new tag or day whose name is taken — sends the build the full way, which makes the same
vault (``tests/test_increment.py`` compares the two, build for build).

What a vault's folders are checked for: a file added, removed or renamed in a folder changes
the folder's modification time; a note edited in place does not, and needs no check here (a
note this build does not plan is left as it is either way; one it plans is checked by the
writer as in a full build).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .inputs import EntryTexts, FoundInputs, ParseCache, read_posts_apart
from .model import Diagnostic, Entry, Library, Paper
from .names import NameRegistry, tag_note_name
from .render import (
    CITED,
    PAPERS,
    IndexCounts,
    NotePlan,
    VaultContext,
    cited_name_candidates,
    cited_plan,
    day_plan,
    index_plan,
    names_taken,
    paper_key,
    paper_name_candidates,
    paper_plan,
    properties_tags,
    settings_notes,
    settings_plans,
    tag_hub_plan,
    tag_order,
)
from .resolve import RecordSource, as_shown, group_papers, title_key
from .write import ManifestTexts, atomic_write, read_manifest_texts

log = logging.getLogger(__name__)

SNAPSHOT = ".vaultgen/library.json"
_VERSION = 2

# The fields of a paper's row in the snapshot (a JSON list of strings), by position.
NAME, PATH, ARXIV, LAST_DAY, TAGS, CITES, SOURCES, TITLE_KEYS = range(8)


@dataclass
class LibrarySnapshot:
    """What a build's notes are named and made of, as far as other notes depend on it."""

    fingerprint: str  # digest of the fingerprint of the build record it goes with
    # One row a paper, in the library's order, all strings: [name, path if not
    # papers/NAME.md, arXiv id, last day posted, tags, ids cited, [[post, line] of each
    # entry] as JSON, the entries' title keys (``resolve.title_key``)]. Rows of strings
    # alone decode in half the time of rows holding lists, and a new day reads them all:
    # tags and ids (which hold no space) are joined by spaces, title keys (which hold no
    # newline) by newlines (``row_tags``, ``row_cites``, ``row_sources``). Of a full build's
    # snapshot, rows made as they are saved.
    papers: Iterable[list]  # type: ignore[type-arg]
    cited: list[list[str]]  # [arXiv id, name, path if not cited/NAME.md], citation order
    tags: list[list]  # [tag, hub name, papers carrying it], by tag  # type: ignore[type-arg]
    days: list[list]  # [ISO day, entries posted], ascending  # type: ignore[type-arg]
    last_day: list[list]  # entries of the last day, post order: [name, title, post, line]  # type: ignore[type-arg]
    last_entry: list  # [ISO day, post, line] of the entry that sorts last  # type: ignore[type-arg]
    names: list[str]  # the keys of every name handed out (``NameRegistry.keys``)
    entries: int
    unresolved: int
    links: int  # links between notes, as the manifest records them
    folders: dict[str, int]  # folder holding generated notes → its mtime (ns) after the build
    root_files: dict[str, list[int]]  # generated file at the vault's root → [size, mtime]
    # The first rows of ``papers`` as read: their number, and their JSON text (written back
    # as it is).
    papers_read: int = 0
    papers_text: bytes = b""


class Fingerprint(NamedTuple):
    """What a build reads (``build._fingerprint``): as JSON text, which the build's record
    holds and the next build compares with its own, and as the value it was made from (which
    then need not be parsed back)."""

    text: str
    value: dict[str, Any]
    inputs_json: str  # the JSON of ``value["inputs"]``, as ``text`` holds it


def fingerprint_digest(fingerprint: str) -> str:
    return hashlib.blake2b(fingerprint.encode("utf-8"), digest_size=16).hexdigest()


def snapshot_of(context: VaultContext, fingerprint: str, entries: int, links: int,
                vault: Path, written: Iterable[str]) -> LibrarySnapshot:
    """The snapshot of a full build (``written``: every file its manifest records)."""
    library = context.library
    folders, root_files = folders_of(vault, written)

    def papers() -> Iterable[list]:  # type: ignore[type-arg]
        for paper, name in context.paper_items():
            path = context.paths.get(paper_key(paper), "")
            yield paper_row(paper, name, "" if path == f"{PAPERS}/{name}.md" else path)
        title_key.cache_clear()

    cited = []
    for arxiv_id in library.cited:
        name = context.cited_names[arxiv_id]
        path = context.paths.get(arxiv_id, "")
        cited.append([arxiv_id, name, "" if path == f"{CITED}/{name}.md" else path])
    tag_papers: Counter[str] = Counter()
    day_entries: Counter[str] = Counter()
    last: list[tuple[Entry, str]] = []
    for paper, name in context.paper_items():
        tag_papers.update(properties_tags(paper))
        for entry in paper.entries:
            day_entries[entry.date.isoformat()] += 1
            if context.days and entry.date == context.days[-1]:
                last.append((entry, name))
    last.sort(key=lambda item: item[0].source)
    final = max((e for p in library.papers for e in p.entries),
                key=lambda e: (e.date, e.source), default=None)
    return LibrarySnapshot(
        fingerprint=fingerprint_digest(fingerprint), cited=cited,
        tags=sorted([tag, hub, tag_papers[tag]] for tag, hub in context.tag_names.items()),
        days=[[day.isoformat(), day_entries[day.isoformat()]] for day in context.days],
        last_day=[[name, e.title, e.source.path, e.source.line] for e, name in last],
        last_entry=[final.date.isoformat(), final.source.path, final.source.line]
        if final else [],
        papers=papers(), names=names_taken(context), entries=entries,
        unresolved=len(library.unresolved), links=links, folders=folders,
        root_files=root_files)


def paper_row(paper: Paper, name: str, path: str) -> list[str]:
    """A paper's row in the snapshot (see ``LibrarySnapshot.papers``)."""
    return [name, path, paper.arxiv_id or "", max(e.date for e in paper.entries).isoformat(),
            " ".join(properties_tags(paper)), " ".join(_cites_of(paper)),
            json.dumps([[e.source.path, e.source.line] for e in paper.entries],
                       ensure_ascii=False),
            "\n".join(dict.fromkeys(title_key(e.title) for e in paper.entries))]


def row_tags(row: list[str]) -> list[str]:
    """The tags of a paper's snapshot row."""
    return row[TAGS].split(" ") if row[TAGS] else []


def row_cites(row: list[str]) -> list[str]:
    """The arXiv ids a paper of the snapshot cites."""
    return row[CITES].split(" ") if row[CITES] else []


def row_sources(row: list[str]) -> list[tuple[str, int]]:
    """(post, line) of each entry of a paper of the snapshot."""
    return [(post, line) for post, line in json.loads(row[SOURCES])]


def _cites_of(paper: Paper) -> list[str]:
    return list(dict.fromkeys(i for e in paper.entries for i in e.cites))


def folders_of(vault: Path, written: Iterable[str],
               ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The modification times of the folders holding generated files, and the size and
    modification time of those at the root (whose folder the user's own notes share)."""
    folders: dict[str, int] = {}
    root_files: dict[str, list[int]] = {}
    root = os.path.join(vault, "")
    for path in written:
        folder, _, _ = path.rpartition("/")
        if not folder:
            stat = os.stat(root + path)
            root_files[path] = [stat.st_size, stat.st_mtime_ns]
        elif folder not in folders:
            folders[folder] = os.stat(root + folder).st_mtime_ns
    return folders, root_files


def save_snapshot(vault: Path, snapshot: LibrarySnapshot) -> None:
    """Write the snapshot as JSON, a paper's row a line: the rows read from the last
    snapshot (``papers_as_read``) written back as they were, the others made one at a time."""
    def lines() -> Iterable[bytes]:
        head: dict[str, object] = {"version": _VERSION}
        head.update((f.name, getattr(snapshot, f.name)) for f in dataclasses.fields(snapshot)
                    if f.name not in ("papers", "papers_read", "papers_text"))
        head["papers"] = []
        text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
        yield text[:-2].encode("utf-8") + b"\n"  # up to the rows' "["
        yield snapshot.papers_text
        comma = b",\n" if snapshot.papers_text else b""
        for row in itertools.islice(snapshot.papers, snapshot.papers_read, None):
            yield comma + json.dumps(row, ensure_ascii=False).encode("utf-8")
            comma = b",\n"
        yield _END

    atomic_write(vault / SNAPSHOT, lines())


_END = b"\n]}\n"


def load_snapshot(vault: Path) -> LibrarySnapshot | None:
    """The snapshot the last build saved, if it can be read (its rows kept as read too)."""
    try:
        data = (vault / SNAPSHOT).read_bytes()
        head_end = data.index(b"\n")
        if not data.endswith(_END):
            return None
        head = json.loads(data[:head_end] + b"]}")
        body = data[head_end + 1:len(data) - len(_END)]
        if not isinstance(head, dict) or head.pop("version", None) != _VERSION:
            return None
        head["papers"] = json.loads(b"[" + body + b"]")
        head["papers_read"], head["papers_text"] = len(head["papers"]), body
        return LibrarySnapshot(**head)
    except (OSError, ValueError, TypeError):
        return None


def forget_snapshot(vault: Path) -> None:
    """Remove the snapshot: a build that changes the vault without saving a new one leaves
    none behind (the next build then takes the full way)."""
    (vault / SNAPSHOT).unlink(missing_ok=True)


# --- The incremental build -----------------------------------------------------------------

class Declined(Exception):
    """The build cannot be made incrementally; the reason, for the log."""


@dataclass(frozen=True)
class Increment:
    """What ``plan_increment`` planned: the notes to write, what to write them with, and the
    counts and diagnostics of the whole vault as a full build would report them."""

    plans: list[NotePlan]
    context: VaultContext
    manifest: ManifestTexts
    snapshot: LibrarySnapshot  # of the vault as it will be (its counts are the build's)
    diagnostics: tuple[Diagnostic, ...]
    recheck_on: str | None  # the earliest day a "not found" answer is due again


def plan_increment(vault: Path, found: FoundInputs,
                   fingerprint: Fingerprint, source: RecordSource | None,
                   state: Mapping[str, object], parse_cache: Path) -> Increment:
    """Plan the notes that the posts added since the build ``state`` records change (see the
    module's docstring); ``Declined`` when that build cannot be taken as the base."""
    snapshot = load_snapshot(vault)
    before = state.get("fingerprint")
    if snapshot is None or not isinstance(before, str) or \
            snapshot.fingerprint != fingerprint_digest(before):
        raise Declined("no snapshot of the last build")
    added = _added_posts(json.loads(before), fingerprint.value)
    _check_vault_as_left(vault, snapshot)
    manifest = read_manifest_texts(vault)
    if manifest is None:
        raise Declined("the manifest is not one file a line")
    return _Planner(snapshot, source, manifest, parse_cache).plan(found, added, state)


def _added_posts(before: dict, now: dict) -> list[str]:  # type: ignore[type-arg]
    """The posts added since the last build; ``Declined`` unless every other input is as it
    was then (``before``: the last build's fingerprint as read back, ``now``: this build's
    value, which may hold tuples where the JSON holds lists)."""
    for part in ("vaultgen", "problems", "source", "manifest"):  # as JSON: a tuple is a list
        if json.dumps(before.get(part), sort_keys=True) != json.dumps(now.get(part),
                                                                      sort_keys=True):
            raise Declined(f"{part} changed")
    old = {path: stat for path, stat in before["inputs"]}
    added = []
    for path, stat in now["inputs"]:
        if path not in old:
            added.append(path)
        elif old.pop(path) != stat:
            raise Declined(f"{path} changed")
    if old:
        raise Declined("a post was removed")
    if not added:
        raise Declined("no post was added")
    return added


def _check_vault_as_left(vault: Path, snapshot: LibrarySnapshot) -> None:
    root = os.path.join(vault, "")
    try:
        for folder, mtime in snapshot.folders.items():
            if os.stat(root + folder).st_mtime_ns != mtime:
                raise Declined(f"{folder}/ changed")
        for path, (size, mtime) in snapshot.root_files.items():
            stat = os.stat(root + path)
            if [stat.st_size, stat.st_mtime_ns] != [size, mtime]:
                raise Declined(f"{path} changed")
    except OSError as err:
        raise Declined(f"the vault changed: {err}") from err
    if not all((vault / note.path).exists() for note in settings_notes()):
        raise Declined("a settings file is gone")


class _Planner:
    """The state of one incremental plan: the last build's snapshot and what is added."""

    def __init__(self, snapshot: LibrarySnapshot, source: RecordSource | None,
                 manifest: ManifestTexts, parse_cache: Path) -> None:
        self.parse_cache = parse_cache
        self.snap = snapshot
        self.rows: list[list] = list(snapshot.papers)  # type: ignore[type-arg]
        self.source = source
        self.manifest = manifest

    def plan(self, found: FoundInputs, added: list[str],
             state: Mapping[str, object]) -> Increment:
        snap, source = self.snap, self.source
        files, problems = found
        added_set = set(added)
        added_files = [f for f in files if f in added_set]
        cache = ParseCache.load(self.parse_cache,
                                shards={ParseCache.shard_of(name) for name in added})
        parsed, texts = read_posts_apart([], cache, (added_files, []))
        new_entries = parsed.entries
        last = (dt.date.fromisoformat(snap.last_entry[0]), snap.last_entry[1],
                snap.last_entry[2]) if snap.last_entry else None
        if last and any((e.date, e.source.path, e.source.line) <= last for e in new_entries):
            raise Declined("a new entry is dated before the last one")
        cache.save()

        expect_few = getattr(source, "expect_few_lookups", None)
        if expect_few is not None:
            expect_few()
        records = source.match_titles(new_entries) if source and new_entries else {}
        new_papers = [as_shown(p, texts) for p in group_papers(new_entries, records)]
        # Every old title key, a line each (a key holds no newline): searched a few times, not
        # split into a set of 50,000.
        old_keys = "\n" + "\n".join(row[TITLE_KEYS] for row in self.rows) + "\n"
        if any(f"\n{title_key(e.title)}\n" in old_keys for e in new_entries):
            raise Declined("a new entry is of a paper in the vault")
        old_ids = {row[ARXIV]: row for row in self.rows if row[ARXIV]}
        old_cited = {row[0]: row for row in snap.cited}
        for paper in new_papers:
            if paper.arxiv_id in old_ids or paper.arxiv_id in old_cited:
                raise Declined(f"arXiv:{paper.arxiv_id} is in the vault already")

        # Names, handed out in the order of a full build: days, tags, papers, cited papers.
        registry = NameRegistry(snap.names)
        old_days = [dt.date.fromisoformat(day) for day, _ in snap.days]
        new_days = sorted({e.date for e in new_entries} - set(old_days))
        for day in new_days:
            self._take_new(registry, day.isoformat())
        tag_names = {tag: hub for tag, hub, _ in snap.tags}
        new_tags = sorted({t for p in new_papers for t in properties_tags(p)} - tag_names.keys(),
                          key=tag_order)
        for tag in new_tags:
            tag_names[tag] = self._take_new(registry, tag_note_name(tag))
        new_names = [registry.take(*paper_name_candidates(p)) for p in new_papers]
        own_ids = set(old_ids) | {p.arxiv_id for p in new_papers if p.arxiv_id}
        cites = list(dict.fromkeys(i for p in new_papers for i in _cites_of(p)
                                   if i not in own_ids))
        new_cited = [i for i in cites if i not in old_cited]
        touched_cited = [i for i in cites if i in old_cited]
        cited_records = source.fetch_ids(cites) if source and cites else {}
        cited_names = {i: registry.take(*cited_name_candidates(i, cited_records.get(i)))
                       for i in new_cited}
        cited_names.update((i, old_cited[i][1]) for i in touched_cited)

        id_targets = {arxiv_id: row[NAME] for arxiv_id, row in old_ids.items()}
        id_targets.update((arxiv_id, row[1]) for arxiv_id, row in old_cited.items())
        id_targets.update(cited_names)
        id_targets.update((p.arxiv_id, n) for p, n in zip(new_papers, new_names, strict=True)
                          if p.arxiv_id)
        # Old notes a new paper cites: their "Cited by" gains a line.
        old_names = {row[NAME]: row for row in self.rows}
        touched = {id_targets[i] for p, n in zip(new_papers, new_names, strict=True)
                   for i in _cites_of(p) if id_targets.get(i, n) != n}
        touched_papers = [old_names[name] for name in sorted(touched & old_names.keys())]
        cited_by = self._cited_by(touched, id_targets, new_papers, new_names)

        old_papers = self._old_papers(touched_papers, texts)
        papers = old_papers + new_papers
        names = [row[NAME] for row in touched_papers] + new_names
        paths = {paper_key(p): row[PATH] for p, row in zip(old_papers, touched_papers,
                                                          strict=True) if row[PATH]}
        paths.update((row[0], row[2]) for row in snap.cited if row[0] in touched_cited and
                     row[2])
        days = tuple(old_days + new_days)
        context = VaultContext(
            library=Library(papers=tuple(papers), cited=tuple(touched_cited + new_cited),
                            records=dict(cited_records),
                            unresolved=tuple(p for p in papers if p.record is None),
                            texts=texts),
            paper_names=tuple(names), cited_names=cited_names, id_targets=id_targets,
            tag_names=tag_names, days=days, cited_by=cited_by, paths=paths)
        plans = [paper_plan(p, n, context) for p, n in context.paper_items()]
        plans += [cited_plan(i, cited_names[i], context) for i in touched_cited + new_cited]
        hubs, snapshot = self._hubs(context, new_papers, new_names, new_entries, new_days,
                                    len(new_cited))
        plans += hubs + settings_plans()
        snapshot.papers = [*self.rows, *(paper_row(p, n, "") for p, n in
                                           zip(new_papers, new_names, strict=True))]
        snapshot.cited = snap.cited + [[i, cited_names[i], ""] for i in new_cited]
        snapshot.names = sorted(registry.keys())
        final = max(new_entries, key=lambda e: (e.date, e.source), default=None)
        if final is not None:
            snapshot.last_entry = [final.date.isoformat(), final.source.path,
                                   final.source.line]
        snapshot.entries = snap.entries + len(new_entries)
        snapshot.unresolved = snap.unresolved + sum(1 for p in new_papers if p.record is None)
        recheck = getattr(source, "recheck_on", None)
        due = [d for d in (state.get("recheck_on"), recheck() if recheck else None) if d]
        return Increment(
            plans=plans, context=context, manifest=self.manifest, snapshot=snapshot,
            diagnostics=_diagnostics(state, problems, files, parsed.diagnostics),
            recheck_on=min(due) if due else None)  # type: ignore[type-var]

    @staticmethod
    def _take_new(registry: NameRegistry, name: str) -> str:
        """A new day's or tag's name, which a full build would give it only while no name of
        the vault has its key (it would otherwise be handed out in another order)."""
        if name in registry:
            raise Declined(f"the name {name!r} is taken")
        return registry.take(name)

    def _cited_by(self, touched: set[str], id_targets: Mapping[str, str],
                  new_papers: Sequence[Paper], new_names: Sequence[str],
                  ) -> dict[str, tuple[str, ...]]:
        """The papers citing each old note in ``touched`` and each new one, in library
        order (old papers first)."""
        cited_by: dict[str, list[str]] = defaultdict(list)
        for row in self.rows:
            for arxiv_id in row_cites(row):
                target = id_targets[arxiv_id]
                if target in touched and target != row[NAME] and \
                        row[NAME] not in cited_by[target]:
                    cited_by[target].append(row[NAME])
        for paper, name in zip(new_papers, new_names, strict=True):
            for arxiv_id in _cites_of(paper):
                target = id_targets[arxiv_id]
                if target != name and name not in cited_by[target]:
                    cited_by[target].append(name)
        return {name: tuple(citing) for name, citing in cited_by.items()}

    def _old_papers(self, rows: Sequence[list],  # type: ignore[type-arg]
                    texts: EntryTexts) -> list[Paper]:
        """The papers of these snapshot rows, from their posts as the parse cache holds them
        and their records as the source gives them."""
        if not rows:
            return []
        places = [row_sources(row) for row in rows]  # (post, line) of each paper's entries
        posts = {post for entries in places for post, _ in entries}
        cache = texts.cache
        assert cache is not None
        cache.read_shards({ParseCache.shard_of(name) for name in posts})
        by_source: dict[tuple[str, int], Entry] = {}
        for name in posts:
            try:
                result = cache.get(name, os.stat(name))
            except OSError:
                result = None
            if result is None:
                raise Declined(f"{name} is not in the parse cache")
            by_source.update(((e.source.path, e.source.line), e) for e in result.entries)
        papers = []
        for row, where in zip(rows, places, strict=True):
            try:
                entries = [by_source[place] for place in where]
            except KeyError as err:
                raise Declined(f"an entry of {row[NAME]} is gone") from err
            records = self.source.match_titles(entries) if self.source else {}
            grouped = group_papers(entries, records)
            if len(grouped) != 1:
                raise Declined(f"{row[NAME]} is no longer one paper")
            papers.append(as_shown(grouped[0], texts))
        return papers

    def _hubs(self, context: VaultContext, new_papers: Sequence[Paper],
              new_names: Sequence[str], new_entries: Sequence[Entry],
              new_days: Sequence[dt.date], new_cited: int,
              ) -> tuple[list[NotePlan], LibrarySnapshot]:
        """The plans of the tag hubs, days and index the new papers change, and the
        snapshot's rows of tags and days as they are now."""
        snap = self.snap
        new_items = list(zip(new_papers, new_names, strict=True))
        touched = {t for p in new_papers for t in properties_tags(p)}
        items: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        together: dict[str, Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            if not any(tag in row[TAGS] for tag in touched):  # a substring first: cheaper
                continue
            tags = row_tags(row)
            for tag in tags:
                if tag in touched:
                    items[tag].append((dt.date.fromisoformat(row[LAST_DAY]), row[NAME]))
                    together[tag].update(tags)
        for paper, name in new_items:
            tags = properties_tags(paper)
            for tag in tags:
                items[tag].append((max(e.date for e in paper.entries), name))
                together[tag].update(tags)
        plans = [tag_hub_plan(tag, context.tag_names[tag], items[tag], together[tag],
                              context.tag_names) for tag in sorted(touched)]
        tag_papers = {tag: count for tag, _, count in snap.tags}
        for tag in touched:
            tag_papers[tag] = len(items[tag])

        day_entries = {day: count for day, count in snap.days}
        name_of = {e.source: n for p, n in new_items for e in p.entries}
        by_day: dict[dt.date, list[tuple[str, str, str, int]]] = defaultdict(list)
        if snap.last_day and new_entries:
            last_day = context.days[len(context.days) - len(new_days) - 1]
            by_day[last_day] = [(n, t, s, line) for n, t, s, line in snap.last_day]
        for entry in sorted(new_entries, key=lambda e: e.source):
            by_day[entry.date].append((name_of[entry.source], entry.title, entry.source.path,
                                       entry.source.line))
            day_entries[entry.date.isoformat()] = day_entries.get(entry.date.isoformat(), 0) + 1
        days = context.days
        position = {day: index for index, day in enumerate(days)}
        for day in sorted(by_day):
            at = position[day]
            plans.append(day_plan(day, days[at - 1] if at > 0 else None,
                                  days[at + 1] if at + 1 < len(days) else None,
                                  [(name, title) for name, title, _, _ in by_day[day]]))
        counts = IndexCounts(len(self.rows) + len(new_papers), len(snap.cited) + new_cited,
                             tag_papers,
                             {dt.date.fromisoformat(d): n for d, n in day_entries.items()})
        plans.append(index_plan(counts, context.tag_names, days))
        last = days[-1] if days else None
        snapshot = dataclasses.replace(
            snap,
            tags=sorted([tag, hub, tag_papers[tag]] for tag, hub in context.tag_names.items()),
            days=[[day.isoformat(), day_entries[day.isoformat()]] for day in days],
            last_day=[list(item) for item in by_day[last]] if last in by_day
            else snap.last_day)
        return plans, snapshot


def _diagnostics(state: Mapping[str, object], problems: Sequence[Diagnostic],
                 files: Sequence[str], new: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The last build's diagnostics and the new posts', in the order of a full build: the
    input problems, then by post in the order the posts were found."""
    rows = state.get("diagnostics", [])
    old = [Diagnostic.from_row(row) for row in rows][len(problems):]  # type: ignore[union-attr]
    order = {file: index for index, file in enumerate(files)}
    by_post = sorted([*old, *new], key=lambda d: order.get(d.source.path, -1))
    return (*problems, *by_post)


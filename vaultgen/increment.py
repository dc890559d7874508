"""Building only what added posts change: the daily build of a vault of years of posts.

A build that records what it read (``build.BUILD_STATE``) also saves a snapshot (``snapshot``):
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
import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .inputs import EntryTexts, FoundInputs, ParseCache, read_posts_apart
from .model import Diagnostic, Entry, Library, Paper
from .names import NameRegistry, tag_note_name
from .render import (
    IndexCounts,
    NotePlan,
    VaultContext,
    cited_name_candidates,
    cited_plan,
    day_plan,
    index_plan,
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
from .snapshot import (
    ARXIV,
    CITES,
    LAST_DAY,
    NAME,
    PATH,
    SOURCES,
    TAGS,
    TITLE_KEYS,
    LibrarySnapshot,
    SnapshotDamaged,
    cites_of,
    fingerprint_digest,
    has_title_key,
    lines_with_words,
    load_snapshot,
    paper_row,
    split_sources,
    split_words,
)
from .tags import NO_ALIASES, TagAliases, with_canonical_tags
from .write import ManifestTexts, read_manifest_texts

log = logging.getLogger(__name__)


class Fingerprint(NamedTuple):
    """What a build reads (``build._fingerprint``): as JSON text, which the build's record
    holds and the next build compares with its own, and as the value it was made from (which
    then need not be parsed back)."""

    text: str
    value: dict[str, Any]
    inputs_json: str  # the JSON of ``value["inputs"]``, as ``text`` holds it


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
                   state: Mapping[str, object], parse_cache: Path,
                   aliases: TagAliases = NO_ALIASES) -> Increment:
    """Plan the notes that the posts added since the build ``state`` records change (see the
    module's docstring; ``aliases``: the tag aliases, unchanged since that build);
    ``Declined`` when that build cannot be taken as the base."""
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
    try:
        return _Planner(snapshot, source, manifest, parse_cache, aliases).plan(found, added,
                                                                               state)
    except SnapshotDamaged as err:
        raise Declined(f"the snapshot is damaged: {err}") from err


def _added_posts(before: dict, now: dict) -> list[str]:  # type: ignore[type-arg]
    """The posts added since the last build; ``Declined`` unless every other input is as it
    was then (``before``: the last build's fingerprint as read back, ``now``: this build's
    value, which may hold tuples where the JSON holds lists)."""
    for part in ("vaultgen", "problems", "source", "manifest",
                 "tag_aliases"):  # as JSON: a tuple is a list
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
                 manifest: ManifestTexts, parse_cache: Path, aliases: TagAliases) -> None:
        self.parse_cache = parse_cache
        self.aliases = aliases
        self.snap = snapshot
        self.count = snapshot.paper_count()  # the papers of the last build
        self.names = snapshot.papers[NAME].values()
        manifest.take_paths(snapshot.files.values())  # the paths it holds, not listed again
        self.source = source
        self.manifest = manifest

    def column(self, field: int) -> list[str]:
        """A field of every paper of the last build (``snapshot.NAME`` …), in library order."""
        return self.snap.papers[field].values()

    def row(self, index: int) -> list[str]:
        """Every field of a paper of the last build."""
        return [column.values()[index] for column in self.snap.papers]

    def plan(self, found: FoundInputs, added: list[str],
             state: Mapping[str, object]) -> Increment:
        snap, source = self.snap, self.source
        files, problems = found
        added_set = set(added)
        added_files = [f for f in files if f in added_set]
        cache = ParseCache.load(self.parse_cache,
                                shards={ParseCache.shard_of(name) for name in added})
        parsed, texts = read_posts_apart([], cache, (added_files, []))
        new_entries = with_canonical_tags(parsed.entries, self.aliases)
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
        # Every old title key in one text: searched a few times, not split into a set of 50,000.
        old_keys = snap.papers[TITLE_KEYS].text() if self.count else None
        if old_keys is not None and any(has_title_key(old_keys, title_key(e.title))
                                        for e in new_entries):
            raise Declined("a new entry is of a paper in the vault")
        old_ids = {arxiv_id: index for index, arxiv_id in enumerate(self.column(ARXIV))
                   if arxiv_id}
        old_cited = {row[0]: row for row in snap.cited}
        for paper in new_papers:
            if paper.arxiv_id in old_ids or paper.arxiv_id in old_cited:
                raise Declined(f"arXiv:{paper.arxiv_id} is in the vault already")

        # Names, handed out in the order of a full build: days, tags, papers, cited papers.
        registry = NameRegistry(snap.names.values())
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
        cites = list(dict.fromkeys(i for p in new_papers for i in cites_of(p)
                                   if i not in own_ids))
        new_cited = [i for i in cites if i not in old_cited]
        touched_cited = [i for i in cites if i in old_cited]
        cited_records = source.fetch_ids(cites) if source and cites else {}
        cited_names = {i: registry.take(*cited_name_candidates(i, cited_records.get(i)))
                       for i in new_cited}
        cited_names.update((i, old_cited[i][1]) for i in touched_cited)

        id_targets = {arxiv_id: self.names[index] for arxiv_id, index in old_ids.items()}
        id_targets.update((arxiv_id, row[1]) for arxiv_id, row in old_cited.items())
        id_targets.update(cited_names)
        id_targets.update((p.arxiv_id, n) for p, n in zip(new_papers, new_names, strict=True)
                          if p.arxiv_id)
        # Old notes a new paper cites: their "Cited by" gains a line.
        old_names = {name: index for index, name in enumerate(self.names)}
        touched = {id_targets[i] for p, n in zip(new_papers, new_names, strict=True)
                   for i in cites_of(p) if id_targets.get(i, n) != n}
        touched_papers = [self.row(old_names[name])
                          for name in sorted(touched & old_names.keys())]
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
        for paper, name in zip(new_papers, new_names, strict=True):
            snapshot.add_paper(paper_row(paper, name))
        snapshot.cited = snap.cited + [[i, cited_names[i], ""] for i in new_cited]
        snapshot.names.added = registry.keys()[len(snap.names):]  # keys are kept in order
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
        for name, cites in zip(self.names, self.column(CITES), strict=True):
            for arxiv_id in split_words(cites):
                target = id_targets[arxiv_id]
                if target in touched and target != name and name not in cited_by[target]:
                    cited_by[target].append(name)
        for paper, name in zip(new_papers, new_names, strict=True):
            for arxiv_id in cites_of(paper):
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
        places = [split_sources(row[SOURCES]) for row in rows]  # (post, line) of each entry
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
                entries = with_canonical_tags([by_source[place] for place in where],
                                              self.aliases)
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
        last_days = self.column(LAST_DAY)
        for index, value in lines_with_words(snap.papers[TAGS].counted_text(), touched):
            tags = split_words(value)
            for tag in tags:
                if tag in touched:
                    items[tag].append((dt.date.fromisoformat(last_days[index]),
                                       self.names[index]))
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
        counts = IndexCounts(self.count + len(new_papers), len(snap.cited) + new_cited,
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


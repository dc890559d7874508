"""Planning a build: every note of the vault, named, with a digest of what it is made of.

``plan_vault`` takes the entries as the state store holds them (without their texts), the
arXiv records they matched (by digest), the names given out before and where the user moved
notes, and gives every note the vault should hold as a ``NoteSpec``: its path, its name, the
digest of its inputs, and what its renderer needs. A note whose digest is the one recorded
for its file is as it should be; the build renders the others. A cold build is the case where
no digest is recorded; a build after no change finds every digest recorded.

Names are stable: a note keeps the name it was given (``names``) for as long as it exists;
new notes take the first free name, papers in order of first posting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import code_digest
from .arxiv.match import title_key
from .model import Entry
from .render.names import NameRegistry, safe_name, short_title, tag_note_name, tex_to_text

PAPERS, CITED, TAGS, DAYS = "papers", "cited", "tags", "days"
INDEX_NAME = "Index"


@dataclass(frozen=True, slots=True)
class PlannedPaper:
    """A paper of the digests: its entries (without their texts), first posting first, and
    the arXiv id of its record."""

    key: str  # the identity of its note across builds: its arXiv id, else ``title:TITLE``
    entries: tuple[Entry, ...]
    arxiv: str | None
    tags: tuple[str, ...]  # of every posting, first seen first
    cites: tuple[str, ...]  # the arXiv ids its commentary cites, first cited first

    @classmethod
    def of(cls, key: str, entries: tuple[Entry, ...], arxiv: str | None) -> PlannedPaper:
        if len(entries) == 1:
            entry = entries[0]
            return cls(key, entries, arxiv, tuple(dict.fromkeys(entry.tags)),
                       tuple(dict.fromkeys(entry.cites)))
        return cls(key, entries, arxiv,
                   tuple(dict.fromkeys(t for entry in entries for t in entry.tags)),
                   tuple(dict.fromkeys(i for entry in entries for i in entry.cites)))

    @property
    def first(self) -> Entry:
        return self.entries[0]


@dataclass(frozen=True, slots=True)
class NoteSpec:
    """A note the vault should hold: ``note`` is its identity (``paper:KEY``, ``cited:ID``,
    ``tag:TAG``, ``day:DATE``, ``index``), ``inputs`` the digest of what it is rendered from,
    ``payload`` what its renderer takes (see ``render.notes.render_spec``), ``citekey`` the
    citation key of a paper's note."""

    path: str
    kind: str
    note: str
    name: str
    inputs: str
    payload: tuple[object, ...] = field(repr=False, compare=False)
    citekey: str | None = None


@dataclass(frozen=True)
class VaultPlan:
    """Every note of the vault, and the names given out (note identity → name)."""

    notes: list[NoteSpec]
    names: dict[str, str]
    papers: int
    unresolved: int
    cited: int
    tags: int
    days: int


def inputs_digest(*parts: object) -> str:
    """A digest of the values a note is rendered from (their ``repr``), and of the code that
    renders it: a new vaultgen renders every note again."""
    text = repr(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16, key=code_digest()[:32].encode()).hexdigest()


def group_papers(entries: Sequence[Entry], matched: Mapping[int, str],
                 title_keys: Sequence[str] | None = None) -> list[PlannedPaper]:
    """Entries of one paper (the same arXiv id, or the same title) as one paper, in order of
    first posting; ``matched``: the arXiv id of the record accepted for an entry, by its
    index in ``entries``; ``title_keys``: each entry's ``title_key``, when known. Entries
    are taken in (date, source) order, so the first posting leads."""
    order = sorted(range(len(entries)), key=lambda i: (entries[i].date, entries[i].source))
    groups: list[tuple[list[Entry], list[str | None]]] = []
    by_id: dict[str, int] = {}
    by_title: dict[str, int] = {}
    for index in order:
        entry = entries[index]
        arxiv_id = matched.get(index)
        key = title_keys[index] if title_keys is not None else title_key(entry.title)
        group = by_id.get(arxiv_id) if arxiv_id else None
        if group is None:
            group = by_title.get(key)
        if group is None:
            group = len(groups)
            groups.append(([], [None]))
        members, record = groups[group]
        members.append(entry)
        if arxiv_id and record[0] is None:
            record[0] = arxiv_id
        by_title.setdefault(key, group)
        if record[0]:
            by_id.setdefault(record[0], group)
    return [PlannedPaper.of(record[0] or f"title:{members[0].title}", tuple(members), record[0])
            for members, record in groups]


def tag_order(tag: str) -> tuple[str, str]:
    """The order in which tags are given hub names: by case-folded name, then as written."""
    return tag.casefold(), tag


def paper_name_candidates(paper: PlannedPaper) -> tuple[str, ...]:
    """The names a paper's note may take, the first free one taken."""
    title = paper.first.title
    fallback = paper.arxiv or paper.first.date.isoformat()
    return short_title(title), tex_to_text(title), f"{short_title(title)} ({fallback})"


def cited_name_candidates(arxiv_id: str, title: str | None) -> tuple[str, ...]:
    """The names the note of a paper only cited may take (``title``: arXiv's, when known)."""
    id_name = f"arXiv {safe_name(arxiv_id)}"
    if title is None:
        return (id_name,)
    return short_title(title), tex_to_text(title), f"{short_title(title)} ({arxiv_id})", id_name


def plan_vault(entries: Sequence[Entry], matched: Mapping[int, str],
               record_digests: Mapping[str, str], names: Mapping[str, str],
               moved: Mapping[str, str], cited_title: Callable[[str], str | None],
               title_keys: Sequence[str] | None = None,
               citekeys: Callable[[Sequence[PlannedPaper], Sequence[str]],
                                  Mapping[str, str]] | None = None,
               related: Callable[[Sequence[PlannedPaper]],
                                 Mapping[str, Sequence[str]]] | None = None) -> VaultPlan:
    """Every note of the vault (see the module's docstring).

    ``matched``: the arXiv id each entry matched, by index; ``record_digests``: the digest
    of each arXiv record known (of papers and of papers only cited); ``names``: the names
    given before, by note identity; ``moved``: where the user moved or renamed notes, by
    note identity; ``cited_title``: arXiv's title of a paper only cited (for a new note's
    name); ``citekeys``: the citation key of each paper's note (by identity), given the papers
    and the ids only cited; ``related``: the papers most like each paper (by key, most
    similar first), given the papers."""
    papers = group_papers(entries, matched, title_keys)
    own_ids = {p.arxiv for p in papers if p.arxiv}
    cited = list(dict.fromkeys(i for p in papers for i in p.cites if i not in own_ids))
    days = sorted({e.date for p in papers for e in p.entries})
    tags = sorted({t for p in papers for t in p.tags}, key=tag_order)

    given: dict[str, str] = {}
    for note, path in moved.items():  # a note the user renamed is called as they named it
        given[note] = path.rsplit("/", 1)[-1].removesuffix(".md")
    registry = NameRegistry()
    registry.take(INDEX_NAME)
    given["index"] = INDEX_NAME
    wanted = ["index", *(f"day:{d.isoformat()}" for d in days), *(f"tag:{t}" for t in tags),
              *(f"paper:{p.key}" for p in papers), *(f"cited:{i}" for i in cited)]
    old_names = dict(names)
    for paper in papers:  # a paper whose key changed (its record found) keeps its name
        note = f"paper:{paper.key}"
        if note not in old_names and paper.arxiv:
            before = f"paper:title:{paper.first.title}"
            if before in old_names and before not in given:
                old_names[note] = old_names.pop(before)
    for note in wanted[1:]:
        name = given.get(note) or old_names.get(note)
        if name is not None and registry.keep(name):
            given[note] = name
        elif note in given:
            del given[note]  # (renamed by the user to a name taken meanwhile: named anew)
    for day in days:
        if f"day:{day.isoformat()}" not in given:
            given[f"day:{day.isoformat()}"] = registry.take(day.isoformat())
    for tag in tags:
        if f"tag:{tag}" not in given:
            given[f"tag:{tag}"] = registry.take(tag_note_name(tag))
    for paper in papers:
        if f"paper:{paper.key}" not in given:
            given[f"paper:{paper.key}"] = registry.take(*paper_name_candidates(paper))
    for arxiv_id in cited:
        if f"cited:{arxiv_id}" not in given:
            given[f"cited:{arxiv_id}"] = registry.take(
                *cited_name_candidates(arxiv_id, cited_title(arxiv_id)))

    def path_of(note: str, folder: str) -> str:
        return moved.get(note) or f"{folder}/{given[note]}.md"

    targets = {i: given[f"cited:{i}"] for i in cited}
    for paper in papers:
        if paper.arxiv:
            targets[paper.arxiv] = given[f"paper:{paper.key}"]
    cited_by: dict[str, list[str]] = defaultdict(list)
    for paper in papers:
        name = given[f"paper:{paper.key}"]
        for arxiv_id in paper.cites:
            target = targets[arxiv_id]
            if target != name and name not in cited_by[target]:
                cited_by[target].append(name)
    tag_names = {tag: given[f"tag:{tag}"] for tag in tags}
    keys = citekeys(papers, cited) if citekeys is not None else {}
    nearest = related(papers) if related is not None else {}
    paper_names = {paper.key: given[f"paper:{paper.key}"] for paper in papers} if nearest else {}

    specs: list[NoteSpec] = []
    for paper in papers:
        note = f"paper:{paper.key}"
        name = given[note]
        path = path_of(note, PAPERS)
        citing = tuple(cited_by.get(name, ()))
        links = tuple((i, targets.get(i)) for i in paper.cites)
        hubs = tuple((t, tag_names[t]) for t in paper.tags)
        record = record_digests.get(paper.arxiv) if paper.arxiv else None
        key = keys.get(note)
        near = tuple(paper_names[k] for k in nearest.get(paper.key, ()) if k in paper_names)
        inputs = inputs_digest(path, name, [e.digest for e in paper.entries], paper.arxiv,
                               record, citing, links, hubs, key, near)
        specs.append(NoteSpec(path, "paper", note, name, inputs,
                              (paper, citing, dict(links), dict(hubs), near), key))
    for arxiv_id in cited:
        note = f"cited:{arxiv_id}"
        name = given[note]
        path = path_of(note, CITED)
        citing = tuple(cited_by.get(name, ()))
        key = keys.get(note)
        inputs = inputs_digest(path, name, arxiv_id, record_digests.get(arxiv_id), citing, key)
        specs.append(NoteSpec(path, "cited", note, name, inputs, (arxiv_id, citing), key))
    specs += _tag_specs(papers, given, tag_names)
    specs += _day_specs(papers, given, days)
    specs.append(_index_spec(papers, cited, tag_names, days))
    unresolved = sum(1 for p in papers if p.arxiv is None)
    return VaultPlan(specs, {n: given[n] for n in wanted}, len(papers), unresolved, len(cited),
                     len(tags), len(days))


def _tag_specs(papers: Sequence[PlannedPaper], given: Mapping[str, str],
               tag_names: Mapping[str, str]) -> list[NoteSpec]:
    """One hub per tag: its papers newest first, and the tags seen most often with it."""
    papers_by_tag: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for paper in papers:
        tags = paper.tags
        name = given[f"paper:{paper.key}"]
        latest = max(e.date for e in paper.entries)
        for tag in tags:
            papers_by_tag[tag].append((latest, name))
            together[tag].update(tags)
    specs = []
    for tag, hub in tag_names.items():
        items = sorted(papers_by_tag[tag], key=lambda item: (-item[0].toordinal(), item[1]))
        others = sorted(((t, n) for t, n in together[tag].items() if t != tag),
                        key=lambda kv: (-kv[1], kv[0]))
        common = [(tag_names[t], t, n) for t, n in others[:10]]
        path = f"{TAGS}/{hub}.md"
        specs.append(NoteSpec(path, "tag", f"tag:{tag}", hub,
                              inputs_digest(path, tag, items, common), (tag, items, common)))
    return specs


def _day_specs(papers: Sequence[PlannedPaper], given: Mapping[str, str],
               days: Sequence[dt.date]) -> list[NoteSpec]:
    """One note per posting day: its papers in post order, and the days before and after."""
    by_day: dict[dt.date, list[tuple[Entry, str]]] = defaultdict(list)
    for paper in papers:
        name = given[f"paper:{paper.key}"]
        for entry in paper.entries:
            by_day[entry.date].append((entry, name))
    specs = []
    for position, day in enumerate(days):
        items = [(name, entry.title) for entry, name in
                 sorted(by_day[day], key=lambda item: item[0].source)]
        before = days[position - 1] if position > 0 else None
        after = days[position + 1] if position + 1 < len(days) else None
        name = given[f"day:{day.isoformat()}"]
        path = f"{DAYS}/{name}.md"
        specs.append(NoteSpec(path, "day", f"day:{day.isoformat()}", name,
                              inputs_digest(path, day, before, after, items),
                              (day, before, after, items)))
    return specs


@dataclass(frozen=True)
class IndexCounts:
    """What the index note shows: papers by tag, entries by day, and the totals."""

    papers: int
    cited: int
    tag_papers: Mapping[str, int]  # tag → papers carrying it
    day_entries: Mapping[dt.date, int]  # posting day → entries posted that day


def _index_spec(papers: Sequence[PlannedPaper], cited: Sequence[str],
                tag_names: Mapping[str, str], days: Sequence[dt.date]) -> NoteSpec:
    tag_papers: Counter[str] = Counter()
    day_entries: Counter[dt.date] = Counter()
    for paper in papers:
        tag_papers.update(paper.tags)
        day_entries.update(e.date for e in paper.entries)
    counts = IndexCounts(len(papers), len(cited), tag_papers, day_entries)
    path = f"{INDEX_NAME}.md"
    inputs = inputs_digest(path, counts.papers, counts.cited, sorted(tag_papers.items()),
                           sorted(day_entries.items()), sorted(tag_names.items()))
    return NoteSpec(path, "index", "index", INDEX_NAME, inputs,
                    (counts, dict(tag_names), tuple(days)))

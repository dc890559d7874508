"""Rendering a resolved library into the notes of a vault, in memory.

Names are settled first (unique across the vault regardless of case and folder), then every
note is planned from a ``VaultContext`` — paper notes, notes for papers only cited, and the
hub notes made by the small functions in ``HUB_GENERATORS`` (tags, days, index) — as a
``NotePlan``: its path, a digest of its inputs, and a function that renders it when needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from . import code_digest
from .arxiv_ids import find_refs
from .flat_yaml import dump_flat, dump_pyyaml
from .markdown_escape import escape_around_links, escape_markdown
from .model import ArxivRecord, Entry, Library, Note, Paper, text_digest
from .names import NameRegistry, name_key, safe_name, short_title, tag_note_name, tex_to_text
from .wording import plural

PAPERS, CITED, TAGS, DAYS = "papers", "cited", "tags", "days"
INDEX_NAME = "Index"
USER_MARKER = "%% vaultgen: your notes go below this line; rebuilds keep them %%"
USER_SECTION = f"{USER_MARKER}\n## My notes\n"

def dump_properties(properties: dict[str, object]) -> str:
    """YAML frontmatter as PyYAML's emitter writes it (keys in the given order, LF, unicode
    kept, no anchors): the flat shape by ``flat_yaml``, to the same text; the rest by PyYAML."""
    body = dump_flat(properties)
    if body is None:
        body = dump_pyyaml(properties)
    return f"---\n{body}---\n"


@dataclass(frozen=True, slots=True)
class NotePlan:
    """A note the vault will hold, before it is rendered: where it goes, what it stands for,
    a digest of everything its text is made from (``inputs``), and how to render it. A writer
    that finds the same ``inputs`` recorded for an untouched file need not render it at all."""

    path: str
    kind: str
    key: str
    inputs: str
    render: Callable[[], Note] = field(repr=False, compare=False)


def inputs_digest(*parts: object) -> str:
    """A digest of the values a note is rendered from (their ``repr``), and of the code that
    renders it (a new template renders every note again)."""
    text = repr(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16, key=code_digest()[:32].encode()).hexdigest()


def record_values(record: ArxivRecord | None) -> tuple[object, ...] | None:
    """A record's fields, for a digest (a tuple's ``repr`` is C code; a dataclass's is not)."""
    if record is None:
        return None
    return (record.id, record.title, record.authors, summary_digest(record), record.published,
            record.updated, record.primary_category, record.categories, record.version)


def summary_digest(record: ArxivRecord) -> str:
    """What stands for a record's summary in a note's inputs, whether it is held or not."""
    if record.summary_digest or not record.summary:
        return record.summary_digest
    return text_digest(record.summary)


def generated_note(path: str, kind: str, key: str, properties: dict[str, object],
                   lines: list[str]) -> Note:
    """A generated markdown note: frontmatter, the generated ``lines``, the user's section."""
    front = dump_properties(properties)
    return Note(path, front + "\n".join(lines) + "\n" + USER_SECTION, kind, key, properties,
                len(front))


@dataclass(frozen=True)
class VaultContext:
    """Everything the notes are rendered from: the library and the names settled for it."""

    library: Library
    paper_names: tuple[str, ...]  # parallel to library.papers
    cited_names: dict[str, str]  # arXiv id → name of its note, for papers only cited
    id_targets: dict[str, str]  # arXiv id → name of the note a citation of it links to
    tag_names: dict[str, str]  # tag → hub note name
    days: tuple[dt.date, ...]  # every posting day, ascending
    cited_by: dict[str, tuple[str, ...]]  # note name → names of the papers citing it
    paths: dict[str, str]  # note key → vault path, for notes the user moved or renamed
    # Names handed out that no note has: a day's name a note had taken, a second note the
    # user gave one name (see ``names_taken``).
    extra_names: tuple[str, ...] = ()

    def paper_items(self) -> Iterable[tuple[Paper, str]]:
        return zip(self.library.papers, self.paper_names, strict=True)


def paper_key(paper: Paper) -> str:
    """The identity of a paper's note across runs: its arXiv id, else its title."""
    return paper.arxiv_id or f"title:{paper.first.title}"


def settle_names(library: Library, locations: Mapping[str, str] | None = None) -> VaultContext:
    """Give every note its name; papers in order of first posting, so old names stay put.

    ``locations`` maps ``KIND:KEY`` (KEY an arXiv id or ``title:…``; KIND ``paper``,
    ``cited`` or ``any``, see ``write.note_locations``) to where a note is now: that note keeps
    its place and name, and links use that name.
    """
    locations = locations or {}
    registry = NameRegistry()
    registry.take(INDEX_NAME)
    extra: list[str] = []  # names handed out that no note has

    def take_as(name: str) -> None:
        taken = registry.take(name)
        if taken != name:
            extra.append(taken)
    paths: dict[str, str] = {}  # note key → vault path, for notes already in the vault
    for paper in library.papers:
        for key in (f"paper:{paper_key(paper)}", f"paper:title:{paper.first.title}",
                    f"any:{paper_key(paper)}"):
            if key in locations:
                paths[paper_key(paper)] = locations[key]
                take_as(_name_of(locations[key]))
                break
    for arxiv_id in library.cited:
        for key in (f"cited:{arxiv_id}", f"any:{arxiv_id}"):
            if key in locations:
                paths[arxiv_id] = locations[key]
                take_as(_name_of(locations[key]))
                break
    days = sorted({e.date for p in library.papers for e in p.entries})
    for day in days:
        take_as(day.isoformat())
    tags = sorted({t for p in library.papers for e in p.entries for t in e.tags},
                  key=tag_order)
    tag_names = {tag: registry.take(tag_note_name(tag)) for tag in tags}
    paper_names = []
    for paper in library.papers:
        if paper_key(paper) in paths:
            paper_names.append(_name_of(paths[paper_key(paper)]))
            continue
        paper_names.append(registry.take(*paper_name_candidates(paper)))
    cited_names = {}
    for arxiv_id in library.cited:
        if arxiv_id in paths:
            cited_names[arxiv_id] = _name_of(paths[arxiv_id])
            continue
        cited_names[arxiv_id] = registry.take(
            *cited_name_candidates(arxiv_id, library.records.get(arxiv_id)))
    id_targets = dict(cited_names)
    for paper, name in zip(library.papers, paper_names, strict=True):
        if paper.arxiv_id:
            id_targets[paper.arxiv_id] = name
    cited_by: dict[str, list[str]] = defaultdict(list)
    for paper, name in zip(library.papers, paper_names, strict=True):
        for arxiv_id in _cites_of(paper):
            target = id_targets[arxiv_id]
            if target != name and name not in cited_by[target]:
                cited_by[target].append(name)
    return VaultContext(
        library=library,
        paper_names=tuple(paper_names),
        cited_names=cited_names,
        id_targets=id_targets,
        tag_names=tag_names,
        days=tuple(days),
        cited_by={k: tuple(v) for k, v in cited_by.items()},
        paths=paths,
        extra_names=tuple(extra),
    )


def tag_order(tag: str) -> tuple[str, str]:
    """The order in which tags are given hub names: by case-folded name, then as written
    (``#LLM`` before ``#llm``, whatever order they came in)."""
    return tag.casefold(), tag


def names_taken(context: VaultContext) -> list[str]:
    """The keys (``name_key``) of every name ``settle_names`` handed out: the notes' and the
    extra ones, sorted."""
    names = [INDEX_NAME, *context.paper_names, *context.cited_names.values(),
             *context.tag_names.values(), *(day.isoformat() for day in context.days),
             *context.extra_names]
    return sorted(set(map(name_key, names)))


def paper_name_candidates(paper: Paper) -> tuple[str, ...]:
    """The names a paper's note may take, the first free one taken (``NameRegistry.take``)."""
    title = paper.first.title
    fallback = paper.arxiv_id or paper.first.date.isoformat()
    return short_title(title), tex_to_text(title), f"{short_title(title)} ({fallback})"


def cited_name_candidates(arxiv_id: str, record: ArxivRecord | None) -> tuple[str, ...]:
    """The names the note of a paper only cited may take."""
    id_name = f"arXiv {safe_name(arxiv_id)}"
    if record is None:
        return (id_name,)
    return (short_title(record.title), tex_to_text(record.title),
            f"{short_title(record.title)} ({arxiv_id})", id_name)


def _name_of(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def _cites_of(paper: Paper) -> list[str]:
    seen: dict[str, None] = {}
    for entry in paper.entries:
        for arxiv_id in entry.cites:
            seen.setdefault(arxiv_id, None)
    return list(seen)


def wikilink(name: str, shown: str | None = None) -> str:
    """``[[name]]`` or ``[[name|shown]]``; names are already free of ``|``, ``#``, ``]``."""
    return f"[[{name}|{shown}]]" if shown and shown != name else f"[[{name}]]"


def link_citations(text: str, id_targets: dict[str, str]) -> str:
    """Post text escaped (``escape_markdown``), every arXiv reference in it that names a note
    replaced, where it stands, by a wiki-link to that note."""
    links = [(ref.start, ref.end, wikilink(target, ref.id)) for ref in find_refs(text)
             if (target := id_targets.get(ref.id))]
    return escape_around_links(text, links)


_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")


def project_links(entries: Iterable[Entry]) -> list[str]:
    """Links to code or project pages in the entries: every URL that is not an arXiv paper."""
    links: dict[str, None] = {}
    for entry in entries:
        for text in (entry.abstract, entry.comment_ko or "", entry.comment_en or ""):
            if "http" not in text:
                continue  # no URL (most texts): neither searched for one nor for arXiv ids
            arxiv_spans = [(r.start, r.end) for r in find_refs(text)]
            for match in _URL.finditer(text):
                if any(s <= match.start() < e for s, e in arxiv_spans):
                    continue
                links.setdefault(match.group(0).rstrip(".,;:!?"), None)
    return list(links)


def _paragraphs(text: str) -> str:
    return "\n\n".join(line for line in text.split("\n"))


def paper_properties(paper: Paper) -> dict[str, object]:
    """The properties of a paper note, in their fixed order."""
    first = paper.first
    record = paper.record
    title = first.title
    aliases = [tex_to_text(title)]
    if title not in aliases:
        aliases.append(title)
    if record and record.title not in aliases and tex_to_text(record.title) not in aliases:
        aliases.append(record.title)
    authors = list(first.authors)
    if record and record.authors and len(record.authors) > len(authors):
        authors = list(record.authors)  # the post named only a team, or cut the list
    tags = properties_tags(paper)
    properties: dict[str, object] = {
        "type": "paper",
        "title": title,
        "aliases": aliases,
        "authors": authors,
        "date": first.date,
    }
    if len(paper.entries) > 1:
        properties["dates"] = sorted({e.date.isoformat() for e in paper.entries})
    properties["tags"] = tags
    if record:
        properties.update(_record_properties(record))
    code = project_links(paper.entries)
    if code:
        properties["code"] = code
    properties["source"] = [str(e.source) for e in paper.entries]
    return properties


def _record_properties(record: ArxivRecord) -> dict[str, object]:
    properties: dict[str, object] = {"arxiv": record.id, "url": record.url, "pdf": record.pdf}
    if record.published:
        properties["published"] = dt.date.fromisoformat(record.published[:10])
    if record.updated:
        properties["updated"] = dt.date.fromisoformat(record.updated[:10])
    if record.categories:
        properties["categories"] = list(record.categories)
    if record.primary_category:
        properties["primary_category"] = record.primary_category
    return properties


def render_paper(paper: Paper, name: str, context: VaultContext) -> Note:
    """The note of one paper of the digests."""
    paper = context.library.full(paper)
    first = paper.first
    lines = [f"# {escape_markdown(tex_to_text(first.title))}", ""]
    abstract = first.abstract or (
        context.library.with_summary(paper.record).summary if paper.record else "")
    if abstract:
        lines += ["## Abstract", "", _paragraphs(escape_markdown(abstract)), ""]
    several = len(paper.entries) > 1
    for entry in paper.entries:
        when = f" ({entry.date.isoformat()})" if several else ""
        if entry.comment_ko:
            lines += [f"## 코멘트{when}", "",
                      _paragraphs(link_citations(entry.comment_ko, context.id_targets)), ""]
        if entry.comment_en:
            lines += [f"## Commentary{when}", "",
                      _paragraphs(link_citations(entry.comment_en, context.id_targets)), ""]
    lines += _cited_by_lines(name, context)
    days = sorted({e.date for e in paper.entries})
    tags = properties_tags(paper)
    lines += ["## Links", ""]
    lines.append("Posted " + ", ".join(wikilink(d.isoformat()) for d in days))
    if tags:
        lines[-1] += " · " + " ".join(wikilink(context.tag_names[t], f"#{t}") for t in tags)
    lines.append("")
    key = paper_key(paper)
    return generated_note(context.paths.get(key, f"{PAPERS}/{name}.md"), "paper", key,
                          paper_properties(paper), lines)


def paper_plan(paper: Paper, name: str, context: VaultContext) -> NotePlan:
    key = paper_key(paper)
    path = context.paths.get(key, f"{PAPERS}/{name}.md")
    cites = _cites_of(paper)
    entries = [e.digest or e for e in paper.entries]  # a digest stands for the entry's text
    inputs = inputs_digest(path, name, entries, record_values(paper.record),
                           context.cited_by.get(name, ()),
                           [context.id_targets.get(i) for i in cites],
                           [context.tag_names[t] for t in properties_tags(paper)])
    return NotePlan(path, "paper", key, inputs, lambda: render_paper(paper, name, context))


def cited_plan(arxiv_id: str, name: str, context: VaultContext) -> NotePlan:
    path = context.paths.get(arxiv_id, f"{CITED}/{name}.md")
    inputs = inputs_digest(path, name, arxiv_id,
                           record_values(context.library.records.get(arxiv_id)),
                           context.cited_by.get(name, ()))
    return NotePlan(path, "cited", arxiv_id, inputs,
                    lambda: render_cited(arxiv_id, name, context))


def properties_tags(paper: Paper) -> list[str]:
    """The tags of every posting of a paper, first seen first."""
    if len(paper.entries) == 1:
        return list(dict.fromkeys(paper.entries[0].tags))
    return list(dict.fromkeys(t for entry in paper.entries for t in entry.tags))


def _cited_by_lines(name: str, context: VaultContext) -> list[str]:
    citing = context.cited_by.get(name, ())
    if not citing:
        return []
    return ["## Cited by", "", *(f"- {wikilink(c)}" for c in citing), ""]


def render_cited(arxiv_id: str, name: str, context: VaultContext) -> Note:
    """The note of a paper the commentary cites but the digests do not cover."""
    record = context.library.records.get(arxiv_id)
    if record is not None:
        record = context.library.with_summary(record)
    properties: dict[str, object] = {"type": "cited"}
    if record:
        properties["title"] = record.title
        properties["aliases"] = [tex_to_text(record.title)]
        properties["authors"] = list(record.authors)
        properties.update(_record_properties(record))
    else:  # known by its id alone, which names the note: the name heads it, as its title
        properties["title"] = name
        properties["aliases"] = [f"arXiv:{arxiv_id}"]
        properties["arxiv"] = arxiv_id
        properties["url"] = f"https://arxiv.org/abs/{arxiv_id}"
    heading = tex_to_text(record.title) if record else name
    lines = [f"# {escape_markdown(heading)}", ""]
    if record and record.summary:
        lines += ["## Abstract", "", _paragraphs(escape_markdown(record.summary)), ""]
    elif not record:
        lines += [f"Cited in the digests; not covered by a post. <https://arxiv.org/abs/{arxiv_id}>",
                  ""]
    lines += _cited_by_lines(name, context)
    return generated_note(context.paths.get(arxiv_id, f"{CITED}/{name}.md"), "cited", arxiv_id,
                          properties, lines)


def tag_hubs(context: VaultContext) -> list[NotePlan]:
    """One hub note per tag: its papers newest first, and the tags seen most often with it."""
    papers_by_tag: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for paper, name in context.paper_items():
        tags = properties_tags(paper)
        for tag in tags:
            papers_by_tag[tag].append((max(e.date for e in paper.entries), name))
            together[tag].update(tags)
    return [tag_hub_plan(tag, hub, papers_by_tag[tag], together[tag], context.tag_names)
            for tag, hub in context.tag_names.items()]


def tag_hub_plan(tag: str, hub: str, papers: list[tuple[dt.date, str]],
                 together: Counter[str], tag_names: Mapping[str, str]) -> NotePlan:
    """The hub note of one tag named ``hub``: ``papers`` (the latest day each was posted, its
    note's name) carrying the tag, and how often each tag goes with it in ``together`` (the
    tags of each of its papers counted whole, the tag itself too: left out here)."""
    items = sorted(papers, key=lambda item: (-item[0].toordinal(), item[1]))
    others = sorted(((t, n) for t, n in together.items() if t != tag),
                    key=lambda kv: (-kv[1], kv[0]))
    common = [(tag_names[t], t, n) for t, n in others[:10]]
    path = f"{TAGS}/{hub}.md"
    return NotePlan(path, "tag", tag, inputs_digest(path, tag, items, common),
                    _tag_renderer(path, tag, hub, items, common))


def _tag_renderer(path: str, tag: str, hub: str, items: list[tuple[dt.date, str]],
                  common: list[tuple[str, str, int]]) -> Callable[[], Note]:
    def render() -> Note:
        properties = {"type": "tag", "tag": tag, "count": len(items)}
        count = f"{len(items)} paper{'s' if len(items) != 1 else ''}."
        lines = [f"# {escape_markdown(hub)}", "", count, "", "## Papers", ""]
        lines += [f"- {day.isoformat()} · {wikilink(name)}" for day, name in items]
        lines.append("")
        if common:
            lines += ["## Often together", ""]
            lines += [f"- {wikilink(other_hub, f'#{other}')} ({n})"
                      for other_hub, other, n in common]
            lines.append("")
        lines += [f"Back to {wikilink(INDEX_NAME)}", ""]
        return generated_note(path, "tag", tag, properties, lines)

    return render


def day_notes(context: VaultContext) -> list[NotePlan]:
    """One note per posting day: its papers in post order, and the days before and after."""
    by_day: dict[dt.date, list[tuple[Entry, str]]] = defaultdict(list)
    for paper, name in context.paper_items():
        for entry in paper.entries:
            by_day[entry.date].append((entry, name))
    plans = []
    days = context.days
    for position, day in enumerate(days):
        items = [(name, entry.title) for entry, name in
                 sorted(by_day[day], key=lambda item: item[0].source)]
        before = days[position - 1] if position > 0 else None
        after = days[position + 1] if position + 1 < len(days) else None
        plans.append(day_plan(day, before, after, items))
    return plans


def day_plan(day: dt.date, before: dt.date | None, after: dt.date | None,
             items: list[tuple[str, str]]) -> NotePlan:
    """The note of one posting day: ``items`` (note name, title as posted) in post order."""
    path = f"{DAYS}/{day.isoformat()}.md"
    return NotePlan(path, "day", day.isoformat(), inputs_digest(path, day, before, after, items),
                    _day_renderer(path, day, before, after, items))


def _day_renderer(path: str, day: dt.date, before: dt.date | None, after: dt.date | None,
                  items: list[tuple[str, str]]) -> Callable[[], Note]:
    def render() -> Note:
        properties = {"type": "day", "date": day, "count": len(items)}
        nav = []
        if before:
            nav.append(f"← {wikilink(before.isoformat())}")
        nav.append(wikilink(INDEX_NAME))
        if after:
            nav.append(f"{wikilink(after.isoformat())} →")
        lines = [f"# {day.isoformat()}", "", " · ".join(nav), "", f"## Papers ({len(items)})",
                 ""]
        for name, title in items:
            full = tex_to_text(title)
            suffix = f" — {escape_markdown(full)}" if full != name else ""
            lines.append(f"- {wikilink(name)}{suffix}")
        lines.append("")
        return generated_note(path, "day", day.isoformat(), properties, lines)

    return render


@dataclass(frozen=True)
class IndexCounts:
    """What the index note shows: papers by tag, entries by day, and the totals."""

    papers: int
    cited: int
    tag_papers: Mapping[str, int]  # tag → papers carrying it
    day_entries: Mapping[dt.date, int]  # posting day → entries posted that day


def index_note(context: VaultContext) -> list[NotePlan]:
    """The map of content: counts, tags by size, days by month (always rendered: one note)."""
    library = context.library
    tag_papers: Counter[str] = Counter()
    day_entries: Counter[dt.date] = Counter()
    for paper in library.papers:
        tag_papers.update(properties_tags(paper))
        day_entries.update(e.date for e in paper.entries)
    counts = IndexCounts(len(library.papers), len(library.cited), tag_papers, day_entries)
    return [index_plan(counts, context.tag_names, context.days)]


def index_plan(counts: IndexCounts, tag_names: Mapping[str, str],
               days: tuple[dt.date, ...]) -> NotePlan:
    """The index note, rendered now (one note: its text is its inputs)."""
    path = f"{INDEX_NAME}.md"
    note = render_index(counts, tag_names, days)
    return NotePlan(path, "index", "index", inputs_digest(path, note.text), lambda: note)


def render_index(counts: IndexCounts, tag_names: Mapping[str, str],
                 days: tuple[dt.date, ...]) -> Note:
    """The index note."""
    properties: dict[str, object] = {  # ("tags" is Obsidian's list of tags: never a count)
        "type": "index", "papers": counts.papers, "cited": counts.cited,
        "tag_count": len(tag_names), "days": len(days),
    }
    lines = ["# Paper index", ""]
    span = f" from {days[0]} to {days[-1]}" if days else ""
    lines += [f"{plural(counts.papers, 'paper')} on {plural(len(days), 'day')}{span}; "
              f"{plural(counts.cited, 'more paper')} cited; {plural(len(tag_names), 'tag')}.",
              ""]
    if counts.tag_papers:
        lines += ["## Tags", ""]
        for tag, count in sorted(counts.tag_papers.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"- {wikilink(tag_names[tag], f'#{tag}')} ({count})")
        lines.append("")
    if days:
        lines += ["## Days", ""]
        month = (0, 0)
        for day in reversed(days):
            if (day.year, day.month) != month:  # (strftime once a month: 15,000 days at 50k)
                month = (day.year, day.month)
                lines += ([""] if lines[-1] != "" else []) + [f"### {day.strftime('%Y-%m')}", ""]
            lines.append(f"- {wikilink(day.isoformat())} ({counts.day_entries[day]})")
        lines.append("")
    return generated_note(f"{INDEX_NAME}.md", "index", "index", properties, lines)


HubGenerator = Callable[[VaultContext], list[NotePlan]]
HUB_GENERATORS: tuple[HubGenerator, ...] = (tag_hubs, day_notes, index_note)

_COLOR_GROUPS = (
    (f"path:{PAPERS}", 0x4C8BF5),
    (f"path:{CITED}", 0x9AA0A6),
    (f"path:{TAGS}", 0x34A853),
    (f"path:{DAYS}", 0xFBBC04),
)
_PROPERTY_TYPES = {
    "type": "text", "title": "text", "aliases": "aliases", "authors": "multitext",
    "date": "date", "dates": "multitext", "tags": "tags", "arxiv": "text", "url": "text",
    "pdf": "text", "published": "date", "updated": "date", "categories": "multitext",
    "primary_category": "text", "code": "multitext", "source": "multitext", "tag": "text",
    "count": "number", "papers": "number", "cited": "number", "tag_count": "number",
    "days": "number",
}


def graph_color_groups() -> list[dict[str, object]]:
    """The graph view's colour groups vaultgen owns: papers, cited papers, tags, days."""
    return [{"query": query, "color": {"a": 1, "rgb": rgb}} for query, rgb in _COLOR_GROUPS]


def settings_notes() -> list[Note]:
    """A minimal ``.obsidian/``: created only where the user has none (the writer sees to it)."""
    def as_json(value: object) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"

    return [
        Note(".obsidian/graph.json", as_json({"colorGroups": graph_color_groups()}),
             "settings", "graph"),
        Note(".obsidian/types.json", as_json({"types": _PROPERTY_TYPES}), "settings", "types"),
        Note(".obsidian/daily-notes.json",
             as_json({"folder": DAYS, "format": "YYYY-MM-DD", "template": ""}),
             "settings", "daily-notes"),
    ]


def plan_vault(library: Library, locations: Mapping[str, str] | None = None) -> list[NotePlan]:
    """Every note of the vault, not yet rendered, in a fixed order: papers, cited papers, hubs,
    settings. ``locations``: where the user moved generated notes (see ``settle_names``)."""
    return plan_notes(settle_names(library, locations))


def plan_notes(context: VaultContext) -> list[NotePlan]:
    """Every note of the vault named by ``context``, in ``plan_vault``'s order."""
    plans = [paper_plan(paper, name, context) for paper, name in context.paper_items()]
    plans += [cited_plan(arxiv_id, context.cited_names[arxiv_id], context)
              for arxiv_id in context.library.cited]
    for generator in HUB_GENERATORS:
        plans += generator(context)
    return plans + settings_plans()


def settings_plans() -> list[NotePlan]:
    """The plans of the ``.obsidian/`` settings notes (the writer creates what is missing)."""
    return [NotePlan(n.path, n.kind, n.key, inputs_digest(n.text), lambda n=n: n)
            for n in settings_notes()]


"""Rendering the notes of a vault, in memory: each from the plain values its ``NoteSpec``
(``plan.plan_vault``) holds, and the texts and arXiv records the build reads for it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..model import ArxivRecord, Entry, Note, Paper
from ..parse.arxiv_ids import find_refs
from ..plan import CITED, DAYS, INDEX_NAME, PAPERS, TAGS, IndexCounts, NoteSpec, PlannedPaper
from ..wording import plural
from .frontmatter import dump_flat, dump_pyyaml
from .markdown import escape_around_links, escape_markdown
from .names import tex_to_text

USER_MARKER = "%% vaultgen: your notes go below this line; rebuilds keep them %%"
USER_SECTION = f"{USER_MARKER}\n## My notes\n"

def dump_properties(properties: dict[str, object]) -> str:
    """YAML frontmatter as PyYAML's emitter writes it (keys in the given order, LF, unicode
    kept, no anchors): the flat shape by ``render.frontmatter``, to the same text; the rest
    by PyYAML."""
    body = dump_flat(properties)
    if body is None:
        body = dump_pyyaml(properties)
    return f"---\n{body}---\n"


def generated_note(path: str, kind: str, key: str, properties: dict[str, object],
                   lines: list[str]) -> Note:
    """A generated markdown note: frontmatter, the generated ``lines``, the user's section."""
    front = dump_properties(properties)
    return Note(path, front + "\n".join(lines) + "\n" + USER_SECTION, kind, key, properties,
                len(front))


def wikilink(name: str, shown: str | None = None) -> str:
    """``[[name]]`` or ``[[name|shown]]``; names are already free of ``|``, ``#``, ``]``."""
    return f"[[{name}|{shown}]]" if shown and shown != name else f"[[{name}]]"


def link_citations(text: str, id_targets: Mapping[str, str]) -> str:
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


def paper_authors(authors: Sequence[str], record: ArxivRecord | None) -> list[str]:
    """A paper's authors: the post's, or arXiv's when the post named fewer (only a team, or
    a list cut short)."""
    if record and record.authors and len(record.authors) > len(authors):
        return list(record.authors)
    return list(authors)


def paper_properties(paper: Paper, citekey: str | None = None, cited_by_count: int = 0,
                     related: Sequence[str] = ()) -> dict[str, object]:
    """The properties of a paper note, in their fixed order."""
    first = paper.first
    record = paper.record
    title = first.title
    aliases = [tex_to_text(title)]
    if title not in aliases:
        aliases.append(title)
    if record and record.title not in aliases and tex_to_text(record.title) not in aliases:
        aliases.append(record.title)
    authors = paper_authors(first.authors, record)
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
    if citekey:
        properties["citekey"] = citekey
    properties["cited_by_count"] = cited_by_count
    if related:
        properties["related"] = [wikilink(name) for name in related]
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
    if record.doi:
        properties["doi"] = record.doi
    if record.journal:
        properties["journal"] = record.journal
    return properties


def render_paper(paper: Paper, path: str, cited_by: Sequence[str],
                 targets: Mapping[str, str | None], tag_names: Mapping[str, str],
                 citekey: str | None = None, related: Sequence[str] = ()) -> Note:
    """The note of one paper of the digests: ``cited_by``, the names of the papers citing it;
    ``targets``, the name of the note each arXiv id it cites links to; ``tag_names``, the hub
    of each of its tags; ``citekey``, its citation key; ``related``, the names of the papers
    most like it, most similar first."""
    first = paper.first
    lines = [f"# {escape_markdown(tex_to_text(first.title))}", ""]
    abstract = first.abstract or (paper.record.summary if paper.record else "")
    if abstract:
        lines += ["## Abstract", "", _paragraphs(escape_markdown(abstract)), ""]
    several = len(paper.entries) > 1
    links = {k: v for k, v in targets.items() if v is not None}
    for entry in paper.entries:
        when = f" ({entry.date.isoformat()})" if several else ""
        if entry.comment_ko:
            lines += [f"## 코멘트{when}", "", _paragraphs(link_citations(entry.comment_ko, links)),
                      ""]
        if entry.comment_en:
            lines += [f"## Commentary{when}", "",
                      _paragraphs(link_citations(entry.comment_en, links)), ""]
    lines += _cited_by_lines(cited_by)
    days = sorted({e.date for e in paper.entries})
    tags = properties_tags(paper)
    lines += ["## Links", ""]
    lines.append("Posted " + ", ".join(wikilink(d.isoformat()) for d in days))
    if tags:
        lines[-1] += " · " + " ".join(wikilink(tag_names[t], f"#{t}") for t in tags)
    if related:
        lines += ["", RELATED_LINE + ", ".join(wikilink(name) for name in related)]
    lines.append("")
    key = paper.arxiv_id or f"title:{first.title}"
    return generated_note(path, "paper", key,
                          paper_properties(paper, citekey, len(cited_by), related), lines)


RELATED_LINE = "Related "  # starts the Links line naming a paper's related papers
_RELATED = re.compile(rf"(?m)^related:\n(?:- .*\n)+|\n\n{RELATED_LINE}[^\n]*")


def without_related(text: str) -> str:
    """A paper note without its related papers (the ``related`` property and the Links line):
    what stays the same when only the lists were computed anew (after a refit, or a vault
    whose state was lost)."""
    return _RELATED.sub("", text)


def properties_tags(paper: Paper) -> list[str]:
    """The tags of every posting of a paper, first seen first."""
    if len(paper.entries) == 1:
        return list(dict.fromkeys(paper.entries[0].tags))
    return list(dict.fromkeys(t for entry in paper.entries for t in entry.tags))


def _cited_by_lines(citing: Sequence[str]) -> list[str]:
    if not citing:
        return []
    return ["## Cited by", "", *(f"- {wikilink(c)}" for c in citing), ""]


def render_cited(arxiv_id: str, record: ArxivRecord | None, path: str, name: str,
                 cited_by: Sequence[str], citekey: str | None = None) -> Note:
    """The note of a paper the commentary cites but the digests do not cover (``citekey``:
    its citation key, once its authors and title are known)."""
    properties: dict[str, object] = {"type": "cited"}
    if record:
        properties["title"] = record.title
        properties["aliases"] = [tex_to_text(record.title)]
        properties["authors"] = list(record.authors)
        if citekey:
            properties["citekey"] = citekey
        properties["cited_by_count"] = len(cited_by)
        properties.update(_record_properties(record))
    else:  # known by its id alone, which names the note: the name heads it, as its title
        properties["title"] = name
        properties["aliases"] = [f"arXiv:{arxiv_id}"]
        properties["cited_by_count"] = len(cited_by)
        properties["arxiv"] = arxiv_id
        properties["url"] = f"https://arxiv.org/abs/{arxiv_id}"
    heading = tex_to_text(record.title) if record else name
    lines = [f"# {escape_markdown(heading)}", ""]
    if record and record.summary:
        lines += ["## Abstract", "", _paragraphs(escape_markdown(record.summary)), ""]
    elif not record:
        lines += [f"Cited in the digests; not covered by a post. <https://arxiv.org/abs/{arxiv_id}>",
                  ""]
    lines += _cited_by_lines(cited_by)
    return generated_note(path, "cited", arxiv_id, properties, lines)


def render_tag(path: str, tag: str, hub: str, items: Sequence[tuple[dt.date, str]],
               common: Sequence[tuple[str, str, int]]) -> Note:
    """The hub note of one tag named ``hub``: ``items`` (the latest day each paper was
    posted, its note's name), newest first, and ``common`` (hub, tag, papers) of the tags
    seen most often with it."""
    properties = {"type": "tag", "tag": tag, "count": len(items)}
    count = f"{plural(len(items), 'paper')}."
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


def render_day(path: str, day: dt.date, before: dt.date | None, after: dt.date | None,
               items: Sequence[tuple[str, str]]) -> Note:
    """The note of one posting day: ``items`` (note name, title as posted) in post order."""
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


def render_index(counts: IndexCounts, tag_names: Mapping[str, str],
                 days: Sequence[dt.date]) -> Note:
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


def render_spec(spec: NoteSpec, paper_of: Callable[[PlannedPaper], Paper],
                record_of: Callable[[str], ArxivRecord | None]) -> Note:
    """The note ``spec`` plans (``plan.plan_vault``): ``paper_of`` gives a planned paper with
    its texts and record, ``record_of`` the record of a paper only cited."""
    payload = spec.payload
    if spec.kind == "paper":
        planned, cited_by, targets, tag_names, related = payload
        return render_paper(paper_of(planned), spec.path, cited_by,  # type: ignore[arg-type]
                            targets, tag_names, spec.citekey, related)  # type: ignore[arg-type]
    if spec.kind == "cited":
        arxiv_id, cited_by = payload
        return render_cited(arxiv_id, record_of(arxiv_id), spec.path,  # type: ignore[arg-type]
                            spec.name, cited_by, spec.citekey)  # type: ignore[arg-type]
    if spec.kind == "tag":
        tag, items, common = payload
        return render_tag(spec.path, tag, spec.name, items, common)  # type: ignore[arg-type]
    if spec.kind == "day":
        day, before, after, items = payload
        return render_day(spec.path, day, before, after, items)  # type: ignore[arg-type]
    counts, tag_names, days = payload
    return render_index(counts, tag_names, days)  # type: ignore[arg-type]


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
    "primary_category": "text", "doi": "text", "journal": "text", "code": "multitext",
    "source": "multitext", "tag": "text", "citekey": "text", "cited_by_count": "number",
    "related": "multitext",
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

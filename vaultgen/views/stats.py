"""``vaultgen stats``: a vault's papers summed up — per month, by tag, most cited, components.

``vault_stats`` and ``format_stats`` are pure; ``plot_papers_per_month`` draws a PNG with
matplotlib (an optional dependency: ``pip install 'vaultgen[plot]'``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import networkx as nx

from ..errors import VaultgenError
from ..model import PAPER_TYPES
from ..wording import plural
from .graph import citation_counts, paper_graph

OTHER = "other"


@dataclass(frozen=True)
class TagGrowth:
    """One tag: papers in all and per period."""

    tag: str
    total: int
    per_period: tuple[int, ...]


class CitedPaper(NamedTuple):
    """A paper of the vault and how many of its papers cite it."""

    title: str  # its title property, else its note's name
    note: str  # the note's path
    cited_by: int
    arxiv: str  # its arXiv id, if known


def paper_label(title: object, arxiv: object) -> str:
    """How a paper is named to the user: its title, its arXiv id in brackets (unless the
    title holds it already, as the name of the note of a paper arXiv did not describe)."""
    name, arxiv_id = str(title or ""), str(arxiv or "")
    if not arxiv_id or arxiv_id in name:
        return name
    return f"{name} (arXiv:{arxiv_id})" if name else f"arXiv:{arxiv_id}"


@dataclass(frozen=True)
class VaultStats:
    """The numbers ``vaultgen stats`` prints."""

    papers: int
    cited: int
    tags: int
    days: int
    citations: int
    per_month: tuple[tuple[str, int], ...]  # ("2024-01", papers posted that month)
    periods: tuple[str, ...]  # quarters ("2024-Q1") or years, whichever keeps the table short
    top_tags: tuple[TagGrowth, ...]
    most_cited: tuple[CitedPaper, ...]
    components: int  # of the citation graph, papers and cited papers
    largest_component: int
    uncited_unciting: int  # papers with no citation either way


def _month(date: str) -> str | None:
    return date[:7] if len(date) >= 7 and date[4] == "-" else None


def _period(month: str, quarterly: bool) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}" if quarterly else month[:4]


def vault_stats(graph: nx.MultiDiGraph, *, top: int = 10) -> VaultStats:
    """Statistics of a typed vault graph (see ``graph.typed_graph``)."""
    kinds = Counter(kind for _, kind in graph.nodes(data="type"))
    papers = paper_graph(graph)
    posted = {n: _month(str(d.get("date") or "")) for n, d in papers.nodes(data=True)
              if d.get("type") == "paper"}
    months = Counter(m for m in posted.values() if m)
    quarterly = len({m[:4] for m in months}) <= 3
    periods = sorted({_period(m, quarterly) for m in months})
    tag_totals: Counter[str] = Counter()
    tag_periods: dict[str, Counter[str]] = {}
    for node, month in posted.items():
        for tag in papers.nodes[node].get("tags") or []:
            tag_totals[tag] += 1
            if month:
                tag_periods.setdefault(tag, Counter())[_period(month, quarterly)] += 1
    top_tags = tuple(
        TagGrowth(tag, count, tuple(tag_periods.get(tag, Counter())[p] for p in periods))
        for tag, count in sorted(tag_totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
    counts = citation_counts(papers)
    most_cited = tuple(
        CitedPaper(str(papers.nodes[n].get("title") or n), n, c,
                   str(papers.nodes[n].get("arxiv") or ""))
        for n, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top] if c > 0)
    components = list(nx.weakly_connected_components(papers)) if len(papers) else []
    return VaultStats(
        papers=kinds["paper"], cited=kinds["cited"], tags=kinds["tag"], days=kinds["day"],
        citations=papers.number_of_edges(),
        per_month=tuple(sorted(months.items())), periods=tuple(periods), top_tags=top_tags,
        most_cited=most_cited, components=len(components),
        largest_component=max((len(c) for c in components), default=0),
        uncited_unciting=sum(1 for c in components if len(c) == 1))


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def format_stats(stats: VaultStats) -> str:
    """The statistics as plain-text tables."""
    out = [f"{plural(stats.papers, 'paper')}, {plural(stats.cited, 'paper')} only cited, "
           f"{plural(stats.tags, 'tag')}, {plural(stats.days, 'day')}, "
           f"{plural(stats.citations, 'citation')}", ""]
    if stats.per_month:
        peak = max(n for _, n in stats.per_month)
        out += ["Papers per month", *_table(
            ["month", "papers", ""],
            [[m, str(n), "█" * max(1, round(30 * n / peak))] for m, n in stats.per_month],
            {1}), ""]
    if stats.top_tags:
        out += ["Top tags, papers per period", *_table(
            ["tag", "total", *stats.periods],
            [[f"#{t.tag}", str(t.total), *map(str, t.per_period)] for t in stats.top_tags],
            set(range(1, len(stats.periods) + 2))), ""]
    if stats.most_cited:
        out += ["Most cited in the vault", *_table(
            ["cited by", "paper"],
            [[str(paper.cited_by), paper_label(paper.title, paper.arxiv)]
             for paper in stats.most_cited], {0}), ""]
    alone = stats.uncited_unciting
    out.append(f"Citation graph: {plural(stats.components, 'component')}; the largest has "
               f"{plural(stats.largest_component, 'paper')}; {plural(alone, 'paper')} "
               f"{'neither cites nor is' if alone == 1 else 'neither cite nor are'} cited by "
               "another")
    return "\n".join(out) + "\n"


def main_tags(graph: nx.MultiDiGraph, top: int) -> dict[str, str]:
    """Each paper's main tag: of its tags among the ``top`` most used in the vault, the most
    used; ``other`` when it has none of them."""
    papers = [n for n, kind in graph.nodes(data="type") if kind in PAPER_TYPES]
    totals = Counter(t for n in papers for t in graph.nodes[n].get("tags") or [])
    ranked = {t for t, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]}
    main = {}
    for node in papers:
        tags = [t for t in graph.nodes[node].get("tags") or [] if t in ranked]
        main[node] = min(tags, key=lambda t: (-totals[t], t)) if tags else OTHER
    return main


def plot_papers_per_month(graph: nx.MultiDiGraph, path: Path, *, top: int = 10) -> None:
    """A stacked bar chart of papers posted per month, by main tag, saved as an image."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise VaultgenError("--plot needs matplotlib",
                            hint="pip install 'vaultgen[plot]'") from err
    main = main_tags(graph, top)
    counts: Counter[tuple[str, str]] = Counter()
    for node, tag in main.items():
        month = _month(str(graph.nodes[node].get("date") or ""))
        if month and graph.nodes[node].get("type") == "paper":
            counts[month, tag] += 1
    months = sorted({m for m, _ in counts})
    if not months:
        raise VaultgenError("nothing to plot: no paper note of the vault has a date",
                            hint="papers are notes with 'type: paper' and a 'date' property")
    tags = [t for t, _ in Counter(main.values()).most_common() if t != OTHER]
    tags += [OTHER] if OTHER in main.values() else []
    figure, axes = plt.subplots(figsize=(max(8.0, 0.45 * len(months) + 3), 5), dpi=120)
    bottom = [0] * len(months)
    colours = plt.get_cmap("tab10")
    for index, tag in enumerate(tags):
        heights = [counts[m, tag] for m in months]
        axes.bar(months, heights, bottom=bottom, label=tag if tag == OTHER else f"#{tag}",
                 color="#bbbbbb" if tag == OTHER else colours(index % 10), width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_title("Papers per month, by main tag")
    axes.set_ylabel("papers")
    axes.tick_params(axis="x", labelrotation=60)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)

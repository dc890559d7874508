"""The paper graph as one self-contained HTML page that works offline.

The page carries its data (papers, citations, related papers, communities, tags, and a
starting position for each paper) and its scripts, vendored in ``vaultgen/assets`` with their
licences: Cytoscape.js draws the graph, graphology and its ForceAtlas2 layout place the papers
(in a web worker, from the starting positions made here). It needs no network and no server.
A vault with more than ``MAX_SHOWN`` papers is thinned to the papers most linked, grouped into
communities of their own, and the page says so. Pure: the typed graph in, the page's text out.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from importlib import resources

import networkx as nx

from .graph import (
    OTHER_LABEL,
    Community,
    citation_counts,
    communities,
    community_of,
    paper_graph,
)

MAX_SHOWN = 5000  # papers on one page; a larger vault shows its most linked ones
SPACING = 30.0  # layout units between neighbouring papers at the start
SCRIPTS = ("cytoscape.min.js", "graphology.umd.min.js", "graphology-layout-forceatlas2.min.js")
_PLACEHOLDER = re.compile(r"__(TITLE|DATA|SCRIPTS)__")  # filled in one pass, never rescanned
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def _asset(name: str) -> str:
    return resources.files("vaultgen").joinpath("assets", name).read_text(encoding="utf-8")


def _script(name: str) -> str:
    """A vendored script, as the text of a ``<script>`` element."""
    return _asset(name).replace("</script", "<\\/script")


def most_linked(papers: nx.DiGraph, related: nx.DiGraph, limit: int) -> set[str]:
    """The ``limit`` papers with the most citations and related links, either way (ties: the
    latest first, then by path)."""
    if len(papers) <= limit:
        return set(papers)
    score = {n: 2 * papers.in_degree(n) + papers.out_degree(n) + related.degree(n)
             for n in papers}
    ranked = sorted(papers)
    ranked.sort(key=lambda n: str(papers.nodes[n].get("date") or ""), reverse=True)
    ranked.sort(key=lambda n: -score[n])  # stable: ties stay latest first, then by path
    return set(ranked[:limit])


def _spiral(index: int, spacing: float) -> tuple[float, float]:
    """The ``index``-th point of a sunflower spiral: points ``spacing`` apart fill a disc."""
    radius = spacing * math.sqrt(index + 0.5)
    angle = index * _GOLDEN_ANGLE
    return radius * math.cos(angle), radius * math.sin(angle)


def start_positions(groups: Sequence[Sequence[str]]) -> dict[str, tuple[float, float]]:
    """Each community a disc of its papers, the discs side by side on a larger spiral (the
    largest in the middle): where the force layout starts, and what shows until it ends."""
    positions: dict[str, tuple[float, float]] = {}
    placed_radius = 0.0
    for number, members in enumerate(groups):
        radius = SPACING * math.sqrt(len(members) + 1)
        if number == 0:
            cx = cy = 0.0
            placed_radius = radius
        else:
            distance = placed_radius + radius + 2 * SPACING * math.sqrt(number)
            angle = number * _GOLDEN_ANGLE
            cx, cy = distance * math.cos(angle), distance * math.sin(angle)
        for index, node in enumerate(members):
            x, y = _spiral(index, SPACING)
            positions[node] = (round(cx + x, 1), round(cy + y, 1))
    return positions


def page_data(graph: nx.MultiDiGraph, groups: Sequence[Community], vault_name: str, *,
              max_shown: int = MAX_SHOWN) -> dict:
    """What the page shows: papers (with starting positions), citation and related edges,
    communities (largest first, sized by the papers shown), tags, and how the vault was
    thinned when it has more than ``max_shown`` papers (its most linked papers are then
    grouped anew, ``groups`` set aside)."""
    papers = paper_graph(graph)
    related = paper_graph(graph, "related")
    shown = most_linked(papers, related, max_shown)
    if len(shown) < len(papers):  # communities of the papers shown, with their tags
        hubs = {n for n, kind in graph.nodes(data="type") if kind == "tag"}
        groups = communities(graph.subgraph(shown | hubs), min_size=1)
    owner = community_of(groups)
    counts = citation_counts(papers)
    kept = [[n for n in g.members if n in shown] for g in groups]
    order_of = sorted(range(len(groups)), key=lambda i: (groups[i].label == OTHER_LABEL,
                                                         -len(kept[i]), i))
    order_of = [i for i in order_of if kept[i]]
    renumber = {old: new for new, old in enumerate(order_of)}
    members = [kept[i] for i in order_of]
    positions = start_positions(members)
    order = [node for group in members for node in group]
    index = {node: i for i, node in enumerate(order)}
    nodes = []
    for node in order:
        data = papers.nodes[node]
        x, y = positions[node]
        nodes.append({
            "path": node, "title": data.get("title") or node, "type": data.get("type"),
            "date": data.get("date") or "", "tags": list(data.get("tags") or []),
            "authors": list(data.get("authors") or []), "arxiv": data.get("arxiv") or "",
            "cited_by": counts[node], "community": renumber[owner[node]], "x": x, "y": y,
        })
    tags = Counter(t for node in order for t in papers.nodes[node].get("tags") or [])
    return {
        "vault": vault_name,
        "nodes": nodes,
        "edges": [[index[u], index[v]] for u, v in sorted(papers.edges)
                  if u in index and v in index],
        "related": [[index[u], index[v], rank] for u, v, rank in sorted(related.edges(
            data="rank")) if u in index and v in index],
        "communities": [{"label": groups[i].label, "size": len(kept[i]),
                         "other": groups[i].label == OTHER_LABEL} for i in order_of],
        "tags": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])),
        "papers_in_vault": len(papers),
        "citations_in_vault": papers.number_of_edges(),
    }


def render_page(graph: nx.MultiDiGraph, groups: Sequence[Community], vault_name: str, *,
                max_shown: int = MAX_SHOWN) -> str:
    """The HTML page of the paper graph."""
    data = json.dumps(page_data(graph, groups, vault_name, max_shown=max_shown),
                      ensure_ascii=False, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a title holding "</script>" cannot end the block
    title = f"{vault_name}: paper graph".replace("&", "&amp;").replace("<", "&lt;")
    scripts = "\n".join(f'<script id="{name.removesuffix(".min.js")}">{_script(name)}</script>'
                        for name in SCRIPTS)
    values = {"TITLE": title, "DATA": data, "SCRIPTS": scripts}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("graph.html"))

"""The paper graph as one self-contained HTML page that works offline.

The page carries its data (papers, citations, communities, tags, positions laid out here) and
Cytoscape.js (MIT, vendored in ``vaultgen/assets``), so it needs no network and no server.
Pure: the typed graph in, the page's text out.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from importlib import resources

import networkx as nx

from .graph import Community, citation_counts, community_of, paper_graph
from .layout import grid_columns, group_grid, pack

CELL = 60  # pixels between neighbouring papers on the page
GROUP_GAP = 4  # cells between communities
_PLACEHOLDER = re.compile(r"__(TITLE|DATA|CYTOSCAPE)__")  # filled in one pass, never rescanned


def _asset(name: str) -> str:
    return resources.files("vaultgen").joinpath("assets", name).read_text(encoding="utf-8")


def page_data(graph: nx.MultiDiGraph, groups: Sequence[Community], vault_name: str) -> dict:
    """What the page shows: nodes with positions, citation edges, communities and tags."""
    papers = paper_graph(graph)
    owner = community_of(groups)
    counts = citation_counts(papers)
    grids = [group_grid(papers, g.members, grid_columns(len(g.members), 1, 1)) for g in groups]
    boxes = pack([(g.columns, g.rows) for g in grids], GROUP_GAP)
    order = [node for group in groups for node in group.members]
    index = {node: i for i, node in enumerate(order)}
    nodes = []
    for grid, box in zip(grids, boxes, strict=True):
        for node, (column, row) in grid.cells.items():
            data = papers.nodes[node]
            nodes.append((index[node], {
                "path": node, "title": data.get("title") or node, "type": data.get("type"),
                "date": data.get("date") or "", "tags": list(data.get("tags") or []),
                "authors": list(data.get("authors") or []), "arxiv": data.get("arxiv") or "",
                "cited_by": counts[node], "community": owner[node],
                "x": (box.x + column) * CELL, "y": (box.y + row) * CELL,
            }))
    nodes.sort(key=lambda item: item[0])
    tags = Counter(t for node in order for t in papers.nodes[node].get("tags") or [])
    return {
        "vault": vault_name,
        "nodes": [n for _, n in nodes],
        "edges": [[index[u], index[v]] for u, v in sorted(papers.edges)
                  if u in index and v in index],
        "communities": [{"label": g.label, "size": len(g.members)} for g in groups],
        "tags": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])),
    }


def render_page(graph: nx.MultiDiGraph, groups: Sequence[Community], vault_name: str) -> str:
    """The HTML page of the paper graph."""
    data = json.dumps(page_data(graph, groups, vault_name), ensure_ascii=False,
                      separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a title holding "</script>" cannot end the block
    title = f"{vault_name}: paper graph".replace("&", "&amp;").replace("<", "&lt;")
    script = _asset("cytoscape.min.js").replace("</script", "<\\/script")
    values = {"TITLE": title, "DATA": data, "CYTOSCAPE": script}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("graph.html"))

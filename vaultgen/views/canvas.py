"""The paper graph as JSON Canvas 1.0 files that Obsidian opens (https://jsoncanvas.org).

Papers are file nodes in group nodes, one group per community; citations are arrows, and
related papers (a paper's ``related`` list) in the same community are plain grey lines. A vault
with more papers than fit one readable canvas gets an overview canvas (one node per community,
arrows labelled with the citations between them) and one canvas per community beside it.
Pure: the typed graph in, ``{vault-relative path: JSON text}`` out, the same bytes each time.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence

import networkx as nx

from ..render.names import safe_name
from .graph import Community, community_of, paper_graph
from .layout import Box, grid_columns, group_grid, pack

CARD_WIDTH, CARD_HEIGHT = 400, 120
CARD_GAP = 40
GROUP_PADDING = 60
GROUP_GAP = 200
MAX_NODES = 300  # papers on one canvas before it is split into an overview and parts
COLOURS = ("1", "2", "3", "4", "5", "6")  # the six preset colours of JSON Canvas
RELATED_COLOUR = "#a5abb3"  # lines between related papers: grey, beside the coloured groups


def canvas_id(*parts: str) -> str:
    """A stable 16-hex-digit id for a canvas element."""
    return hashlib.sha1("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def render_canvases(graph: nx.MultiDiGraph, groups: Sequence[Community], *,
                    name: str = "Paper graph", max_nodes: int = MAX_NODES) -> dict[str, str]:
    """Canvas files for the typed graph of a vault: ``{name}.canvas`` and, when the papers
    are more than ``max_nodes``, one canvas per community under ``{name}/``."""
    papers = paper_graph(graph)
    related = paper_graph(graph, "related")
    close = nx.compose(papers, related)  # what lays out a group: citations and related papers
    if len(papers) <= max_nodes:
        return {f"{name}.canvas": _dump(_paper_canvas(papers, related, close, groups))}
    parts = _split(groups, max_nodes)
    files: dict[str, str] = {}
    paths = []
    for number, group in enumerate(parts, start=1):
        path = f"{name}/{number:02d} {safe_name(group.label, 120)}.canvas"
        paths.append(path)
        files[path] = _dump(_paper_canvas(papers, related, close, [group]))
    files[f"{name}.canvas"] = _dump(_overview_canvas(papers, parts, paths))
    return files


def _split(groups: Sequence[Community], max_nodes: int) -> list[Community]:
    """Communities cut into date-ordered parts of at most ``max_nodes`` papers."""
    parts: list[Community] = []
    for group in groups:
        chunks = [group.members[i:i + max_nodes] for i in range(0, len(group.members),
                                                                  max_nodes)]
        for index, chunk in enumerate(chunks, start=1):
            label = group.label if len(chunks) == 1 else f"{group.label} ({index}/{len(chunks)})"
            parts.append(Community(len(parts), label, tuple(chunk)))
    return parts


def _paper_canvas(papers: nx.DiGraph, related: nx.DiGraph, close: nx.DiGraph,
                  groups: Sequence[Community]) -> dict[str, list]:
    """Papers in groups, citations as arrows, related papers of one group as grey lines;
    inside a group, papers linked in ``close`` are laid out close."""
    grids = []
    for group in groups:
        columns = grid_columns(len(group.members), CARD_WIDTH + CARD_GAP, CARD_HEIGHT + CARD_GAP)
        grids.append(group_grid(close, group.members, columns))
    sizes = [(g.columns * (CARD_WIDTH + CARD_GAP) - CARD_GAP + 2 * GROUP_PADDING,
              g.rows * (CARD_HEIGHT + CARD_GAP) - CARD_GAP + 2 * GROUP_PADDING) for g in grids]
    nodes: list[dict[str, object]] = []
    cards: list[dict[str, object]] = []
    placed: dict[str, str] = {}
    owner: dict[str, int] = {}
    for index, (group, grid, box) in enumerate(zip(groups, grids, pack(sizes, GROUP_GAP),
                                                   strict=True)):
        colour = COLOURS[index % len(COLOURS)]
        nodes.append({"id": canvas_id("group", group.label, str(index)), "type": "group",
                      **_geometry(box), "color": colour,
                      "label": f"{group.label} ({len(group.members)})"})
        for node in group.members:
            column, row = grid.cells[node]
            card = Box(box.x + GROUP_PADDING + column * (CARD_WIDTH + CARD_GAP),
                       box.y + GROUP_PADDING + row * (CARD_HEIGHT + CARD_GAP),
                       CARD_WIDTH, CARD_HEIGHT)
            placed[node] = canvas_id("file", node)
            owner[node] = index
            cards.append({"id": placed[node], "type": "file", "file": node, **_geometry(card),
                          "color": colour})
    citations = sorted((source, target) for source in placed
                       for target in papers.successors(source) if target in placed)
    edges: list[dict[str, object]] = [
        {"id": canvas_id("edge", source, target), "fromNode": placed[source],
         "toNode": placed[target], "toEnd": "arrow"} for source, target in citations]
    drawn = {frozenset(pair) for pair in citations}
    similar = sorted((paper, other) for paper in placed
                     for other in related.successors(paper) if other in placed)
    for source, target in similar:
        pair = frozenset((source, target))
        if owner[source] == owner[target] and pair not in drawn:
            drawn.add(pair)
            edges.append({"id": canvas_id("related", *sorted(pair)),
                          "fromNode": placed[source], "toNode": placed[target],
                          "toEnd": "none", "color": RELATED_COLOUR})
    return {"nodes": nodes + cards, "edges": edges}


def _overview_canvas(papers: nx.DiGraph, parts: Sequence[Community],
                     paths: Sequence[str]) -> dict[str, list]:
    """One file node per part (opening its canvas), sized by its papers, arrows between parts
    labelled with the citations they hold."""
    owner = community_of(parts)
    between = Counter((owner[u], owner[v]) for u, v in papers.edges
                      if u in owner and v in owner and owner[u] != owner[v])
    largest = max(len(p.members) for p in parts)
    sizes = []
    for part in parts:
        scale = (len(part.members) / largest) ** 0.5
        sizes.append((int(300 + 500 * scale), int(120 + 280 * scale)))
    nodes = []
    for part, path, box in zip(parts, paths, pack(sizes, GROUP_GAP), strict=True):
        nodes.append({"id": canvas_id("part", path), "type": "file", "file": path,
                      **_geometry(box), "color": COLOURS[part.number % len(COLOURS)]})
    edges = [{"id": canvas_id("between", paths[a], paths[b]),
              "fromNode": canvas_id("part", paths[a]), "toNode": canvas_id("part", paths[b]),
              "toEnd": "arrow", "label": f"{count} citation{'s' if count > 1 else ''}"}
             for (a, b), count in sorted(between.items())]
    return {"nodes": nodes, "edges": edges}


def _geometry(box: Box) -> dict[str, int]:
    return {"x": box.x, "y": box.y, "width": box.width, "height": box.height}


def _dump(canvas: dict[str, list]) -> str:
    return json.dumps(canvas, ensure_ascii=False, indent="\t") + "\n"

"""Where each paper goes on a canvas: groups of papers as blocks, papers on a grid.

Inside a group, the papers that cite each other are laid out by networkx's spring layout and
then snapped to grid cells by an optimal assignment (scipy's ``linear_sum_assignment``), so
nodes that are close in the graph are close on screen and no two overlap; papers with no
citation in the group follow in date order. Groups are packed in rows, largest first. All
coordinates are integers and the same vault gives the same layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.optimize import linear_sum_assignment

SPRING_LIMIT = 1500  # larger citation clusters are laid out in breadth-first order instead


@dataclass(frozen=True)
class Grid:
    """Cells of one group's papers: node → (column, row)."""

    cells: dict[str, tuple[int, int]]
    columns: int
    rows: int


@dataclass(frozen=True)
class Box:
    """A rectangle in layout units (integers)."""

    x: int
    y: int
    width: int
    height: int


def grid_columns(count: int, cell_width: int, cell_height: int) -> int:
    """Columns that make a block of ``count`` cells roughly square on screen."""
    return max(1, math.ceil(math.sqrt(count * cell_height / cell_width)))


def group_grid(graph: nx.DiGraph, members: Sequence[str], columns: int, *,
               seed: int = 0) -> Grid:
    """Grid cells for ``members`` (given in date order), citation clusters first."""
    linked = nx.Graph()
    member_set = set(members)
    for node in members:
        for neighbour in (*graph.successors(node), *graph.predecessors(node)):
            if neighbour in member_set and neighbour != node:
                linked.add_edge(node, neighbour)
    connected = [n for n in members if n in linked]
    isolated = [n for n in members if n not in linked]
    cells: dict[str, tuple[int, int]] = {}
    top_rows = math.ceil(len(connected) / columns)
    if connected:
        ordered = nx.Graph()
        ordered.add_nodes_from(connected)
        ordered.add_edges_from(sorted(tuple(sorted(e)) for e in linked.edges))
        cells.update(_snap(ordered, connected, columns, top_rows, seed))
    taken = set(cells.values())
    free = [(c, r) for r in range(top_rows) for c in range(columns) if (c, r) not in taken]
    free += [(c, r) for r in range(top_rows, top_rows + len(members)) for c in range(columns)]
    for node, cell in zip(isolated, free, strict=False):
        cells[node] = cell
    rows = max((r for _, r in cells.values()), default=-1) + 1
    return Grid(cells, columns, rows)


def _snap(graph: nx.Graph, nodes: list[str], columns: int, rows: int,
          seed: int) -> dict[str, tuple[int, int]]:
    """Spring layout of ``graph``, each node moved to its own cell of a columns×rows grid."""
    if len(nodes) > SPRING_LIMIT:
        order = [n for c in sorted(nx.connected_components(graph), key=lambda c: (-len(c),
                                   min(c))) for n in nx.bfs_tree(graph, min(c))]
        return {n: (i % columns, i // columns) for i, n in enumerate(order)}
    if len(nodes) == 1:
        return {nodes[0]: (0, 0)}
    pos = nx.spring_layout(graph, seed=seed)
    points = np.array([pos[n] for n in nodes], dtype=float)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    points = (points - low) / span * np.array([max(columns - 1, 0), max(rows - 1, 0)])
    cells = np.array([(c, r) for r in range(rows) for c in range(columns)], dtype=float)
    cost = ((points[:, None, :] - cells[None, :, :]) ** 2).sum(axis=2)
    chosen_rows, chosen_cells = linear_sum_assignment(cost)
    return {nodes[i]: (int(cells[j][0]), int(cells[j][1]))
            for i, j in zip(chosen_rows, chosen_cells, strict=True)}


def pack(sizes: Sequence[tuple[int, int]], gap: int) -> list[Box]:
    """Rows of boxes of the given (width, height), in order, about as wide as they are tall."""
    if not sizes:
        return []
    area = sum((w + gap) * (h + gap) for w, h in sizes)
    row_width = max(max(w for w, _ in sizes), int(math.sqrt(area) * 1.3))
    boxes: list[Box] = []
    x = y = row_height = 0
    for width, height in sizes:
        if x > 0 and x + width > row_width:
            x, y, row_height = 0, y + row_height + gap, 0
        boxes.append(Box(x, y, width, height))
        x += width + gap
        row_height = max(row_height, height)
    return boxes

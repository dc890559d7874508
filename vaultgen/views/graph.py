"""The paper graph of a vault: typed edges, communities, and the GraphML/GEXF/JSON exports.

Everything here is pure: it takes the link graph that ``check`` reads off a vault (nodes are
note paths with ``type``/``title``/``date``/``tags``/``arxiv``/``authors``, and the notes
their ``related`` property lists; edges are resolved links with the ``sections`` they stand
in) and returns new graphs or text.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from ..check.links import NAVIGATION_SECTIONS
from ..model import PAPER_TYPES

EDGE_TYPES = ("cites", "related", "tagged", "day", "link")
NODE_ATTRIBUTES = ("type", "title", "date", "tags", "arxiv", "authors")


def typed_graph(links: nx.DiGraph) -> nx.MultiDiGraph:
    """Every note, and one typed edge per relation, keyed by its type:

    - ``cites``: a paper to a paper it cites in its commentary (``Cited by`` lists, which
      point back, are not separate edges);
    - ``related``: a paper to a paper its ``related`` property lists, with the ``rank`` of
      the link in the list (1 the most similar) and the ``similarity`` that
      ``related_scores`` gives it, when it does; a paper it also cites has both edges;
    - ``tagged``: a paper to its tag hub; ``day``: a paper to the day it was posted (whichever
      of the two notes holds the link);
    - ``link``: any other link, such as the ones users write.
    """
    graph = nx.MultiDiGraph()
    related: dict[str, dict[str, dict[str, object]]] = {}
    for node in sorted(links.nodes):
        data = links.nodes[node]
        graph.add_node(node, **{key: data.get(key, [] if key in ("tags", "authors") else "")
                                for key in NODE_ATTRIBUTES})
        if data.get("type") in PAPER_TYPES and data.get("related"):
            related[node] = {target: _related_attributes(rank, score)
                             for target, rank, score in reversed(data["related"])}
    for source, target in sorted(links.edges):
        kind_from = links.nodes[source].get("type")
        kind_to = links.nodes[target].get("type")
        sections = links.edges[source, target].get("sections", set())
        similar = related.get(source, {}).get(target) if kind_to in PAPER_TYPES else None
        if similar is not None:
            graph.add_edge(source, target, key="related", type="related", **similar)
        edge = _typed_edge(source, target, kind_from, kind_to, sections)
        if edge is None or (similar is not None and edge[2] != "cites"):
            continue  # the related list's own link
        if not graph.has_edge(edge[0], edge[1], edge[2]):
            graph.add_edge(edge[0], edge[1], key=edge[2], type=edge[2])
    return graph


def _related_attributes(rank: int, score: float | None) -> dict[str, object]:
    return {"rank": rank} if score is None else {"rank": rank, "similarity": score}


def _typed_edge(source: str, target: str, kind_from: object, kind_to: object,
                sections: set[str]) -> tuple[str, str, str] | None:
    for hub in ("tag", "day"):
        kind = "tagged" if hub == "tag" else "day"
        if kind_from in PAPER_TYPES and kind_to == hub:
            return source, target, kind
        if kind_from == hub and kind_to in PAPER_TYPES:
            return target, source, kind
    if kind_from in PAPER_TYPES and kind_to in PAPER_TYPES:
        if sections - NAVIGATION_SECTIONS:
            return source, target, "cites"
        if "Cited by" in sections:
            return None  # the back link of a citation the citing paper holds
    return source, target, "link"


def paper_graph(graph: nx.MultiDiGraph, relation: str = "cites") -> nx.DiGraph:
    """Papers and cited papers, with the edges of one relation (``cites`` or ``related``)
    between them."""
    papers = [n for n, kind in graph.nodes(data="type") if kind in PAPER_TYPES]
    result = nx.DiGraph()
    result.add_nodes_from((n, graph.nodes[n]) for n in papers)
    result.add_edges_from((u, v, d) for u, v, d in graph.edges(data=True)
                          if d.get("type") == relation and u in result and v in result)
    return result


def citation_counts(papers: nx.DiGraph) -> dict[str, int]:
    """How many papers of the vault cite each paper."""
    return {node: papers.in_degree(node) for node in papers}


# --- Communities ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Community:
    """Papers that belong together, by shared tags and citations, with a label from its tags."""

    number: int
    label: str
    members: tuple[str, ...]  # sorted by date, then path


OTHER_LABEL = "other papers"
# How strongly each relation holds two notes together when communities are found.
COMMUNITY_WEIGHTS: Mapping[str, float] = {"cites": 2.0, "related": 1.0, "tagged": 1.0}


def communities(graph: nx.MultiDiGraph, *, seed: int = 0,
                min_size: int = 3) -> list[Community]:
    """Louvain communities of the papers, over citations, related papers and shared tags;
    largest first.

    Tag hubs take part in the clustering (papers sharing rare tags end up together) but are
    not members. Communities smaller than ``min_size`` are put together last, as "other
    papers". Deterministic for a given vault.
    """
    undirected = nx.Graph()
    for node, kind in sorted(graph.nodes(data="type")):
        if kind in PAPER_TYPES or kind == "tag":
            undirected.add_node(node)
    for source, target, kind in sorted(graph.edges(data="type")):
        if kind in COMMUNITY_WEIGHTS and source in undirected and target in undirected:
            weight = COMMUNITY_WEIGHTS[kind]
            if undirected.has_edge(source, target):  # a paper both cited and related
                weight += undirected.edges[source, target]["weight"]
            undirected.add_edge(source, target, weight=weight)
    if undirected.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(undirected, weight="weight", seed=seed)
    tag_totals = Counter(t for n in undirected for t in _tags(graph, n))
    groups = []
    for members in found:
        papers = [n for n in members if graph.nodes[n].get("type") in PAPER_TYPES]
        if papers:
            groups.append(sorted(papers, key=lambda n: (str(graph.nodes[n].get("date")), n)))
    groups.sort(key=lambda g: (-len(g), g[0]))
    small = [n for g in groups if len(g) < min_size for n in g]
    groups = [g for g in groups if len(g) >= min_size]
    result = [Community(i, _label(graph, members, tag_totals), tuple(members))
              for i, members in enumerate(groups)]
    if small:
        small.sort(key=lambda n: (str(graph.nodes[n].get("date")), n))
        result.append(Community(len(result), OTHER_LABEL, tuple(small)))
    return result


def _tags(graph: nx.MultiDiGraph, node: str) -> list[str]:
    tags = graph.nodes[node].get("tags") or []
    return [str(t) for t in tags]


def _label(graph: nx.MultiDiGraph, members: Iterable[str], totals: Counter[str]) -> str:
    """The two tags most typical of the members (frequent in them, rarer elsewhere)."""
    members = list(members)
    counts = Counter(t for n in members for t in _tags(graph, n))
    if not counts:
        title = str(graph.nodes[members[0]].get("title") or members[0])
        return f"{title[:40]} and {len(members) - 1} more" if len(members) > 1 else title[:40]
    ranked = sorted(counts, key=lambda t: (-counts[t] ** 2 / totals[t], t))
    return " · ".join(ranked[:2])


def community_of(groups: Iterable[Community]) -> dict[str, int]:
    """Node → number of its community."""
    return {node: group.number for group in groups for node in group.members}


# --- Exports ----------------------------------------------------------------------------------

def note_name(path: str) -> str:
    """The name Obsidian shows for a note: its file name without folder and ``.md``."""
    name = path.rpartition("/")[2]
    return name[:-3] if name.endswith(".md") else name


def _labelled(data: Mapping[str, object], node: str) -> dict[str, object]:
    """A node's attributes with a ``label`` (the note's name) when it has none: the label
    Gephi and Cytoscape show."""
    return {"label": note_name(node), **data}


def _flat(graph: nx.MultiDiGraph, *, edge_key: str = "type") -> nx.MultiDiGraph:
    """A labelled copy whose attributes GraphML and GEXF can hold: lists become ``;``-joined
    text, and the edge type is stored under ``edge_key``."""
    flat = nx.MultiDiGraph()
    for node, data in graph.nodes(data=True):
        flat.add_node(node, **{k: ";".join(v) if isinstance(v, list) else str(v)
                               for k, v in _labelled(data, node).items()})
    for source, target, key, data in graph.edges(keys=True, data=True):
        attributes = {edge_key: data["type"],
                      **{name: value for name, value in data.items() if name != "type"}}
        if edge_key != "type":
            attributes["label"] = data["type"]  # Gephi shows an edge's label
        flat.add_edge(source, target, key=key, **attributes)
    return flat


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """GraphML for Gephi, Cytoscape and yEd; nodes labelled by note name, list attributes
    joined with ``;``."""
    return "\n".join(nx.generate_graphml(_flat(graph), encoding="utf-8")) + "\n"


def to_gexf(graph: nx.MultiDiGraph) -> str:
    """GEXF 1.2 for Gephi; nodes labelled by note name (the node ids are paths), list
    attributes joined with ``;``. GEXF reserves an edge's ``type``
    (directed or not), so the edge type is its ``relation`` and its ``label``."""
    buffer = io.BytesIO()
    nx.write_gexf(_flat(graph, edge_key="relation"), buffer, encoding="utf-8")
    return buffer.getvalue().decode("utf-8")


def to_node_link_json(graph: nx.MultiDiGraph) -> str:
    """networkx node-link JSON (``nx.node_link_graph`` reads it back); nodes labelled by note
    name, lists kept."""
    data = nx.node_link_data(graph, edges="links")
    data["nodes"] = [_labelled(node, node["id"]) for node in data["nodes"]]
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


EXPORTS: Mapping[str, Callable[[nx.MultiDiGraph], str]] = {
    "graphml": to_graphml, "gexf": to_gexf, "json": to_node_link_json}

"""`vaultgen graph` and `vaultgen stats`: typed edges, communities, canvas, exports, stats."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner, Result

from vaultgen.check.links import check_files, check_vault
from vaultgen.cli import GRAPH_FORMATS, cli
from vaultgen.views.canvas import render_canvases
from vaultgen.views.graph import (
    communities,
    paper_graph,
    to_gexf,
    to_graphml,
    to_node_link_json,
    typed_graph,
)
from vaultgen.views.page import page_data, render_page
from vaultgen.views.stats import format_stats, main_tags, vault_stats

from .conftest import file_modes, umask


def paper(title: str, date: str, tags: list[str], cites: list[str] = (),  # type: ignore[assignment]
          cited_by: list[str] = (), kind: str = "paper",  # type: ignore[assignment]
          related: list[str] = (), scores: list[float] = ()) -> str:  # type: ignore[assignment]
    """A note shaped as vaultgen writes one; ``related``: the names its ``related`` property
    links to, with ``scores`` as its ``related_scores``."""
    front = [f"type: {kind}", f"title: {title}", f"date: {date}", "authors:", "- A. Author",
             "tags:", *(f"- {t}" for t in tags), f"arxiv: '2401.{abs(hash(title)) % 10000:05d}'"]
    if related:
        front += ["related:", *(f"- '[[{name}]]'" for name in related)]
    if scores:
        front += ["related_scores:", *(f"- {score}" for score in scores)]
    body = [f"# {title}", "", "## Commentary", "",
            "Builds on " + ", ".join(f"[[{c}]]" for c in cites) + "." if cites else "None.", ""]
    if kind == "paper":
        body += ["## Links", "", f"Posted [[{date}]] · " +
                 " ".join(f"[[{t} (tag)|#{t}]]" for t in tags), ""]
    if cited_by:
        body += ["## Cited by", "", *(f"- [[{c}]]" for c in cited_by), ""]
    return "---\n" + "\n".join(front) + "\n---\n" + "\n".join(body) + "\n"


def small_vault() -> dict[str, str]:
    texts = {
        "papers/A.md": paper("A", "2024-01-03", ["llm", "rl"], cites=["B", "C"]),
        "papers/B.md": paper("B", "2024-01-03", ["llm"], cited_by=["A"]),
        "cited/C.md": paper("C", "2023-06-01", [], cited_by=["A"], kind="cited"),
        "papers/D.md": paper("D", "2024-02-10", ["vision"]),
        "tags/llm (tag).md": "---\ntype: tag\n---\n- [[A]]\n- [[B]]\n",
        "tags/rl (tag).md": "---\ntype: tag\n---\n- [[A]]\n",
        "tags/vision (tag).md": "---\ntype: tag\n---\n- [[D]]\n",
        "days/2024-01-03.md": "---\ntype: day\n---\n- [[A]]\n- [[B]]\n",
        "days/2024-02-10.md": "---\ntype: day\n---\n- [[D]]\n",
        "My thoughts.md": "I liked [[A]] and [[D]].\n",
    }
    return texts


def test_edges_are_typed_once_per_relation() -> None:
    graph = typed_graph(check_files(small_vault()).graph)
    types = {(u, v): d["type"] for u, v, d in graph.edges(data=True)}
    assert types[("papers/A.md", "papers/B.md")] == "cites"
    assert types[("papers/A.md", "cited/C.md")] == "cites"
    assert ("papers/B.md", "papers/A.md") not in types  # "Cited by" is the same citation
    assert types[("papers/A.md", "tags/llm (tag).md")] == "tagged"
    assert ("tags/llm (tag).md", "papers/A.md") not in types
    assert types[("papers/D.md", "days/2024-02-10.md")] == "day"
    assert types[("My thoughts.md", "papers/A.md")] == "link"
    assert graph.nodes["papers/A.md"]["tags"] == ["llm", "rl"]
    assert graph.nodes["cited/C.md"]["date"] == "2023-06-01"


def related_vault() -> dict[str, str]:
    """The small vault, its papers with hand-written ``related`` lists (A cites B and C, and
    lists B among its related papers too)."""
    texts = small_vault()
    texts["papers/A.md"] = paper("A", "2024-01-03", ["llm", "rl"], cites=["B", "C"],
                                 related=["D", "B"], scores=[0.41, 0.38])
    texts["papers/B.md"] = paper("B", "2024-01-03", ["llm"], cited_by=["A"],
                                 related=["A", "B", "llm (tag)"])
    texts["papers/D.md"] = paper("D", "2024-02-10", ["vision"], related=["C"], scores=[0.2])
    return texts


def edge_table(graph: nx.MultiDiGraph) -> dict[tuple[str, str, str], dict]:
    return {(u, v, d["type"]): {k: x for k, x in d.items() if k != "type"}
            for u, v, d in graph.edges(data=True)}


def test_related_lists_are_edges_with_their_rank_and_similarity() -> None:
    graph = typed_graph(check_files(related_vault()).graph)
    edges = edge_table(graph)
    related = {key: value for key, value in edges.items() if key[2] == "related"}
    assert related == {
        ("papers/A.md", "papers/D.md", "related"): {"rank": 1, "similarity": 0.41},
        ("papers/A.md", "papers/B.md", "related"): {"rank": 2, "similarity": 0.38},
        ("papers/B.md", "papers/A.md", "related"): {"rank": 1},
        ("papers/D.md", "cited/C.md", "related"): {"rank": 1, "similarity": 0.2},
    }
    # A cites B as well: both edges. B's list names itself and a tag hub: neither is a paper
    # it is related to.
    assert ("papers/A.md", "papers/B.md", "cites") in edges
    assert ("papers/B.md", "tags/llm (tag).md", "tagged") in edges
    assert ("papers/D.md", "cited/C.md", "cites") not in edges
    assert paper_graph(graph).number_of_edges() == 2
    assert sorted(paper_graph(graph, "related").edges) == sorted((u, v) for u, v, _ in related)


def read_back(graph: nx.MultiDiGraph, folder: Path) -> Iterator[tuple[str, nx.Graph, str]]:
    """The graph written as GraphML and as GEXF and read back by networkx: (file name, graph
    read, the edge attribute naming the relation)."""
    for name, text, reader, key in (("g.graphml", to_graphml(graph), nx.read_graphml, "type"),
                                    ("g.gexf", to_gexf(graph), nx.read_gexf, "relation")):
        (folder / name).write_text(text, encoding="utf-8")
        yield name, reader(folder / name), key


def test_related_edges_in_graphml_gexf_and_json(tmp_path: Path) -> None:
    graph = typed_graph(check_files(related_vault()).graph)
    for name, back, key in read_back(graph, tmp_path):
        found = {(u, v, d[key]): (d.get("rank"), d.get("similarity"))
                 for u, v, d in back.edges(data=True)}
        assert found[("papers/A.md", "papers/D.md", "related")] == (1, 0.41), name
        assert found[("papers/A.md", "papers/B.md", "related")] == (2, 0.38), name
        assert found[("papers/A.md", "papers/B.md", "cites")] == (None, None), name
        assert found[("papers/B.md", "papers/A.md", "related")] == (1, None), name
        assert back.number_of_edges() == graph.number_of_edges()
    data = json.loads(to_node_link_json(graph))
    links = {(e["source"], e["target"], e["type"]): e for e in data["links"]}
    assert links[("papers/A.md", "papers/D.md", "related")]["rank"] == 1
    assert links[("papers/A.md", "papers/D.md", "related")]["similarity"] == 0.41
    back = nx.node_link_graph(data, edges="links")
    assert edge_table(back) == edge_table(graph)


def graph_of(texts: dict[str, str], tmp_path: Path, fmt: str, out: Path) -> Result:
    """``vaultgen graph -f FMT -o OUT`` of a vault under ``tmp_path`` holding ``texts``."""
    for path, text in texts.items():
        (tmp_path / "vault" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "vault" / path).write_text(text, encoding="utf-8")
    return CliRunner().invoke(cli, ["graph", str(tmp_path / "vault"), "-f", fmt, "-o",
                                    str(out)])


def test_graph_command_counts_and_writes_related_links(tmp_path: Path) -> None:
    out = tmp_path / "graph.json"
    result = graph_of(related_vault(), tmp_path, "json", out)
    assert result.exit_code == 0, result.output
    assert "4 papers, 2 citations, 4 related links;" in result.output
    links = json.loads(out.read_text(encoding="utf-8"))["links"]
    assert sorted((e["source"], e["target"], e["rank"]) for e in links
                  if e["type"] == "related") == [
        ("papers/A.md", "papers/B.md", 2), ("papers/A.md", "papers/D.md", 1),
        ("papers/B.md", "papers/A.md", 1), ("papers/D.md", "cited/C.md", 1)]


def many_papers(count: int, topics: int = 4) -> dict[str, str]:
    """``count`` papers in ``topics`` topics; each cites the one before it in its topic."""
    texts: dict[str, str] = {}
    for i in range(count):
        topic = f"topic{i % topics}"
        cites = [f"P{i - topics}"] if i >= topics else []
        texts[f"papers/P{i}.md"] = paper(f"P{i}", f"2024-{1 + i % 12:02d}-01", [topic, "all"],
                                         cites=cites)
    for t in range(topics):
        texts[f"tags/topic{t} (tag).md"] = "---\ntype: tag\n---\n" + "".join(
            f"- [[P{i}]]\n" for i in range(t, count, topics))
    return texts


def test_communities_follow_tags_and_citations() -> None:
    graph = typed_graph(check_files(many_papers(40)).graph)
    groups = communities(graph)
    assert len(groups) == 4
    for group in groups:
        topics = {graph.nodes[n]["tags"][0] for n in group.members}
        assert len(topics) == 1 and group.label.startswith(topics.pop())
    assert sorted(n for g in groups for n in g.members) == sorted(paper_graph(graph))


def canvas_problems(canvas: dict, vault_files: set[str]) -> list[str]:
    """What breaks the JSON Canvas 1.0 spec, or points nowhere, or overlaps."""
    problems = []
    ids = [n["id"] for n in canvas["nodes"]] + [e["id"] for e in canvas["edges"]]
    if len(ids) != len(set(ids)):
        problems.append("duplicate ids")
    node_ids = {n["id"] for n in canvas["nodes"]}
    for node in canvas["nodes"]:
        if node["type"] not in ("text", "file", "link", "group"):
            problems.append(f"bad type {node['type']}")
        if not all(isinstance(node[k], int) for k in ("x", "y", "width", "height")):
            problems.append(f"non-integer geometry in {node['id']}")
        if node["type"] == "file" and node["file"] not in vault_files:
            problems.append(f"file node to missing {node['file']}")
    for edge in canvas["edges"]:
        if edge["fromNode"] not in node_ids or edge["toNode"] not in node_ids:
            problems.append(f"edge {edge['id']} to a missing node")
    cards = [(n["x"], n["y"], n["x"] + n["width"], n["y"] + n["height"])
             for n in canvas["nodes"] if n["type"] == "file"]
    for a, b in itertools.combinations(cards, 2):
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
            problems.append(f"overlap {a} {b}")
    for group in (n for n in canvas["nodes"] if n["type"] == "group"):
        inside = [c for c in cards if group["x"] <= c[0] and c[2] <= group["x"] + group["width"]
                  and group["y"] <= c[1] and c[3] <= group["y"] + group["height"]]
        if not inside:
            problems.append(f"empty group {group['label']}")
    return problems


def test_canvas_obeys_the_spec_and_is_deterministic() -> None:
    texts = many_papers(40)
    graph = typed_graph(check_files(texts).graph)
    files = render_canvases(graph, communities(graph))
    assert list(files) == ["Paper graph.canvas"]
    canvas = json.loads(files["Paper graph.canvas"])
    assert canvas_problems(canvas, set(texts)) == []
    assert sum(n["type"] == "file" for n in canvas["nodes"]) == 40
    assert len(canvas["edges"]) == 36
    assert render_canvases(graph, communities(graph)) == files


def test_canvas_draws_related_papers_of_one_community_as_lines() -> None:
    texts = many_papers(40)
    for i in range(40):  # the paper it cites, two of its topic, one of another topic
        related = [f"P{j}" for j in (i - 4, i + 8, i - 8, i + 1) if 0 <= j < 40]
        texts[f"papers/P{i}.md"] = texts[f"papers/P{i}.md"].replace(
            "tags:", "related: [" + ", ".join(f"'[[{r}]]'" for r in related) + "]\ntags:")
    graph = typed_graph(check_files(texts).graph)
    groups = communities(graph)
    assert len(groups) == 4
    canvas = json.loads(render_canvases(graph, groups)["Paper graph.canvas"])
    assert canvas_problems(canvas, set(texts)) == []
    path_of = {n["id"]: n["file"] for n in canvas["nodes"] if n["type"] == "file"}
    topic = {n: graph.nodes[n]["tags"][0] for n in path_of.values()}
    arrows = [e for e in canvas["edges"] if e["toEnd"] == "arrow"]
    lines = [e for e in canvas["edges"] if e["toEnd"] == "none"]
    assert len(arrows) == 36  # the citations
    pairs = {frozenset((path_of[e["fromNode"]], path_of[e["toNode"]])) for e in lines}
    assert len(pairs) == len(lines)  # one line for a pair listing each other
    assert all(topic[a] == topic[b] for a, b in pairs)  # none across communities
    cited = {frozenset((path_of[e["fromNode"]], path_of[e["toNode"]])) for e in arrows}
    assert not pairs & cited  # a paper both cited and related: the arrow alone
    assert len(pairs) == 32 and all(e.get("color") for e in lines)


def test_a_large_vault_gets_an_overview_and_one_canvas_per_part() -> None:
    texts = many_papers(120)
    graph = typed_graph(check_files(texts).graph)
    files = render_canvases(graph, communities(graph), max_nodes=20)
    parts = sorted(p for p in files if p.startswith("Paper graph/"))
    assert len(parts) == 8  # four topics of 30 papers, two parts each
    overview = json.loads(files["Paper graph.canvas"])
    assert sorted(n["file"] for n in overview["nodes"]) == parts
    for path in parts:
        canvas = json.loads(files[path])
        assert canvas_problems(canvas, set(texts)) == []
        assert 0 < sum(n["type"] == "file" for n in canvas["nodes"]) <= 20
    # Every paper is on exactly one part.
    on_parts = [n["file"] for p in parts for n in json.loads(files[p])["nodes"]
                if n["type"] == "file"]
    assert sorted(on_parts) == sorted(p for p in texts if p.startswith("papers/"))


def test_exports_read_back_with_networkx(tmp_path: Path) -> None:
    graph = typed_graph(check_files(small_vault()).graph)
    for name, back, key in read_back(graph, tmp_path):
        assert sorted(back.nodes) == sorted(graph.nodes), name
        assert back.nodes["papers/A.md"]["tags"] == "llm;rl"
        assert back.nodes["papers/A.md"]["type"] == "paper"
        assert back.edges["papers/A.md", "papers/B.md"][key] == "cites"
        assert back.edges["papers/A.md", "tags/rl (tag).md"][key] == "tagged"
        assert back.number_of_edges() == graph.number_of_edges()
    back = nx.node_link_graph(json.loads(to_node_link_json(graph)), edges="links")
    assert back.nodes["papers/A.md"]["authors"] == ["A. Author"]
    assert dict(back.edges) == dict(graph.edges)


def test_stats_sum_up_the_vault() -> None:
    graph = typed_graph(check_files(small_vault()).graph)
    stats = vault_stats(graph)
    assert (stats.papers, stats.cited, stats.tags, stats.days, stats.citations) == (3, 1, 3, 2, 2)
    assert stats.per_month == (("2024-01", 2), ("2024-02", 1))
    assert stats.periods == ("2024-Q1",)
    assert [(t.tag, t.total) for t in stats.top_tags][:1] == [("llm", 2)]
    assert stats.most_cited[0][2] == 1
    assert (stats.components, stats.largest_component, stats.uncited_unciting) == (2, 3, 1)
    text = format_stats(stats)
    assert "2024-01       2" in text and "#llm" in text
    assert main_tags(graph, 1) == {"papers/A.md": "llm", "papers/B.md": "llm",
                                   "cited/C.md": "other", "papers/D.md": "other"}


def test_page_carries_its_data_and_script_inline() -> None:
    texts = small_vault()
    texts["papers/A.md"] = texts["papers/A.md"].replace("title: A", "title: A </script> & co")
    graph = typed_graph(check_files(texts).graph)
    page = render_page(graph, communities(graph), "My <vault>")
    assert "<title>My &lt;vault>: paper graph</title>" in page
    assert page.count("</script>") == 5  # data, three libraries, page script
    assert "https://" not in page.split("<script")[0].replace("https://arxiv.org", "")
    assert "<script src" not in page and "<link" not in page
    start = page.index('id="vault-data">') + len('id="vault-data">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert [n["title"] for n in data["nodes"]].count("A </script> & co") == 1
    assert data == json.loads(json.dumps(page_data(graph, communities(graph), "My <vault>")))
    positions = [(n["x"], n["y"]) for n in data["nodes"]]
    assert len(set(positions)) == len(positions)


def test_page_data_holds_related_links_and_thins_a_large_vault() -> None:
    texts = related_vault()
    graph = typed_graph(check_files(texts).graph)
    data = page_data(graph, communities(graph, min_size=1), "v")
    paths = [n["path"] for n in data["nodes"]]
    related = {(paths[s], paths[t], rank) for s, t, rank in data["related"]}
    assert related == {("papers/A.md", "papers/D.md", 1), ("papers/A.md", "papers/B.md", 2),
                       ("papers/B.md", "papers/A.md", 1), ("papers/D.md", "cited/C.md", 1)}
    assert (data["papers_in_vault"], data["citations_in_vault"]) == (4, 2)
    # Thinned to the two most linked: A (cites 2, lists 2, listed by 1), then B.
    thinned = page_data(graph, communities(graph, min_size=1), "v", max_shown=2)
    assert sorted(n["path"] for n in thinned["nodes"]) == ["papers/A.md", "papers/B.md"]
    assert [[thinned["nodes"][s]["path"], thinned["nodes"][t]["path"]]
            for s, t in thinned["edges"]] == [["papers/A.md", "papers/B.md"]]
    assert thinned["papers_in_vault"] == 4
    assert sum(c["size"] for c in thinned["communities"]) == 2


def test_the_page_of_a_small_vault_gives_each_community_its_own_colour(tmp_path: Path) -> None:
    texts = {f"papers/P{i}.md": paper(f"P{i}", "2024-01-02", [f"t{i % 4}"]) for i in range(8)}
    texts.update({f"tags/t{t} (tag).md": "---\ntype: tag\n---\n" + "".join(
        f"- [[P{i}]]\n" for i in range(t, 8, 4)) for t in range(4)})
    out = tmp_path / "page.html"
    result = graph_of(texts, tmp_path, "html", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    start = page.index('id="vault-data">') + len('id="vault-data">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert [(c["size"], c["other"]) for c in data["communities"]] == [(2, False)] * 4


@pytest.fixture
def vault(tmp_path: Path, data: Path) -> Path:
    target = tmp_path / "vault"
    shutil.copytree(data / "golden" / "basic" / "expected", target)
    return target


def test_graph_command_writes_each_format(vault: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["graph", str(vault)])
    assert result.exit_code == 0, result.output
    canvas = json.loads((vault / "Paper graph.canvas").read_text(encoding="utf-8"))
    files = {p.relative_to(vault).as_posix() for p in vault.rglob("*.md")}
    assert canvas_problems(canvas, files) == []
    assert check_vault(vault).errors == []
    for fmt in ("html", "graphml", "gexf", "json"):
        out = vault.parent / f"out.{fmt}"
        result = runner.invoke(cli, ["graph", str(vault), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    default = runner.invoke(cli, ["graph", str(vault), "-f", "json"])
    assert default.exit_code == 0 and (vault.parent / "vault-graph.json").exists()


def test_graph_keeps_an_edited_canvas_unless_forced(vault: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["graph", str(vault)]).exit_code == 0
    canvas = vault / "Paper graph.canvas"
    edited = canvas.read_text(encoding="utf-8").replace('"x": ', '"x": 1', 1)
    canvas.write_text(edited, encoding="utf-8")
    again = runner.invoke(cli, ["graph", str(vault)])
    assert again.exit_code == 0 and "kept" in again.output
    assert canvas.read_text(encoding="utf-8") == edited
    forced = runner.invoke(cli, ["graph", str(vault), "--force"])
    assert forced.exit_code == 0
    assert canvas.read_text(encoding="utf-8") != edited
    backups = list((vault / ".vaultgen" / "backup").rglob("Paper graph.canvas"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [edited]


def test_graph_refuses_a_canvas_outside_the_vault(vault: Path) -> None:
    result = CliRunner().invoke(cli, ["graph", str(vault), "-o", str(vault.parent / "x.canvas")])
    assert result.exit_code == 2 and "inside the vault" in result.output


def test_stats_command_prints_tables_and_plots(vault: Path) -> None:
    plot = vault.parent / "plot.png"
    result = CliRunner().invoke(cli, ["stats", str(vault), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "Papers per month" in result.output and "Top tags" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    as_json = CliRunner().invoke(cli, ["stats", str(vault), "--json"])
    assert json.loads(as_json.output)["papers"] == 3


def test_stats_of_a_vault_without_papers(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hello [[b]]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", str(tmp_path), "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 1 and "nothing to plot" in result.output
    assert "0 papers" in result.output and not (tmp_path / "p.png").exists()


def test_gexf_graphml_and_json_nodes_are_labelled_by_note_name(tmp_path: Path) -> None:
    graph = typed_graph(check_files(small_vault()).graph)
    names = {"papers/A.md": "A", "cited/C.md": "C", "tags/llm (tag).md": "llm (tag)",
             "days/2024-01-03.md": "2024-01-03", "My thoughts.md": "My thoughts"}
    (tmp_path / "g.gexf").write_text(to_gexf(graph), encoding="utf-8")
    (tmp_path / "g.graphml").write_text(to_graphml(graph), encoding="utf-8")
    gexf = nx.read_gexf(tmp_path / "g.gexf")
    graphml = nx.read_graphml(tmp_path / "g.graphml")
    back = nx.node_link_graph(json.loads(to_node_link_json(graph)), edges="links")
    for node, name in names.items():
        assert gexf.nodes[node]["label"] == name
        assert graphml.nodes[node]["label"] == name
        assert back.nodes[node]["label"] == name
    assert gexf.edges["papers/A.md", "papers/B.md"]["label"] == "cites"


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_graph_outputs_have_the_mode_of_a_new_file(vault: Path, mask: int) -> None:
    runner = CliRunner()
    elsewhere = vault.parent / "elsewhere"
    before = set(file_modes(vault.parent))
    with umask(mask):
        for fmt in GRAPH_FORMATS:
            for args in ([], ["-o", str(elsewhere / f"out.{fmt}")]):
                if fmt == "canvas" and args:
                    continue
                result = runner.invoke(cli, ["graph", str(vault), "-f", fmt, *args])
                assert result.exit_code == 0, result.output
        canvas = vault / "Paper graph.canvas"
        canvas.write_text(canvas.read_text(encoding="utf-8").replace('"x": ', '"x": 1', 1),
                          encoding="utf-8")
        forced = runner.invoke(cli, ["graph", str(vault), "--force"])  # a backup
        assert forced.exit_code == 0, forced.output
    made = {p: m for p, m in file_modes(vault.parent).items() if p not in before}
    made.pop("vault/Paper graph.canvas")  # written by the test, then replaced
    assert {"vault-graph.html", "vault-graph.graphml", "vault-graph.gexf", "vault-graph.json",
            "elsewhere/out.html"} <= set(made)
    assert any(p.startswith("vault/.vaultgen/backup/") for p in made)
    assert {p: oct(m) for p, m in made.items() if m != 0o666 & ~mask} == {}


def test_graph_outputs_it_replaces_keep_their_mode(vault: Path) -> None:
    runner = CliRunner()
    page = vault.parent / "page.html"
    canvas = vault / "Paper graph.canvas"
    outputs = ([], ["-f", "html", "-o", str(page)])
    with umask(0o022):
        for args in outputs:
            assert runner.invoke(cli, ["graph", str(vault), *args]).exit_code == 0
        canvas.chmod(0o664)
        page.chmod(0o600)
        before = canvas.read_bytes(), page.read_bytes()
        (vault / "papers" / "New.md").write_text(
            paper("New", "2025-05-03", ["rl"], cites=["μP"]), encoding="utf-8")
        for args in outputs:
            result = runner.invoke(cli, ["graph", str(vault), *args])
            assert result.exit_code == 0, result.output
    assert canvas.read_bytes() != before[0] and page.read_bytes() != before[1]
    assert (oct(stat.S_IMODE(canvas.stat().st_mode)), oct(stat.S_IMODE(page.stat().st_mode))) \
        == (oct(0o664), oct(0o600))


def vault_state(vault: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Every file and folder of the vault: its mode, size, mtime and (files) bytes."""
    state = {}
    for path in sorted([vault, *vault.rglob("*")]):
        found = path.lstat()
        state[path.relative_to(vault).as_posix()] = (
            found.st_mode, found.st_size, found.st_mtime_ns,
            path.read_bytes() if path.is_file() else b"")
    return state


@pytest.mark.parametrize("fmt", ["html", "graphml", "gexf", "json"])
def test_graph_written_elsewhere_touches_nothing_in_the_vault(vault: Path, fmt: str) -> None:
    before = vault_state(vault)
    out = vault.parent / "out" / f"graph.{fmt}"
    for _ in range(2):  # written, then written again
        result = CliRunner().invoke(cli, ["graph", str(vault), "-f", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert vault_state(vault) == before
    assert out.stat().st_size > 0


def test_graph_replaces_a_file_named_with_o_outside_the_vault(vault: Path) -> None:
    out = vault.parent / "graph.json"
    runner = CliRunner()
    assert runner.invoke(cli, ["graph", str(vault), "-f", "json", "-o", str(out)]).exit_code == 0
    out.write_text("edited\n", encoding="utf-8")
    again = runner.invoke(cli, ["graph", str(vault), "-f", "json", "-o", str(out)])
    assert again.exit_code == 0, again.output
    assert json.loads(out.read_text(encoding="utf-8"))["nodes"]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are its owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="vaultgen-test-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def make_read_only(folder: Path) -> None:
    for path in sorted([folder, *folder.rglob("*")], reverse=True):
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


def invoke_showing_tracebacks(args: list[str]) -> tuple[int, str]:
    """A command's exit code and output, with the traceback of an exception it did not
    catch."""
    result = CliRunner().invoke(cli, args)
    output = result.output
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(*result.exc_info))
    return result.exit_code, output


def load_what_commands_import() -> None:
    """Import every module the commands import as they run, and draw a small graph in every
    format (which imports what networkx's writers need)."""
    import importlib

    for module in ("views.canvas", "check.links", "views.graph", "views.outputs",
                   "views.stats", "views.page", "write", "state"):
        importlib.import_module(f"vaultgen.{module}")
    graph = typed_graph(check_files(small_vault()).graph)
    for export in (to_gexf, to_graphml, to_node_link_json):
        export(graph)
    render_page(graph, communities(graph), "warm-up")
    invoke_showing_tracebacks(["graph", "--help"])


def invoke_without_rights(args: list[str]) -> tuple[int, str]:
    """Run a command as a user whom permission bits bind: as it is when not root; as root
    (whom they do not bind), in a child process that becomes ``nobody`` first."""
    if os.geteuid() != 0:
        return invoke_showing_tracebacks(args)
    import pwd

    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's coverage is not collected)
        try:
            os.close(read_end)
            load_what_commands_import()  # the interpreter's folder may be root's alone
            try:
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            except OSError as err:
                os.write(write_end, json.dumps([None, str(err)]).encode())
                raise
            code, output = invoke_showing_tracebacks(args)
            os.write(write_end, json.dumps([code, output]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(child, 0)
    assert answer, "the child process gave no answer"
    code, output = json.loads(answer)
    if code is None:
        pytest.skip(f"root here cannot become another user: {output}")
    return code, output


def test_graph_of_a_read_only_vault_written_elsewhere(shared_tmp: Path, data: Path) -> None:
    vault = shared_tmp / "vault"
    shutil.copytree(data / "golden" / "basic" / "expected", vault)
    assert CliRunner().invoke(cli, ["graph", str(vault)]).exit_code == 0  # the canvas
    out = shared_tmp / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    make_read_only(vault)
    before = vault_state(vault)
    code, output = invoke_without_rights(["graph", str(vault)])  # the canvas, up to date
    assert code == 0 and "unchanged 1" in output, output
    for fmt in ("html", "gexf"):
        code, output = invoke_without_rights(
            ["graph", str(vault), "-f", fmt, "-o", str(out / f"x.{fmt}")])
        assert code == 0, output
        assert (out / f"x.{fmt}").stat().st_size > 0
    assert vault_state(vault) == before


def test_graph_of_a_read_only_vault_into_it_fails_in_one_line(shared_tmp: Path,
                                                              data: Path) -> None:
    vault = shared_tmp / "vault"
    shutil.copytree(data / "golden" / "basic" / "expected", vault)
    make_read_only(vault)
    before = vault_state(vault)
    code, output = invoke_without_rights(["graph", str(vault)])
    assert code == 1, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert "Paper graph.canvas" in output and "ermission denied" in output
    assert vault_state(vault) == before


@pytest.mark.parametrize("command", [["graph"], ["graph", "-f", "json", "-o", "OUT"],
                                     ["stats"]])
def test_graph_and_stats_refuse_a_folder_that_is_not_a_vault(tmp_path: Path,
                                                              command: list[str]) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "readme.txt").write_text("not a note\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.csv").write_text("a,b\n", encoding="utf-8")
    out = tmp_path / "out.json"
    args = [str(out) if arg == "OUT" else arg for arg in command]
    result = CliRunner().invoke(cli, [args[0], str(folder), *args[1:]])
    assert result.exit_code == 1, result.output
    assert "not an Obsidian vault" in result.output and str(folder) in result.output
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == \
        ["readme.txt", "sub", "sub/data.csv"]
    assert not out.exists()


@pytest.mark.parametrize("marker", [".obsidian", ".vaultgen", "notes/first.md"])
def test_graph_takes_a_folder_with_obsidian_settings_or_notes_as_a_vault(
        tmp_path: Path, marker: str) -> None:
    folder = tmp_path / "v"
    (folder / marker).parent.mkdir(parents=True, exist_ok=True)
    if marker.endswith(".md"):
        (folder / marker).write_text("A note.\n", encoding="utf-8")
    else:
        (folder / marker).mkdir()
    result = CliRunner().invoke(cli, ["graph", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "Paper graph.canvas").exists()


def test_stats_plot_that_cannot_be_written_fails_in_one_line(vault: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", str(vault), "--plot",
                                      str(vault / "Index.md" / "plot.png")])
    assert result.exit_code == 1 and result.exception is not None
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.strip().splitlines() == [
        f"Error: {vault / 'Index.md' / 'plot.png'}: cannot write: File exists"]

"""What arXiv says of a paper beyond its title and authors reaches the paper's note."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from vaultgen.check.notes import read_frontmatter
from vaultgen.cli import cli

from .arxiv_server import Catalogue, MirrorServer

POST = """2025년 5월 1일
GaLore 2: Large-Scale LLM Pre-Training by Gradient Low-Rank Projection
(DiJia Su, Andrew Gu)
We scale GaLore.
갈로어 2.
GaLore again.
#efficiency
"""
RECORD: dict[str, object] = {
          "id": "2504.20437",
          "title": "GaLore 2: Large-Scale LLM Pre-Training by Gradient Low-Rank Projection",
          "authors": ["DiJia Su", "Andrew Gu"],
          "summary": "We scale GaLore.", "published": "2025-04-29", "updated": "2025-04-29",
          "primary_category": "cs.LG", "categories": ["cs.LG"], "version": 1,
          "doi": "10.1000/galore.2", "journal": "Proceedings of a Conference 2025, 1-10"}


def build_with(record: dict[str, object], tmp_path: Path) -> Path:
    """Build the post with an arXiv that knows ``record``; the posts' folder."""
    posts = tmp_path / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text(POST, encoding="utf-8")
    server = MirrorServer(Catalogue([record])).start()
    try:
        result = CliRunner().invoke(cli, ["build", str(posts), "-o", str(tmp_path / "vault"),
                                          "--arxiv-url", server.base_url, "--arxiv-delay", "0"])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    return posts


def test_doi_and_journal_reference_are_properties_of_the_paper(tmp_path: Path) -> None:
    posts = build_with(RECORD, tmp_path)
    note = (tmp_path / "vault" / "papers" / "GaLore 2.md").read_text(encoding="utf-8")
    properties = read_frontmatter(note).properties or {}
    assert properties["doi"] == "10.1000/galore.2"
    assert properties["journal"] == "Proceedings of a Conference 2025, 1-10"
    cached = json.loads((posts / "arxiv-cache.json").read_text(encoding="utf-8"))
    assert cached["records"]["2504.20437"]["doi"] == "10.1000/galore.2"


def test_a_record_without_them_is_cached_as_before(tmp_path: Path) -> None:
    posts = build_with({k: v for k, v in RECORD.items() if k not in ("doi", "journal")},
                       tmp_path)
    line = next(line for line in (posts / "arxiv-cache.json").read_text().splitlines()
                if "2504.20437" in line and '"title"' in line)
    assert '"doi"' not in line and '"journal"' not in line
    note = (tmp_path / "vault" / "papers" / "GaLore 2.md").read_text(encoding="utf-8")
    assert "doi:" not in note and "journal:" not in note

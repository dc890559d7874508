"""``Papers.base``: the papers of the vault as tables, in Obsidian's Bases syntax (YAML with
``filters``, ``formulas``, ``properties`` and ``views``).

Bases groups a list property by the whole list (papers tagged ``llm, rl`` and ``rl, llm`` fall
into two groups), so the view by tag groups papers by their first tag, the one their post
gives first, and shows all their tags; a tag's hub note lists every paper with it.
"""

from __future__ import annotations

import yaml

BASE_PATH = "Papers.base"

_PAPERS = 'type == "paper"'


def _newest_first() -> list[dict[str, str]]:
    return [{"property": "date", "direction": "DESC"}]


def _most_cited_first() -> list[dict[str, str]]:
    return [{"property": "cited_by_count", "direction": "DESC"},
            {"property": "file.name", "direction": "ASC"}]


PAPERS_BASE: dict[str, object] = {
    "filters": {"or": [_PAPERS, 'type == "cited"']},
    "formulas": {
        "main_tag": 'if(tags.isEmpty(), "(no tag)", list(tags).slice(0, 1).join(""))',
    },
    "properties": {
        "file.name": {"displayName": "Paper"},
        "note.arxiv": {"displayName": "arXiv"},
        "note.cited_by_count": {"displayName": "Cited by"},
        "formula.main_tag": {"displayName": "First tag"},
    },
    "views": [
        {"type": "table", "name": "All papers", "filters": _PAPERS,
         "order": ["file.name", "date", "tags", "authors", "arxiv", "citekey"],
         "sort": _newest_first()},
        {"type": "table", "name": "By tag", "filters": _PAPERS,
         "groupBy": {"property": "formula.main_tag", "direction": "ASC"},
         "order": ["file.name", "date", "tags", "authors", "arxiv"], "sort": _newest_first()},
        {"type": "table", "name": "Without an arXiv id",
         "filters": {"and": [_PAPERS, "arxiv.isEmpty()"]},
         "order": ["file.name", "date", "tags", "authors", "source"], "sort": _newest_first()},
        {"type": "table", "name": "Only cited", "filters": 'type == "cited"',
         "order": ["file.name", "cited_by_count", "published", "authors", "arxiv"],
         "sort": _most_cited_first()},
        {"type": "table", "name": "Most cited", "filters": "cited_by_count > 0",
         "order": ["file.name", "cited_by_count", "type", "date", "published", "tags"],
         "sort": _most_cited_first(), "limit": 100},
    ],
}


def papers_base() -> str:
    """The text of ``Papers.base``."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # (libyaml's: the same text)
    return yaml.dump(PAPERS_BASE, Dumper=dumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False)

"""What the benchmarks share: where the real corpus is, its truth, and its vault."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "../shared/corpus"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # (the benches serve arXiv answers with tests/arxiv_server)


def corpus_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with ``--corpus`` (default: ``../shared/corpus``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    return parser


def corpus_vault(corpus: Path, folder: Path, posts: Path | None = None,
                 related: int | None = None) -> None:
    """Build the vault of the whole corpus (or of ``posts`` made from it) into ``folder``,
    from a local arXiv mirror."""
    from tests.arxiv_server import Catalogue, MirrorServer, load_records
    from vaultgen.arxiv.client import ArxivCache, ArxivSource
    from vaultgen.build import build_vault

    server = MirrorServer(Catalogue(load_records(corpus / "arxiv-metadata.jsonl"))).start()
    try:
        source = ArxivSource(ArxivCache(None), base_url=server.base_url, delay=0)
        build_vault([posts or corpus / "digests"], folder, source=source, related=related)
    finally:
        server.stop()


def load_truth(corpus: Path) -> list[dict]:
    """The entries of ``truth.jsonl``, in digest order."""
    with (corpus / "truth.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]

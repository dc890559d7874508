"""What the benchmarks share: where the real corpus is, its truth, and its vault."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "../shared/corpus"


def corpus_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with ``--corpus`` (default: ``../shared/corpus``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    return parser


def corpus_vault(corpus: Path, folder: Path) -> None:
    """Build the vault of the whole corpus into ``folder``, from a local arXiv mirror."""
    from tests.arxiv_server import Catalogue, MirrorServer, load_records
    from vaultgen.arxiv.client import ArxivCache, ArxivSource
    from vaultgen.build import build_vault

    server = MirrorServer(Catalogue(load_records(corpus / "arxiv-metadata.jsonl"))).start()
    try:
        source = ArxivSource(ArxivCache(None), base_url=server.base_url, delay=0)
        build_vault([corpus / "digests"], folder, source=source)
    finally:
        server.stop()


def load_truth(corpus: Path) -> list[dict]:
    """The entries of ``truth.jsonl``, in digest order."""
    with (corpus / "truth.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]

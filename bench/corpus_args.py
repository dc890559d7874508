"""The command-line argument every benchmark shares: where the real corpus is."""

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


def load_truth(corpus: Path) -> list[dict]:
    """The entries of ``truth.jsonl``, in digest order."""
    with (corpus / "truth.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]

"""arXiv resolution on the real corpus: precision, recall, requests per entry, cross-links.

    python bench/arxiv_accuracy.py [--corpus ../shared/corpus]

Serves ``arxiv-metadata.jsonl`` from a local arXiv-compatible server (127.0.0.1), builds the
vault of ``digests/`` with the real ``arxiv`` package talking to it (no delay, fresh cache),
and compares with ``truth.jsonl``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from corpus_args import corpus_parser, load_truth

from tests.arxiv_server import Catalogue, MirrorServer, load_records
from vaultgen.arxiv.client import ArxivCache, ArxivSource
from vaultgen.build import build_vault
from vaultgen.render.notes import settle_names


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    truth = load_truth(args.corpus)
    records = load_records(args.corpus / "arxiv-metadata.jsonl")
    known = {r["id"] for r in records}
    server = MirrorServer(Catalogue(records)).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source = ArxivSource(ArxivCache.load(Path(tmp) / "cache.json"),
                                 base_url=server.base_url, delay=0)
            result = build_vault([args.corpus / "digests"], Path(tmp) / "vault", source=source,
                                 keep_notes=True)
            requests = len(server.requests)
    finally:
        server.stop()
    library = result.library
    context = settle_names(library)
    by_title = {}
    for paper, name in context.paper_items():
        for entry in paper.entries:
            by_title[(entry.date.isoformat(), entry.title)] = (paper, name)
    notes = {n.path: n.text for n in result.notes}
    right = wrong = missed = 0
    wrong_examples = []
    links_expected = links_found = 0
    for record in truth:
        paper, name = by_title[(record["date"], record["title"])]
        got = paper.arxiv_id
        if got is not None and got == record["arxiv_id"]:
            right += 1
        elif got is not None:
            wrong += 1
            wrong_examples.append(f"{record['title']}: {got} != {record['arxiv_id']}")
        elif record["arxiv_id"]:
            missed += 1
        text = notes[f"papers/{name}.md"]
        for cited in record["crossref_ids"]:
            if cited not in known:
                continue  # no note for it in the source vault either
            links_expected += 1
            target = context.id_targets.get(cited)
            target_path = f"papers/{target}.md" if f"papers/{target}.md" in notes \
                else f"cited/{target}.md"
            if target and f"[[{target}|{cited}]]" in text and \
                    f"arxiv: '{cited}'" in notes.get(target_path, ""):
                links_found += 1
    with_id = sum(1 for r in truth if r["arxiv_id"])
    precision = right / (right + wrong) if right + wrong else 1.0
    print(f"entries: {len(truth)}, with an arXiv id: {with_id}")
    print(f"precision of entry ids: {right}/{right + wrong} = {precision:.2%} "
          f"({wrong} wrong)")
    print(f"recall: {right}/{with_id} = {right / with_id:.2%} ({missed} unresolved)")
    print(f"requests: {requests} for {len(truth)} entries = {requests / len(truth):.4f} "
          "per entry")
    print(f"cross-reference links: {links_found}/{links_expected} crossref_ids with a note "
          "became wiki-links to that note")
    for example in wrong_examples[:10]:
        print(f"  wrong: {example}")
    ok = wrong == 0 and right / with_id >= 0.99 and requests / len(truth) <= 0.04 and \
        links_found == links_expected
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

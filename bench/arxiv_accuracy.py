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
from vaultgen.parse.inputs import read_posts


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    truth = load_truth(args.corpus)
    records = load_records(args.corpus / "arxiv-metadata.jsonl")
    known = {r["id"] for r in records}
    server = MirrorServer(Catalogue(records)).start()
    digests = args.corpus / "digests"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source = ArxivSource(ArxivCache.load(Path(tmp) / "cache.json"),
                                 base_url=server.base_url, delay=0)
            result = build_vault([digests], Path(tmp) / "vault", source=source,
                                 keep_notes=True)
            requests = len(server.requests)
    finally:
        server.stop()
    notes = {n.path: n for n in result.notes}
    # Each entry's paper note, by the entry's place in the posts (the note's ``source``).
    note_at = {place: note for note in notes.values() if note.kind == "paper"
               for place in (note.properties or {}).get("source", [])}
    place_of = {(e.date.isoformat(), e.title): str(e.source)
                for e in read_posts([digests]).entries}
    # The note each arXiv id links to: its paper's note, or the note of a paper only cited.
    note_of_id = {str(note.properties["arxiv"]): note for note in notes.values()
                  if note.kind in ("paper", "cited") and (note.properties or {}).get("arxiv")}
    right = wrong = missed = 0
    wrong_examples = []
    links_expected = links_found = 0
    for record in truth:
        note = note_at[place_of[(record["date"], record["title"])]]
        got = (note.properties or {}).get("arxiv")
        if got is not None and got == record["arxiv_id"]:
            right += 1
        elif got is not None:
            wrong += 1
            wrong_examples.append(f"{record['title']}: {got} != {record['arxiv_id']}")
        elif record["arxiv_id"]:
            missed += 1
        for cited in record["crossref_ids"]:
            if cited not in known:
                continue  # no note for it in the source vault either
            links_expected += 1
            target = note_of_id.get(cited)
            if target is not None and \
                    f"[[{Path(target.path).stem}|{cited}]]" in note.text:
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

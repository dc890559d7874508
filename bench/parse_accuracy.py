"""Parser accuracy on the real corpus: every entry, every field, against truth.jsonl.

    python bench/parse_accuracy.py [--corpus ../shared/corpus]

Both variants (``digests/`` and ``digests-blankline/``) are parsed file by file; entries are
matched to the truth in digest order. Prints, per variant, entries found and fields equal.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from corpus_args import corpus_parser, load_truth

from vaultgen.parse.posts import parse_post

FIELDS = ("date", "title", "authors", "abstract", "comment_ko", "comment_en", "tags", "cites")


def entry_fields(entry) -> dict:
    return {
        "date": entry.date.isoformat(), "title": entry.title, "authors": list(entry.authors),
        "abstract": entry.abstract, "comment_ko": entry.comment_ko,
        "comment_en": entry.comment_en, "tags": list(entry.tags), "cites": list(entry.cites),
    }


def truth_fields(record: dict) -> dict:
    fields = {key: record[key] for key in FIELDS if key != "cites"}
    fields["cites"] = record["crossref_ids"]
    fields["authors"] = truth_authors(record["authors"])
    return fields


def truth_authors(authors: list[str]) -> list[str]:
    """The truth's author names as the parser gives them: ``truth.jsonl`` keeps the list's
    text as the note wrote it, a final "and" too ("…, Pradeep Ramani, and Tri Dao" gives
    "and Tri Dao"), which the parser drops as it does in "A, B, and C"."""
    if authors and authors[-1].startswith("and "):
        return [*authors[:-1], authors[-1].removeprefix("and ")]
    return authors


def measure(corpus: Path, variant: str, truth: list[dict]) -> dict:
    by_file: dict[str, list[dict]] = {}
    for record in truth:
        by_file.setdefault(Path(record["digest_file"]).name, []).append(record)
    found = exact = warnings = 0
    wrong: Counter[str] = Counter()
    examples: list[str] = []
    for path in sorted((corpus / variant).glob("*.txt")):
        result = parse_post(path.read_text(encoding="utf-8"), f"{variant}/{path.name}")
        warnings += len(result.diagnostics)
        expected = by_file.get(path.name, [])
        found += min(len(result.entries), len(expected))
        if len(result.entries) != len(expected):
            examples.append(f"{path.name}: {len(result.entries)} entries, truth {len(expected)}")
        for entry, record in zip(result.entries, expected, strict=False):
            got, want = entry_fields(entry), truth_fields(record)
            bad = [key for key in FIELDS if got[key] != want[key]]
            wrong.update(bad)
            if not bad:
                exact += 1
            elif len(examples) < 10:
                examples.append(f"{entry.source}: {bad[0]}: {str(got[bad[0]])[:90]!r} "
                                f"!= {str(want[bad[0]])[:90]!r}")
    return {"variant": variant, "truth": len(truth), "found": found, "exact": exact,
            "warnings": warnings, "wrong_fields": dict(wrong), "examples": examples}


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    truth = load_truth(args.corpus)
    ok = True
    for variant in ("digests", "digests-blankline"):
        report = measure(args.corpus, variant, truth)
        print(f"{variant}: {report['found']}/{report['truth']} entries found, "
              f"{report['exact']}/{report['truth']} with every field exact, "
              f"{report['warnings']} warnings")
        if report["wrong_fields"]:
            print(f"  fields wrong: {report['wrong_fields']}")
        for example in report["examples"]:
            print(f"  {example}")
        ok = ok and report["exact"] == report["truth"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Related papers against the citations of the real corpus: recall@k.

    python bench/related.py [--corpus ../shared/corpus] [--k 5] [--tune] [--vault DIR]

By default the posts of ``digests/``, with every arXiv link and ``arXiv:ID`` taken out of
them, are built into a vault (``vaultgen build --related K``, arXiv answered by a local mirror
of ``arxiv-metadata.jsonl``), and the lists are read from its paper notes.

Every post of ``digests/`` is parsed; each entry is a paper, named by its arXiv id (by its
title when it has none), with every arXiv link and ``arXiv:ID`` taken out of its commentary.
A citation counts when the cited paper is itself posted; recall@k is the share of those whose
cited paper is in the citing paper's list. The citing papers fall in two halves by a hash of
their name: ``tune`` (where ``--tune`` chooses the settings) and ``held-out`` (reported, never
looked at when choosing). Printed for each half and both: plain TF-IDF (scikit-learn's words,
English stop words, sublinear tf, over title, abstract and both commentaries), and
``vaultgen.related`` with its default settings (or the lists of a built vault's paper notes,
``--vault``: their ``related`` property).
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from corpus_args import corpus_parser, load_truth

from vaultgen.parse.arxiv_ids import ARXIV_REF
from vaultgen.parse.posts import parse_post
from vaultgen.related import RelatedSettings, RelatedText, refresh

PARTS = ("tune", "held-out")
Lists = Mapping[str, Sequence[str]]  # paper name -> the names in its list, best first


@dataclass(frozen=True)
class Corpus:
    papers: list[RelatedText]
    citations: list[tuple[str, str]]  # (citing, cited), both posted


def without_arxiv_links(text: str | None) -> str | None:
    return ARXIV_REF.sub(" ", text) if text else text


def load_corpus(corpus: Path) -> Corpus:
    truth = load_truth(corpus)
    by_file: dict[str, list[dict]] = {}
    for record in truth:
        by_file.setdefault(Path(record["digest_file"]).name, []).append(record)
    papers: list[RelatedText] = []
    cites: dict[str, list[str]] = {}
    for path in sorted((corpus / "digests").glob("*.txt")):
        entries = parse_post(path.read_text(encoding="utf-8"), path.name).entries
        for entry, record in zip(entries, by_file[path.name], strict=True):
            key = record["arxiv_id"] or f"title:{entry.title}"
            papers.append(RelatedText(key, entry.title, entry.abstract,
                                      without_arxiv_links(entry.comment_ko),
                                      without_arxiv_links(entry.comment_en),
                                      entry.tags, entry.authors))
            cites[key] = record["crossref_ids"]
    posted = {paper.key for paper in papers}
    citations = [(key, cited) for key, ids in cites.items() for cited in ids if cited in posted]
    return Corpus(papers, citations)


def part_of(key: str) -> str:
    return PARTS[hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest()[0] % 2]


def recall(corpus: Corpus, lists: Lists, k: int) -> dict[str, float]:
    """For each half and both, the share of citations whose cited paper is in the first ``k``
    of the citing paper's list."""
    return _mean(corpus, lambda found: float(found is not None and found < k), lists)


def reciprocal_rank(corpus: Corpus, lists: Lists) -> dict[str, float]:
    """For each half and both, the mean of 1 / the cited paper's place in the citing paper's
    list (0 where it is not in it): finer than recall, to choose between settings."""
    return _mean(corpus, lambda found: 0.0 if found is None else 1 / (found + 1), lists)


def _mean(corpus: Corpus, value: Callable[[int | None], float], lists: Lists
          ) -> dict[str, float]:
    sums = {part: [0.0, 0] for part in (*PARTS, "all")}
    for citing, cited in corpus.citations:
        listed = list(lists.get(citing, ()))
        found = listed.index(cited) if cited in listed else None
        for part in (part_of(citing), "all"):
            sums[part][0] += value(found)
            sums[part][1] += 1
    return {part: total / count for part, (total, count) in sums.items() if count}


def module_lists(corpus: Corpus, k: int, settings: RelatedSettings) -> Lists:
    lists = refresh(corpus.papers, k, settings).lists
    return {key: [n.key for n in neighbours] for key, neighbours in lists.items()}


def baseline_lists(corpus: Corpus, k: int) -> Lists:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
        [paper.text for paper in corpus.papers])
    similarity = (matrix @ matrix.T).toarray()
    np.fill_diagonal(similarity, -np.inf)
    keys = [paper.key for paper in corpus.papers]
    rank = np.argsort(np.argsort(keys))
    return {key: [keys[j] for j in np.lexsort((rank, -similarity[i]))[:k]]
            for i, key in enumerate(keys)}


def vault_lists(vault: Path) -> Lists:
    """The ``related`` lists of a built vault's paper notes, by the notes' arXiv ids (their
    titles, ``title:…``, for notes without one)."""
    import frontmatter

    names: dict[str, str] = {}
    related: dict[str, list[str]] = {}
    for path in vault.rglob("*.md"):
        properties = frontmatter.load(path).metadata
        if "related" not in properties:
            continue
        key = properties.get("arxiv") or f"title:{properties.get('title', path.stem)}"
        names[path.stem] = str(key)
        related[str(key)] = [str(link).strip("[]").split("|")[0]
                             for link in properties["related"] or ()]
    return {key: [names.get(name, name) for name in links] for key, links in related.items()}


GRID = {
    "centering": (0.0, 2.0, 3.0, 4.0),
    "tag_weight": (0.0, 0.05, 0.1),
    "author_weight": (0.0, 0.05, 0.1),
    "max_df": (100, 200, None),
}


def tune(corpus: Corpus, k: int, show: Callable[[str], None]) -> RelatedSettings:
    """The settings of ``GRID`` with the best recall on the tune half; between equals, the
    best mean reciprocal rank (in lists of 20) on the tune half; then the first."""
    best: tuple[tuple[float, float], RelatedSettings] | None = None
    for values in itertools.product(*GRID.values()):
        settings = replace(RelatedSettings(), **dict(zip(GRID, values, strict=True)))
        lists = module_lists(corpus, max(k, 20), settings)
        score = recall(corpus, lists, k)
        rank = reciprocal_rank(corpus, lists)
        show(f"  {line(score)}  MRR tune {rank['tune']:.3f}  "
             f"{dict(zip(GRID, values, strict=True))}")
        if best is None or (score["tune"], rank["tune"]) > best[0]:
            best = ((score["tune"], rank["tune"]), settings)
    assert best is not None
    return best[1]


def line(score: Mapping[str, float]) -> str:
    return "  ".join(f"{part} {score.get(part, 0):.3f}" for part in (*PARTS, "all"))


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--tune", action="store_true",
                        help="choose the settings on the tune half; print every grid point")
    parser.add_argument("--vault", type=Path, help="read the lists from this built vault")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    counts = {part: sum(part_of(c) == part for c, _ in corpus.citations) for part in PARTS}
    print(f"{len(corpus.papers)} papers, {len(corpus.citations)} citations of posted papers "
          f"({', '.join(f'{part} {n}' for part, n in counts.items())}); recall@{args.k}:")
    print(f"plain TF-IDF           {line(recall(corpus, baseline_lists(corpus, args.k), args.k))}")
    settings = RelatedSettings()
    if args.tune:
        settings = tune(corpus, args.k, print)
        print(f"chosen on tune: {settings}")
    start = time.perf_counter()
    lists = module_lists(corpus, args.k, settings)
    seconds = time.perf_counter() - start
    print(f"vaultgen.related       {line(recall(corpus, lists, args.k))}  ({seconds:.2f} s)")
    if args.vault:
        print(f"vault {args.vault}  {line(recall(corpus, vault_lists(args.vault), args.k))}")
    elif not args.tune:
        with tempfile.TemporaryDirectory() as scratch:
            vault = built_without_links(args.corpus, Path(scratch), args.k)
            print(f"vaultgen build         {line(recall(corpus, vault_lists(vault), args.k))}")
    return 0


def built_without_links(corpus: Path, scratch: Path, k: int) -> Path:
    """The vault built from the corpus's posts with their arXiv links taken out."""
    from corpus_args import corpus_vault

    posts = scratch / "posts"
    posts.mkdir()
    for path in sorted((corpus / "digests").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        (posts / path.name).write_text(ARXIV_REF.sub(" ", text), encoding="utf-8")
    vault = scratch / "vault"
    corpus_vault(corpus, vault, posts, related=k)
    return vault


if __name__ == "__main__":
    sys.exit(main())

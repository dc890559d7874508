"""A synthetic digest corpus of any size, shaped by the statistics of the real one.

    python bench/synth_corpus.py --entries 50000 --out bench/out/synth-50k [--corpus DIR]

Reads ``truth.jsonl`` of the real corpus for its *statistics* only — entries per day, title,
author-list, abstract and commentary lengths, the share of entries with commentary (Korean,
English), tags per entry and the rank-frequency curve of tags, citations per entry and where
they point (an earlier entry, a paper only cited, a paper arXiv does not know) — and writes
posts of made-up words with the same shape, none of the corpus's text:

    OUT/input/YYYY-MM-DD.txt     one post a day, in the digest format
    OUT/input/arxiv-cache.json   the arXiv answers for every title and cited id, so that
                                 ``vaultgen build OUT/input -o OUT/vault --offline`` runs offline

The same ``--seed`` gives the same corpus.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from corpus_args import corpus_parser, load_truth

from vaultgen.arxiv.client import ArxivCache
from vaultgen.arxiv.match import title_key
from vaultgen.model import ArxivRecord

START = dt.date(2019, 1, 7)
_CONSONANTS = "bcdfghklmnprstvwz"
_VOWELS = "aeiou"


@dataclass
class Profile:
    """What the generator samples from: observed values of the real corpus."""

    per_day: list[int]
    title_words: list[int]
    authors: list[int]
    abstract_words: list[list[int]]  # words per paragraph, per entry
    ko_chars: list[list[int]]  # characters per Korean line, per entry ([] when none)
    en_words: list[list[int]]
    tags_per_entry: list[int]
    tag_curve: list[int]  # tag counts, most used first
    cites_per_entry: list[int]
    cite_kinds: Counter[str]  # entry, cited, missing
    arxiv_share: float
    post_day_share: float  # days with a post among the days of the corpus's span


def profile(truth: list[dict], known: set[str]) -> Profile:
    """The statistics of the corpus; ``known``: the ids arXiv (the metadata file) knows."""
    ids = {t["arxiv_id"] for t in truth if t["arxiv_id"]}
    days = Counter(t["date"] for t in truth)
    first, last = min(days), max(days)
    span = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    kinds = Counter("entry" if ref in ids else "cited" if ref in known else "missing"
                    for t in truth for ref in t["crossref_ids"])
    return Profile(
        per_day=list(days.values()),
        title_words=[len(t["title"].split()) for t in truth],
        authors=[max(1, len(t["authors"])) for t in truth],
        abstract_words=[[len(p.split()) for p in t["abstract"].split("\n") if p.strip()]
                        for t in truth],
        ko_chars=[[len(line) for line in (t["comment_ko"] or "").split("\n") if line.strip()]
                  for t in truth],
        en_words=[[len(line.split()) for line in (t["comment_en"] or "").split("\n")
                   if line.strip()] for t in truth],
        tags_per_entry=[len(t["tags"]) for t in truth],
        tag_curve=sorted(Counter(tag for t in truth for tag in t["tags"]).values(),
                         reverse=True),
        cites_per_entry=[len(t["crossref_ids"]) for t in truth],
        cite_kinds=kinds,
        arxiv_share=sum(1 for t in truth if t["arxiv_id"]) / len(truth),
        post_day_share=len(days) / span,
    )


class Words:
    """Made-up English-like words (Zipf-distributed) and Hangul words."""

    def __init__(self, rng: random.Random, size: int = 20_000) -> None:
        self.rng = rng
        vocabulary = set()
        while len(vocabulary) < size:
            syllables = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
            vocabulary.add("".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS)
                                   + (rng.choice(_CONSONANTS) if rng.random() < 0.3 else "")
                                   for _ in range(syllables)))
        self.vocabulary = sorted(vocabulary)
        rng.shuffle(self.vocabulary)  # the most frequent words are not the first in order
        weights = [1 / (rank + 1) for rank in range(size)]
        total = 0.0
        self.cumulative = []
        for weight in weights:
            total += weight
            self.cumulative.append(total)

    def word(self) -> str:
        index = bisect.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])
        return self.vocabulary[min(index, len(self.vocabulary) - 1)]

    def sentence(self, count: int) -> str:
        words = [self.word() for _ in range(max(1, count))]
        words[0] = words[0].capitalize()
        for i in range(7, len(words), self.rng.randint(8, 14)):
            words[i] += ","
        return " ".join(words) + "."

    def hangul(self, chars: int) -> str:
        out: list[str] = []
        while sum(len(w) + 1 for w in out) < chars:
            if self.rng.random() < 0.15:
                out.append(self.word().capitalize())  # Latin terms inside Korean prose
            else:
                out.append("".join(chr(self.rng.randint(0xAC00, 0xD7A3))
                                   for _ in range(self.rng.randint(1, 4))))
        return " ".join(out) + "."


def tag_names(profile_: Profile, entries: int) -> tuple[list[str], list[float]]:
    """A tag vocabulary that grows with the corpus (as the square root), with the real
    rank-frequency curve stretched over it."""
    curve = profile_.tag_curve
    size = max(len(curve), round(len(curve) * (entries / 889) ** 0.5))
    weights = [curve[min(len(curve) - 1, int(rank * len(curve) / size))] for rank in range(size)]
    return [f"topic-{rank:04d}" for rank in range(size)], [float(w) for w in weights]


def generate(stats: Profile, entries: int, out: Path, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    words = Words(rng)
    tags, tag_weights = tag_names(stats, entries)
    cache = ArxivCache(out / "input" / "arxiv-cache.json")
    cache.sync()  # its table made (and any file already there read) before answers go in
    asked = dt.date.today().isoformat()
    inputs = out / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    entry_ids: list[str] = []
    cited_in: list[str] = []  # one item per citation an entry received (preferential choice)
    serial = Counter[str]()
    day = START
    made = citations = 0
    kinds = list(stats.cite_kinds)
    kind_weights = [stats.cite_kinds[k] for k in kinds]

    def new_id(date: dt.date) -> str:
        prefix = f"{date:%y%m}"
        serial[prefix] += 1
        return f"{prefix}.{serial[prefix]:05d}"

    def record(arxiv_id: str, title: str, authors: list[str], summary: str,
               published: dt.date) -> None:
        cache.records[arxiv_id] = ArxivRecord(
            id=arxiv_id, title=title, authors=tuple(authors), summary=summary,
            published=published.isoformat(), updated=published.isoformat(),
            primary_category="cs.LG", categories=("cs.LG",))

    def title_of() -> str:
        count = rng.choice(stats.title_words)
        text = " ".join(words.word().capitalize() for _ in range(count))
        if count > 4 and rng.random() < 0.4:
            name = words.word().capitalize() + rng.choice(("", "-2", "++", "Net"))
            text = f"{name}: {text}"
        return text

    def people(count: int) -> list[str]:
        return [f"{words.word().capitalize()} {words.word().capitalize()}" for _ in range(count)]

    while made < entries:
        if rng.random() > stats.post_day_share:
            day += dt.timedelta(days=1)
            continue
        lines = [f"{day.year}년 {day.month}월 {day.day}일"]
        for _ in range(min(rng.choice(stats.per_day), entries - made)):
            index = rng.randrange(len(stats.title_words))
            title = title_of()
            authors = people(rng.choice(stats.authors))
            abstract = [words.sentence(n) for n in stats.abstract_words[index]]
            ko = [words.hangul(n) for n in stats.ko_chars[index]]
            en = [words.sentence(n) for n in stats.en_words[index]]
            for _ in range(rng.choice(stats.cites_per_entry) if ko or en else 0):
                kind = rng.choices(kinds, kind_weights)[0]
                if kind == "entry" and entry_ids:
                    if cited_in and rng.random() < 0.5:
                        target = rng.choice(cited_in)
                    else:
                        target = rng.choice(entry_ids)
                    cited_in.append(target)
                else:
                    older = day - dt.timedelta(days=rng.randint(30, 900))
                    target = new_id(older)
                    if kind == "missing":
                        cache.missing[target] = asked
                    else:
                        record(target, title_of(), people(rng.choice(stats.authors)),
                               words.sentence(40), older)
                lines_ = ko if ko else en
                where = rng.randrange(len(lines_))
                lines_[where] += f" {words.word().capitalize()} (https://arxiv.org/abs/{target})"
                citations += 1
            if rng.random() < stats.arxiv_share:
                arxiv_id = new_id(day)
                record(arxiv_id, title, authors, " ".join(abstract),
                       day - dt.timedelta(days=rng.randint(0, 6)))
                cache.titles[title_key(title)] = {"asked": asked, "ids": [arxiv_id]}
                entry_ids.append(arxiv_id)
            else:
                cache.titles[title_key(title)] = {"asked": asked, "ids": []}
            count = rng.choice(stats.tags_per_entry)
            chosen = list(dict.fromkeys(rng.choices(tags, tag_weights, k=count)))
            lines += [title, f"({', '.join(authors)})", *abstract, *ko, *en]
            if chosen:
                lines.append(" ".join(f"#{t}" for t in chosen))
            made += 1
        (inputs / f"{day.isoformat()}.txt").write_text("\n".join(lines), encoding="utf-8")
        day += dt.timedelta(days=1)
    cache.save()
    return {"entries": made, "days": len(list(inputs.glob("*.txt"))), "citations": citations,
            "records": len(cache.records), "tags": len(tags)}


def main() -> int:
    parser = corpus_parser(__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    known = {json.loads(line)["id"] for line in
             (args.corpus / "arxiv-metadata.jsonl").read_text(encoding="utf-8").splitlines()}
    made = generate(profile(load_truth(args.corpus), known), args.entries, args.out, args.seed)
    print(", ".join(f"{v} {k}" for k, v in made.items()), f"→ {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

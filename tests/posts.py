"""Made-up digest posts for tests: many small entries that cite each other."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from pathlib import Path

HOUR_AGO = time.time_ns() - 3600 * 10**9
TAGS = ("llm", "rl", "vision", "efficiency", "agent", "reasoning", "diffusion", "moe")
WORDS = ("sparse", "attention", "scaling", "reward", "policy", "token", "latent", "robust",
         "adaptive", "memory", "graph", "retrieval", "vision", "speech", "kernel", "search")


def entry_text(number: int, rng: random.Random, cites: list[int],
               made: dict[int, tuple[str, list[str]]] | None = None) -> str:
    """One entry of the digest format; ``cites``: numbers of other entries it cites;
    ``made``: gets the entry's title and authors by number."""
    words = rng.sample(WORDS, 3)
    title = f"Paper{number}: {' '.join(words).title()} for Models"
    names = [f"Author{rng.randrange(60)} Surname{rng.randrange(60)}"
             for _ in range(rng.randrange(1, 4))]
    if made is not None:
        made[number] = (title, names)
    authors = ", ".join(names)
    links = " ".join(f"See P{c} (https://arxiv.org/abs/2401.{c:05d})." for c in cites)
    tags = " ".join(f"#{t}" for t in rng.sample(TAGS, rng.randrange(1, 3)))
    return (f"{title}\n({authors})\n"
            f"We study {words[0]} {words[1]} with {words[2]} in paper {number}.\n"
            f"{words[0]} 연구입니다. {links}\n"
            f"A study of {words[1]}. {links}\n{tags}\n")


def write_post(path: Path, text: str) -> None:
    """Write a post dated some time ago, later than its last version (a build trusts the
    size and mtime of a post changed more than a moment ago)."""
    stamp = path.stat().st_mtime_ns + 10**9 if path.exists() else HOUR_AGO
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))


def dated_post_folder(tmp_path: Path, text: str, name: str = "2025-05-01.txt") -> Path:
    """An input folder under ``tmp_path`` holding one post, dated some time ago."""
    folder = tmp_path / "input"
    folder.mkdir()
    write_post(folder / name, text)
    return folder


def make_posts(folder: Path, days: int, per_day: int, *, seed: int = 0,
               start: dt.date = dt.date(2024, 1, 1), first: int = 0,
               cache: bool = True) -> list[Path]:
    """``days`` posts of ``per_day`` entries each in ``folder``, entries numbered from
    ``first``; about one in three cites an earlier one. ``cache``: with an
    ``arxiv-cache.json`` that knows every second paper (entry ``n`` is arXiv
    ``2401.0000n``), for offline builds."""
    rng = random.Random(seed)
    made: dict[int, tuple[str, list[str]]] = {}
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    number = first
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        parts = [f"{day.year}년 {day.month}월 {day.day}일"]
        for _ in range(per_day):
            cites = [rng.randrange(number)] if number and rng.random() < 0.35 else []
            parts.append(entry_text(number, rng, cites, made))
            number += 1
        path = folder / f"{day.isoformat()}.txt"
        write_post(path, "\n".join(parts))
        paths.append(path)
    if cache:
        write_cache(folder / "arxiv-cache.json", made, start)
    return paths


def write_cache(path: Path, made: dict[int, tuple[str, list[str]]], day: dt.date) -> None:
    """An arXiv cache that knows the even-numbered papers of ``made``, published ``day``."""
    from vaultgen.arxiv.match import title_key

    records, titles = {}, {}
    for number, (title, authors) in made.items():
        if number % 2:
            continue
        arxiv_id = f"2401.{number:05d}"
        records[arxiv_id] = {"id": arxiv_id, "title": title, "authors": authors,
                             "summary": f"The summary of paper {number}.",
                             "published": day.isoformat(), "updated": day.isoformat(),
                             "primary_category": "cs.LG", "categories": ["cs.LG"],
                             "version": 1}
        titles[title_key(title)] = {"asked": day.isoformat(), "ids": [arxiv_id]}
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        records = {**old["records"], **records}
        titles = {**old["titles"], **titles}
    path.write_text(json.dumps({"version": 1, "records": records, "titles": titles,
                                "missing": {}}, ensure_ascii=False), encoding="utf-8")

"""Made-up posts of papers to cite, with an arXiv cache: titles with TeX and BibTeX's special
characters, authors with particles, accents, a team, a family-name-first name; a journal
reference with a DOI; papers without an arXiv id; a paper only cited (known to arXiv) and
one arXiv does not know."""

from __future__ import annotations

import json
from pathlib import Path

from vaultgen.arxiv.match import title_key

from .posts import write_post

POST = """2025-05-01
GaLore 2: Large-Scale LLM Pre-Training by Gradient Low-Rank Projection
(DiJia Su, Andrew Gu, Jane Xu)
We scale GaLore.
GaLore 개선판. Hyperfitting (https://arxiv.org/abs/2412.04318) 참고.
An improved GaLore; see Hyperfitting (arXiv:2412.04318) and 2301.99999 (https://arxiv.org/abs/2301.99999).
#efficiency
$\\mu$P & Friends: 50% Fewer #Tuning_Runs
(Greg Yang, Aäron van den Oord, Łukasz Kaiser)
We transfer hyperparameters.
GaLore 2 (https://arxiv.org/abs/2504.20437) 와 함께 읽기.
Read with GaLore 2 (https://arxiv.org/abs/2504.20437).
#optimization #scaling
MiMo: Unlocking the Reasoning Potential of Language Model
(Xiaomi LLM-Core Team)
We present MiMo-7B.
샤오미의 추론 모델. GaLore 2 (https://arxiv.org/abs/2504.20437).
Xiaomi's reasoning model; GaLore 2 (arXiv:2504.20437).
#llm #reasoning
GaLore for Everyone
(Mei Su, Jean de la Fontaine)
A tutorial on GaLore.
#efficiency
Skip $\\textbackslash n$: Fewer Hallucinations
(Ann Lee)
We skip line breaks.
#vision
Transformer Anatomy
(김철수, 이 영희)
We study transformers.
트랜스포머를 연구합니다.
#llm
"""

RECORDS = {
    "2504.20437": {
        "id": "2504.20437",
        "title": "GaLore 2: Large-Scale LLM Pre-Training by Gradient Low-Rank Projection",
        "authors": ["DiJia Su", "Andrew Gu", "Jane Xu", "Yuandong Tian", "Jiawei Zhao"],
        "summary": "GaLore at scale.", "published": "2025-04-29", "updated": "2025-04-29",
        "primary_category": "cs.LG", "categories": ["cs.LG"], "version": 1},
    "2303.00001": {
        "id": "2303.00001", "title": "$\\mu$P & Friends: 50% Fewer #Tuning_Runs",
        "authors": ["Greg Yang", "Aäron van den Oord", "Łukasz Kaiser"],
        "summary": "Transfer.", "published": "2023-03-07", "updated": "2023-05-01",
        "primary_category": "cs.LG", "categories": ["cs.LG", "stat.ML"], "version": 2,
        "doi": "10.5555/jmlr_2023.001", "journal": "J. Mach. Learn. Res. 24 (2023) 1-40"},
    "2412.04318": {
        "id": "2412.04318",
        "title": "The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for Open-Ended "
                 "Text Generation",
        "authors": ["Fredrik Carlsson", "Fangyu Liu", "Joakim Nivre"],
        "summary": "Hyperfitting.", "published": "2024-12-05", "updated": "2024-12-05",
        "primary_category": "cs.CL", "categories": ["cs.CL"], "version": 1},
}
# The key each paper's note gets, by the note's file.
KEYS = {
    "papers/GaLore 2.md": "su2025galore",
    "papers/μP & Friends.md": "yang2023mp",
    "papers/MiMo.md": "xiaomi2025mimo",
    "papers/GaLore for Everyone.md": "su2025galorea",
    "papers/Transformer Anatomy.md": "gim2025transformer",
    "papers/Skip ⧵n.md": "lee2025skip",
    "cited/The Hyperfitting Phenomenon.md": "carlsson2024hyperfitting",
}


def citing_posts(folder: Path, post: str = POST) -> Path:
    """An input folder holding ``post`` (dated some time ago) and an arXiv cache that knows
    ``RECORDS`` (and the answer to a search for each of their titles)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_post(folder / "2025-05-01.txt", post)
    titles = {title_key(r["title"]): {"asked": "2025-05-01", "ids": [i]}
              for i, r in RECORDS.items()}
    cache = {"version": 1, "records": RECORDS, "titles": titles,
             "missing": {"2301.99999": "2025-05-01"}}
    (folder / "arxiv-cache.json").write_text(json.dumps(cache, ensure_ascii=False),
                                             encoding="utf-8")
    return folder

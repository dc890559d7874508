"""The words of papers' texts, counted: what the related papers' model is made from.

Counting needs the standard library alone, so that the worker processes a build counts them
in stay small (numpy and scipy, which the model needs, are not imported there).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import count

# Korean is left out: its words (a stem and its particles) match papers less well than the
# Latin terms the commentary names among them (bench/related.py).
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]+")


def count_words(texts: Sequence[tuple[str, ...]]) -> tuple[list[str], array, array, array]:
    """The words of a batch of papers' texts (each given by its parts: title, abstract,
    commentaries), lower-cased, Korean and the words that name an arXiv paper left out, a
    word being what lies between spaces. They are numbered in the order they come: the
    words, then how many distinct words each paper has (``q``), and each paper's words'
    numbers (``i``) and counts (``f``), paper after paper."""
    word_ids: defaultdict[str, int] = defaultdict(count().__next__)
    indices = array("i")
    values = array("f")
    lengths = array("q")
    for parts in texts:
        # (Hangul is looked for in the parts that are not plain ASCII alone: the same text
        # as the whole joined and searched.)
        text = " ".join(part if part.isascii() else _HANGUL.sub(" ", part)
                        for part in parts).lower()
        words = Counter(text.split())
        if _names_a_paper(text):
            for link in [word for word in words if _names_a_paper(word)]:
                del words[link]
        indices.extend(map(word_ids.__getitem__, words))
        values.extend(words.values())
        lengths.append(len(words))
    return list(word_ids), lengths, indices, values


def _names_a_paper(text: str) -> bool:
    """Whether a (lower-cased) text holds a word that names an arXiv paper (a link to it,
    ``arXiv:ID``). Such words are left out: their grams make the papers that cite a paper
    each other's neighbours, ahead of the paper they cite."""
    return "arxiv" in text or "huggingface.co/papers" in text

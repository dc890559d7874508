"""Related papers: each paper's nearest neighbours by the text of its post, its tags and its
authors.

A paper is a vector of three blocks, each of unit length and scaled by the square root of its
weight: the TF-IDF of the character 5-grams of its words (title, abstract and both
commentaries; a word is what lies between spaces, padded with one space on each side, as
scikit-learn's ``char_wb`` analyzer takes it; ``1 + ln(count)`` times a smoothed idf), and
the idf of its tags and of its authors. Features of fewer than ``min_df`` or more than
``max_df`` papers at fitting time are left out: the first match nothing, and the second are
too common to tell neighbours apart (and would make the similarity of every pair cost
something). Two papers are candidates when they share a feature; the score of a candidate
pair is the dot product of their vectors less ``centering`` times the mean of their
similarities to the corpus's mean vector, which keeps papers written in the common words of
the corpus from being everyone's neighbour. A paper's list holds its best ``k`` candidates,
by score rounded to ``digits`` decimals, then by key.

The model (vocabulary, idf, mean vector) is fitted on a full refresh (``refresh``); between
refreshes ``update`` adds, changes and removes papers with the model as it is, touching only
the lists that change, with numpy and scipy alone (``python -X importtime`` puts importing
``sklearn.feature_extraction.text`` at about a second, more than the whole update). Whatever
order papers arrive in, a list equals the one ``related_lists`` gives for the same papers
and model.
"""

from __future__ import annotations

import io
import json
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, count
from typing import Any

import numpy as np
import scipy.sparse as sp

GRAM = 5  # characters in a text feature
# Words with a Latin letter or a digit are taken by their grams; others (Korean words among
# them) whole: their grams match no better than they do.
_HAS_LATIN = re.compile("[0-9a-z]").search
# Rows of the similarity product computed at once: bounds its memory (a row holds one score
# for each paper that shares a feature with it).
_CHUNK = 512


@dataclass(frozen=True, slots=True)
class RelatedText:
    """What the similarity of a paper is made of. ``key`` names the paper in the lists."""

    key: str
    title: str
    abstract: str = ""
    commentary_ko: str | None = None
    commentary_en: str | None = None
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.title, self.abstract, self.commentary_ko,
                                          self.commentary_en) if part)


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A paper of another's list and the score (rounded) that put it there."""

    key: str
    score: float


@dataclass(frozen=True)
class RelatedSettings:
    """How papers are compared; the defaults are those ``bench/related.py`` measured best."""

    text_weight: float = 1.0
    tag_weight: float = 0.05
    author_weight: float = 0.05
    centering: float = 3.0
    min_df: int = 2
    max_df: int = 200
    digits: int = 4


@dataclass(frozen=True, eq=False)
class RelatedModel:
    """What a full refresh fits: the features (text grams, tags, authors: the columns of the
    vectors, in this order), their idf, and the corpus's mean vector."""

    settings: RelatedSettings
    grams: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    idf: np.ndarray  # float64, one per column
    mean: np.ndarray  # float64, one per column
    _columns: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def columns(self, block: str) -> dict[str, int]:
        """The column of each feature of ``block`` ("grams", "tags" or "authors")."""
        if block not in self._columns:
            start = {"grams": 0, "tags": len(self.grams),
                     "authors": len(self.grams) + len(self.tags)}[block]
            names: tuple[str, ...] = getattr(self, block)
            self._columns[block] = {name: start + i for i, name in enumerate(names)}
        return self._columns[block]

    @property
    def width(self) -> int:
        return len(self.grams) + len(self.tags) + len(self.authors)

    def to_bytes(self) -> bytes:
        names = json.dumps({"settings": asdict(self.settings), "grams": self.grams,
                            "tags": self.tags, "authors": self.authors}, ensure_ascii=False)
        return _arrays_to_bytes(names=np.frombuffer(names.encode("utf-8"), np.uint8),
                                idf=self.idf, mean=self.mean)

    @classmethod
    def from_bytes(cls, data: bytes) -> RelatedModel:
        arrays = _arrays_from_bytes(data)
        names = json.loads(arrays["names"].tobytes().decode("utf-8"))
        return cls(RelatedSettings(**names["settings"]), tuple(names["grams"]),
                   tuple(names["tags"]), tuple(names["authors"]), arrays["idf"],
                   arrays["mean"])


@dataclass(frozen=True, eq=False)
class Vectors:
    """Papers' vectors under one model: row ``i`` (a sparse row of ``matrix``, float32, its
    columns in order) is paper ``keys[i]``; ``offsets[i]`` is its similarity to the mean."""

    keys: tuple[str, ...]
    matrix: sp.csr_matrix
    offsets: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.keys)

    def to_bytes(self) -> bytes:
        keys = json.dumps(self.keys, ensure_ascii=False).encode("utf-8")
        return _arrays_to_bytes(keys=np.frombuffer(keys, np.uint8), indptr=self.matrix.indptr,
                                indices=self.matrix.indices, data=self.matrix.data,
                                offsets=self.offsets, width=np.array([self.matrix.shape[1]]))

    @classmethod
    def from_bytes(cls, data: bytes) -> Vectors:
        arrays = _arrays_from_bytes(data)
        keys = tuple(json.loads(arrays["keys"].tobytes().decode("utf-8")))
        matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                               shape=(len(keys), int(arrays["width"][0])))
        return cls(keys, matrix, arrays["offsets"])

    def without(self, keys: Collection[str]) -> Vectors:
        """These vectors less those of ``keys``."""
        kept = [i for i, key in enumerate(self.keys) if key not in keys]
        if len(kept) == len(self.keys):
            return self
        return Vectors(tuple(self.keys[i] for i in kept), self.matrix[kept],
                       self.offsets[kept])

    @staticmethod
    def concat(parts: Sequence[Vectors], width: int) -> Vectors:
        """The rows of ``parts``, one after the other."""
        matrices = [part.matrix for part in parts if len(part)]
        matrix = (sp.vstack(matrices, format="csr", dtype=np.float32) if matrices
                  else sp.csr_matrix((0, width), dtype=np.float32))
        return Vectors(tuple(chain.from_iterable(part.keys for part in parts)), matrix,
                       np.concatenate([part.offsets for part in parts] or [np.zeros(0)]))


@dataclass(frozen=True)
class Refresh:
    """What a full refresh gives: the model, every paper's vector, every paper's list."""

    model: RelatedModel
    vectors: Vectors
    lists: dict[str, tuple[Neighbour, ...]]


@dataclass(frozen=True)
class Update:
    """What an update gives: the vectors of the papers added, and every list that changed
    (those of the papers added among them); lists of removed papers are gone."""

    vectors: Vectors
    lists: dict[str, tuple[Neighbour, ...]]


def refresh(papers: Sequence[RelatedText], k: int,
            settings: RelatedSettings | None = None) -> Refresh:
    """Fit the model on ``papers``, then compute their vectors and their lists of ``k``."""
    model, vectors = _Counts.of(papers).fit(settings or RelatedSettings())
    return Refresh(model, vectors, related_lists(vectors, k, model.settings.digits))


def fit(papers: Sequence[RelatedText], settings: RelatedSettings | None = None) -> RelatedModel:
    """The model of ``papers``: their features, the features' idf, the mean vector."""
    return _Counts.of(papers).fit(settings or RelatedSettings())[0]


def vectorise(model: RelatedModel, papers: Sequence[RelatedText]) -> Vectors:
    """The vectors of ``papers`` under ``model`` (which need not have seen them)."""
    return _Counts.of(papers).vectors(model)


def related_lists(vectors: Vectors, k: int, digits: int = 4) -> dict[str, tuple[Neighbour, ...]]:
    """Every paper's list of at most ``k`` others: its best candidates by rounded score, then
    by key. ``k`` 0 gives every paper an empty list."""
    if k <= 0:
        return dict.fromkeys(vectors.keys, ())
    lists: dict[str, tuple[Neighbour, ...]] = {}
    transposed = vectors.matrix.T.tocsr()
    rank = _row_ranks(vectors.keys)
    for start in range(0, len(vectors), _CHUNK):
        product = (vectors.matrix[start:start + _CHUNK] @ transposed).tocsr()
        lists.update(_lists_of(start, product, vectors, rank, k, digits))
    return lists


def _lists_of(first: int, product: sp.csr_matrix, vectors: Vectors, rank: np.ndarray, k: int,
              digits: int) -> Iterable[tuple[str, tuple[Neighbour, ...]]]:
    """The lists of the papers from row ``first`` on, from their raw products with every
    paper (``product``, a row for each)."""
    rows = first + np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
    scores = _scores(rows, product.indices, product.data, vectors.offsets, digits)
    scores[product.indices == rows] = -np.inf  # never the paper itself
    for i in range(product.shape[0]):
        begin, end = product.indptr[i], product.indptr[i + 1]
        yield vectors.keys[first + i], _best(product.indices[begin:end], scores[begin:end],
                                             vectors.keys, rank, k)


def update(model: RelatedModel, vectors: Vectors, lists: Mapping[str, Sequence[Neighbour]],
           added: Sequence[RelatedText], removed: Collection[str], k: int) -> Update:
    """Lists after ``added`` papers come in and ``removed`` ones go, under ``model``.

    ``vectors`` and ``lists`` are those of the papers before (a paper whose text changed is
    both removed and added). The new papers get their lists; a paper whose list held a
    removed one gets its list anew; any other paper's list takes in each new paper whose
    score beats its last (or fills its free places). Only lists that changed are returned.
    """
    gone = set(removed) | {paper.key for paper in added}
    new = vectorise(model, added)
    current = Vectors.concat([vectors.without(gone), new], model.width)
    if k <= 0:
        return Update(new, {key: () for key in new.keys if lists.get(key) != ()})
    digits = model.settings.digits
    rank = _row_ranks(current.keys)
    row_of = {key: i for i, key in enumerate(current.keys)}
    first_new = len(current) - len(new)
    changed: dict[str, tuple[Neighbour, ...]] = {}
    # The new papers' scores against every paper: one product gives their own lists and
    # the scores every other paper would give them.
    transposed = current.matrix.T.tocsr()
    new_scores = (current.matrix[first_new:] @ transposed).tocsr()
    changed.update(_lists_of(first_new, new_scores, current, rank, k, digits))
    offered: dict[int, list[tuple[int, float]]] = defaultdict(list)
    rows = first_new + np.repeat(np.arange(len(new)), np.diff(new_scores.indptr))
    scores = _scores(rows, new_scores.indices, new_scores.data, current.offsets, digits)
    for row, column, score in zip(rows.tolist(), new_scores.indices.tolist(), scores.tolist(),
                                  strict=True):
        if column < first_new:
            offered[column].append((row, score))
    stale = {row_of[key] for key, neighbours in lists.items()
             if key in row_of and row_of[key] < first_new
             and any(n.key in gone for n in neighbours)}
    for row in sorted(stale):
        again = (current.matrix[row:row + 1] @ transposed).tocsr()
        for key, after in _lists_of(row, again, current, rank, k, digits):
            if after != tuple(lists[key]):
                changed[key] = after
    for row, offers in offered.items():
        key = current.keys[row]
        if key in changed or row in stale:
            continue
        before = tuple(lists.get(key, ()))
        merged = sorted([(-n.score, n.key) for n in before]
                        + [(-score, current.keys[other]) for other, score in offers])[:k]
        after = tuple(Neighbour(name, -negated) for negated, name in merged)
        if after != before:
            changed[key] = after
    return Update(new, changed)


def _best(columns: np.ndarray, scores: np.ndarray, keys: Sequence[str], rank: np.ndarray,
          k: int) -> tuple[Neighbour, ...]:
    """The best ``k`` of the papers ``columns`` by ``scores`` (-inf: not a candidate), then
    by key (``rank``: each row's place in key order)."""
    if len(scores) > k:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = np.flatnonzero(scores >= kth)
        columns, scores = columns[keep], scores[keep]
    order = np.lexsort((rank[columns], -scores))[:k]
    return tuple(Neighbour(keys[c], s)
                 for c, s in zip(columns[order].tolist(), scores[order].tolist(), strict=True)
                 if s != -np.inf)


def _scores(rows: np.ndarray | int, columns: np.ndarray, raw: np.ndarray, offsets: np.ndarray,
            digits: int) -> np.ndarray:
    """Rounded scores of the pairs (``rows``, ``columns``) from their raw products: the same
    float operations whichever of the two papers the product was taken from."""
    return np.round(raw.astype(np.float64) - (offsets[rows] + offsets[columns]) / 2, digits)


def _row_ranks(keys: Sequence[str]) -> np.ndarray:
    """Each row's place when the keys are sorted."""
    ranks = np.empty(len(keys), np.int64)
    ranks[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return ranks


class _Counts:
    """The raw counts of a batch of papers: of each word (what lies between spaces) in their
    text, and their tags and authors."""

    def __init__(self, keys: tuple[str, ...], word_counts: sp.csr_matrix,
                 words: list[str], tags: list[tuple[str, ...]],
                 authors: list[tuple[str, ...]]) -> None:
        self.keys = keys
        self.word_counts = word_counts  # papers × words
        self.words = words
        self.tags = tags
        self.authors = authors

    @classmethod
    def of(cls, papers: Sequence[RelatedText]) -> _Counts:
        keys = tuple(paper.key for paper in papers)
        if len(set(keys)) != len(keys):
            twice = sorted(key for key, n in Counter(keys).items() if n > 1)
            raise ValueError(f"papers given twice: {', '.join(twice[:5])}")
        word_ids: defaultdict[str, int] = defaultdict(count().__next__)
        # Machine integers, not lists of Python ones: a corpus has millions of (paper, word).
        indices = array("i")
        values = array("f")
        indptr = array("q", [0])
        for paper in papers:
            words = Counter(paper.text.lower().split())
            indices.extend(map(word_ids.__getitem__, words))
            values.extend(words.values())
            indptr.append(len(indices))
        word_counts = sp.csr_matrix(
            (np.frombuffer(values, np.float32), np.frombuffer(indices, np.int32),
             np.frombuffer(indptr, np.int64)), shape=(len(papers), len(word_ids)))
        return cls(keys, word_counts, list(word_ids), [tuple(p.tags) for p in papers],
                   [tuple(p.authors) for p in papers])

    def grams_of_words(self, columns: Mapping[str, int] | None) -> tuple[sp.csr_matrix,
                                                                          list[str]]:
        """Words × grams: how often each gram is in each word. With ``columns``, only those
        grams, in those columns; without, every gram, and the grams in column order."""
        gram_ids: Mapping[str, int] = (columns if columns is not None
                                       else defaultdict(count().__next__))
        indices = array("i")
        indptr = array("q", [0])
        for word in self.words:
            padded = f" {word} "
            grams = ([padded[i:i + GRAM] for i in range(len(padded) - GRAM + 1)]
                     if len(padded) > GRAM and _HAS_LATIN(word) else [padded])
            if columns is None:
                indices.extend(map(gram_ids.__getitem__, grams))
            else:
                indices.extend(c for gram in grams if (c := gram_ids.get(gram)) is not None)
            indptr.append(len(indices))
        width = len(gram_ids) if columns is None else max(columns.values(), default=-1) + 1
        matrix = sp.csr_matrix((np.ones(len(indices), np.float32),
                                np.frombuffer(indices, np.int32), np.frombuffer(indptr, np.int64)),
                               shape=(len(self.words), width))
        return matrix, (list(gram_ids) if columns is None else [])

    def gram_counts(self, grams_of_words: sp.csr_matrix) -> sp.csr_matrix:
        """Papers × grams: how often each gram is in each paper's text."""
        counts = (self.word_counts @ grams_of_words).tocsr()
        counts.sum_duplicates()
        return counts

    def fit(self, settings: RelatedSettings) -> tuple[RelatedModel, Vectors]:
        """The model of these papers, and their vectors under it."""
        grams_of_words, grams = self.grams_of_words(None)
        papers = len(self.keys)
        # The papers of each gram, a slice of papers at a time: the counts of every gram of
        # every paper would take several times the memory of those kept.
        gram_df = np.zeros(len(grams), np.int64)
        present = sp.csr_matrix(grams_of_words, copy=True)
        present.data[:] = 1
        for start in range(0, papers, 4096):
            part = (self.word_counts[start:start + 4096] @ present).tocsr()
            gram_df += np.bincount(part.indices, minlength=len(grams))
        kept = (gram_df >= settings.min_df) & (gram_df <= settings.max_df)
        kept_grams = sorted(g for g, keep in zip(grams, kept.tolist(), strict=True) if keep)
        kept_tags = _kept(self.tags, settings)
        kept_authors = _kept(self.authors, settings)
        by_gram = dict(zip(grams, gram_df.tolist(), strict=True))
        df = np.array([by_gram[g] for g in kept_grams]
                      + [kept_tags[t] for t in sorted(kept_tags)]
                      + [kept_authors[a] for a in sorted(kept_authors)], np.float64)
        idf = np.log((1 + papers) / (1 + df)) + 1  # scikit-learn's smoothed idf
        model = RelatedModel(settings, tuple(kept_grams), tuple(sorted(kept_tags)),
                             tuple(sorted(kept_authors)), idf, np.zeros(len(df)))
        columns = model.columns("grams")
        target = np.array([columns.get(g, -1) for g in grams], np.int64)
        matrix = self._weighted(model, self.gram_counts(_columns_to(grams_of_words, target,
                                                                    len(kept_grams))))
        mean = np.asarray(matrix.mean(axis=0), np.float64).ravel() if papers else model.mean
        model = RelatedModel(settings, model.grams, model.tags, model.authors, idf, mean)
        return model, self._with_offsets(model, matrix)

    def vectors(self, model: RelatedModel) -> Vectors:
        grams_of_words, _ = self.grams_of_words(model.columns("grams"))
        return self._with_offsets(model, self._weighted(model,
                                                        self.gram_counts(grams_of_words)))

    def _with_offsets(self, model: RelatedModel, matrix: sp.csr_matrix) -> Vectors:
        offsets = model.settings.centering * (matrix @ model.mean)
        return Vectors(self.keys, matrix, np.asarray(offsets, np.float64))

    def _weighted(self, model: RelatedModel, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Each paper's vector: its three blocks weighted, each of unit length times the
        square root of its weight."""
        settings = model.settings
        gram_idf = model.idf[:len(model.grams)]
        text = counts.astype(np.float64)
        text.data = (1 + np.log(text.data)) * gram_idf[text.indices]
        blocks = [_unit_rows(text, settings.text_weight)]
        for block, values in (("tags", self.tags), ("authors", self.authors)):
            columns = model.columns(block)
            start = min(columns.values(), default=0)
            width = len(columns)
            rows, cols = [], []
            for i, names in enumerate(values):
                for c in sorted({columns[n] for n in names if n in columns}):
                    rows.append(i)
                    cols.append(c - start)
            idf = model.idf[start:start + width]
            matrix = sp.csr_matrix((idf[np.array(cols, np.int64)] if cols else np.zeros(0),
                                    (rows, cols)), shape=(len(values), width))
            weight = settings.tag_weight if block == "tags" else settings.author_weight
            blocks.append(_unit_rows(matrix, weight))
        matrix = sp.hstack(blocks, format="csr").astype(np.float32)
        matrix.sort_indices()
        return matrix


def _columns_to(matrix: sp.csr_matrix, target: np.ndarray, width: int) -> sp.csr_matrix:
    """``matrix`` with column ``c`` moved to ``target[c]``, or left out where that is -1."""
    moved = target[matrix.indices]
    keep = moved >= 0
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.zeros(matrix.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((matrix.data[keep], moved[keep].astype(np.int32), indptr),
                         shape=(matrix.shape[0], width))


def _kept(names: Iterable[tuple[str, ...]], settings: RelatedSettings) -> dict[str, int]:
    """The names (tags or authors) of between ``min_df`` and ``max_df`` papers, with the
    number of papers of each."""
    df = Counter(chain.from_iterable(set(n) for n in names))
    return {name: n for name, n in df.items() if settings.min_df <= n <= settings.max_df}


def _unit_rows(matrix: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """``matrix`` with each nonzero row scaled to length ``sqrt(weight)``."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    if weight <= 0:
        return sp.csr_matrix(matrix.shape, dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(math.sqrt(weight), norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def _arrays_to_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    named: dict[str, Any] = arrays
    np.savez(buffer, **named)
    return buffer.getvalue()


def _arrays_from_bytes(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}

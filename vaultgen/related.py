"""Related papers: each paper's nearest neighbours by the text of its post, its tags and its
authors.

A paper is a vector of three blocks, each of unit length times the square root of its weight:
the TF-IDF of the terms of its text (title, abstract and both commentaries, lower-cased,
Korean left out; a word is what lies between spaces, padded with a space on each side; its
terms are its character 5-grams when it has a Latin letter or a digit (words that name an
arXiv paper, its links and ``arXiv:ID``, are left out), as scikit-learn's
``char_wb`` analyzer takes them, else the padded word; ``1 + ln(count)`` times a smoothed
idf), and the idf of its tags and of its authors. Features of fewer than ``min_df`` papers
at fitting time match nothing and are left out; so are the commonest, down to the number of
papers that keeps the pairs of papers sharing a feature within ``max_pairs`` (the cost of the
similarity product, which grows with the square of the corpus when nothing is left out).
Two papers are candidates when they share a feature; the score of a candidate pair is the
dot product of their vectors less ``centering`` times the mean of their similarities to the
corpus's mean vector, which keeps papers written in the corpus's common words from being
everyone's neighbour. A paper's list holds its best ``k`` candidates, by score rounded to
``digits`` decimals, then by key.

The model (vocabulary, idf, mean vector) is fitted on a full refresh (``refresh``); between
refreshes, ``update`` adds, changes and removes papers under the model as it is, touching
only the lists that change, with numpy and scipy alone (importing scikit-learn's text module
takes about a second, more than the whole update; ``bench/related_cost.py``). Whatever order
papers arrive in, a list equals the one ``related_lists`` gives for the same papers and model.
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
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .words import count_words

if TYPE_CHECKING:
    from concurrent.futures import Executor

GRAM = 5  # characters in a text feature
# Words with a Latin letter or a digit are taken by their grams; others whole.
_HAS_LATIN = re.compile("[0-9a-z]").search
# Papers whose words are counted at once (by one worker, where there is a pool).
_WORDS_BATCH = 2000
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
    def parts(self) -> tuple[str, ...]:
        """Title, abstract and both commentaries, those that are not empty."""
        return tuple(part for part in (self.title, self.abstract, self.commentary_ko,
                                       self.commentary_en) if part)

    @property
    def text(self) -> str:
        """Title, abstract and both commentaries."""
        return " ".join(self.parts)


class Neighbour(NamedTuple):
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
    max_df: int | None = 200
    max_pairs: float = 5e7
    digits: int = 4


@dataclass(frozen=True, eq=False)
class RelatedModel:
    """What a full refresh fits: the features (text terms, tags, authors: the columns of the
    vectors, in this order), their idf, and the corpus's mean vector."""

    settings: RelatedSettings
    terms: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    idf: np.ndarray  # float64, one per column
    mean: np.ndarray  # float64, one per column
    _columns: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def columns(self, block: str) -> dict[str, int]:
        """The column of each feature of ``block`` ("terms", "tags" or "authors")."""
        if block not in self._columns:
            start = {"terms": 0, "tags": len(self.terms),
                     "authors": len(self.terms) + len(self.tags)}[block]
            names: tuple[str, ...] = getattr(self, block)
            self._columns[block] = {name: start + i for i, name in enumerate(names)}
        return self._columns[block]

    @property
    def width(self) -> int:
        return len(self.terms) + len(self.tags) + len(self.authors)

    def to_bytes(self) -> bytes:
        names = json.dumps({"settings": asdict(self.settings), "terms": self.terms,
                            "tags": self.tags, "authors": self.authors}, ensure_ascii=False)
        return _arrays_to_bytes(names=np.frombuffer(names.encode("utf-8"), np.uint8),
                                idf=self.idf, mean=self.mean)

    @classmethod
    def from_bytes(cls, data: bytes) -> RelatedModel:
        arrays = _arrays_from_bytes(data)
        names = json.loads(arrays["names"].tobytes().decode("utf-8"))
        return cls(RelatedSettings(**names["settings"]), tuple(names["terms"]),
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
    """What an update gives: the vectors of the papers added, every list that changed
    (those of the papers added among them; lists of removed papers are gone), and every
    paper's vector after the update (``current``: what a store keeps)."""

    vectors: Vectors
    lists: dict[str, tuple[Neighbour, ...]]
    current: Vectors


def refresh(papers: Sequence[RelatedText], k: int, settings: RelatedSettings | None = None,
            pool: Executor | None = None) -> Refresh:
    """Fit the model on ``papers``, then compute their vectors and their lists of ``k``.
    ``pool``: worker processes that count the words of the papers' texts (the same counts,
    in a fraction of the time)."""
    counts = _Counts.of(papers, pool)
    del papers  # (their texts, counted, are let go where this held the last reference)
    model, vectors = counts.fit(settings or RelatedSettings())
    del counts
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
    lengths = np.diff(product.indptr)
    local = np.repeat(np.arange(product.shape[0]), lengths)
    columns = product.indices
    scores = _scores(first + local, columns, product.data, vectors.offsets, digits)
    scores[columns == first + local] = -np.inf  # never the paper itself
    # Each row's k-th best score: only the candidates at least as good can make its list.
    kth = np.full(product.shape[0], -np.inf)
    for i in np.flatnonzero(lengths > k).tolist():
        row = scores[product.indptr[i]:product.indptr[i + 1]]
        kth[i] = np.partition(row, len(row) - k)[len(row) - k]
    chosen = np.flatnonzero((scores >= kth[local]) & (scores > -np.inf))
    chosen = chosen[np.lexsort((rank[columns[chosen]], -scores[chosen], local[chosen]))]
    rows = local[chosen]
    place = np.arange(len(chosen)) - np.searchsorted(rows, rows)  # within its row's list
    chosen = chosen[place < k]
    bounds = np.searchsorted(local[chosen], np.arange(product.shape[0] + 1))
    names, values = columns[chosen].tolist(), scores[chosen].tolist()
    keys = vectors.keys
    for i in range(product.shape[0]):
        yield keys[first + i], tuple(map(Neighbour, map(keys.__getitem__,
                                                         names[bounds[i]:bounds[i + 1]]),
                                         values[bounds[i]:bounds[i + 1]]))


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
        return Update(new, {key: () for key in new.keys if lists.get(key) != ()}, current)
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
    return Update(new, changed, current)


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
    def of(cls, papers: Sequence[RelatedText], pool: Executor | None = None) -> _Counts:
        """The counts of ``papers``; their words counted in ``pool``'s workers, a batch of
        papers each, when there is one."""
        keys = tuple(paper.key for paper in papers)
        if len(set(keys)) != len(keys):
            twice = sorted(key for key, n in Counter(keys).items() if n > 1)
            raise ValueError(f"papers given twice: {', '.join(twice[:5])}")
        batches = [[paper.parts for paper in papers[start:start + _WORDS_BATCH]]
                   for start in range(0, len(papers), _WORDS_BATCH)]
        counted = pool.map(count_words, batches) if pool is not None and len(batches) > 1 \
            else map(count_words, batches)
        # Each batch numbers its words in the order they come; numbered again, in the order
        # of the batches, they are numbered as one pass over every paper numbers them.
        # (The batches' numbers and counts are appended to one array each, not gathered and
        # then joined: a copy of every count fewer at the peak.)
        word_ids: defaultdict[str, int] = defaultdict(count().__next__)
        indices, values, lengths = array("i"), array("f"), array("q")
        for words, batch_lengths, batch_indices, batch_values in counted:
            ids = np.fromiter(map(word_ids.__getitem__, words), np.int32, len(words))
            indices.frombytes(ids[np.frombuffer(batch_indices, np.int32)].tobytes())
            values.extend(batch_values)
            lengths.extend(batch_lengths)
        indptr = np.zeros(len(papers) + 1, np.int64)
        np.cumsum(np.frombuffer(lengths, np.int64), out=indptr[1:])
        word_counts = sp.csr_matrix(
            (np.frombuffer(values, np.float32), np.frombuffer(indices, np.int32), indptr),
            shape=(len(papers), len(word_ids)))
        return cls(keys, word_counts, list(word_ids), [tuple(p.tags) for p in papers],
                   [tuple(p.authors) for p in papers])

    def terms_of_words(self, columns: Mapping[str, int]) -> sp.csr_matrix:
        """Words × the model's text terms: how often each term is in each word."""
        indices = array("i")
        indptr = array("q", [0])
        for word in self.words:
            indices.extend(c for term in _terms(word) if (c := columns.get(term)) is not None)
            indptr.append(len(indices))
        return sp.csr_matrix((np.ones(len(indices), np.float32),
                              np.frombuffer(indices, np.int32), np.frombuffer(indptr, np.int64)),
                             shape=(len(self.words), len(columns)))

    def fit(self, settings: RelatedSettings) -> tuple[RelatedModel, Vectors]:
        """The model of these papers, and their vectors under it."""
        papers, words = len(self.keys), self.words
        # A word taken whole is its own term: its papers are those of the word. Only the
        # grams of the others are gathered (most distinct words of a corpus are rare).
        whole = np.fromiter((len(w) + 2 <= GRAM or not _HAS_LATIN(w) for w in words), bool,
                            len(words))
        gram_ids: defaultdict[str, int] = defaultdict(count().__next__)
        indices = array("i")
        split = np.flatnonzero(~whole)
        for i in split.tolist():
            indices.extend(map(gram_ids.__getitem__, _terms(words[i])))
        lengths = np.zeros(len(words), np.int64)
        lengths[split] = [len(words[i]) - GRAM + 3 for i in split.tolist()]
        indptr = np.zeros(len(words) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        grams_of_words = sp.csr_matrix((np.ones(len(indices), np.float32),
                                        np.frombuffer(indices, np.int32), indptr),
                                       shape=(len(words), len(gram_ids)))
        grams = list(gram_ids)
        del gram_ids
        # The papers of each gram, a slice of papers at a time: the counts of every gram of
        # every paper would take several times the memory of those kept.
        gram_df = np.zeros(len(grams), np.int64)
        for start in range(0, papers, 1024):
            part = (self.word_counts[start:start + 1024] @ grams_of_words).tocsr()
            gram_df += np.bincount(part.indices, minlength=len(grams))
        word_df = np.bincount(self.word_counts.indices, minlength=len(words))
        tag_df = Counter(chain.from_iterable(set(n) for n in self.tags))
        author_df = Counter(chain.from_iterable(set(n) for n in self.authors))
        cap = _most_papers(np.concatenate([
            gram_df, word_df[whole], np.fromiter(tag_df.values(), np.int64, len(tag_df)),
            np.fromiter(author_df.values(), np.int64, len(author_df))]), settings)

        def wanted(df: np.ndarray) -> np.ndarray:
            return (df >= settings.min_df) & (df <= cap)

        text_df = {grams[i]: int(gram_df[i]) for i in np.flatnonzero(wanted(gram_df)).tolist()}
        whole_kept = np.flatnonzero(whole & wanted(word_df))
        text_df.update((f" {words[i]} ", int(word_df[i])) for i in whole_kept.tolist())
        tags = {n: df for n, df in tag_df.items() if settings.min_df <= df <= cap}
        authors = {n: df for n, df in author_df.items() if settings.min_df <= df <= cap}
        terms = tuple(sorted(text_df))
        df = np.array([text_df[t] for t in terms] + [tags[t] for t in sorted(tags)]
                      + [authors[a] for a in sorted(authors)], np.float64)
        idf = np.log((1 + papers) / (1 + df)) + 1  # scikit-learn's smoothed idf
        model = RelatedModel(settings, terms, tuple(sorted(tags)), tuple(sorted(authors)), idf,
                             np.zeros(len(df)))
        columns = model.columns("terms")
        terms_of_words = _columns_to(grams_of_words,
                                     np.array([columns.get(g, -1) for g in grams], np.int64),
                                     len(terms))
        terms_of_words = terms_of_words + sp.csr_matrix(
            (np.ones(len(whole_kept), np.float32),
             (whole_kept, [columns[f" {words[i]} "] for i in whole_kept.tolist()])),
            shape=terms_of_words.shape)
        matrix = self._weighted(model, self.term_counts(terms_of_words))
        mean = np.asarray(matrix.mean(axis=0), np.float64).ravel() if papers else model.mean
        model = RelatedModel(settings, model.terms, model.tags, model.authors, idf, mean)
        return model, self._with_offsets(model, matrix)

    def term_counts(self, terms_of_words: sp.csr_matrix) -> sp.csr_matrix:
        """Papers × terms: how often each term is in each paper's text."""
        counts = (self.word_counts @ terms_of_words).tocsr()
        counts.sum_duplicates()
        return counts

    def vectors(self, model: RelatedModel) -> Vectors:
        terms = self.term_counts(self.terms_of_words(model.columns("terms")))
        return self._with_offsets(model, self._weighted(model, terms))

    def _with_offsets(self, model: RelatedModel, matrix: sp.csr_matrix) -> Vectors:
        offsets = model.settings.centering * (matrix @ model.mean)
        return Vectors(self.keys, matrix, np.asarray(offsets, np.float64))

    def _weighted(self, model: RelatedModel, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Each paper's vector: its three blocks weighted, each of unit length times the
        square root of its weight."""
        settings = model.settings
        gram_idf = model.idf[:len(model.terms)]
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


def _terms(word: str) -> list[str]:
    """The text terms of a word: its padded grams, or the padded word when it is short or
    has neither Latin letter nor digit."""
    padded = f" {word} "
    if len(padded) <= GRAM or not _HAS_LATIN(word):
        return [padded]
    return [padded[i:i + GRAM] for i in range(len(padded) - GRAM + 1)]


def _columns_to(matrix: sp.csr_matrix, target: np.ndarray, width: int) -> sp.csr_matrix:
    """``matrix`` with column ``c`` moved to ``target[c]``, or left out where that is -1."""
    moved = target[matrix.indices]
    keep = moved >= 0
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.zeros(matrix.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((matrix.data[keep], moved[keep].astype(np.int32), indptr),
                         shape=(matrix.shape[0], width))


def _most_papers(df: np.ndarray, settings: RelatedSettings) -> int:
    """The most papers a feature may have: ``max_df``, or less, so that the products of the
    pairs of papers sharing a feature (a feature of ``df`` papers makes ``df²`` of them) stay
    within ``max_pairs``."""
    counts = np.bincount(df[df >= settings.min_df])
    sizes = np.flatnonzero(counts)
    within = sizes[np.cumsum(sizes.astype(np.float64) ** 2 * counts[sizes]) <= settings.max_pairs]
    most = int(within.max()) if len(within) else settings.min_df - 1
    return most if settings.max_df is None else min(settings.max_df, most)


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

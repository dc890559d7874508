"""Related papers: the lists of a full refresh, and the update of a few papers that must give
the same lists as a full refresh under the same model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.related import (
    Neighbour,
    RelatedModel,
    RelatedSettings,
    RelatedText,
    Vectors,
    fit,
    refresh,
    related_lists,
    update,
    vectorise,
)

WORDS = ("sparse", "attention", "diffusion", "tokenizer", "reward", "policy", "memory",
         "scaling", "laws", "mixture", "experts", "image", "retrieval", "transformers")
TAGS = ("llm", "efficiency", "vision", "rl")
AUTHORS = ("Ada Park", "Bo Kim", "Cy Lee", "Di Wu")
HANGUL = re.compile("[\uac00-\ud7a3]")


def paper(key: str, text: str, tags: tuple[str, ...] = (), authors: tuple[str, ...] = (),
          korean: str | None = None) -> RelatedText:
    return RelatedText(key, text.split(".")[0], text, korean, None, tags, authors)


CORPUS = [
    paper("a", "Sparse attention for long context. Sparse attention kernels.", ("efficiency",)),
    paper("b", "Sparse attention patterns for long context transformers.", ("efficiency",)),
    paper("c", "Diffusion models for image generation. Image diffusion.", ("vision",)),
    paper("d", "Image diffusion with a better tokenizer.", ("vision",), ("Ada Park",)),
    paper("e", "Reward models for policy optimisation. Reward hacking.", ("rl",)),
    paper("f", "Policy optimisation with reward models and verifiers.", ("rl",)),
    paper("g", "Scaling laws for mixture of experts.", ("llm",), ("Ada Park",)),
    paper("h", "Mixture of experts scaling and routing.", ("llm",)),
]


def keys_of(lists: dict[str, tuple[Neighbour, ...]]) -> dict[str, list[str]]:
    return {key: [n.key for n in neighbours] for key, neighbours in lists.items()}


def test_each_paper_is_listed_with_its_neighbours_most_similar_first() -> None:
    lists = keys_of(refresh(CORPUS, 2).lists)
    assert lists["a"][0] == "b" and lists["b"][0] == "a"
    assert lists["c"][0] == "d" and lists["e"][0] == "f" and lists["g"][0] == "h"
    for key, neighbours in refresh(CORPUS, 5).lists.items():
        scores = [n.score for n in neighbours]
        assert scores == sorted(scores, reverse=True), key


def test_lists_never_hold_the_paper_itself_and_obey_k() -> None:
    for k in (1, 3, 7, 20):
        lists = refresh(CORPUS, k).lists
        assert set(lists) == {p.key for p in CORPUS}
        for key, neighbours in lists.items():
            assert key not in [n.key for n in neighbours]
            assert len(neighbours) <= k
            assert len({n.key for n in neighbours}) == len(neighbours)
    longest = refresh(CORPUS, 7).lists
    assert any(len(neighbours) > 3 for neighbours in longest.values())
    shorter = refresh(CORPUS, 3).lists
    assert all(shorter[key] == neighbours[:3] for key, neighbours in longest.items())


def test_zero_turns_the_lists_off() -> None:
    result = refresh(CORPUS, 0)
    assert result.lists == {p.key: () for p in CORPUS}
    added = update(result.model, result.vectors, result.lists,
                   [paper("z", "Sparse attention again.")], (), 0)
    assert added.lists == {"z": ()}


def test_the_same_papers_give_the_same_lists_in_any_order() -> None:
    first = refresh(CORPUS, 3)
    second = refresh(list(reversed(CORPUS)), 3)
    assert first.lists == second.lists
    assert first.model.terms == second.model.terms
    assert np.array_equal(first.model.idf, second.model.idf)


def test_equal_scores_are_ordered_by_key() -> None:
    papers = [paper("q", "Sparse attention kernels."), paper("twin-b", "Sparse attention."),
              paper("twin-a", "Sparse attention."), paper("other", "Reward policy.")]
    assert keys_of(refresh(papers, 2).lists)["q"] == ["twin-a", "twin-b"]


def test_scores_are_rounded_to_the_settings_digits() -> None:
    lists = refresh(CORPUS, 3, RelatedSettings(digits=2)).lists
    for neighbours in lists.values():
        for n in neighbours:
            assert n.score == round(n.score, 2)


def test_korean_is_left_out_and_the_latin_terms_among_it_count() -> None:
    papers = [paper("a", "Alpha", korean="Transformer의 구조를 봅니다"),
              paper("b", "Gamma", korean="transformer를 씁니다"),
              paper("c", "Omega", korean="구조를 봅니다")]
    lists = keys_of(refresh(papers, 2, RelatedSettings(centering=0)).lists)
    assert lists == {"a": ["b"], "b": ["a"], "c": []}


def test_arxiv_links_in_the_text_are_left_out() -> None:
    link = "https://arxiv.org/abs/2404.12345v2 arXiv:2404.12345"
    papers = [paper("a", f"Alpha. {link}"), paper("b", f"Omega. {link}"),
              paper("c", "Sigma kappa.")]
    assert keys_of(refresh(papers, 2, RelatedSettings(centering=0)).lists)["a"] == []


def test_the_same_key_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="papers given twice: a"):
        refresh([*CORPUS, paper("a", "Again.")], 3)


def test_tags_and_authors_bring_papers_together_by_their_weight() -> None:
    papers = [paper("a", "Alpha beta gamma.", ("vision",), ("Ada Park",)),
              paper("b", "Delta epsilon zeta.", ("vision",), ("Ada Park",)),
              paper("c", "Alpha beta theta.", ("rl",), ("Bo Kim",)),
              paper("d", "Iota kappa lambda.", ("vision",), ("Ada Park",)),
              paper("e", "Mu nu xi.", ("rl",), ("Bo Kim",))]
    by_text = RelatedSettings(tag_weight=0, author_weight=0, centering=0)
    by_people = RelatedSettings(tag_weight=2, author_weight=2, centering=0)
    assert keys_of(refresh(papers, 1, by_text).lists)["a"] == ["c"]
    assert keys_of(refresh(papers, 1, by_people).lists)["a"] == ["b"]


def test_the_text_block_is_scikit_learns_char_wb_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [" ".join(WORDS[(i * j) % len(WORDS)] for j in range(1, 9)) for i in range(1, 12)]
    papers = [RelatedText(f"p{i}", text) for i, text in enumerate(texts)]
    ours = refresh(papers, 3, RelatedSettings(tag_weight=0, author_weight=0, max_df=8))
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 5), sublinear_tf=True,
                             min_df=2, max_df=8).fit_transform([p.text for p in papers])
    assert list(ours.model.terms) == sorted(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 5), min_df=2, max_df=8)
        .fit([p.text for p in papers]).get_feature_names_out())
    np.testing.assert_allclose((ours.vectors.matrix @ ours.vectors.matrix.T).toarray(),
                               (theirs @ theirs.T).toarray(), atol=1e-6)


def test_model_and_vectors_survive_bytes() -> None:
    result = refresh(CORPUS, 3)
    model = RelatedModel.from_bytes(result.model.to_bytes())
    vectors = Vectors.from_bytes(result.vectors.to_bytes())
    assert model.terms == result.model.terms and model.settings == result.model.settings
    assert np.array_equal(model.idf, result.model.idf)
    assert np.array_equal(model.mean, result.model.mean)
    assert vectors.keys == result.vectors.keys
    assert (vectors.matrix != result.vectors.matrix).nnz == 0
    assert related_lists(vectors, 3) == result.lists
    new = [paper("z", "Sparse attention kernels for long context.", ("efficiency",))]
    assert (update(model, vectors, result.lists, new, (), 3).lists
            == update(result.model, result.vectors, result.lists, new, (), 3).lists)


def test_a_new_paper_enters_exactly_the_lists_whose_last_it_beats() -> None:
    old = refresh(CORPUS, 2)
    new = paper("i", "Sparse attention kernels for mixture of experts.", ("efficiency",))
    result = update(old.model, old.vectors, old.lists, [new], (), 2)
    vectors = vectorise(old.model, [*CORPUS, new])
    scores = score_against(vectors, "i")
    entered = {key for key, neighbours in old.lists.items() if key in scores
               and (len(neighbours) < 2 or (-scores[key], "i") < (-neighbours[-1].score,
                                                                   neighbours[-1].key))}
    assert entered  # the example makes it enter some lists, and not all of them
    assert entered != set(old.lists)
    assert set(result.lists) == entered | {"i"}
    assert all("i" in [n.key for n in result.lists[key]] for key in entered)


def score_against(vectors: Vectors, key: str) -> dict[str, float]:
    """Every candidate's rounded score against paper ``key``, as the lists take it."""
    row = vectors.keys.index(key)
    raw = (vectors.matrix @ vectors.matrix[row].T).toarray().ravel()
    return {other: round(float(np.float64(raw[i]) - (vectors.offsets[row]
                                                     + vectors.offsets[i]) / 2), 4)
            for i, other in enumerate(vectors.keys) if i != row and raw[i] != 0}


def test_removed_papers_leave_every_list_and_their_places_are_filled() -> None:
    old = refresh(CORPUS, 2)
    result = update(old.model, old.vectors, old.lists, [], {"b"}, 2)
    assert "b" not in result.lists
    assert keys_of(result.lists)["a"][0] != "b"
    assert len(result.lists["a"]) == len(old.lists["a"])
    assert set(result.lists) == {key for key, ns in old.lists.items()
                                 if "b" in [n.key for n in ns] and key != "b"}


made_up_paper = st.builds(
    lambda words, tags, authors: (" ".join(words), tuple(tags), tuple(authors)),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
    st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
    st.lists(st.sampled_from(AUTHORS), max_size=2, unique=True))


@settings(max_examples=150, deadline=None)
@given(corpus=st.lists(made_up_paper, min_size=2, max_size=12),
       new_count=st.integers(0, 3), removed=st.sets(st.integers(0, 11), max_size=3),
       changed=st.sets(st.integers(0, 11), max_size=2), k=st.integers(1, 4),
       max_df=st.integers(2, 12), fit_on_all=st.booleans())
def test_updates_give_the_lists_of_a_full_refresh_under_the_same_model(
        corpus: list[tuple[str, tuple[str, ...], tuple[str, ...]]], new_count: int,
        removed: set[int], changed: set[int], k: int, max_df: int, fit_on_all: bool) -> None:
    papers = [RelatedText(f"p{i:02d}", text, text, None, None, tags, authors)
              for i, (text, tags, authors) in enumerate(corpus)]
    cut = max(1, len(papers) - new_count)
    before, added = papers[:cut], papers[cut:]
    gone = {papers[i].key for i in removed if i < cut}
    edited = [RelatedText(p.key, p.title, f"{p.abstract} {WORDS[i % len(WORDS)]}",
                          None, None, p.tags, p.authors)
              for i, p in enumerate(before) if i in changed and p.key not in gone]
    model = fit(papers if fit_on_all else before,
                RelatedSettings(max_df=max_df, tag_weight=0.1, author_weight=0.1))
    old_vectors = vectorise(model, before)
    old_lists = related_lists(old_vectors, k)

    result = update(model, old_vectors, old_lists, [*added, *edited], gone, k)

    now = {p.key: p for p in before if p.key not in gone}
    now.update({p.key: p for p in [*added, *edited]})
    expected = related_lists(vectorise(model, list(now.values())), k)
    lists = {key: ns for key, ns in old_lists.items() if key in now}
    lists.update(result.lists)
    assert lists == expected
    assert set(result.lists) == {key for key in expected if old_lists.get(key) != expected[key]
                                 or key in {p.key for p in [*added, *edited]}}
    assert result.vectors.keys == tuple(p.key for p in [*added, *edited])


def test_the_commonest_features_give_way_to_the_pairs_budget() -> None:
    papers = [RelatedText(f"p{i}", f"common{i % 2} shared{i % 5} rare{i % 11}")
              for i in range(22)]
    everything = fit(papers)
    squeezed = fit(papers, RelatedSettings(max_pairs=300))
    kept = set(squeezed.terms)
    assert kept < set(everything.terms)
    assert "are0 " in kept and "mon0 " not in kept  # of 2 papers, of 11
    df = {g: sum(g in f" {p.text} " for p in papers) for g in everything.terms}
    assert max(df[g] for g in kept) < min(df[g] for g in set(everything.terms) - kept)
    assert sum(df[g] ** 2 for g in kept) <= 300


def test_words_counted_by_worker_processes_give_the_same_model_vectors_and_lists(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh whose words are counted in batches by worker processes fits what one pass
    in the build's own process fits: the words numbered alike, Korean and links left out
    alike."""
    import vaultgen.related
    from vaultgen.workers import worker_pool

    rng = np.random.default_rng(3)
    papers = [paper(f"p{i:02d}", " ".join(rng.choice(WORDS, 12)) + ". " + " ".join(
                  rng.choice(WORDS, 20)) + (" arXiv:2401.0000" + str(i % 3) if i % 4 else ""),
                    (TAGS[i % 4],), (AUTHORS[i % 3],),
                    korean=f"{WORDS[i % 14]}를 다룬다 모델의 GPT-{i % 5}는" if i % 2 else None)
              for i in range(40)]
    papers += [paper("ko", "", korean="희소 어텐션을 다룬다"), paper("empty", "")]
    alone = refresh(papers, 5)
    monkeypatch.setattr(vaultgen.related, "_WORDS_BATCH", 7)
    with worker_pool(2) as pool:
        spread = refresh(papers, 5, pool=pool)
    assert spread.model.terms == alone.model.terms and spread.model.tags == alone.model.tags
    assert np.array_equal(spread.model.idf, alone.model.idf)
    assert np.array_equal(spread.model.mean, alone.model.mean)
    assert (spread.vectors.matrix != alone.vectors.matrix).nnz == 0
    assert spread.lists == alone.lists
    assert not any(HANGUL.search(term) for term in alone.model.terms)
    assert any("gpt-" in term for term in alone.model.terms)
    with worker_pool(2) as pool:
        assert refresh([], 5, pool=pool).lists == {}

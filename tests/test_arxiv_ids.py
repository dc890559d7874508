"""arXiv ids in text: every pasted form, and no false hits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultgen.parse.arxiv_ids import ARXIV_REF, find_ids, find_refs, normalise_id


@pytest.mark.parametrize("text, ids", [
    ("Hyperfitting (https://arxiv.org/abs/2412.04318)", ["2412.04318"]),
    ("https://arxiv.org/abs/2412.04318v3", ["2412.04318"]),
    ("http://arxiv.org/pdf/2412.04318", ["2412.04318"]),
    ("arxiv.org/pdf/2412.04318v1.pdf", ["2412.04318"]),
    ("https://arxiv.org/html/2412.04318v2#S3", ["2412.04318"]),
    ("https://export.arxiv.org/abs/2412.04318", ["2412.04318"]),
    ("https://www.alphaxiv.org/abs/2412.04318", ["2412.04318"]),
    ("https://huggingface.co/papers/2412.04318", ["2412.04318"]),
    ("see arXiv:2412.04318.", ["2412.04318"]),
    ("arXiv: 1706.03762", ["1706.03762"]),
    ("arXiv:hep-th/9901001v2", ["hep-th/9901001"]),
    ("https://arxiv.org/abs/cs/0112017", ["cs/0112017"]),
    ("https://arxiv.org/abs/math.GT/0309136", ["math.GT/0309136"]),
    ("a 0704.0001 b https://arxiv.org/abs/0704.0001", ["0704.0001"]),
    ("two: arxiv.org/abs/2401.00001 and arxiv.org/abs/2401.00001v2, arXiv:2402.00002",
     ["2401.00001", "2402.00002"]),
])
def test_forms(text: str, ids: list[str]) -> None:
    assert find_ids(text) == ids


@pytest.mark.parametrize("text", [
    "version 2.1.0", "v2412.04318", "on 2024.12.04", "pi is 3.14159", "1706.03762 alone",
    "https://github.com/x/2412.04318", "arXiv:2412.043189", "2412.04318.5", "cs/0112017",
])
def test_no_false_hits(text: str) -> None:
    assert find_ids(text) == []


def test_spans_cover_the_reference() -> None:
    text = "A (https://arxiv.org/abs/2412.04318v2) and arXiv:2401.00001."
    spans = [text[r.start:r.end] for r in find_refs(text)]
    assert spans == ["https://arxiv.org/abs/2412.04318v2", "arXiv:2401.00001"]


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers())
def test_numbers_are_never_ids(number: float, integer: int) -> None:
    assert find_ids(f"{number} {integer} {abs(integer)}.{abs(integer)}") == []


@given(st.integers(7, 39), st.integers(1, 12), st.integers(1, 99999), st.integers(1, 9))
def test_every_new_style_url_round_trips(year: int, month: int, number: int, version: int) -> None:
    digits = 5 if year >= 15 else 4
    if number >= 10**digits:
        number = number % 10**digits
    arxiv_id = f"{year:02d}{month:02d}.{number:0{digits}d}"
    for form in (f"https://arxiv.org/abs/{arxiv_id}v{version}", f"arXiv:{arxiv_id}",
                 f"https://arxiv.org/pdf/{arxiv_id}.pdf"):
        assert find_ids(f"see {form}.") == [arxiv_id]
        assert normalise_id(form) == arxiv_id



_REFERENCES = st.builds(
    "".join,
    st.tuples(st.sampled_from(["", "https://", "http://", "HTTPS://"]),
              st.sampled_from(["", "www.", "export."]),
              st.sampled_from(["arxiv.org/abs/", "ARXIV.ORG/pdf/", "arXiv:", "arxiv: ",
                               "alphaxiv.org/abs/", "huggingface.co/papers/",
                               "arxiv-sanity-lite.com/abs/", "arxiv"]),
              st.sampled_from(["2412.04318", "2412.04318v2", "hep-th/9901001",
                               "math.GT/0309136", "1706.0376"]),
              st.sampled_from(["", ".pdf", "#S3", "?x=1", "v", "."])))
_JUNK = st.sampled_from(["/", ".", ",", " ", "\n", "(", ")", "a", "x", "arxiv", "İ", "ı",
                         "K", "ſ", "논문"])


@given(st.lists(st.one_of(_REFERENCES, _JUNK), max_size=20))
def test_the_marker_shortcut_finds_what_a_full_scan_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    full = [(m.start(), m.end()) for m in ARXIV_REF.finditer(text)]
    found = [(r.start, r.end) for r in find_refs(text)]
    # the spans of a full scan, each as find_refs widens a URL's by its fragment or query
    assert [start for start, _ in found] == [start for start, _ in full]
    assert all(end >= full_end for (_, end), (_, full_end) in zip(found, full, strict=True))

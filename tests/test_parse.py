"""The digest parser: every form the issue lists, and round trips of generated posts."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.parse.posts import (
    looks_like_author_line,
    parse_date_header,
    parse_post,
    parse_tag_line,
    split_authors,
)

POST = """2025년 4월 30일
Title One: A Study
(Ann Author, Bob Builder)
First abstract paragraph.
Second abstract paragraph.
한국어 코멘트. Hyperfitting (https://arxiv.org/abs/2412.04318) 참고.
English commentary citing arXiv:2401.00001v2.
#llm #reasoning
Title Two Without Commentary
(Solo)
Only an abstract.
Title Three
(C. Person)
Abstract three.
코멘트만 있습니다.
"""


def test_entries_without_blank_lines() -> None:
    result = parse_post(POST, "post.txt")
    assert [e.title for e in result.entries] == ["Title One: A Study",
                                                 "Title Two Without Commentary", "Title Three"]
    one, two, three = result.entries
    assert one.date == dt.date(2025, 4, 30)
    assert one.authors == ("Ann Author", "Bob Builder")
    assert one.abstract == "First abstract paragraph.\nSecond abstract paragraph."
    assert one.comment_ko.startswith("한국어")
    assert one.comment_en == "English commentary citing arXiv:2401.00001v2."
    assert one.tags == ("llm", "reasoning")
    assert one.cites == ("2412.04318", "2401.00001")
    assert str(one.source) == "post.txt:2"
    assert two.abstract == "Only an abstract." and two.comment_ko is None and two.tags == ()
    assert three.comment_ko == "코멘트만 있습니다." and three.comment_en is None
    assert result.diagnostics == ()


def test_blank_lines_rules_bom_and_crlf_give_the_same_entries() -> None:
    loose = "\ufeff" + "\r\n\r\n".join(POST.strip().split("\n")).replace(
        "Title Two", "---\r\n\r\nTitle Two") + "\r\n"
    assert parse_post(loose, "post.txt").entries[1:] != ()
    tight = parse_post(POST, "post.txt").entries
    got = parse_post(loose, "post.txt").entries
    assert [(e.title, e.abstract, e.comment_ko, e.comment_en, e.tags) for e in got] == \
        [(e.title, e.abstract, e.comment_ko, e.comment_en, e.tags) for e in tight]


@pytest.mark.parametrize("header, day", [
    ("2025년 4월 30일", dt.date(2025, 4, 30)),
    ("2025년 4월 30일 (수)", dt.date(2025, 4, 30)),
    ("April 30, 2025", dt.date(2025, 4, 30)),
    ("Wednesday, April 30, 2025", dt.date(2025, 4, 30)),
    ("30 April 2025", dt.date(2025, 4, 30)),
    ("Apr 3 2025", dt.date(2025, 4, 3)),
    ("2025-04-30", dt.date(2025, 4, 30)),
    ("2025.04.30", dt.date(2025, 4, 30)),
    ("2025. 4. 30.", dt.date(2025, 4, 30)),
    ("# 2025-04-30", dt.date(2025, 4, 30)),
])
def test_date_headers(header: str, day: dt.date) -> None:
    assert parse_date_header(header) == day
    assert parse_post(f"{header}\nT\n(A)\nabs\n", "x.txt").entries[0].date == day


_SPACE = st.sampled_from(["", " ", "  ", "\t", "\u3000"])


@given(st.sampled_from(["", "# ", "###### "]), st.lists(_SPACE, min_size=7, max_size=7),
       st.sampled_from(["", "(수)", "(수요일)", "수"]), st.dates(dt.date(1900, 1, 1)))
def test_korean_date_headers_spaced_out(heading: str, spaces: list[str], weekday: str,
                                        day: dt.date) -> None:
    """Every header the pattern takes, the widest too ("# 2025 년 4 월 30 일 (수)": the most
    words a header has), is read as one."""
    parts = [f"{day.year:04d}", "년", str(day.month), "월", str(day.day), "일", weekday]
    line = heading + "".join(part + space for part, space in zip(parts, spaces, strict=True))
    assert parse_date_header(line.strip()) == day


@pytest.mark.parametrize("line", ["Attention Is All You Need", "2025 in review",
                                  "May the force be with you", "1024.5 tokens"])
def test_not_date_headers(line: str) -> None:
    assert parse_date_header(line) is None


def test_impossible_date_is_reported_with_its_line() -> None:
    result = parse_post("2025-02-30\nT\n(A)\nabs\n", "bad.txt")
    assert any(str(d.source) == "bad.txt:1" and "no real date" in d.message
               for d in result.diagnostics)


def test_several_posts_in_one_file() -> None:
    text = "2025-04-29\nA\n(X)\na\n#t\n2025-04-30\nB\n(Y)\nb\n"
    assert [(e.title, e.date.day) for e in parse_post(text, "f.txt").entries] == \
        [("A", 29), ("B", 30)]


def test_date_from_file_name_when_there_is_no_header() -> None:
    result = parse_post("A Title\n(Someone)\nabs\n", "posts/2025-04-30-digest.txt")
    assert result.entries[0].date == dt.date(2025, 4, 30)
    assert result.diagnostics == ()


def test_no_header_and_no_date_in_name_is_a_clear_error() -> None:
    result = parse_post("A Title\n(Someone)\nabs\n", "notes.txt")
    assert result.entries == ()
    [error] = result.diagnostics
    assert error.severity == "error" and "before any date header" in error.message
    assert str(error.source) == "notes.txt:1"


def test_author_lines_with_nested_parentheses() -> None:
    result = parse_post("2025-01-01\nT\n(Michele (Mike) Lunati, Zihan Qiu (additional authors "
                        "not shown))\nabs\n", "f.txt")
    assert result.entries[0].authors == ("Michele (Mike) Lunati",
                                         "Zihan Qiu (additional authors not shown)")
    assert split_authors("A, B (x, y), C") == ("A", "B (x, y)", "C")


def _split_by_walking(inner: str) -> tuple[str, ...]:
    """Commas outside parentheses, found one character at a time (what ``split_authors``
    must answer, with or without its shortcut for lines without parentheses)."""
    parts, depth, current = [], 0, ""
    for char in inner:
        depth += char == "("
        depth = max(0, depth - (char == ")"))
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return tuple(p for p in parts if p)


@given(st.text(alphabet="ab ,()\t.", max_size=30))
def test_split_authors_is_commas_outside_parentheses(inner: str) -> None:
    assert split_authors(inner) == _split_by_walking(inner)


@pytest.mark.parametrize("line, expected", [
    ("(Ann Author, Bob Builder)", True),
    ("(Xiaomi LLM-Core Team)", True),
    ("(Y. Wang, D. Ma, D. Cai)", True),
    ("(John Smith et al.)", True),
    ("(역설적이지만 결과적으로 어렵게 되는군요.)", False),
    ("(This is a parenthesised remark of the commentary, which ends in a full stop.)", False),
    ("(see https://example.com)", False),
])
def test_author_line_shape(line: str, expected: bool) -> None:
    assert looks_like_author_line(line) is expected


def test_parenthesised_korean_comment_does_not_start_an_entry() -> None:
    text = ("2025-01-01\nT\n(A)\nabs\n한국어 코멘트 첫 줄.\n(괄호 안의 코멘트입니다.)\n#x\n")
    [entry] = parse_post(text, "f.txt").entries
    assert entry.comment_ko == "한국어 코멘트 첫 줄.\n(괄호 안의 코멘트입니다.)"


@pytest.mark.parametrize("title", [
    "$\\mu$P: Tensor Programs", "ReST-MCTS*: Self-Training", "An Image is Worth 1/2 Tokens",
    "#InsTag: Instruction Tagging", "From $r$ to $Q^*$: Your Language Model",
])
def test_titles_with_tex_and_symbols(title: str) -> None:
    [entry] = parse_post(f"2025-01-01\n{title}\n(A B)\nabs\n#t\n", "f.txt").entries
    assert entry.title == title


def test_bare_url_lines_belong_to_the_korean_commentary() -> None:
    text = ("2025-01-01\nT\n(A)\nabs\nhttps://project.github.io/\n코멘트.\n"
            "https://other.example/\nEnglish note.\n#x\n")
    [entry] = parse_post(text, "f.txt").entries
    assert entry.abstract == "abs"
    assert entry.comment_ko == "https://project.github.io/\n코멘트.\nhttps://other.example/"
    assert entry.comment_en == "English note."


def test_tags_of_any_script_and_bad_tags_warned() -> None:
    assert parse_tag_line("#llm #한국어 #a/b #x_y-z") == (["llm", "한국어", "a/b", "x_y-z"], [])
    assert parse_tag_line("#123 #ok") == (["ok"], ["#123"])
    assert parse_tag_line("## Heading") is None
    assert parse_tag_line("not #tags") is None
    result = parse_post("2025-01-01\nT\n(A)\nabs\n#123 #ok\n", "f.txt")
    assert result.entries[0].tags == ("ok",)
    assert "f.txt:5" in str(result.diagnostics[0])


def test_garbage_before_the_first_entry_is_warned_and_the_rest_parsed() -> None:
    result = parse_post("2025-01-01\nSome intro text.\nT\n(A)\nabs\n", "f.txt")
    assert [e.title for e in result.entries] == ["T"]
    assert str(result.diagnostics[0].source) == "f.txt:2"


def test_empty_input_warns_instead_of_crashing() -> None:
    result = parse_post("", "empty.txt")
    assert result.entries == () and "no entries" in result.diagnostics[0].message


# --- Property tests: generated posts parse back to what generated them ----------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 -:,$*/#", min_size=1,
                 max_size=40).map(lambda s: " ".join(s.split())).filter(
    lambda s: len(s) > 0 and not s.startswith(("#", "(", "-", "*")) and s[-1] != ")")
_name = st.from_regex(r"[A-Z][a-z]{1,8} [A-Z][a-z]{1,10}", fullmatch=True)
_sentence = st.from_regex(r"[A-Z][a-z]{2,10}( [a-z]{2,10}){2,12}\.", fullmatch=True)
_korean = st.from_regex(r"[가-힣]{2,6}( [가-힣]{2,6}){1,6}\.", fullmatch=True)
_tag = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)


@st.composite
def _entries(draw: st.DrawFn) -> dict:
    return {
        "title": draw(_words.filter(lambda t: not t[0].isdigit())),
        "authors": draw(st.lists(_name, min_size=1, max_size=5)),
        "abstract": draw(st.lists(_sentence, min_size=1, max_size=3)),
        "ko": draw(st.lists(_korean, max_size=3)),
        "en": draw(st.lists(_sentence, max_size=2)),
        "tags": draw(st.lists(_tag, max_size=4, unique=True)),
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(_entries(), min_size=1, max_size=5), st.booleans())
def test_generated_posts_round_trip(entries: list[dict], blank: bool) -> None:
    lines = ["2025년 4월 30일"]
    for e in entries:
        if not e["ko"]:
            e["en"] = []  # English commentary follows Korean commentary
        lines += [e["title"], "(" + ", ".join(e["authors"]) + ")", *e["abstract"], *e["ko"],
                  *e["en"]]
        if e["tags"]:
            lines.append(" ".join(f"#{t}" for t in e["tags"]))
    text = ("\n\n" if blank else "\n").join(lines)
    parsed = parse_post(text, "gen.txt").entries
    assert [p.title for p in parsed] == [e["title"] for e in entries]
    for got, want in zip(parsed, entries, strict=True):
        assert list(got.authors) == want["authors"]
        assert got.abstract == "\n".join(want["abstract"])
        assert got.comment_ko == ("\n".join(want["ko"]) or None)
        assert got.comment_en == ("\n".join(want["en"]) or None)
        assert list(got.tags) == want["tags"]

"""Where one entry ends and the next begins: author lines that lost a parenthesis, and lines
in an order the format does not have. No entry is merged into its neighbour without a warning
naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.cli import cli
from vaultgen.model import ParseResult
from vaultgen.parse.posts import parse_post

from .conftest import post_folder


def _warned_lines(result: ParseResult) -> list[int]:
    return [d.source.line for d in result.diagnostics]


# --- Author lines that lost a parenthesis: the entry is recovered, and warned about ------

LEADERBOARD = """2025년 4월 30일
The Leaderboard Illusion
(Shivalika Singh, Yiyang Nan, Alex Wang)
Measuring progress is fundamental to the advancement of any scientific field.
Chatbot Arena에서 비공개로 모델을 테스트한 다음 모델을 조용히 제외시키는 풍조에 대한 비판.
A criticism of the trend in Chatbot Arena.
#benchmark
MiMo: Unlocking the Reasoning Potential of Language Model
{authors}
We present MiMo-7B, a large language model born for reasoning tasks.
샤오미의 추론 모델.
Xiaomi's reasoning model.
#llm #reasoning #rl
GaLore 2: Large-Scale LLM Pre-Training by Gradient Low-Rank Projection
(DiJia Su, Andrew Gu, Jane Xu)
Large language models face significant memory bottlenecks during training.
GaLore의 개선 버전.
An improved version of GaLore.
#efficiency
"""


@pytest.mark.parametrize("authors, names, problem", [
    ("(Xiaomi LLM-Core Team", ("Xiaomi LLM-Core Team",), "no closing ')'"),
    ("Xiaomi LLM-Core Team)", ("Xiaomi LLM-Core Team",), "no opening '('"),
    ("Xiaomi LLM-Core Team", ("Xiaomi LLM-Core Team",), "not in parentheses"),
    ("Bingquan Xia, Bowen Shen, and Cici Li", ("Bingquan Xia", "Bowen Shen", "Cici Li"),
     "not in parentheses"),
    ("(Bingquan Xia and Bowen Shen", ("Bingquan Xia", "Bowen Shen"), "no closing ')'"),
    ("(Xiaomi LLM-Core Team) [preprint]", ("Xiaomi LLM-Core Team",), "text after"),
])
def test_broken_author_line_starts_its_own_entry_with_a_warning(
        authors: str, names: tuple[str, ...], problem: str) -> None:
    result = parse_post(LEADERBOARD.format(authors=authors), "post.txt")
    board, mimo, galore = result.entries
    assert board.title == "The Leaderboard Illusion"
    assert board.comment_en == "A criticism of the trend in Chatbot Arena."
    assert board.tags == ("benchmark",)
    assert mimo.title.startswith("MiMo:") and mimo.authors == names
    assert mimo.abstract.endswith("born for reasoning tasks.")
    assert mimo.comment_ko == "샤오미의 추론 모델." and mimo.tags == ("llm", "reasoning", "rl")
    assert galore.authors == ("DiJia Su", "Andrew Gu", "Jane Xu")
    [warning] = result.diagnostics
    assert str(warning.source) == "post.txt:9" and problem in warning.message


def test_text_after_the_closing_parenthesis_is_kept_in_the_abstract() -> None:
    result = parse_post(LEADERBOARD.format(authors="(Xiaomi LLM-Core Team) [preprint]"), "p.txt")
    assert result.entries[1].abstract.startswith("[preprint]\nWe present MiMo-7B")


def test_title_and_bare_name_inside_an_abstract_are_warned_about_not_merged_silently() -> None:
    text = ("2025-04-30\nFirst Paper\n(Ann Author)\nAn abstract without commentary.\n"
            "MiMo: Unlocking Reasoning\nXiaomi LLM-Core Team\nWe present MiMo.\n")
    result = parse_post(text, "f.txt")
    [entry] = result.entries
    assert "MiMo: Unlocking Reasoning" in entry.abstract  # kept, nothing lost
    [warning] = result.diagnostics
    assert str(warning.source) == "f.txt:5" and "not an '(author, …)' line" in warning.message


def test_broken_author_line_of_the_first_entry_starts_it() -> None:
    result = parse_post("2025-04-30\nMiMo: Reasoning\nXiaomi LLM-Core Team\nAbstract.\n", "f.txt")
    assert [(e.title, e.authors) for e in result.entries] == \
        [("MiMo: Reasoning", ("Xiaomi LLM-Core Team",))]
    assert _warned_lines(result) == [3]


def test_a_title_line_above_a_good_author_line_is_not_taken_for_authors() -> None:
    text = ("2025-04-30\nFirst Paper\n(Ann Author)\nAbstract.\n코멘트.\nEnglish, Dense and "
            "Sparse Models\nSparse Experts, Dense Layers\n(Bob Builder)\nAbstract two.\n")
    result = parse_post(text, "f.txt")
    assert [e.title for e in result.entries] == ["First Paper", "Sparse Experts, Dense Layers"]
    assert result.entries[0].comment_en == "English, Dense and Sparse Models"


# --- Lines in an order the format does not have ------------------------------------------

def test_text_after_the_tag_line_is_warned_about() -> None:
    text = ("2025-04-30\nFirst Paper\n(Ann Author)\nAbstract.\n코멘트.\nComment.\n#llm\n"
            "Second Paper Without Authors\nIts abstract.\n코멘트 둘.\n#rl\n")
    result = parse_post(text, "f.txt")
    [entry] = result.entries
    assert "Second Paper Without Authors" in entry.comment_ko  # kept
    [warning] = result.diagnostics
    assert str(warning.source) == "f.txt:8" and "after the tag line (line 7)" in warning.message


def test_a_second_tag_line_is_warned_about_and_its_tags_kept() -> None:
    result = parse_post("2025-04-30\nT\n(Ann Author)\nAbstract.\n#llm\n#rl\n", "f.txt")
    assert result.entries[0].tags == ("llm", "rl")
    [warning] = result.diagnostics
    assert str(warning.source) == "f.txt:6" and "second tag line" in warning.message


def test_korean_after_english_commentary_names_the_title_like_line_between() -> None:
    text = ("2025-04-30\nFirst Paper\n(Ann Author)\nAbstract.\n코멘트.\nComment.\n"
            "Second Paper: No Author Line\nIts abstract.\n코멘트 둘.\nComment two.\n#rl\n")
    result = parse_post(text, "f.txt")
    [entry] = result.entries
    [warning] = result.diagnostics
    assert str(warning.source) == "f.txt:7" and "Korean commentary (line 9)" in warning.message
    assert "Second Paper: No Author Line" in entry.comment_ko


@pytest.mark.parametrize("body, line", [
    ("코멘트.\nComment.\n코멘트 또.\n", 7),  # Korean after English
    ("코멘트.\nComment.\n코멘트 또.\nComment again.\n", 7),  # two English commentaries
])
def test_commentary_out_of_order_is_warned_about(body: str, line: int) -> None:
    result = parse_post(f"2025-04-30\nT\n(Ann Author)\nAbstract.\n{body}#x\n", "f.txt")
    assert len(result.entries) == 1
    assert _warned_lines(result) == [line]


def test_well_formed_posts_have_no_order_warnings() -> None:
    text = ("2025-04-30\nT\n(Ann Author)\nAbstract one.\nAbstract two.\nhttps://x.github.io/\n"
            "코멘트.\nhttps://y.github.io/\n코멘트 둘.\nComment.\nComment two.\n#a #b\n"
            "U\n(Bob Builder)\nAbstract.\n")
    result = parse_post(text, "f.txt")
    assert [e.title for e in result.entries] == ["T", "U"] and result.diagnostics == ()


# --- The commands -------------------------------------------------------------------------

def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_parse_strict_fails_on_an_entry_whose_author_line_is_broken(tmp_path: Path) -> None:
    posts = post_folder(tmp_path, LEADERBOARD.format(authors="Xiaomi LLM-Core Team"),
                        "2025-04-30.txt")
    code, out, err = _run("parse", str(posts), "--strict")
    assert code == 1
    assert "2025-04-30.txt:9: warning: the author line of 'MiMo:" in err
    code, out, err = _run("parse", str(posts))
    assert code == 0 and "MiMo: Unlocking" in out and "3 entries, 1 warning" in err


def test_build_strict_fails_and_plain_build_writes_the_recovered_entry(tmp_path: Path) -> None:
    posts = post_folder(tmp_path, LEADERBOARD.format(authors="(Xiaomi LLM-Core Team"),
                        "2025-04-30.txt")
    code, _, err = _run("build", str(posts), "-o", str(tmp_path / "strict"), "--offline",
                        "--strict")
    assert code == 1 and "2025-04-30.txt:9: warning" in err
    code, _, err = _run("build", str(posts), "-o", str(tmp_path / "vault"), "--offline")
    assert code == 0 and "vault     3 papers" in err
    assert (tmp_path / "vault" / "papers" / "MiMo.md").exists()


# --- Property: every entry is its own, or a warning names its line ------------------------

_NAMES = st.one_of(
    st.from_regex(r"[A-Z][a-z]{1,8} [A-Z][a-z]{1,10}", fullmatch=True),
    st.sampled_from(["Ahmet Üstün", "Beyza Ermiş", "J. Smith", "Noah A. Smith", "Jane Dwivedi-Yu",
                     "Jean de la Fontaine", "Cyprien de Masson d’Autume", "Xiaomi LLM-Core Team",
                     "DeepSeek-AI", "The Movie Gen team @ Meta", "Anonymous authors", "김철수",
                     "남궁 민", "张伟", "Mengdi zhang", "Michele (Mike) Lunati"]),
)
_STYLES = ("comma", "oxford", "and_last", "bibtex", "et_al")
_MALFORMED = (None, None, None, "no_close", "no_open", "no_parens", "trailing")
_title = st.from_regex(r"[A-Z][A-Za-z0-9]{0,10}(?:[ :,-] ?[A-Za-z0-9$*/]{1,10}){0,8}",
                       fullmatch=True).filter(lambda t: t[-1] not in ".)")
_sentence = st.from_regex(r"[A-Z][a-z]{2,10}( [a-z]{2,10}){2,12}\.", fullmatch=True)
_korean = st.from_regex(r"[가-힣]{2,6}( [가-힣]{2,6}){1,6}\.", fullmatch=True)
_tag = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)


def _author_list(names: list[str], style: str) -> str:
    if style == "bibtex" or (len(names) == 1 and style != "et_al"):
        return " and ".join(names)
    if style == "oxford":
        return ", ".join(names[:-1]) + (", and " if len(names) > 2 else " and ") + names[-1]
    if style == "and_last":
        return ", ".join(names[:-1]) + " and " + names[-1]
    if style == "et_al":
        return ", ".join(names) + (", et al." if len(names) > 1 else " et al.")
    return ", ".join(names)


def _author_line(inner: str, malformed: str | None) -> str:
    return {None: f"({inner})", "no_close": f"({inner}", "no_open": f"{inner})",
            "no_parens": inner, "trailing": f"({inner}) [preprint]"}[malformed]


@st.composite
def _entries(draw: st.DrawFn) -> dict:
    korean = draw(st.lists(_korean, max_size=2))
    return {
        "title": draw(_title),
        "names": draw(st.lists(_NAMES, min_size=1, max_size=4)),
        "style": draw(st.sampled_from(_STYLES)),
        "malformed": draw(st.sampled_from(_MALFORMED)),
        "abstract": draw(st.lists(_sentence, min_size=1, max_size=2)),
        "ko": korean,
        "en": draw(st.lists(_sentence, max_size=2)) if korean else [],
        "tags": draw(st.lists(_tag, max_size=3, unique=True)),
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(_entries(), min_size=1, max_size=5))
def test_no_entry_is_merged_into_its_neighbour_without_a_warning(entries: list[dict]) -> None:
    lines = ["2025년 4월 30일"]
    for e in entries:
        e["title_line"] = len(lines) + 1
        e["author_line"] = len(lines) + 2
        lines += [e["title"], _author_line(_author_list(e["names"], e["style"]), e["malformed"]),
                  *e["abstract"], *e["ko"], *e["en"]]
        if e["tags"]:
            lines.append(" ".join(f"#{t}" for t in e["tags"]))
    result = parse_post("\n".join(lines), "gen.txt")
    warned = set(_warned_lines(result))
    parsed = {entry.source.line: entry for entry in result.entries}
    starts = [e["title_line"] for e in entries]
    assert set(parsed) <= set(starts), "an entry was made of lines inside another"
    for k, e in enumerate(entries):
        own_lines = {e["title_line"], e["author_line"]}
        got = parsed.get(e["title_line"])
        if got is None:  # merged into the entry before: a warning names its first lines
            assert warned & own_lines, f"entry at line {e['title_line']} merged silently"
            continue
        assert got.title == e["title"] and list(got.authors) == e["names"]
        if e["malformed"]:
            assert e["author_line"] in warned
        else:
            assert not warned & own_lines
        following = entries[k + 1]["title_line"] if k + 1 < len(entries) else None
        if following is None or following in parsed:
            trailing = ["[preprint]"] if e["malformed"] == "trailing" else []
            assert got.abstract == "\n".join(trailing + e["abstract"])
            assert got.comment_ko == ("\n".join(e["ko"]) or None)
            assert got.comment_en == ("\n".join(e["en"]) or None)
            assert list(got.tags) == e["tags"]
    if not any(e["malformed"] for e in entries):
        assert result.diagnostics == ()

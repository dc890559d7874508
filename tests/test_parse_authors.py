"""Author lines told by their shape: a list of names in one pair of parentheses, separated by
commas, "and" (BibTeX's too) or "&", maybe cut by "et al."; not a parenthesised sentence."""

from __future__ import annotations

import pytest

from vaultgen.model import ParseResult
from vaultgen.parse.posts import looks_like_author_line, parse_post, split_authors


def _one_entry(author_line: str) -> ParseResult:
    return parse_post(f"2025-04-30\nA Paper Title\n{author_line}\nThe abstract.\n", "f.txt")


@pytest.mark.parametrize("line, names", [
    ("(Chenggang Zhao and Liang Zhao and Jiashi Li)",
     ("Chenggang Zhao", "Liang Zhao", "Jiashi Li")),
    ("(Ann Author, Bob Builder, and Carl Coder)", ("Ann Author", "Bob Builder", "Carl Coder")),
    ("(Ann Author, Bob Builder and Carl Coder)", ("Ann Author", "Bob Builder", "Carl Coder")),
    ("(Ann Author and Bob Builder)", ("Ann Author", "Bob Builder")),
    ("(Diederik P. Kingma & Jimmy Ba)", ("Diederik P. Kingma", "Jimmy Ba")),
    ("(Zhao, Chenggang and Zhao, Liang and Li, Jiashi)",
     ("Chenggang Zhao", "Liang Zhao", "Jiashi Li")),
    ("(Zhao, Chenggang and Zhao, Liang and others)", ("Chenggang Zhao", "Liang Zhao")),
    ("(Chenggang Zhao and Liang Zhao and others)", ("Chenggang Zhao", "Liang Zhao")),
    ("(John Smith et al.)", ("John Smith",)),
    ("(Ann Author, Bob Builder, et al.)", ("Ann Author", "Bob Builder")),
    ("(Xiaomi LLM-Core Team)", ("Xiaomi LLM-Core Team",)),
    ("(The Movie Gen team @ Meta)", ("The Movie Gen team @ Meta",)),
    ("(Anonymous authors)", ("Anonymous authors",)),
    ("(01.AI: Alex Young, Qwen: An Yang)", ("01.AI: Alex Young", "Qwen: An Yang")),
    ("(Ahmet Üstün, Beyza Ermiş, Zoë Çelik)", ("Ahmet Üstün", "Beyza Ermiş", "Zoë Çelik")),
    ("(Cyprien de Masson d’Autume and Jean de la Fontaine)",
     ("Cyprien de Masson d’Autume", "Jean de la Fontaine")),
    ("(Mengdi zhang, Xunliang Cai)", ("Mengdi zhang", "Xunliang Cai")),
    ("(김철수, 이영희, 남궁 민)", ("김철수", "이영희", "남궁 민")),
    ("(张伟 and 王芳)", ("张伟", "王芳")),
    ("(Michele (Mike) Lunati and Zihan Qiu (additional authors and others not shown))",
     ("Michele (Mike) Lunati", "Zihan Qiu (additional authors and others not shown)")),
])
def test_author_lines_of_every_list_shape(line: str, names: tuple[str, ...]) -> None:
    result = _one_entry(line)
    [entry] = result.entries
    assert entry.authors == names
    assert entry.abstract == "The abstract."
    assert result.diagnostics == ()


@pytest.mark.parametrize("line", [
    "(This is a parenthesised remark of the commentary, which ends in a full stop.)",
    "(we evaluate on three benchmarks and report the results)",
    "(In this paper we study how models scale and report what we find)",
    "(Smith et al., 2023)",
    "(Kingma & Ba, 2015; Loshchilov & Hutter, 2019)",
    "(1) we propose a method and (2) we evaluate it on many tasks)",
    "(i) wide coverage of countries, (ii) two census samples (UK and US)",
    "(Kaplan: $N \\propto C^{0.73}$, Chinchilla: $N \\propto C^{0.50}$)",
    "(see https://example.com)",
    "(재미있네요)",
    "(시스템 프롬프트로 만든)",
])
def test_parenthesised_prose_is_not_an_author_line(line: str) -> None:
    assert not looks_like_author_line(line)
    text = f"2025-04-30\nA Paper Title\n(Ann Author)\nFirst paragraph.\n{line}\nLast one.\n"
    result = parse_post(text, "f.txt")
    [entry] = result.entries
    assert line in (entry.abstract.split("\n") + (entry.comment_ko or "").split("\n"))
    assert result.diagnostics == ()


def test_split_authors_drops_the_last_items_and() -> None:
    assert split_authors("A B, C D, and E F") == ("A B", "C D", "E F")
    assert split_authors("A B and C D") == ("A B", "C D")
    assert split_authors("Anderson Brand, Andrea Andy") == ("Anderson Brand", "Andrea Andy")


def test_parenthesised_korean_words_after_korean_commentary_start_no_entry() -> None:
    text = "2025-04-30\nT\n(Ann Author)\nAbstract.\n코멘트 첫 줄입니다\n(김치, 이상)\nEnglish.\n"
    [entry] = parse_post(text, "f.txt").entries
    assert entry.comment_ko == "코멘트 첫 줄입니다\n(김치, 이상)"

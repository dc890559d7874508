"""Post text in a note reads, in a Markdown reader, as the post says it.

Notes are rendered by markdown-it-py (the CommonMark preset, HTML on, GFM's strikethrough,
tables and bare links, TeX math as mdit-py-plugins' dollarmath reads it) and, for text without
math, by cmark-gfm (GitHub's own reader); the text each shows of a section is compared with the
post's text. Only these differences are allowed:

- ``**bold**`` and ``[label](https://…)`` the text's author wrote may show as bold and as a link
  (the reader's bold is read back as ``**…**``, its link as ``[…](…)``; italics, strike-through,
  code, HTML and any block but a paragraph are not read back, so they show as a difference);
- TeX quotes ``like this'' may show as “like this”;
- TeX math ``$…$`` and ``$$…$$`` shows as math, its content as written (no blank just inside a
  ``$``, no digit just after the closing one: ``$5 and $10`` is none);
- an arXiv reference that names a note is a wiki-link ``[[Note|id]]`` (the build puts it there);
- the blanks at either end of a line go (Markdown drops them).

Obsidian's own syntax (``%%``, ``==``, ``[[``, ``#tag``, ``^id``, ``~~``) is unknown to
these readers: the Markdown source is checked for it directly.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from click.testing import CliRunner
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar

from vaultgen.cli import cli
from vaultgen.parse.arxiv_ids import find_refs
from vaultgen.render.markdown import escape_around_links, escape_markdown

from .arxiv_server import Catalogue, MirrorServer
from .conftest import post_folder


def _reader() -> MarkdownIt:
    reader = MarkdownIt("commonmark", {"html": True, "linkify": True})
    reader.enable(["strikethrough", "table", "linkify"])
    dollarmath_plugin(reader, allow_space=False, allow_digits=True, double_inline=True)
    math = math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)

    def math_inline(state: StateInline, silent: bool) -> bool:
        """dollarmath's inline math, but none whose closing "$" a digit follows (prices:
        "$5 and 6$7"); a digit may come before the opening one ("2.7$\\times$")."""
        start, src = state.pos, state.src
        if start == 0:
            # dollarmath reads src[-1] as the character before a "$" starting the text (a
            # digit, a backslash): a character is put at the end while it looks.
            state.src = src + "\x00"
        try:
            if not math(state, True):
                return False
            after = state.pos
            state.pos = start
            if after < len(src) and src[after].isdigit():
                return False
            return math(state, silent)
        finally:
            state.src = src

    reader.inline.ruler.at("math_inline", math_inline)
    reader.normalizeLinkText = lambda url: url  # show an address as written, not decoded
    return reader


READER = _reader()
INLINE_SHOWN: dict[str, Callable[[Token], str]] = {
    "text": lambda t: t.content, "softbreak": lambda t: "\n", "hardbreak": lambda t: "\n",
    "code_inline": lambda t: t.content, "html_inline": lambda t: "", "image": lambda t: "",
    "math_inline": lambda t: f"${t.content}$", "math_inline_double": lambda t: f"$${t.content}$$",
    "strong_open": lambda t: "**", "strong_close": lambda t: "**",
}


def shown(markdown: str) -> list[str]:
    """What markdown-it shows of ``markdown``: a line a block, each but a paragraph's marked
    with its tags (``<h1>``, ``<blockquote><p>``…), the author's bold and links read back."""
    lines: list[str] = []
    opened: list[str] = []
    for token in READER.parse(markdown):
        if token.nesting == 1:
            opened.append(token.tag)
        elif token.nesting == -1:
            opened.pop()
        elif token.type == "inline":
            lines.append(_marked(opened) + _inline_shown(token.children or []))
        else:  # a leaf block: code, fence, html, rule, math
            shown_content = f"$${token.content}$$" if token.type == "math_block" \
                else f"<{token.type}>{token.content}"
            lines.append(_marked(opened) + shown_content)
    return lines


def _marked(opened: list[str]) -> str:
    return "".join(f"<{tag}>" for tag in opened if tag != "p")


def _inline_shown(children: list[Token]) -> str:
    out = []
    hrefs = []
    for token in children:
        if token.type == "link_open":
            auto = token.markup in ("autolink", "linkify")
            hrefs.append(None if auto else token.attrs["href"])
            out.append("" if auto else "[")
        elif token.type == "link_close":
            href = hrefs.pop()
            out.append("" if href is None else f"]({href})")
        else:
            out.append(INLINE_SHOWN.get(token.type, lambda t: "")(token))
    return "".join(out)


def as_read(text: str) -> str:
    """A text as the comparison reads it: TeX quotes and curly quotes alike."""
    return text.replace("“", "``").replace("”", "''")


def post_lines(text: str) -> list[str]:
    """A text's lines as a reader shows them, a paragraph each: blank ends gone."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [as_read(line.strip()) for line in lines if line.strip()]


def shown_lines(markdown: str) -> list[str]:
    return [as_read(line.strip()) for line in shown(markdown) if line.strip()]


def paragraphs(text: str) -> str:
    return "\n\n".join(text.split("\n"))


def linked(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The links a build puts in ``text`` (a made-up note for every reference) and the text
    with them in place."""
    links = [(r.start, r.end, f"[[Note {r.id}|{r.id}]]") for r in find_refs(text)]
    out, position = [], 0
    for start, end, link in links:
        out += [text[position:start], link]
        position = end
    return "".join(out) + text[position:], links


HAZARDS = [
    "8*16B ... 384*384", "``like this''", "<tokens>", "<b>bold</b>", "a < b > c",
    "`code`", "%% hidden %%", "#tag", "==marked==", "[[Not a link]]", "[^1]", "^[note]",
    "see ^block-id", "$$", "$5 and $10", "cost $5, $6 and $7.", "~~struck~~", "~one~",
    "_under_ score_d", "__strong__", "***both***", "A & B &amp; C &#35; &copy;", "tab\there",
    "ends with two spaces  ", "back\\slash \\n \\* \\\\", "![image](x.png)", "[ref]: /url",
    "[text](relative.md)", "<https://x.org>", "https://x.org/a_b_c~d*e", "(https://x.org/p).",
    "www.x.org/a_b", "a@b.org", "snake_case_name", "C# and F#", "issue#12", "1 * 2 * 3",
]
LINE_STARTS = [
    "# heading", "## two", "> quote", "> [!note] callout", "- item", "+ item", "* item",
    "1. first", "2) second", "2019. A year", "---", "***", "___", "| a | b |", "    code",
    "```fence", "~~~", "<div>html</div>", "<!-- comment -->", "$$x$$", "===", "[link]: x",
    "- [ ] task", "^abc123", "\\", "#", "=",
]
MATH = [
    "we use $x_1 + y_2$ and $a*b*c$", "$\\mathcal{O}(n^2)$ time", "$$E = mc^2$$ inline",
    "a $50\\%$ cut", "$x$5 is no math", "$x $ is no math", "$ x$ is no math", "2.7$\\times$ faster",
    "\\$x$ is no math", "$a==b$ and $%x$", "$[[x]]$ is no math", "$a$ and $b$",
]


@pytest.mark.parametrize("text", HAZARDS + LINE_STARTS + MATH)
def test_each_hazard_reads_as_written_in_a_paragraph(text: str) -> None:
    assert shown_lines(paragraphs(escape_markdown(text))) == post_lines(text)


def test_author_bold_and_links_stay_markdown() -> None:
    text = "**GRAPE** beats [the baseline](https://x.org/base_line) on 8*16B"
    assert escape_markdown(text) == \
        "**GRAPE** beats [the baseline](https://x.org/base_line) on 8\\*16B"
    assert shown_lines(escape_markdown(text)) == [text]


def test_tex_quotes_become_curly_quotes() -> None:
    assert escape_markdown("``like this'' and `one'") == "“like this” and \\`one'"


def test_math_is_left_as_written() -> None:
    assert escape_markdown("$a_1*b_2$ costs $5 and $10") == "$a_1*b_2$ costs \\$5 and \\$10"


def test_a_bare_address_is_an_autolink() -> None:
    assert escape_markdown("see https://x.org/a_b~c.") == "see <https://x.org/a_b~c>."


# --- Obsidian's own syntax, in the source --------------------------------------------------

_ESCAPED = re.compile(rf"\\[{re.escape(string.punctuation)}]|&#[0-9]+;")
_KEPT = re.compile(r"<https?://[^>]*>|\]\(https?://[^)]*\)|\[\[Note [^\]]*\]\]")
OBSIDIAN_MARKUP = {
    "comment": re.compile(r"%%"), "highlight": re.compile(r"=="),
    "wiki-link": re.compile(r"\[\[|\]\]"), "strike": re.compile(r"~~"),
    "tag or heading": re.compile(r"(?<![^\W_])#"), "block id or footnote": re.compile(r"\^"),
    "math": re.compile(r"\$"),
}


def obsidian_markup(markdown: str) -> list[str]:
    """The kinds of Obsidian syntax unescaped in ``markdown`` (without math), outside the
    autolinks, the author's link targets and the wiki-links put in."""
    plain = _KEPT.sub("·", _ESCAPED.sub("·", markdown))
    return [kind for kind, pattern in OBSIDIAN_MARKUP.items() if pattern.search(plain)]


@pytest.mark.parametrize("text", [t for t in HAZARDS + LINE_STARTS if "$" not in t])
def test_obsidian_syntax_is_escaped_in_the_source(text: str) -> None:
    assert obsidian_markup(escape_markdown(text)) == []


def test_obsidian_markup_is_seen_where_unescaped() -> None:
    found = obsidian_markup("%%a%% ==b== [[c]] ~~d~~ #e ^f $g$ x#y \\#z")
    assert found == list(OBSIDIAN_MARKUP)
    assert obsidian_markup("x#y \\#z \\%\\% <https://x.org/#a==b>") == []


# --- Any text made of the characters of markup ---------------------------------------------

PIECES = st.sampled_from([
    *"\\`*_[]<>&#!~=%^$|+-.():/'\" \t\n\rx1é한", "\xa0", "\u3000", "\ue000", "``", "''", "**", "__",
    "~~", "==", "%%", "[[", "]]", "$$", "&amp;", "&#35;", "&copy;", "https://x.org/", "www.x.org",
    "a@b.org", "arXiv:2412.04318", "https://arxiv.org/abs/2412.04318", "1. ", "- ", "> ",
    "# ", "[a](https://x.org/a)", "**b**", "$x$", "$$y$$", "    ", "2019", "word",
])
TEXT = st.lists(PIECES, max_size=40).map("".join)
NO_MATH = st.lists(PIECES.filter(lambda p: "$" not in p), max_size=40).map("".join)


@settings(max_examples=1000, deadline=None)
@given(TEXT)
def test_any_text_reads_as_written(text: str) -> None:
    assert shown_lines(paragraphs(escape_markdown(text))) == post_lines(text)


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_any_commentary_reads_as_written_around_its_links(text: str) -> None:
    expected, links = linked(text)
    escaped = escape_around_links(text, links)
    assert shown_lines(paragraphs(escaped)) == post_lines(expected)
    assert all(link in escaped for *_, link in links)


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_any_title_reads_as_written_in_a_heading_and_a_list(text: str) -> None:
    title = " ".join(text.split())
    if not title:
        return
    assert shown_lines(f"# {escape_markdown(title)}") == [f"<h1>{as_read(title)}"]
    assert shown_lines(f"- [[N]] — {escape_markdown(title)}") == \
        [f"<ul><li>[[N]] — {as_read(title)}"]


@settings(max_examples=500, deadline=None)
@given(NO_MATH)
def test_any_text_without_math_reads_as_written_on_github(text: str) -> None:
    expected, links = linked(text)
    html = cmarkgfm.github_flavored_markdown_to_html(
        paragraphs(escape_around_links(text, links)), options=Options.CMARK_OPT_UNSAFE)
    assert github_shown(html) == post_lines(expected)


@settings(max_examples=500, deadline=None)
@given(NO_MATH)
def test_obsidian_syntax_is_escaped_in_any_text(text: str) -> None:
    _expected, links = linked(text)
    assert obsidian_markup(escape_around_links(text, links)) == []


class _GithubText(HTMLParser):
    """The text cmark-gfm's HTML shows, read back as ``shown`` reads markdown-it's tokens."""

    BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "pre",
              "hr", "table", "div")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.opened: list[str] = []
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            if tag != "p" or not self.lines or self.lines[-1]:
                self.lines.append("")
            self.opened.append(tag)
            return
        if tag == "strong":
            self._add("**")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self._line())))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            if self.opened and self.opened[-1] == tag:
                self.opened.pop()
            return
        if tag == "strong":
            self._add("**")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = self._line()[start:]
            if not (label.startswith(("http", "www.")) or href.startswith("mailto:")):
                self.lines[-1] = f"{self._line()[:start]}[{label}]({href})"

    def handle_data(self, data: str) -> None:
        if not self.lines:
            self.lines.append("")
        if not self.lines[-1] and data.strip():
            self.lines[-1] = "".join(f"<{t}>" for t in self.opened if t != "p")
        self._add(data)

    def _line(self) -> str:
        return self.lines[-1] if self.lines else ""

    def _add(self, text: str) -> None:
        if not self.lines:
            self.lines.append("")
        self.lines[-1] += text


def github_shown(html: str) -> list[str]:
    parser = _GithubText()
    parser.feed(html)
    return [as_read(line.strip()) for line in parser.lines if line.strip()]


# --- Notes a build writes ------------------------------------------------------------------

POST = """2025-05-01
ReST-MCTS*: <Search> with `code`, #hash and 8*16B ... 384*384 %%x%%
(Ann Author, Bob Author)
We compress 8*16B ... 384*384 tokens with ``TeX quotes'' and <tokens> that vanish.
# Not a heading, > not a quote, %% not a comment %%, ==not marked==, [[not a link]].
1. not a list; costs $5 and $10 but $x_1 + y_2$ is math; A & B &amp; C; ~~x~~ and ^block
**GRAPE** and [page](https://x.org/page) stay, [not](a-note.md) a link; _x_ and snake_case; see https://x.org/a_b.
한국어 코멘트: #태그 아님, arXiv:2412.04318 를 보세요; 8*16B 와 384*384, `코드`.
English commentary cites https://arxiv.org/abs/2412.04318 and [arXiv:2412.04318] \\o/ ![[x]]
#efficiency #_x_
"""
SUMMARY = ("The summary holds $\\alpha$-blending, 2*3*4, <sup>HTML</sup>, #not-a-tag and "
           "%%not a comment%%.")


def note_sections(text: str) -> dict[str, str]:
    """The Markdown of each ``## `` section of a note's body, and the title (``#``)."""
    body = text.split("\n---\n", 1)[1]
    sections: dict[str, str] = {}
    name = ""
    for line in body.split("\n"):
        if line.startswith("# ") and "#" not in sections:
            sections["#"] = line
        elif line.startswith("## "):
            name = line[3:]
            sections[name] = ""
        elif name:
            sections[name] += line + "\n"
    return sections


@pytest.fixture
def built(tmp_path: Path) -> Path:
    folder = post_folder(tmp_path, POST)
    record = {"id": "2412.04318", "title": "The Hyperfitting *Phenomenon* #1",
              "authors": ["Fredrik Carlsson"], "published": "2024-12-05T00:00:00Z",
              "summary": SUMMARY}
    server = MirrorServer(Catalogue([record])).start()
    try:
        result = CliRunner().invoke(cli, ["build", str(folder), "-o", str(tmp_path / "vault"),
                                          "--arxiv-url", server.base_url, "--arxiv-delay", "0"],
                                    catch_exceptions=False)
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    return tmp_path / "vault"


def test_a_built_note_shows_the_post_as_written(built: Path) -> None:
    [note] = [p for p in (built / "papers").glob("*.md") if p.name.startswith("ReST")]
    sections = note_sections(note.read_text(encoding="utf-8"))
    lines = POST.split("\n")
    title, abstract, korean, english = lines[1], lines[3:7], lines[7], lines[8]
    assert shown_lines(sections["#"]) == [f"<h1>{title}"]
    assert shown_lines(sections["Abstract"]) == [as_read(line) for line in abstract]
    [cited] = (built / "cited").glob("*.md")
    target = cited.stem  # the cited paper's note, named by its record
    for heading, text in (("코멘트", korean), ("Commentary", english)):
        expected, _links = linked(text)
        expected = expected.replace("Note 2412.04318", target)
        assert shown_lines(sections[heading]) == post_lines(expected)
        assert obsidian_markup(sections[heading].replace(f"[[{target}|", "[[Note |")) == []
    assert obsidian_markup(sections["Abstract"].replace("$x_1 + y_2$", "")) == []


def test_a_cited_note_shows_its_summary_as_written(built: Path) -> None:
    [note] = (built / "cited").glob("*.md")
    sections = note_sections(note.read_text(encoding="utf-8"))
    assert shown_lines(sections["#"]) == ["<h1>The Hyperfitting *Phenomenon* #1"]
    assert shown_lines(sections["Abstract"]) == post_lines(SUMMARY)


def test_a_tag_hub_shows_its_tag_as_written(built: Path) -> None:
    hub = (built / "tags" / "_x_ (tag).md").read_text(encoding="utf-8")
    assert shown_lines(note_sections(hub)["#"]) == ["<h1>_x_ (tag)"]


def test_the_built_vault_checks_clean(built: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(built), "--json"])
    report = json.loads(result.output)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert result.exit_code == 0, result.output

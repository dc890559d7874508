"""What the commands say: warnings, counts, the build's summary, progress, names of papers."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultgen import __version__
from vaultgen.arxiv.client import ArxivCache, ArxivSource
from vaultgen.build import build_vault
from vaultgen.cli import cli

from .arxiv_server import Catalogue, Fault, MirrorServer
from .conftest import ROOT

HYPERFITTING = {"id": "2412.04318", "title": "The Hyperfitting Phenomenon: Sharpening and "
                "Stabilizing LLMs for Open-Ended Text Generation",
                "authors": ["Fredrik Carlsson"], "published": "2024-12-05T00:00:00Z"}
ALPHA = {"id": "2505.00001", "title": "Alpha: A Paper", "authors": ["Ann Author"],
         "published": "2025-04-20T00:00:00Z"}


def post(day: int, titles: list[str], *, tags: str = "#llm", cite: str = "") -> str:
    """A post of ``day`` (May 2025) with one entry per title."""
    lines = [f"2025-05-{day:02d}"]
    for title in titles:
        lines += [title, "(Ann Author)", "An abstract.", f"코멘트 {cite}".rstrip(), tags]
    return "\n".join(lines) + "\n"


def posts_of(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    for number, text in enumerate(texts, start=1):
        (folder / f"2025-05-{number:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def run(*args: str, color: bool = False) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, color=color)
    return result.exit_code, result.stdout, result.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vaultgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaultgen", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    mirror = MirrorServer(Catalogue([HYPERFITTING, ALPHA])).start()
    yield mirror
    mirror.stop()


# --- Without network ---------------------------------------------------------------------------

def test_unreachable_arxiv_is_warned_about_once_and_counted(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    result = vaultgen("build", str(posts), "-o", str(tmp_path / "vault"), "--arxiv-url",
                      f"http://127.0.0.1:{closed_port()}", "--arxiv-delay", "0")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cannot reach") == 1, result.stderr
    assert re.search(r"^warnings\s+1 warning\b", result.stderr, re.M), result.stderr
    assert not (posts / "arxiv-cache.json").exists()  # nothing learnt: no cache made


def test_unreachable_arxiv_leaves_an_existing_cache_as_it_is(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    cache = posts / "arxiv-cache.json"
    cache.write_text('{\n "version": 1,\n "records": {},\n "titles": {},\n "missing": {}\n}\n',
                     encoding="utf-8")
    before = cache.read_bytes()
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--arxiv-url",
                       f"http://127.0.0.1:{closed_port()}", "--arxiv-delay", "0")
    assert code == 0 and "cannot reach" in err
    assert cache.read_bytes() == before


def test_a_file_that_is_no_cache_is_warned_about_once_and_left_as_it_is(
        server: MirrorServer, tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    mine = tmp_path / "notes.json"
    mine.write_text("my own notes, not a cache\n", encoding="utf-8")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--cache", str(mine),
                       "--arxiv-url", server.base_url, "--arxiv-delay", "0")
    assert code == 0
    assert err.count("not an arXiv cache vaultgen can read") == 1, err
    assert summary_lines(err)["warnings"] == "1 warning (above)"
    assert mine.read_text(encoding="utf-8") == "my own notes, not a cache\n"


def test_requests_that_fail_make_no_cache(server: MirrorServer, tmp_path: Path) -> None:
    server.faults.extend([Fault(503, retry_after="0")] * 4)
    source = ArxivSource(ArxivCache.load(tmp_path / "arxiv-cache.json"),
                         base_url=server.base_url, delay=0, max_retries=1)
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    build_vault([posts], tmp_path / "vault", source=source)
    assert len(source.stats.warnings) == 2 and not server.faults  # both lookups failed
    assert not (tmp_path / "arxiv-cache.json").exists()


# --- python -m vaultgen -------------------------------------------------------------------------

def test_python_dash_m_runs_the_command_line() -> None:
    helped = vaultgen("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout and "build" in helped.stdout
    versioned = vaultgen("--version")
    assert versioned.returncode == 0 and __version__ in versioned.stdout


# --- Counts and nouns ---------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 papers"), (1, "1 paper"), (2, "2 papers"), (1, "1 entry"), (2, "2 entries"),
    (1, "1 cited paper"), (2, "2 cited papers"), (2, "2 communities"), (2, "2 indexes"),
    (2, "2 days"), (1, "1 day"), (1_000, "1000 warnings"),
])
def test_plural_names_the_count(count: int, expected: str) -> None:
    from vaultgen.wording import plural

    noun = {"papers": "paper", "entries": "entry", "communities": "community",
            "indexes": "index", "days": "day", "warnings": "warning"}
    word = expected.split(" ", 1)[1]
    singular = " ".join(noun.get(w, w) for w in word.split())
    assert plural(count, singular) == expected


NOUNS = ("post", "entry", "paper", "cited paper", "tag", "day", "link", "note", "file",
         "warning", "error", "component", "citation", "community", "request", "author", "title")
ONE = "|".join(NOUNS)
MANY = "|".join(re.sub("y$", "ie", noun) + "s" for noun in NOUNS)
SINGULAR_AFTER_MANY = re.compile(rf"(?<![\d.,:])\b(?:0|[2-9]|\d\d+) (?:{ONE})\b")
PLURAL_AFTER_ONE = re.compile(rf"(?<![\d.,:])\b1 (?:{MANY})\b")


def messages_of(tmp_path: Path, papers: int) -> str:
    """All that build, check, graph, stats and parse print for a vault of ``papers`` papers
    (one a day, each with one tag, the second citing the first)."""
    titles = ["Alpha: A Paper", "Beta: Another Paper"][:papers]
    texts = [post(n + 1, [title], tags=f"#t{n}",
                  cite="(arXiv:2412.04318)" if n == 0 else "") for n, title in enumerate(titles)]
    posts = posts_of(tmp_path, *texts)
    (posts / "2025-05-09.txt").write_text("2025-05-09\nstray text\n", encoding="utf-8")
    vault = tmp_path / "vault"
    said = []
    for args in (["build", str(posts), "-o", str(vault), "--offline"],
                 ["build", str(posts), "-o", str(vault), "--offline"],
                 ["parse", str(posts)], ["check", str(vault)], ["stats", str(vault)],
                 ["graph", str(vault)], ["graph", str(vault), "-f", "json"]):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        said.append(result.stdout + result.stderr)
    return "\n".join(said)


@pytest.mark.parametrize("papers", [1, 2])
def test_every_command_names_its_counts_in_the_right_number(tmp_path: Path,
                                                            papers: int) -> None:
    said = messages_of(tmp_path, papers)
    assert not SINGULAR_AFTER_MANY.findall(said), said
    assert not PLURAL_AFTER_ONE.findall(said), said
    if papers == 1:
        assert "1 paper" in said and "1 day" in said and "1 warning" in said
    else:
        assert "2 papers" in said and "2 days" in said


# --- The build's summary ------------------------------------------------------------------------

SUMMARY_LABELS = ("read", "vault", "files", "arXiv", "warnings")


def summary_lines(err: str) -> dict[str, str]:
    lines = {}
    for line in err.splitlines():
        label, _, rest = line.partition(" ")
        if label in SUMMARY_LABELS:
            lines[label] = rest.strip()
    return lines


def test_the_build_ends_with_a_short_plain_summary(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper", "Beta: Another Paper"],
                                    cite="(arXiv:2412.04318)"))
    vault = tmp_path / "vault"
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0
    assert "\x1b[" not in err
    lines = summary_lines(err)
    assert list(lines) == list(SUMMARY_LABELS), err
    assert lines["read"] == "1 post, 2 entries"
    assert lines["vault"].startswith("2 papers (0 found on arXiv, 2 unresolved), "
                                     "1 cited paper, 1 tag, 1 day, ")
    assert re.fullmatch(r"\d+ written", lines["files"]), err
    assert lines["arXiv"] == "offline: the cache alone"
    assert lines["warnings"] == "none"
    assert len(err.splitlines()) <= 6

    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    lines = summary_lines(err)
    assert "nothing changed" in lines["files"], err
    (vault / "papers" / "Alpha.md").unlink()
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline", "--dry-run")
    # (the notes whose inputs did not change are not looked at, nor counted)
    assert summary_lines(err)["files"] == "1 to write", err


def test_the_summary_counts_warnings_and_errors(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"]))
    (posts / "2025-05-02.txt").write_text("2025-05-02\nstray text\nB\n(X)\nabs\n",
                                          encoding="utf-8")
    (posts / "2025-05-03.txt").write_bytes(b"2025-05-03\nT\n(A)\n\xff bad\n")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--offline")
    assert code == 1
    assert summary_lines(err)["warnings"] == "1 error, 1 warning (above)", err


def test_the_summary_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"]))
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--offline",
                       color=True)
    assert code == 0 and "\x1b[" in err
    assert "read" in click_unstyled(err)


def click_unstyled(text: str) -> str:
    import click

    return click.unstyle(text)


# --- Progress -----------------------------------------------------------------------------------

def test_a_build_reports_its_progress_stage_by_stage(tmp_path: Path) -> None:
    titles = [f"Paper Number {n}: A Study" for n in range(150)]
    posts = posts_of(tmp_path, *(post(day, titles[day::30]) for day in range(1, 31)))
    reports: list[tuple[str, int, int]] = []
    result = build_vault([posts], tmp_path / "vault",
                         progress=lambda stage, done, total: reports.append((stage, done, total)))
    stages = list(dict.fromkeys(stage for stage, _, _ in reports))
    assert len(stages) == 2, stages  # parsing the posts, writing the notes
    for stage in stages:
        counts = [(done, total) for s, done, total in reports if s == stage]
        totals = {total for _, total in counts}
        assert len(totals) == 1
        dones = [done for done, _ in counts]
        assert dones == sorted(dones) and dones[-1] == totals.pop()
        assert len(dones) <= 110  # ticks every few items, not every one
    posted = [r for r in reports if r[0] == stages[0]]
    assert posted[-1][2] == 30
    written = [r for r in reports if r[0] == stages[1]]
    assert written[-1][2] > 150 and len(result.write.written) > 150


def test_arxiv_lookups_report_their_progress(server: MirrorServer, tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    reports: list[tuple[str, int, int]] = []
    source = ArxivSource(ArxivCache.load(tmp_path / "cache.json"), base_url=server.base_url,
                         delay=0, progress=lambda *report: reports.append(report))
    build_vault([posts], tmp_path / "vault", source=source)
    by_stage: dict[str, list[int]] = {}
    for stage, done, total in reports:
        by_stage.setdefault(stage, []).append(done)
        assert 0 <= done <= total
    arxiv_stages = [s for s in by_stage if "arXiv" in s]
    assert len(arxiv_stages) == 2, by_stage  # titles, then cited ids
    assert all(by_stage[s][-1] == 1 for s in arxiv_stages)


def test_no_bar_is_drawn_when_stderr_is_not_a_terminal(server: MirrorServer,
                                                       tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"))
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--arxiv-url",
                       server.base_url, "--arxiv-delay", "0")
    assert code == 0
    assert "arXiv lookups" not in err and "%" not in err and "posts" not in err.split("\n")[0]
    assert summary_lines(err)["arXiv"] == "2 requests"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_are_drawn_on_a_terminal_one_a_stage() -> None:
    from vaultgen.cli import ProgressBars

    terminal = Terminal()
    with ProgressBars(terminal, after=0) as bars:
        for done in (0, 50, 100):
            bars("parsing posts", done, 100)
        for done in (0, 3):
            bars("writing notes", done, 3)
    drawn = terminal.getvalue()
    assert "parsing posts" in drawn and "100%" in drawn and "writing notes" in drawn
    piped = io.StringIO()
    with ProgressBars(piped, after=0) as bars:
        bars("parsing posts", 0, 100)
        bars("parsing posts", 100, 100)
    assert piped.getvalue() == ""


# --- Names of papers ----------------------------------------------------------------------------

def test_a_cited_paper_unknown_to_the_cache_is_headed_by_its_note_name(tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:1804.01756)"))
    vault = tmp_path / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    note = (vault / "cited" / "arXiv 1804.01756.md").read_text(encoding="utf-8")
    assert "\n# arXiv 1804.01756\n" in note
    assert "\ntitle: arXiv 1804.01756\n" in note
    assert "arXiv:1804.01756\n" in note  # still an alias, for searches by id


def test_stats_and_check_name_the_most_cited_papers_by_title(server: MirrorServer,
                                                             tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], cite="(arXiv:2412.04318)"),
                     post(2, ["Beta: Another Paper"], cite="(arXiv:1804.01756)"))
    vault = tmp_path / "vault"
    code, _, _ = run("build", str(posts), "-o", str(vault), "--arxiv-url", server.base_url,
                     "--arxiv-delay", "0")
    assert code == 0
    _, out, _ = run("stats", str(vault))
    assert re.search(r"^\s+1  The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for "
                     r"Open-Ended Text Generation \(arXiv:2412\.04318\)$", out, re.M), out
    assert re.search(r"^\s+1  arXiv 1804\.01756$", out, re.M), out
    _, out, _ = run("check", str(vault))
    assert "most cited: The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for " \
           "Open-Ended Text Generation (arXiv:2412.04318), cited by 1 paper" in out


def test_a_post_named_without_suffix_keeps_its_cache_and_aliases_beside_it(
        server: MirrorServer, tmp_path: Path) -> None:
    posts = posts_of(tmp_path, post(1, ["Alpha: A Paper"], tags="#LLM"))
    today = posts / "today"
    (posts / "2025-05-01.txt").rename(today)
    (posts / "tag-aliases.yaml").write_text("llm: [LLM]\n", encoding="utf-8")
    code, _, err = run("build", str(today), "-o", str(tmp_path / "vault"), "--arxiv-url",
                       server.base_url, "--arxiv-delay", "0")
    assert code == 0, err
    assert "warning:" not in err, err
    assert "2505.00001" in (posts / "arxiv-cache.json").read_text(encoding="utf-8")
    paper = (tmp_path / "vault" / "papers" / "Alpha.md").read_text(encoding="utf-8")
    assert "\n- llm\n" in paper and "LLM" not in paper  # the aliases beside the post apply

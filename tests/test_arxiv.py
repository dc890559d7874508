"""The real ``arxiv`` package against a local Atom server: matching, batching, faults, cache."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.arxiv.client import ArxivCache, ArxivSource, _title_batches, phrase_of
from vaultgen.arxiv.match import title_key
from vaultgen.model import ArxivRecord, Entry, SourceRef

from .arxiv_server import Catalogue, Fault, MirrorServer

RECORDS = [
    {"id": "2203.03466", "title": "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot "
     "Hyperparameter Transfer", "authors": ["Greg Yang", "Edward J. Hu"],
     "published": "2022-03-07T00:00:00Z"},
    {"id": "2502.12853", "title": "S$^2$R: Teaching LLMs to Self-verify and Self-correct via "
     "Reinforcement Learning", "authors": ["Ruotian Ma", "Peisong Wang"],
     "published": "2025-02-18T00:00:00Z"},
    {"id": "2412.04318", "title": "The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs "
     "for Open-Ended Text Generation", "authors": ["Fredrik Carlsson"],
     "published": "2024-12-05T00:00:00Z"},
    {"id": "2505.00001", "title": "A Paper From The Future", "authors": ["Ann Author"],
     "published": "2025-05-20T00:00:00Z"},
    {"id": "2401.99999", "title": "Same Title Other Authors", "authors": ["Zed Zulu"],
     "published": "2024-01-02T00:00:00Z"},
    {"id": "2404.19737", "title": "DeepSeek-V2: A Strong, Economical, and Efficient "
     "Mixture-of-Experts Language Model", "authors": ["DeepSeek-AI", "Aixin Liu", "Bei Feng"],
     "published": "2024-05-07T00:00:00Z"},
]


def entry(title: str, authors: tuple[str, ...], day: str = "2025-05-01",
          cites: tuple[str, ...] = ()) -> Entry:
    return Entry(dt.date.fromisoformat(day), title, authors, "abstract", None, None, (), cites,
                 SourceRef("post.txt", 1))


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    server = MirrorServer(Catalogue(RECORDS)).start()
    yield server
    server.stop()


def source(server: MirrorServer, tmp_path: Path, **options: object) -> ArxivSource:
    cache = ArxivCache.load(tmp_path / "cache.json")
    return ArxivSource(cache, base_url=server.base_url, delay=0, timeout=2,
                       today=dt.date(2025, 6, 1), **options)  # type: ignore[arg-type]


def test_titles_match_only_when_titles_authors_and_dates_agree(server: MirrorServer,
                                                               tmp_path: Path) -> None:
    entries = [
        entry("Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter "
              "Transfer", ("Greg Yang", "Edward Hu")),
        entry("S$^2$R: Teaching LLMs to Self-verify and Self-correct via Reinforcement "
              "Learning", ("Ruotian Ma",)),
        entry("A Paper From The Future", ("Ann Author",)),  # published after the post
        entry("Same Title Other Authors", ("Mia Mouse", "Nora Noodle")),  # wrong authors
        entry("DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language "
              "Model", ("DeepSeek-AI",), "2024-05-07"),  # a team name
        entry("Not On arXiv At All", ("X Y",)),
    ]
    matched = source(server, tmp_path).match_titles(entries)
    assert {i: r.id for i, r in matched.items()} == {0: "2203.03466", 1: "2502.12853",
                                                     4: "2404.19737"}
    assert len(server.requests) == 1  # one batched request for all titles


def test_cited_ids_are_fetched_in_chunks_and_missing_ones_remembered(server: MirrorServer,
                                                                     tmp_path: Path) -> None:
    ids = ["2412.04318"] + [f"2501.{n:05d}" for n in range(150)]
    found = source(server, tmp_path).fetch_ids(ids)
    assert list(found) == ["2412.04318"]
    assert len(server.requests) == 2  # 151 ids in chunks of at most 100
    assert all("id_list=" in r for r in server.requests)
    cache = ArxivCache.load(tmp_path / "cache.json")
    assert cache.missing["2501.00000"] == "2025-06-01"
    server.requests.clear()
    source(server, tmp_path).fetch_ids(ids)
    assert server.requests == []  # everything answered from the cache


def test_pages_are_followed(server: MirrorServer, tmp_path: Path) -> None:
    many = [{"id": f"2402.{n:05d}", "title": f"Scaling Study Part {n}", "authors": ["A B"],
             "published": "2024-02-01T00:00:00Z"} for n in range(130)]
    big = MirrorServer(Catalogue(many)).start()
    try:
        found = source(big, tmp_path).fetch_ids([r["id"] for r in many])
    finally:
        big.stop()
    assert len(found) == 130


def test_429_and_503_back_off_then_carry_on(server: MirrorServer, tmp_path: Path) -> None:
    server.faults.extend([Fault(429, retry_after="0"), Fault(503, retry_after="0")])
    found = source(server, tmp_path).fetch_ids(["2412.04318"])
    assert list(found) == ["2412.04318"]
    assert len(server.requests) == 3


def test_empty_or_malformed_first_page_is_never_cached_as_not_found(
        server: MirrorServer, tmp_path: Path) -> None:
    server.faults.extend([Fault(200, b"")] * 3 + [Fault(200, b"<feed><oops")] * 3)
    arxiv_source = source(server, tmp_path, max_retries=2)
    assert arxiv_source.fetch_ids(["2412.04318"]) == {}
    assert arxiv_source.match_titles([entry("The Hyperfitting Phenomenon: Sharpening and "
                                            "Stabilizing LLMs for Open-Ended Text Generation",
                                            ("Fredrik Carlsson",))]) == {}
    cache = ArxivCache.load(tmp_path / "cache.json")
    assert cache.missing == {} and cache.titles == {}
    assert arxiv_source.stats.warnings  # said so
    assert list(source(server, tmp_path).fetch_ids(["2412.04318"])) == ["2412.04318"]


def test_a_hanging_server_times_out_and_the_build_goes_offline(server: MirrorServer,
                                                               tmp_path: Path) -> None:
    server.faults.append(Fault(200, b"", delay=3))
    arxiv_source = ArxivSource(ArxivCache(None), base_url=server.base_url, delay=0, timeout=0.5)
    assert arxiv_source.fetch_ids(["2412.04318", "2203.03466"]) == {}
    assert arxiv_source.offline and len(arxiv_source.stats.warnings) == 1
    assert arxiv_source.match_titles([entry("Anything", ("A",))]) == {}
    assert len(server.requests) == 1  # nothing more asked once offline


def test_no_network_warns_once_and_finishes_from_the_cache(tmp_path: Path) -> None:
    arxiv_source = ArxivSource(ArxivCache(None), base_url="http://127.0.0.1:9", delay=0)
    entries = [entry(f"Title {n}", ("A",)) for n in range(3)]
    assert arxiv_source.match_titles(entries) == {}
    assert len(arxiv_source.stats.warnings) == 1 and arxiv_source.stats.requests == 1
    posts = tmp_path / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text(
        "2025-05-01\n" + "".join(f"Title {n}\n(A)\nAbstract.\n" for n in range(3)) +
        "코멘트 (https://arxiv.org/abs/2401.00001)\n", encoding="utf-8")
    from vaultgen.build import build_vault

    arxiv_source = ArxivSource(ArxivCache(None), base_url="http://127.0.0.1:9", delay=0)
    result = build_vault([posts], tmp_path / "vault", source=arxiv_source)
    assert result.counts.papers == result.counts.unresolved == 3
    assert result.counts.cited == 1 and (tmp_path / "vault" / "papers" / "Title 0.md").exists()
    assert len(arxiv_source.stats.warnings) == 1 and arxiv_source.stats.requests == 1


def test_offline_uses_the_cache_alone(server: MirrorServer, tmp_path: Path) -> None:
    title = "The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for Open-Ended Text " \
            "Generation"
    source(server, tmp_path).match_titles([entry(title, ("Fredrik Carlsson",))])
    server.requests.clear()
    matched = source(server, tmp_path, offline=True).match_titles(
        [entry(title, ("Fredrik Carlsson",)), entry("Unknown", ("A",))])
    assert [r.id for r in matched.values()] == ["2412.04318"]
    assert server.requests == []


def test_an_interrupted_run_resumes_where_it_stopped(server: MirrorServer,
                                                     tmp_path: Path) -> None:
    titles = [f"Completely Distinct Paper Title Number {n} " + "word " * 40 for n in range(60)]
    batches = _title_batches(sorted(title_key(t) for t in titles))
    assert len(batches) >= 2
    arxiv_source = source(server, tmp_path)

    def interrupt(stage: str, done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the first batch

    arxiv_source.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        arxiv_source.match_titles([entry(t, ("A",)) for t in titles])
    asked = len(ArxivCache.load(tmp_path / "cache.json").titles)
    assert asked == len(batches[0])  # the first batch was saved before the interruption
    server.requests.clear()
    source(server, tmp_path).match_titles([entry(t, ("A",)) for t in titles])
    assert len(server.requests) == len(batches) - 1


def test_not_found_is_asked_again_only_after_the_ttl_or_with_refresh(server: MirrorServer,
                                                                     tmp_path: Path) -> None:
    unknown = [entry("Never Heard Of It", ("A",))]
    source(server, tmp_path).match_titles(unknown)
    server.requests.clear()
    source(server, tmp_path).match_titles(unknown)
    assert server.requests == []
    source(server, tmp_path, refresh=True).match_titles(unknown)
    assert len(server.requests) == 1
    later = ArxivSource(ArxivCache.load(tmp_path / "cache.json"), base_url=server.base_url,
                        delay=0, today=dt.date(2025, 8, 1))
    later.match_titles(unknown)
    assert len(server.requests) == 2


def test_query_urls_stay_under_4kb(server: MirrorServer, tmp_path: Path) -> None:
    titles = [f"Another Long Paper Title About Things Number {n} " + "x" * 60 for n in range(200)]
    source(server, tmp_path).match_titles([entry(t, ("A",)) for t in titles])
    assert len(server.requests) >= 2
    assert max(len(r) for r in server.requests) < 4096


def test_tex_titles_are_searched_by_their_plain_words() -> None:
    assert phrase_of(title_key("$\\mu$P: Zero-Shot Hyperparameter Transfer")) == \
        "zero shot hyperparameter transfer"


def test_summaries_are_read_from_the_cache_for_the_notes_that_show_them(
        tmp_path: Path) -> None:
    """Records come out of the cache without their summaries; a build reads those its notes
    show (a post without an abstract, a paper only cited) and makes the same vault as the
    build that had them from arXiv."""
    from vaultgen.build import build_vault

    from .conftest import tree

    summaries = {"2203.03466": "Summary of muP.", "2412.04318": "Summary of hyperfitting.",
                 "2404.19737": "Summary of DeepSeek-V2."}
    catalogue = Catalogue([{**r, "summary": summaries.get(r["id"], "")} for r in RECORDS])
    posts = tmp_path / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text(
        "2025-05-01\n"
        "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter "
        "Transfer\n(Greg Yang, Edward J. Hu)\n"
        "코멘트. Hyperfitting (https://arxiv.org/abs/2412.04318)\n"
        "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model\n"
        "(DeepSeek-AI)\nThe post's own abstract.\n#llm\n", encoding="utf-8")
    server = MirrorServer(catalogue).start()
    try:
        online = ArxivSource(ArxivCache.load(posts / "arxiv-cache.json"),
                             base_url=server.base_url, delay=0, timeout=2)
        build_vault([posts], tmp_path / "online", source=online)
    finally:
        server.stop()
    cached = ArxivSource(ArxivCache.load(posts / "arxiv-cache.json"), offline=True)
    build_vault([posts], tmp_path / "offline", source=cached)
    assert tree(tmp_path / "offline") == tree(tmp_path / "online")
    papers = {p.name: p.read_text(encoding="utf-8")
              for p in (tmp_path / "offline").rglob("*.md")}
    assert "Summary of muP." in papers["Tensor Programs V.md"]
    assert "Summary of hyperfitting." in papers["The Hyperfitting Phenomenon.md"]
    assert "Summary of DeepSeek-V2." not in papers["DeepSeek-V2.md"]
    assert "The post's own abstract." in papers["DeepSeek-V2.md"]


def test_a_rebuild_asks_only_for_the_new_post_and_saves_the_cache_a_fresh_build_saves(
        server: MirrorServer, tmp_path: Path) -> None:
    """A new post's titles and cited ids are asked for, nothing else; the vault and the
    cache are those a build from scratch with the cache as it was makes."""
    import shutil

    from vaultgen.build import build_vault

    from .conftest import rebuilt_tree
    from .posts import write_post

    posts = tmp_path / "input"
    posts.mkdir()
    write_post(posts / "2025-05-01.txt",
               "2025-05-01\nTensor Programs V: Tuning Large Neural Networks via Zero-Shot "
               "Hyperparameter Transfer\n(Greg Yang, Edward J. Hu)\nAbstract.\n"
               "코멘트. Hyperfitting (https://arxiv.org/abs/2412.04318)\n#llm\n")

    def build(vault: Path, cache: Path):  # type: ignore[no-untyped-def]
        online = ArxivSource(ArxivCache.load(cache), base_url=server.base_url, delay=0,
                             timeout=2, today=dt.date(2025, 6, 1))
        return build_vault([posts], vault, source=online)

    build(tmp_path / "vault", tmp_path / "cache.json")
    shutil.copy(tmp_path / "cache.json", tmp_path / "fresh-cache.json")
    write_post(posts / "2025-05-02.txt",
               "2025-05-02\nS$^2$R: Teaching LLMs to Self-verify and Self-correct via "
               "Reinforcement Learning\n(Ruotian Ma)\nAbstract.\n"
               "코멘트. (https://arxiv.org/abs/2404.19737) (https://arxiv.org/abs/2409.00000)\n"
               "A Title arXiv Does Not Know\n(Nobody)\nAbstract.\n#rl\n")
    server.requests.clear()
    result = build(tmp_path / "vault", tmp_path / "cache.json")
    assert len(server.requests) == 2  # the two new titles, then the two new ids
    assert result.counts.papers == 3 and result.counts.unresolved == 1
    server.requests.clear()
    assert build(tmp_path / "vault", tmp_path / "cache.json").write.changed == 0
    assert server.requests == []  # "not found" is asked again only when due
    build(tmp_path / "fresh", tmp_path / "fresh-cache.json")
    assert rebuilt_tree(tmp_path / "vault") == rebuilt_tree(tmp_path / "fresh")
    cache = (tmp_path / "cache.json").read_text("utf-8")
    assert cache == (tmp_path / "fresh-cache.json").read_text("utf-8")
    assert '"2409.00000": "2025-06-01"' in cache  # remembered as not found


# --- The cache file -----------------------------------------------------------------------------

CACHED_RECORD = {"id": "2401.00001", "title": "A title", "authors": ["Ann Lee"],
                 "summary": "S.", "published": "2024-01-01", "updated": "2024-01-02",
                 "primary_category": "cs.LG", "categories": ["cs.LG", "cs.AI"], "version": 2}
CACHED = {"version": 1, "records": {"2401.00001": CACHED_RECORD},
          "titles": {"a title": {"asked": "2024-02-01", "ids": ["2401.00001"]}},
          "missing": {"2401.99999": "2024-02-01"}}


def test_the_cache_reads_a_file_laid_out_any_way(tmp_path: Path) -> None:
    """A cache file reformatted by hand or by another tool (indented JSON) is read."""
    path = tmp_path / "arxiv-cache.json"
    path.write_text(json.dumps(CACHED, indent=1) + "\n", encoding="utf-8")
    cache = ArxivCache(path)
    assert cache.record("2401.00001") == ArxivRecord(
        "2401.00001", "A title", ("Ann Lee",), "S.", "2024-01-01", "2024-01-02", "cs.LG",
        ("cs.LG", "cs.AI"), 2)
    assert dict(cache.titles) == CACHED["titles"]
    assert dict(cache.missing) == CACHED["missing"]
    assert cache.negative_days() == ["2024-02-01"]


def test_the_cache_writes_one_answer_a_line_sorted(tmp_path: Path) -> None:
    path = tmp_path / "arxiv-cache.json"
    path.write_text(json.dumps(CACHED, indent=1) + "\n", encoding="utf-8")
    cache = ArxivCache(path)
    cache.missing["2401.00000"] = "2024-03-01"  # an answer added: the file written
    cache.titles["b title"] = {"asked": "2024-03-01", "ids": []}
    cache.save()
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {
        **CACHED, "titles": {**CACHED["titles"], "b title": {"asked": "2024-03-01", "ids": []}},
        "missing": {"2401.00000": "2024-03-01", **CACHED["missing"]}}
    lines = text.splitlines()
    assert lines == [
        '{"version": 1,', '"records": {', lines[2], "},", '"titles": {', lines[5], lines[6],
        "},", '"missing": {', lines[9], lines[10], "}}"]
    assert lines[2].startswith(' "2401.00001": {')
    assert [lines[5][:12], lines[6][:12]] == [' "a title": ', ' "b title": ']
    assert lines[9] == ' "2401.00000": "2024-03-01",' and lines[10] == ' "2401.99999": "2024-02-01"'
    again = ArxivCache(path)
    assert again.record("2401.00001") == cache.record("2401.00001")
    assert dict(again.titles) == dict(cache.titles) and dict(again.missing) == dict(cache.missing)


@given(st.dictionaries(st.text(), st.lists(st.text(), max_size=2), max_size=6),
       st.dictionaries(st.text(), st.text(), max_size=4))
@settings(max_examples=100, deadline=None)
def test_answers_saved_read_back_as_they_were(titles: dict, missing: dict) -> None:  # type: ignore[type-arg]
    """Whatever the keys hold, the file is JSON, one answer a line, sorted by key, and reads
    back the answers saved."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.json"
        cache = ArxivCache(path)
        for key, ids in titles.items():
            cache.titles[key] = {"asked": "2025-01-01", "ids": ids}
        for key, day in missing.items():
            cache.missing[key] = day
        cache.save()
        if not titles and not missing:
            assert not path.exists()  # nothing to keep: no file made
            return
        text = path.read_text("utf-8")
        raw = json.loads(text)
        assert raw["titles"] == {k: {"asked": "2025-01-01", "ids": v} for k, v in titles.items()}
        assert raw["missing"] == missing and raw["records"] == {}
        assert len(text.split("\n")) == 8 + len(titles) + len(missing)  # and an end of line
        for section in ("titles", "missing"):
            assert list(raw[section]) == sorted(raw[section])
        again = ArxivCache(path)
        assert dict(again.titles) == raw["titles"] and dict(again.missing) == missing


def test_an_unchanged_cache_is_not_written_again(server: MirrorServer, tmp_path: Path) -> None:
    """A run that learns nothing new leaves the file as it was (its mtime too): git and
    file synchronisers see no change."""
    from vaultgen.build import build_vault

    title = "The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for Open-Ended Text " \
            "Generation"
    source(server, tmp_path).match_titles([entry(title, ("Fredrik Carlsson",))])
    path = tmp_path / "cache.json"
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)
    matched = source(server, tmp_path).match_titles([entry(title, ("Fredrik Carlsson",))])
    assert [r.id for r in matched.values()] == ["2412.04318"]
    ArxivCache(path).save()
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before
    posts = tmp_path / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text(f"2025-05-01\n{title}\n(Fredrik Carlsson)\nA.\n",
                                          encoding="utf-8")
    for vault in ("vault", "vault", "other"):
        result = build_vault([posts], tmp_path / vault, source=source(server, tmp_path))
        assert result.counts.unresolved == 0
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_a_file_that_is_not_a_cache_is_never_written_over(server: MirrorServer,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    for text in ("not json", "[1, 2]", '{"records": '):
        path.write_text(text, encoding="utf-8")
        arxiv_source = source(server, tmp_path)
        found = arxiv_source.fetch_ids(["2412.04318"])
        assert list(found) == ["2412.04318"]  # asked, and used for this run
        assert arxiv_source.cache.warnings and "left as it is" in arxiv_source.cache.warnings[0]
        arxiv_source.cache.save()
        assert path.read_text(encoding="utf-8") == text


def test_a_build_leaves_a_file_that_is_not_a_cache_and_says_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vaultgen.cli import cli

    posts = tmp_path / "input"
    posts.mkdir()
    (posts / "2025-05-01.txt").write_text("2025-05-01\nA Title\n(Ann Author)\nA.\n",
                                          encoding="utf-8")
    (posts / "arxiv-cache.json").write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(posts), "-o", str(tmp_path / "vault"),
                                      "--offline"])
    assert result.exit_code == 0, result.output
    assert "arxiv-cache.json: not an arXiv cache vaultgen can read" in result.output
    assert (posts / "arxiv-cache.json").read_text(encoding="utf-8") == "not json"

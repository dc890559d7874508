"""Citation keys: their shape, their uniqueness, and that a key once given is kept for good
(over any sequence of builds, and when the vault's state is lost)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultgen.arxiv.client import ArxivCache, ArxivSource
from vaultgen.build import BuildResult, build_vault
from vaultgen.check.notes import read_frontmatter
from vaultgen.cli import cli
from vaultgen.model import Entry, SourceRef
from vaultgen.plan import plan_vault
from vaultgen.render.citekeys import (
    assign_citekeys,
    citekey_base,
    key_surname,
    letters,
    person_name,
    title_word,
)

from .citing import KEYS, POST, citing_posts
from .posts import write_post

KEY_SHAPE = re.compile(r"[a-z0-9]+")


@pytest.mark.parametrize(("author", "year", "title", "key"), [
    ("DiJia Su", 2025, "GaLore 2: Large-Scale LLM Pre-Training", "su2025galore"),
    ("Xiaomi LLM-Core Team", 2025, "MiMo: Unlocking the Reasoning Potential", "xiaomi2025mimo"),
    ("DeepSeek-AI", 2025, "DeepSeek-R1: Incentivizing Reasoning", "deepseek2025deepseek"),
    ("Team OLMo", 2024, "2 OLMo 2 Furious", "olmo2024olmo"),
    ("Ashish Vaswani", 2017, "Attention Is All You Need", "vaswani2017attention"),
    ("Aäron van den Oord", 2016, "WaveNet: A Generative Model", "van2016wavenet"),
    ("Łukasz Kaiser", 2017, "One Model To Learn Them All", "kaiser2017one"),
    ("Greg Yang", 2022, r"$\mu$P: Tensor Programs V", "yang2022mp"),
    ("Ruotian Ma", 2025, "S$^2$R: Teaching LLMs to Self-verify", "ma2025s2r"),
    ("Pat O'Brien", 2020, "On the Importance of Being Earnest", "obrien2020importance"),
    ("John Smith Jr.", 2019, "A Study", "smith2019study"),
    ("Peisong Wang (Tencent)", 2025, "S$^2$R: Teaching LLMs", "wang2025s2r"),
    ("김철수", 2024, "트랜스포머 연구", "gim2024teulaenseupomeo"),
    ("남궁민", 2024, "Deep Nets", "namgung2024deep"),
    (None, 2024, "The Untitled", "anon2024untitled"),
])
def test_a_key_has_google_scholars_shape(author: str | None, year: int, title: str,
                                         key: str) -> None:
    assert citekey_base(author, year, title) == key


def test_names_split_as_bibtex_splits_them() -> None:
    assert person_name("Jean de la Fontaine") is not None
    assert person_name("Jean de la Fontaine").surname == "de la Fontaine"  # type: ignore[union-attr]
    assert person_name("Xiaomi LLM-Core Team") is None
    assert person_name("OpenAI") is None
    assert person_name("이 영희") is None
    assert key_surname("이 영희") == "i"


@given(author=st.text(max_size=30), title=st.text(max_size=60),
       year=st.none() | st.integers(1900, 2100))
def test_any_key_is_lower_case_ascii_letters_and_digits(author: str, title: str,
                                                        year: int | None) -> None:
    key = citekey_base(author, year, title)
    assert KEY_SHAPE.fullmatch(key), key
    assert title_word(title).isascii() and key_surname(author).isascii()


def test_a_key_already_given_gets_a_letter() -> None:
    given = assign_citekeys([("a", "su2025galore"), ("b", "su2025galore"),
                             ("c", "su2025galore")], ["Su2025Galore"])
    assert given == {"a": "su2025galorea", "b": "su2025galoreb", "c": "su2025galorec"}
    assert [letters(n) for n in (1, 26, 27, 28)] == ["a", "z", "aa", "ab"]


@given(builds=st.lists(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(
    ["su2025galore", "su2025galorea", "xiaomi2025mimo", "yang2022mp"])), max_size=12),
    min_size=1, max_size=8))
def test_keys_given_are_kept_and_unique_over_any_sequence_of_builds(
        builds: list[list[tuple[int, str]]]) -> None:
    """Each build brings notes (a number each) wanting a key base; the keys given before are
    kept, and no two notes of a build share a key."""
    held: dict[str, str] = {}
    for notes in builds:
        wanted = [(f"note{n}", base) for n, base in dict(notes).items()]
        new = assign_citekeys([w for w in wanted if w[0] not in held], held.values())
        for note in new:
            assert note not in held
        held.update(new)
        keys = [held[note] for note, _ in wanted]
        assert len(set(keys)) == len(keys)


# --- Keys in the vault -----------------------------------------------------------------------

def build(inputs: Path, vault: Path) -> BuildResult:
    """A build that leaves no note as it was: every note is vaultgen's, as rendered now."""
    source = ArxivSource(ArxivCache(inputs / "arxiv-cache.json"), offline=True)
    result = build_vault([inputs], vault, source=source, jobs=1)
    assert not result.write.kept, result.write.kept
    return result


def citekeys(vault: Path) -> dict[str, str]:
    """The ``citekey`` property of each note that has one, by vault path."""
    found = {}
    for note in sorted(vault.rglob("*.md")):
        match = re.search(r"^citekey: (.+)$", note.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            found[note.relative_to(vault).as_posix()] = match.group(1)
    return found


def keys_by_paper(vault: Path) -> dict[str, str]:
    """The ``citekey`` of each note that has one, by its paper's title (a name freed by a
    paper gone may be given to another)."""
    found = {}
    for note in vault.rglob("*.md"):
        properties = read_frontmatter(note.read_text(encoding="utf-8")).properties or {}
        if "citekey" in properties:
            found[str(properties["title"])] = str(properties["citekey"])
    return found


def test_every_paper_and_known_cited_paper_has_a_unique_key(tmp_path: Path) -> None:
    inputs = citing_posts(tmp_path / "input")
    build(inputs, tmp_path / "vault")
    assert citekeys(tmp_path / "vault") == KEYS
    unknown = (tmp_path / "vault/cited/arXiv 2301.99999.md").read_text(encoding="utf-8")
    assert "citekey" not in unknown and "cited_by_count: 1" in unknown


EARLIER = """2025-04-20
GaLore: Memory-Efficient Training
(Wei Su)
An earlier GaLore.
#efficiency
"""


def test_a_key_never_changes_when_a_post_brings_a_paper_that_would_take_it(
        tmp_path: Path) -> None:
    """A post dated before the others brings a paper whose key a note has: a fresh build
    gives the key to the earlier paper, but the note keeps it."""
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault)
    write_post(inputs / "2025-04-20.txt", EARLIER)
    build(inputs, vault)
    keys = citekeys(vault)
    assert {path: keys[path] for path in KEYS} == KEYS
    assert keys["papers/GaLore.md"] == "su2025galoreb"
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert citekeys(fresh)["papers/GaLore.md"] == "su2025galore"


def test_keys_are_read_back_from_the_notes_when_the_state_is_lost(tmp_path: Path) -> None:
    """Keys a fresh build would give otherwise are read back from the notes: every note is
    as the build renders it (none left as it was), and later builds keep the keys."""
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault)
    write_post(inputs / "2025-04-20.txt", EARLIER)
    build(inputs, vault)  # GaLore: su2025galoreb, where a fresh build gives su2025galore
    before = citekeys(vault)
    shutil.rmtree(vault / ".vaultgen")
    assert build(inputs, vault).write.changed == 0
    assert citekeys(vault) == before
    write_post(inputs / "2025-05-01.txt", POST.replace("We scale GaLore.", "We scale it."))
    build(inputs, vault)
    assert citekeys(vault) == before


def test_a_paper_only_cited_keeps_its_key_once_a_post_covers_it(tmp_path: Path) -> None:
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault)
    covered = POST + ("The Hyperfitting Phenomenon: Sharpening and Stabilizing LLMs for "
                      "Open-Ended Text Generation\n(Fredrik Carlsson, Fangyu Liu)\n"
                      "Hyperfitting.\n#llm\n")
    write_post(inputs / "2025-05-01.txt", covered)
    build(inputs, vault)
    keys = citekeys(vault)
    assert not (vault / "cited/The Hyperfitting Phenomenon.md").exists()
    [path] = [p for p in keys if p.startswith("papers/The Hyperfitting Phenomenon")]
    assert keys[path] == "carlsson2024hyperfitting"


steps = st.lists(st.one_of(
    st.tuples(st.just("add earlier"), st.integers(1, 19)),
    st.tuples(st.just("remove"), st.integers(0, 3)),
    st.tuples(st.just("lose state"), st.just(0)),
), min_size=1, max_size=5)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_any_sequence_of_builds_keeps_every_key_given(tmp_path_factory, steps) -> None:  # type: ignore[no-untyped-def]
    """Posts dated before the others bring papers that compete for the keys given; posts go;
    the state store is lost. Every note keeps the key it was given, and keys stay unique."""
    root = tmp_path_factory.mktemp("keys")
    inputs, vault = citing_posts(root / "input"), root / "vault"
    build(inputs, vault)
    held = keys_by_paper(vault)
    for action, number in steps:
        posts = sorted(p for p in inputs.glob("*.txt") if p.name != "2025-05-01.txt")
        if action == "add earlier":
            write_post(inputs / f"2025-04-{number:02d}.txt",
                       EARLIER.replace("2025-04-20", f"2025-04-{number:02d}")
                       .replace("Memory-Efficient", f"Memory-Efficient {number}"))
        elif action == "remove" and posts:
            posts[number % len(posts)].unlink()
        elif action == "lose state":
            shutil.rmtree(vault / ".vaultgen", ignore_errors=True)
        build(inputs, vault)
        keys = keys_by_paper(vault)
        for paper, key in held.items():
            if paper in keys:
                assert keys[paper] == key, (paper, steps)
        assert len(set(keys.values())) == len(keys), keys
        held.update(keys)
    shutil.rmtree(root)


def test_check_reports_two_notes_with_one_citekey(tmp_path: Path) -> None:
    inputs, vault = citing_posts(tmp_path / "input"), tmp_path / "vault"
    build(inputs, vault)
    note = vault / "papers" / "MiMo.md"
    note.write_text(note.read_text(encoding="utf-8").replace(
        "citekey: xiaomi2025mimo", "citekey: Su2025GaLore"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(vault)])
    assert result.exit_code == 1
    assert "papers/MiMo.md: error: citekey Su2025GaLore is also that of " \
           "papers/GaLore 2.md" in result.output
    assert "papers/GaLore 2.md: error: citekey su2025galore is also that of " \
           "papers/MiMo.md" in result.output


def test_a_notes_inputs_digest_holds_its_citekey() -> None:
    """A note is rendered again when its key is given (or another is), as when anything
    else it is made of changes."""
    entry = Entry(dt.date(2025, 5, 1), "Alpha: A Paper", (), "", None, None, ("llm",),
                  ("2501.00001",), SourceRef("p.txt", 2), "digest")

    def plan(keys: dict[str, str]) -> dict[str, str]:
        made = plan_vault([entry], {}, {}, {}, {}, lambda _: None,
                          citekeys=lambda papers, cited: keys)
        return {spec.note: spec.inputs for spec in made.notes}

    bare = plan({})
    keyed = plan({"paper:title:Alpha: A Paper": "a2025alpha", "cited:2501.00001": "b2025x"})
    assert bare["paper:title:Alpha: A Paper"] != keyed["paper:title:Alpha: A Paper"]
    assert bare["cited:2501.00001"] != keyed["cited:2501.00001"]
    assert bare["tag:llm"] == keyed["tag:llm"]

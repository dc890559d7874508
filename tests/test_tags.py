"""Tags spelled several ways: `vaultgen check` warns of them, and ``tag-aliases.yaml`` beside
the posts merges them when a vault is built."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultgen.build import build_vault
from vaultgen.check.links import check_files
from vaultgen.check.notes import read_frontmatter
from vaultgen.cli import cli
from vaultgen.model import ArxivRecord
from vaultgen.parse.tags import (
    NO_ALIASES,
    TagAliases,
    canonical_tags,
    load_tag_aliases,
    tag_key,
)

from .conftest import rebuilt_tree, tree
from .doubles import CountingSource
from .posts import dated_post_folder, write_post

ALIASES = "video-generation: [video_generation, videogen]\npretraining: [pre-training]\n"

DAY1 = """2025-05-01
Alpha: Moving Pictures
(Ann Author)
Abstract alpha.
코멘트 알파.
#video_generation #diffusion

Beta: Long Clips
(Bo Writer)
Abstract beta.
코멘트 베타.
#video-generation #videogen #LLM

Gamma: Tokens First
(Cy Reader)
Abstract gamma.
코멘트 감마.
#pre-training #llm
"""

DAY2 = """2025-05-02
Delta: More Frames
(Dee Author)
Abstract delta.
코멘트 델타: after Alpha (https://arxiv.org/abs/2501.00001).
#VideoGen #pretraining
"""


ALPHA = {"Alpha: Moving Pictures": ArxivRecord("2501.00001", "Alpha: Moving Pictures",
                                              ("Ann Author",), published="2025-01-01")}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def hubs(vault: Path) -> list[str]:
    return sorted(p.name for p in (vault / "tags").glob("*.md"))


def paper_tags(vault: Path) -> dict[str, list[str]]:
    """The ``tags`` property of each paper note, by title."""
    found = {}
    for note in (vault / "papers").glob("*.md"):
        properties = read_frontmatter(note.read_text(encoding="utf-8")).properties or {}
        found[str(properties["title"])] = list(properties["tags"])  # type: ignore[call-overload]
    return found


def hub_papers(vault: Path, hub: str) -> list[str]:
    """The papers a tag hub lists (the names its "Papers" list links to)."""
    text = (vault / "tags" / hub).read_text(encoding="utf-8")
    section = text.split("## Papers", 1)[1].split("##", 1)[0]
    return sorted(line.split("[[", 1)[1].split("]]", 1)[0].split("|", 1)[0]
                  for line in section.splitlines() if "[[" in line)


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return dated_post_folder(tmp_path, DAY1)


def write_aliases(folder: Path, text: str) -> Path:
    path = folder / "tag-aliases.yaml"
    write_post(path, text)  # as if written a while ago, like the posts
    return path


# --- vaultgen check ---------------------------------------------------------------------------

def tagged(*tags: str) -> str:
    return "---\ntags:\n" + "".join(f"  - {t}\n" for t in tags) + "---\n[[Home]]\n"


def test_check_warns_of_tags_that_differ_only_in_case_dash_or_underscore() -> None:
    notes = {"Home.md": "[[a]] [[b]] [[c]] [[d]] [[e]]\n",
             "a.md": tagged("video-generation", "pretraining", "LLM"),
             "b.md": tagged("video-generation", "pretraining", "llms"),
             "c.md": tagged("video_generation", "llm"),
             "d.md": "---\ntags: pre-training, Video-Generation\n---\n[[Home]]\n",
             "e.md": '---\ntags: ["#llm", vision, null]\n---\n[[Home]]\n'}
    report = check_files(notes)
    found = {f.message: f for f in report.findings if f.kind == "tag-variants"}
    assert len(found) == 3, list(found)
    [video] = [f for m, f in found.items() if "video" in m]
    assert video.severity == "warning"
    assert video.message == ("tags that differ only in case, '-' or '_': "
                             "#video-generation (2 notes, e.g. a.md), "
                             "#Video-Generation (1 note, e.g. d.md), "
                             "#video_generation (1 note, e.g. c.md)")
    assert video.path == "c.md"  # a note of the tag used least
    assert "video-generation: [Video-Generation, video_generation]" in (video.hint or "")
    [pre] = [f for m, f in found.items() if "pretraining" in m]
    assert "#pretraining (2 notes, e.g. a.md), #pre-training (1 note, e.g. d.md)" in pre.message
    assert pre.path == "d.md"
    [llm] = [f for m, f in found.items() if "llm" in m.lower()]
    assert "#llm (2 notes, e.g. c.md), #LLM (1 note, e.g. a.md)" in llm.message
    assert "llms" not in llm.message and "vision" not in llm.message
    assert report.summary["warnings"] == len(report.warnings)


def test_check_reports_tag_variants_in_text_and_json(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in {"Home.md": "[[a]] [[b]]\n", "a.md": tagged("pre-training"),
                       "b.md": tagged("pretraining", "pretraining")}.items():
        (vault / name).write_text(text, encoding="utf-8")
    code, out, _ = run("check", str(vault))
    assert code == 0  # a warning
    assert "b.md: warning: tags that differ only in case, '-' or '_': #pre-training (1 note, " \
           "e.g. a.md), #pretraining (1 note, e.g. b.md)" in out
    code, out, _ = run("check", str(vault), "--json")
    assert code == 0
    report = json.loads(out)
    [finding] = [f for f in report["findings"] if f["kind"] == "tag-variants"]
    assert finding["severity"] == "warning" and "#pre-training" in finding["message"]
    assert report["summary"]["tag_variants"] == [[
        {"tag": "pre-training", "notes": 1, "example": "a.md"},
        {"tag": "pretraining", "notes": 1, "example": "b.md"}]]
    assert report["summary"]["findings_by_kind"]["tag-variants"] == 1


def test_check_of_a_vault_without_tag_variants_says_nothing_of_tags() -> None:
    report = check_files({"A.md": tagged("llm", "llms", "pre-train") + "[[B]]\n",
                          "B.md": tagged("LLM-agents") + "[[A]]\n"})
    assert not [f for f in report.findings if f.kind == "tag-variants"]
    assert report.summary["tag_variants"] == []


def test_a_built_vault_without_aliases_is_warned_of_its_tag_variants(posts: Path,
                                                                     tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    assert run("build", str(posts), "-o", str(vault), "--offline")[0] == 0
    code, out, _ = run("check", str(vault), "--json")
    groups = json.loads(out)["summary"]["tag_variants"]
    assert code == 0
    assert [[use["tag"] for use in group] for group in groups] == [
        ["LLM", "llm"], ["video-generation", "video_generation"]]


# --- Merging at build time --------------------------------------------------------------------

def test_a_build_with_aliases_merges_the_variants_into_one_hub(posts: Path,
                                                               tmp_path: Path) -> None:
    write_aliases(posts, ALIASES + "llm: []\n")
    vault = tmp_path / "vault"
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0 and ": warning:" not in err
    assert hubs(vault) == ["diffusion (tag).md", "llm (tag).md", "pretraining (tag).md",
                           "video-generation (tag).md"]
    assert paper_tags(vault) == {
        "Alpha: Moving Pictures": ["video-generation", "diffusion"],
        "Beta: Long Clips": ["video-generation", "llm"],  # once, where it first stood
        "Gamma: Tokens First": ["pretraining", "llm"],
    }
    assert hub_papers(vault, "video-generation (tag).md") == ["Alpha", "Beta"]
    assert hub_papers(vault, "llm (tag).md") == ["Beta", "Gamma"]
    hub = read_frontmatter((vault / "tags" / "video-generation (tag).md")
                           .read_text(encoding="utf-8")).properties
    assert hub == {"type": "tag", "tag": "video-generation", "count": 2}
    index = (vault / "Index.md").read_text(encoding="utf-8")
    assert "video_generation" not in index and "videogen" not in index
    code, out, _ = run("check", str(vault), "--json")
    assert code == 0 and json.loads(out)["summary"]["tag_variants"] == []


def test_an_alias_file_beside_a_post_named_directly_is_read(posts: Path,
                                                            tmp_path: Path) -> None:
    write_aliases(posts, ALIASES)
    vault = tmp_path / "vault"
    build_vault([posts / "2025-05-01.txt"], vault)
    assert "video_generation (tag).md" not in hubs(vault)
    assert "video-generation (tag).md" in hubs(vault)


def test_a_post_named_directly_without_a_suffix_has_its_aliases_beside_it(
        posts: Path, tmp_path: Path) -> None:
    post = posts / "2025-05-01"
    (posts / "2025-05-01.txt").rename(post)
    write_aliases(posts, ALIASES)
    result = build_vault([post], tmp_path / "vault")
    assert result.diagnostics == ()
    assert "video_generation (tag).md" not in hubs(tmp_path / "vault")


def test_the_alias_file_is_not_a_post(posts: Path, tmp_path: Path) -> None:
    write_aliases(posts, ALIASES)
    result = build_vault([posts], tmp_path / "vault", keep_notes=True)
    assert result.counts.entries == 3 and result.counts.posts == 1 and result.diagnostics == ()
    sources = {str(source).rsplit(":", 1)[0] for note in result.notes if note.kind == "paper"
               for source in (note.properties or {})["source"]}  # type: ignore[attr-defined]
    assert sources == {f"{posts.as_posix()}/2025-05-01.txt"}


def test_editing_the_aliases_merges_and_unmerges_as_a_full_build_would(posts: Path,
                                                                       tmp_path: Path) -> None:
    vault, fresh = tmp_path / "vault", tmp_path / "fresh"
    build_vault([posts], vault, source=CountingSource())
    before = tree(vault)
    assert "tags/video_generation (tag).md" in before and "tags/videogen (tag).md" in before

    for text in (ALIASES, "video-generation: [video_generation]\n", "# none\n", ALIASES):
        write_aliases(posts, text)
        build_vault([posts], vault, source=CountingSource())
        shutil.rmtree(fresh, ignore_errors=True)
        build_vault([posts], fresh, source=CountingSource())
        assert rebuilt_tree(vault) == rebuilt_tree(fresh), text
        again = build_vault([posts], vault, source=CountingSource())
        assert again.rendered == 0 and again.write.changed == 0  # nothing changed

    assert "tags/video_generation (tag).md" not in tree(vault)
    (posts / "tag-aliases.yaml").unlink()
    build_vault([posts], vault, source=CountingSource())
    assert tree(vault) == before  # every note as it was before any alias


def test_posts_added_later_are_merged_as_a_build_from_scratch_merges_them(
        posts: Path, tmp_path: Path) -> None:
    write_aliases(posts, ALIASES)
    vault, fresh = tmp_path / "vault", tmp_path / "fresh"
    build_vault([posts], vault, source=CountingSource(ALPHA))
    write_post(posts / "2025-05-02.txt", DAY2)
    result = build_vault([posts], vault, source=CountingSource(ALPHA))
    assert "papers/Alpha.md" in result.write.written  # cited by the new paper
    build_vault([posts], fresh, source=CountingSource(ALPHA))
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)
    assert paper_tags(vault)["Delta: More Frames"] == ["video-generation", "pretraining"]
    assert hub_papers(vault, "pretraining (tag).md") == ["Delta", "Gamma"]


def test_aliases_changed_with_a_post_added_apply_to_every_post(posts: Path,
                                                               tmp_path: Path) -> None:
    vault, fresh = tmp_path / "vault", tmp_path / "fresh"
    build_vault([posts], vault, source=CountingSource())
    write_post(posts / "2025-05-02.txt", DAY2)
    write_aliases(posts, ALIASES)
    build_vault([posts], vault, source=CountingSource())
    build_vault([posts], fresh, source=CountingSource())
    assert rebuilt_tree(vault) == rebuilt_tree(fresh)
    assert "tags/video_generation (tag).md" not in tree(vault)


# --- Bad alias files --------------------------------------------------------------------------

BAD_FILES = [
    # (file text, line, what the warning says, hubs that show the rest was applied)
    ("video-generation: [video_generation\npretraining: [pre-training]\n", 2,
     "not valid YAML", ["video_generation (tag).md"]),
    ("- video-generation\n- video_generation\n", 1,
     "should map each tag to the list of tags it absorbs", ["video_generation (tag).md"]),
    ("pretraining: [pre-training]\nvideo-generation: video_generation\n", 2,
     "should be a list, as 'video-generation: [video_generation]'; row skipped",
     ["pretraining (tag).md", "video_generation (tag).md"]),
    ("video-generation: [video_generation]\nvideos:\n  - videogen\n  - VIDEO_generation\n", 4,
     "VIDEO_generation is claimed on line 1 already (by video-generation)",
     ["video-generation (tag).md", "videos (tag).md"]),
    ("video-generation: [video_generation]\nvideo gen: [videogen]\n", 2,
     "'video gen' is not a valid tag", ["video-generation (tag).md", "videogen (tag).md"]),
    ("video-generation: [video_generation, '#videogen', 2025]\n", 1,
     "'#videogen' (a variant of video-generation) is not a valid tag",
     ["video-generation (tag).md", "videogen (tag).md"]),
    ("2025: [video_generation]\nvideo-generation: [videogen]\n", 1,
     "2025 is not a valid tag", ["video-generation (tag).md", "video_generation (tag).md"]),
    ("video-generation: [videogen]\nVideo-Generation: [video_generation]\n", 2,
     "Video-Generation is claimed on line 1 already (by video-generation); row skipped",
     ["video-generation (tag).md", "video_generation (tag).md"]),
]


@pytest.mark.parametrize(("text", "line", "says", "made"), BAD_FILES)
def test_a_bad_alias_file_is_warned_about_and_the_rest_built(
        posts: Path, tmp_path: Path, text: str, line: int, says: str, made: list[str]) -> None:
    path = write_aliases(posts, text)
    vault = tmp_path / "vault"
    code, _, err = run("build", str(posts), "-o", str(vault), "--offline")
    assert code == 0, err
    assert f"{path.as_posix()}:{line}: warning: " in err and says in err, err
    assert "Traceback" not in err
    assert set(made) <= set(hubs(vault))
    assert len(list((vault / "papers").glob("*.md"))) == 3
    assert run("build", str(posts), "-o", str(vault), "--offline", "--strict")[0] == 1


def test_an_alias_file_that_is_not_utf8_is_ignored_with_a_warning(posts: Path,
                                                                  tmp_path: Path) -> None:
    path = posts / "tag-aliases.yaml"
    path.write_bytes(b"video-generation: [video_generation]\npretraining: [pre\xff]\n")
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--offline")
    assert code == 0 and f"{path.as_posix()}:2: warning: not UTF-8" in err
    assert "video_generation (tag).md" in hubs(tmp_path / "vault")


def test_an_alias_file_that_cannot_be_read_is_ignored_with_a_warning(posts: Path,
                                                                     tmp_path: Path) -> None:
    (posts / "tag-aliases.yaml").mkdir()
    code, _, err = run("build", str(posts), "-o", str(tmp_path / "vault"), "--offline")
    assert code == 0 and "tag-aliases.yaml:0: warning: cannot read the tag aliases" in err


def test_an_empty_alias_file_is_no_aliases(tmp_path: Path) -> None:
    for text in ("", "# nothing yet\n", "---\n"):
        path = tmp_path / "tag-aliases.yaml"
        path.write_text(text, encoding="utf-8")
        aliases, problems = load_tag_aliases(path)
        assert aliases.canonical == {} and problems == []
    assert load_tag_aliases(tmp_path / "absent.yaml") == (NO_ALIASES, [])


def test_a_tag_absorbs_its_variants_and_its_own_case_variants(tmp_path: Path) -> None:
    path = tmp_path / "tag-aliases.yaml"
    path.write_text("LLM: [large-language-model]\npretraining:\n", encoding="utf-8")
    aliases, problems = load_tag_aliases(path)
    assert problems == []
    assert canonical_tags(["llm", "Large-Language-Model", "x", "LLM", "Pretraining"],
                          aliases) == ("LLM", "x", "pretraining")


# --- The mapping itself -----------------------------------------------------------------------

TAG_TEXT = st.text("aAbB-_", min_size=1, max_size=3)


@st.composite
def alias_files(draw: st.DrawFn) -> TagAliases:
    """Aliases as a file of random rows gives them (rows that clash are skipped)."""
    rows = draw(st.lists(st.tuples(TAG_TEXT, st.lists(TAG_TEXT, max_size=4)), max_size=5))
    return _load_text("".join(f"{json.dumps(tag)}: {json.dumps(variants)}\n"
                              for tag, variants in rows))


def _load_text(text: str) -> TagAliases:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tag-aliases.yaml"
        path.write_text(text, encoding="utf-8")
        return load_tag_aliases(path)[0]


@given(aliases=alias_files(), tags=st.lists(TAG_TEXT, max_size=8))
@settings(max_examples=200, deadline=None)
def test_canonical_tags_are_idempotent_in_order_and_once(aliases: TagAliases,
                                                         tags: list[str]) -> None:
    merged = canonical_tags(tags, aliases)
    assert canonical_tags(merged, aliases) == merged
    assert len(set(merged)) == len(merged)
    # In order: each tag where its first variant stood.
    expected: list[str] = []
    for tag in tags:
        canonical = aliases.canonical.get(tag_key(tag), tag)
        if canonical not in expected:
            expected.append(canonical)
    assert list(merged) == expected
    # A tag is kept unless a row claims it; a claimed one becomes a tag the file names.
    named = set(aliases.canonical.values())
    assert all(t in tags or t in named for t in merged)
    assert canonical_tags(tags, NO_ALIASES) == tuple(dict.fromkeys(tags))


@given(rows=st.lists(st.tuples(TAG_TEXT, st.lists(TAG_TEXT, max_size=3)), max_size=5))
@settings(max_examples=100, deadline=None)
def test_every_tag_the_file_names_is_its_own_canonical_tag(
        rows: list[tuple[str, list[str]]]) -> None:
    aliases = _load_text("".join(f"{json.dumps(t)}: {json.dumps(v)}\n" for t, v in rows))
    for canonical in set(aliases.canonical.values()):
        assert aliases.canonical[tag_key(canonical)] == canonical


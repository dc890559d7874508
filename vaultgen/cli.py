"""The command line: options in, library calls, messages out. No logic of its own."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from . import __version__
from .errors import VaultgenError
from .model import Diagnostic
from .wording import plural
from .workers import NOTES_WORTH_WORKERS, POSTS_WORTH_WORKERS

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from .build import BuildCounts
    from .write import WriteReport


def _require_vault(vault: Path) -> None:
    """Exit with one line unless ``vault`` is a vault (``views.outputs.require_vault``)."""
    from .views.outputs import require_vault

    try:
        require_vault(vault)
    except VaultgenError as err:
        raise _fail(err) from err


def _fail(err: VaultgenError) -> click.ClickException:
    message = str(err)
    if err.hint:
        message += f"\nHint: {err.hint}"
    return click.ClickException(message)


def _folder_to_make(ctx: click.Context, param: click.Parameter,
                    value: Path | None) -> Path | None:
    """An option naming a folder vaultgen makes when missing: not a file, nor under one."""
    if value is not None:
        if os.path.exists(value) and not os.path.isdir(value):
            raise click.BadParameter(f"{value} is a file; the vault is a folder (made when "
                                     "missing)", ctx, param)
        _refuse_file_above(ctx, param, value)
    return value


def _file_to_write(ctx: click.Context, param: click.Parameter,
                   value: Path | None) -> Path | None:
    """An option naming a file vaultgen writes: not a folder, nor under a file."""
    if value is not None:
        if os.path.isdir(value):
            raise click.BadParameter(f"{value} is a folder; name the file in it (e.g. "
                                     f"{value / 'arxiv-cache.json'})", ctx, param)
        _refuse_file_above(ctx, param, value)
    return value


def _refuse_file_above(ctx: click.Context, param: click.Parameter, path: Path) -> None:
    for above in path.parents:
        if os.path.exists(above):
            if not os.path.isdir(above):
                raise click.BadParameter(f"{above} is a file, so nothing can be made in it",
                                         ctx, param)
            return


def _show_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        click.echo(str(diagnostic), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vaultgen")
def cli() -> None:
    """Turn daily research-paper digest posts into a linked Obsidian vault.

    Example:

        vaultgen build input/ -o vault/
    """


@cli.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry, per line.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) when anything is warned about.")
def parse(inputs: tuple[Path, ...], as_json: bool, strict: bool) -> None:
    """Parse digest posts and print their entries.

    INPUTS are post files or folders of them (default: input/).

    Example:

        vaultgen parse input/2025-04-30.txt --json
    """
    from .parse.inputs import read_posts

    result = read_posts(inputs or (Path("input"),))
    for entry in result.entries:
        if as_json:
            click.echo(json.dumps({
                "date": entry.date.isoformat(), "title": entry.title,
                "authors": list(entry.authors), "abstract": entry.abstract,
                "comment_ko": entry.comment_ko, "comment_en": entry.comment_en,
                "tags": list(entry.tags), "cites": list(entry.cites),
                "source": str(entry.source),
            }, ensure_ascii=False))
        else:
            parts = [f"{entry.date}  {entry.title}", f"    {plural(len(entry.authors), 'author')}"]
            if entry.tags:
                parts.append(" ".join(f"#{t}" for t in entry.tags))
            if entry.cites:
                parts.append(f"cites {', '.join(entry.cites)}")
            if entry.comment_ko or entry.comment_en:
                langs = [n for n, c in (("ko", entry.comment_ko), ("en", entry.comment_en)) if c]
                parts.append("commentary " + "+".join(langs))
            click.echo(" · ".join(parts) + f"  [{entry.source}]")
    _show_diagnostics(result.diagnostics)
    if not as_json:
        click.echo(f"{plural(len(result.entries), 'entry')}, "
                   f"{_problems(*_severities(result.diagnostics))}", err=True)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors or (strict and result.diagnostics):
        sys.exit(1)


@cli.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path, readable=False))
@click.option("-o", "--output", "vault", type=click.Path(path_type=Path), default=Path("vault"),
              show_default=True, callback=_folder_to_make,
              help="The vault folder to build or update.")
@click.option("--force", is_flag=True,
              help="Regenerate notes whose generated parts you edited (your version is saved "
                   "under .vaultgen/backup/).")
@click.option("--dry-run", is_flag=True, help="Show what would be written; touch nothing.")
@click.option("--strict", is_flag=True, help="Fail when the input has warnings.")
@click.option("--offline", is_flag=True, help="Use the arXiv cache alone; ask arXiv nothing.")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), callback=_file_to_write,
              help="The arXiv cache file [default: arxiv-cache.json in the first input folder].")
@click.option("--refresh", is_flag=True,
              help="Ask arXiv again for papers it did not know, however recently asked.")
@click.option("--arxiv-url", envvar="VAULTGEN_ARXIV_URL", default="https://export.arxiv.org",
              show_default=True, help="Base URL of an arXiv-compatible API (BASE/api/query).")
@click.option("--arxiv-delay", envvar="VAULTGEN_ARXIV_DELAY", type=click.FloatRange(min=0),
              default=3.0, show_default=True, help="Seconds between requests to the API.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0,
              help="Processes that parse posts, and check and write notes, side by side; 0: "
                   f"one per CPU when there are {POSTS_WORTH_WORKERS} posts to parse or "
                   f"{NOTES_WORTH_WORKERS} notes to write, else 1 [default: 0].")
@click.option("--related", type=click.IntRange(min=0), default=None, metavar="N",
              help="List the N papers most like each paper in its note (0: none); remembered "
                   "by the vault [default: 5].")
@click.option("--bib/--no-bib", default=None,
              help="Keep papers.bib (BibTeX) at the vault's root, for citation plugins; the "
                   "vault remembers it [default: as the last build that said].")
def build(inputs: tuple[Path, ...], vault: Path, force: bool, dry_run: bool, strict: bool,
          offline: bool, cache_path: Path | None, refresh: bool, arxiv_url: str,
          arxiv_delay: float, jobs: int, related: int | None, bib: bool | None) -> None:
    """Build or update an Obsidian vault from digest posts.

    INPUTS are post files or folders of them (default: input/). Each entry is looked up on
    arXiv by title, and cited papers by id; every answer is cached, so later builds (and
    --offline ones) ask only for what is new. Re-running only touches what changed, and never
    overwrites what you wrote.

    Example:

        vaultgen build input/ -o vault/
    """
    from .arxiv.client import CACHE_NAME, ArxivCache, ArxivSource
    from .build import build_vault
    from .parse.inputs import posts_folder

    paths = list(inputs) or [Path("input")]
    there = [path for path in paths if os.path.exists(path)] or paths  # (no folder made for a typo)
    cache = ArxivCache.load(cache_path or (posts_folder(there) or Path()) / CACHE_NAME)
    with ProgressBars() as progress:
        source = ArxivSource(cache, base_url=arxiv_url, delay=arxiv_delay, offline=offline,
                             refresh=refresh, progress=progress)
        result = None
        try:
            result = build_vault(paths, vault, source=source, force=force, dry_run=dry_run,
                                 jobs=jobs, progress=progress, bib=bib,
                                 related=related)
        except VaultgenError as err:
            raise _fail(err) from err
        except KeyboardInterrupt:
            pass  # (the build's frames are let go before exiting: its worker pool is gone)
    if result is None:
        click.echo("\ninterrupted: every note written is whole; the next build finishes "
                   "the work", err=True)
        sys.exit(130)
    _show_diagnostics(result.diagnostics)
    lookup_warnings = [*cache.warnings, *source.stats.warnings]
    for warning in lookup_warnings:
        click.echo(f"warning: {warning}", err=True)
    write = result.write
    for path, why in write.kept:
        click.echo(f"kept {path}: {why}", err=True)
    if dry_run:
        for path in write.written + write.merged:
            click.echo(f"would write {path}", err=True)
        for path in write.removed:
            click.echo(f"would remove {path}", err=True)
    lookups = _lookups_line(source.stats.requests, asked_offline=offline,
                            went_offline=source.stats.offline and not offline)
    for label, text, colour in build_summary(result.counts, write, lookups, result.diagnostics,
                                             len(lookup_warnings)):
        click.echo(f"{click.style(label.ljust(_LABEL_WIDTH), bold=True)}"
                   f"{click.style(text, fg=colour) if colour else text}", err=True)
    if any(d.severity == "error" for d in result.diagnostics) or (strict and result.diagnostics):
        sys.exit(1)  # the rest was built, but some input could not be read


_LABEL_WIDTH = 10


def build_summary(counts: BuildCounts, write: WriteReport, lookups: str,
                  diagnostics: Sequence[Diagnostic], other_warnings: int = 0,
                  ) -> list[tuple[str, str, str | None]]:
    """The lines that end a build: (label, text, colour or None) for what was read, what the
    vault holds, the files written, arXiv and the warnings."""
    errors, warnings = _severities(diagnostics)
    warnings += other_warnings
    found = counts.papers - counts.unresolved
    vault = (f"{plural(counts.papers, 'paper')} ({found} found on arXiv, "
             f"{counts.unresolved} unresolved), {plural(counts.cited, 'cited paper')}, "
             f"{plural(counts.tags, 'tag')}, {plural(counts.days, 'day')}, "
             f"{plural(counts.links, 'link')}")
    return [
        ("read", f"{plural(counts.posts, 'post')}, {plural(counts.entries, 'entry')}", None),
        ("vault", vault, None),
        _files_line(write),
        ("arXiv", lookups, None),
        ("warnings", f"{_problems(errors, warnings)} (above)" if errors or warnings else "none",
         "red" if errors else "yellow" if warnings else None),
    ]


def _files_line(write: WriteReport) -> tuple[str, str, str | None]:
    """What a build did to the vault's files, counts of none left out."""
    verbs = ("to write", "to merge with your edits", "to remove") if write.dry_run else \
        ("written", "merged with your edits", "removed")
    parts = [(len(write.written), verbs[0]), (len(write.merged), verbs[1]),
             (len(write.removed), verbs[2]), (len(write.kept), "kept as you edited them"),
             (len(write.unchanged), "unchanged")]
    text = ", ".join(f"{count} {verb}" for count, verb in parts if count)
    colour = "yellow" if write.kept else None
    if write.changed == 0 and not write.merged:
        nothing = "nothing to change" if write.dry_run else "nothing changed"
        return "files", f"{nothing} ({text})" if text else nothing, colour or "green"
    return "files", text, colour


def _lookups_line(requests: int, *, asked_offline: bool, went_offline: bool) -> str:
    if asked_offline:
        return "offline: the cache alone"
    if went_offline:
        return f"{plural(requests, 'request')}; unreachable, the rest from the cache"
    return plural(requests, "request")


def _severities(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    """How many of the diagnostics are errors, and how many warnings."""
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return errors, len(diagnostics) - errors


def _problems(errors: int, warnings: int) -> str:
    """"1 error, 2 warnings": the errors said only when there are some."""
    return ", ".join([plural(errors, "error")] * bool(errors) + [plural(warnings, "warning")])


class ProgressBars:
    """Progress on a terminal (stderr), a bar a stage with the time left, drawn once a stage
    has lasted ``after`` seconds; nothing at all when the stream is not a terminal."""

    def __init__(self, file: TextIO | None = None, *, after: float = 0.5) -> None:
        self._file = file if file is not None else sys.stderr
        self._drawn = self._file.isatty()
        self._after = after
        self._stage: str | None = None
        self._started = 0.0
        self._bar: ProgressBar[int] | None = None

    def __enter__(self) -> ProgressBars:
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._drawn:
            return
        if stage != self._stage:
            self._close()
            self._stage, self._started = stage, time.monotonic()
        if self._bar is None:
            if done >= total or time.monotonic() - self._started < self._after:
                return  # done before there was anything to wait for, or too soon to tell
            self._bar = click.progressbar(length=total, label=stage, show_eta=True,
                                          file=self._file)
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __exit__(self, *exc: object) -> None:
        self._close()


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Count orphans and isolated notes as errors.")
def check(vault: Path, as_json: bool, strict: bool) -> None:
    """Check the link graph of any Obsidian vault.

    Reports broken and ambiguous links, missing headings and blocks, orphans, isolated notes,
    'Cited by' lists that disagree with who cites a paper, and duplicate papers. Exit 0 when
    clean, 1 on errors or when the folder holds no notes.

    Example:

        vaultgen check vault/ --json
    """
    from .check.links import check_vault, no_notes_message
    from .views.stats import paper_label

    report = check_vault(vault, strict=strict)
    if not report.summary["notes"]:
        if as_json:
            click.echo(report.as_json())
        raise click.ClickException(no_notes_message(vault))
    if as_json:
        click.echo(report.as_json())
    else:
        for finding in report.findings:
            click.echo(str(finding))
        summary = report.summary
        click.echo(check_summary_line(summary))
        for item in summary["most_cited"][:5]:  # type: ignore[index]
            node = report.graph.nodes[item["note"]]
            click.echo(f"  most cited: {paper_label(node.get('title'), node.get('arxiv'))}, "
                       f"cited by {plural(item['cited_by'], 'paper')}")
    sys.exit(1 if report.errors else 0)


# How ``check`` names the notes of each type it counts (others by their type).
_TYPE_NOUNS = {"cited": "cited paper", "note": "other note"}


def check_summary_line(summary: dict[str, object]) -> str:
    """The line ``check`` sums a vault up with: its notes by type, links, components, and
    the errors and warnings found."""
    def count(key: str, noun: str) -> str:
        value = summary.get(key)
        return plural(value if isinstance(value, int) else 0, noun)

    by_type = summary.get("by_type")
    types = ", ".join(plural(n, _TYPE_NOUNS.get(t) or str(t)) for t, n in by_type.items()) \
        if isinstance(by_type, dict) else ""
    return (f"{count('notes', 'note')} ({types}); {count('links', 'link')}; "
            f"{count('components', 'component')}; {count('errors', 'error')}, "
            f"{count('warnings', 'warning')}")


GRAPH_FORMATS = ("canvas", "html", "graphml", "gexf", "json")


def default_graph_output(vault: Path, fmt: str) -> Path:
    """Where ``vaultgen graph`` writes when not told: canvases in the vault, the rest beside it."""
    if fmt == "canvas":
        return vault / "Paper graph.canvas"
    return vault.resolve().parent / f"{vault.resolve().name}-graph.{fmt}"


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(GRAPH_FORMATS), default="canvas",
              show_default=True, help="canvas: for Obsidian; html: an offline page; graphml, "
                                      "gexf, json (node-link): for Gephi, Cytoscape, networkx.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="The file to write [default: VAULT/Paper graph.canvas for canvas, "
                   "VAULT-graph.FORMAT beside the vault for the others].")
@click.option("--max-nodes", type=click.IntRange(min=10), default=300, show_default=True,
              help="canvas: papers on one canvas; more make an overview canvas plus one "
                   "canvas per community.")
@click.option("--force", is_flag=True,
              help="Replace an output in the vault you edited (a copy goes to "
                   "VAULT/.vaultgen/backup/).")
def graph(vault: Path, fmt: str, output: Path | None, max_nodes: int, force: bool) -> None:
    """Draw the paper graph of a vault: a canvas, a web page, or a file for Gephi.

    Papers and the papers they cite, grouped into communities (by shared tags and
    citations). An output in the vault you edited after vaultgen wrote it (a canvas whose
    cards you moved) is kept unless --force; a file outside the vault is written as named,
    and nothing is written into the vault then.

    Example:

        vaultgen graph vault/ --format html -o papers.html
    """
    from .check.links import check_vault
    from .views.canvas import render_canvases
    from .views.graph import EXPORTS, communities, paper_graph, typed_graph
    from .views.outputs import write_outputs
    from .views.page import render_page

    _require_vault(vault)
    typed = typed_graph(check_vault(vault).graph)
    # The page colours the largest communities, however small: it keeps each one apart.
    groups = communities(typed, min_size=1 if fmt == "html" else 3) \
        if fmt in ("canvas", "html") else []
    target = output or default_graph_output(vault, fmt)
    if fmt == "canvas":
        try:
            relative = target.resolve().relative_to(vault.resolve())
        except ValueError:
            raise click.UsageError(f"{target}: a canvas must be inside the vault, whose "
                                   "notes it shows") from None
        texts = render_canvases(typed, groups, name=relative.with_suffix("").as_posix(),
                                max_nodes=max_nodes)
        files = {vault / path: text for path, text in texts.items()}
    elif fmt == "html":
        files = {target: render_page(typed, groups, vault.resolve().name)}
    else:
        files = {target: EXPORTS[fmt](typed)}
    try:
        report = write_outputs(vault, files, force=force)
    except VaultgenError as err:
        raise _fail(err) from err
    for path, why in report.kept:
        click.echo(f"kept {path}: {why}", err=True)
    papers = paper_graph(typed)
    related = paper_graph(typed, "related").number_of_edges()
    grouped = f", {plural(related, 'related link')}" if related else ""
    grouped += f", {plural(len(groups), 'community')}" if groups else ""
    click.echo(f"{plural(len(papers), 'paper')}, "
               f"{plural(papers.number_of_edges(), 'citation')}{grouped}; "
               f"wrote {len(report.written)}, unchanged "
               f"{len(report.unchanged)}, kept {len(report.kept)}: {target}", err=True)


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(("bibtex", "csl-json")),
              default="bibtex", show_default=True,
              help="bibtex: for LaTeX, biblatex and citation plugins; csl-json: for Pandoc, "
                   "Zotero and other CSL processors.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              callback=_file_to_write, help="The file to write [default: standard output].")
def export(vault: Path, fmt: str, output: Path | None) -> None:
    """Write the papers of a vault as BibTeX or CSL-JSON, to cite them.

    Every paper's note, and every cited paper's whose authors are known, read from the notes
    as they are now: properties you edited (a citekey, a title, authors) count. Each is cited
    by its note's citekey.

    Example:

        vaultgen export vault/ --format bibtex -o papers.bib
    """
    from .export import EXPORTERS, read_references
    from .write import atomic_write

    _require_vault(vault)
    found = read_references(vault)
    for path in found.unreadable:
        click.echo(f"warning: {path}: cannot be read; left out", err=True)
    for path, key, given in found.clashes:
        click.echo(f"warning: {path}: citekey {key} is another note's too; exported as "
                   f"{given}", err=True)
    text = EXPORTERS[fmt](found.references)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            atomic_write(output, text.encode("utf-8"))
        except OSError as err:
            raise click.ClickException(f"{output}: cannot write: {err.strerror or err}"
                                       ) from err
    where = f": {output}" if output is not None else ""
    click.echo(f"exported {plural(len(found.references), 'paper')}{where}", err=True)


@cli.command()
@click.argument("vault", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--plot", type=click.Path(path_type=Path, dir_okay=False),
              help="Also draw papers per month by main tag into this PNG (needs matplotlib).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many tags and cited papers to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(vault: Path, plot: Path | None, top: int, as_json: bool) -> None:
    """Sum up a vault: papers per month, top tags and their growth, most cited, components.

    Example:

        vaultgen stats vault/ --plot papers.png
    """
    import dataclasses

    from .check.links import check_vault
    from .views.graph import typed_graph
    from .views.stats import format_stats, plot_papers_per_month, vault_stats

    _require_vault(vault)
    typed = typed_graph(check_vault(vault).graph)
    summary = vault_stats(typed, top=top)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(summary), ensure_ascii=False, indent=2))
    else:
        click.echo(format_stats(summary), nl=False)
    if plot is not None:
        try:
            plot_papers_per_month(typed, plot)
        except VaultgenError as err:
            raise _fail(err) from err
        except OSError as err:
            raise click.ClickException(f"{plot}: cannot write: {err.strerror or err}") from err
        click.echo(f"wrote {plot}", err=True)


def main() -> None:
    """The ``vaultgen`` command: as click runs it, but Ctrl-C at any moment exits 130 with a
    line saying so (never a traceback, nor click's "Aborted!")."""
    sys.unraisablehook = press_ctrl_c_again_when_dropped
    code: object = 130
    try:
        code = cli.main(standalone_mode=False)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
    except click.ClickException as err:
        err.show()
        code = err.exit_code
    sys.exit(code if isinstance(code, int) else 0)


def press_ctrl_c_again_when_dropped(unraisable: Any) -> None:
    """``sys.unraisablehook``: a Ctrl-C that came while Python ran a finalizer or a weakref
    callback (where it must drop exceptions, and prints them) is pressed again a moment
    later, once the callback is over, to stop the command without a word; anything else is
    printed as Python does."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        import signal
        import threading

        again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
        again.daemon = True
        again.start()
        return
    sys.__unraisablehook__(unraisable)


if __name__ == "__main__":
    main()

"""The input edge: finding digest files and reading them as text for the parser."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .model import Diagnostic, ParseResult, SourceRef
from .parse import merge_results, parse_post

INPUT_SUFFIXES = (".txt", ".md")


def find_input_files(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Digest files named directly, and the ``.txt``/``.md`` files under named folders, sorted."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in INPUT_SUFFIXES and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Diagnostic(SourceRef(path.as_posix(), 0),
                                           "folder holds no .txt or .md posts"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(SourceRef(path.as_posix(), 0), "no such file or folder",
                                       "error"))
    return files, problems


def read_posts(paths: Iterable[Path]) -> ParseResult:
    """Parse every digest file under ``paths``; unreadable files become diagnostics."""
    files, problems = find_input_files(paths)
    results = [ParseResult((), tuple(problems))]
    for file in files:
        name = file.as_posix()
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            line = file.read_bytes()[: err.start].count(b"\n") + 1
            results.append(ParseResult((), (Diagnostic(
                SourceRef(name, line), f"not UTF-8 text ({err.reason} at byte {err.start}); "
                "file skipped — save it as UTF-8", "error"),)))
            continue
        except OSError as err:
            results.append(ParseResult((), (Diagnostic(
                SourceRef(name, 0), f"cannot read: {err.strerror}", "error"),)))
            continue
        results.append(parse_post(text, name))
    return merge_results(results)

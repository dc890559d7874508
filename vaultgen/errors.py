"""One error base for the library; every subclass says where the trouble is."""

from __future__ import annotations

import errno
import os


class VaultgenError(Exception):
    """Base of every error vaultgen raises on purpose. ``hint`` is shown by the CLI."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class InputError(VaultgenError):
    """An input file or directory cannot be read at all."""

    def __init__(self, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path


class BrokenVaultError(VaultgenError):
    """The vault about to be written has broken links; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n".join(problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"the generated vault has {len(problems)} broken link(s):\n{shown}{more}",
                         hint="this is a bug in vaultgen; please report it with the input")
        self.problems = problems


class UnsafePathError(VaultgenError):
    """A path would leave the vault or pass through a symlink."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class WorkerError(VaultgenError):
    """A worker process of a build stopped (killed, or out of memory); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(f"a worker process stopped: {message}; the vault is as it was",
                         hint="build again; with -j 1 the build runs in one process")


class FileSystemError(VaultgenError):
    """A file or folder could not be read or written; the message says which, and why."""

    def __init__(self, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path


_PERMISSIONS = ("vaultgen reads and writes the vault (-o) and the arXiv cache (--cache): "
                "check their permissions, or choose others")
# What the operating system's errors mean to a user of vaultgen: (message, hint).
_OS_ERRORS: dict[int, tuple[str, str | None]] = {
    errno.EACCES: ("permission denied", _PERMISSIONS),
    errno.EPERM: ("operation not permitted", _PERMISSIONS),
    errno.EROFS: ("the file system is read-only", "build into a folder on a writable disk (-o)"),
    errno.ENOSPC: ("no space left on the device", "free some space and build again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space and build again"),
    errno.EFBIG: ("file too large for this file system or limit",
                  "free some space, or raise the file size limit (ulimit -f), and build again"),
    errno.ENOTDIR: ("a part of this path is a file, not a folder", None),
    errno.EISDIR: ("is a folder, where a file was expected", None),
    errno.ENOENT: ("no such file or folder (removed while vaultgen was working?)",
                   "build again"),
    errno.EIO: ("input/output error", "the disk may be failing; check it and build again"),
}


def file_error(err: OSError, where: str) -> FileSystemError:
    """``err`` as a ``FileSystemError`` naming its file (``where`` when it names none: a write
    to an open file that found the disk full). A temporary file is named by its folder."""
    named = err.filename2 if err.filename2 is not None else err.filename
    path = os.fsdecode(named) if isinstance(named, str | bytes | os.PathLike) else where
    head, name = os.path.split(path)
    staging = os.path.join(".vaultgen", "staging")
    if name.startswith(".vaultgen-") and name.endswith(".tmp"):
        path = head
    elif staging in path:  # a note staged for a build: the staging folder
        path = path[:path.index(staging) + len(staging)]
    message, hint = _OS_ERRORS.get(err.errno or 0, (err.strerror or str(err), None))
    return FileSystemError(path, message, hint=hint)

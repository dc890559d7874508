"""One error base for the library; every subclass says where the trouble is."""

from __future__ import annotations


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


class ArxivUnavailable(VaultgenError):
    """The arXiv API could not be reached or kept failing."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"arXiv API at {url}: {message}",
                         hint="use --offline to build from the cache alone")
        self.url = url


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

"""Progress of long work, told to a callback that the caller shows as it likes (the command line
draws bars on a terminal). The library only counts."""

from __future__ import annotations

from collections.abc import Callable

# (stage, items done, items in all): "done" only grows, and ends at "in all".
Progress = Callable[[str, int, int], None]

REPORTS_PER_STAGE = 100

# The stages a build tells of, in the order they come.
PARSING = "parsing posts"
ARXIV_TITLES = "looking up titles on arXiv"
ARXIV_IDS = "fetching cited papers from arXiv"
WRITING = "writing notes"


class Ticks:
    """Items of one stage counted as they are done, told to ``progress`` at the start, every
    hundredth of them (``REPORTS_PER_STAGE``) and at the end: cheap enough to tick once an item."""

    __slots__ = ("_next", "done", "every", "progress", "stage", "total")

    def __init__(self, progress: Progress | None, stage: str, total: int) -> None:
        self.progress = progress if total > 0 else None
        self.stage = stage
        self.total = total
        self.done = 0
        self.every = max(1, -(-total // REPORTS_PER_STAGE))  # rounded up
        self._next = self.every
        if self.progress is not None:
            self.progress(stage, 0, total)

    def tick(self, count: int = 1) -> None:
        self.done += count
        if self.progress is not None and (self.done >= self._next or self.done >= self.total):
            self._next = self.done + self.every
            self.progress(self.stage, min(self.done, self.total), self.total)

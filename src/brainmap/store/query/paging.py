"""The page a stage returns: `start_row` and `num_rows` (50 by default, ``'all'`` for every
row, at most 25,000 otherwise)."""

from __future__ import annotations

from dataclasses import dataclass

from brainmap.rma.ast import NumRows, Options

DEFAULT_ROWS = 50
MAX_ROWS = 25_000
BATCH_ROWS = 500
"""Rows fetched from the database at a time while a page streams."""


@dataclass(frozen=True)
class Page:
    """The first row and the most rows of one page (no limit: every row)."""

    start: int
    limit: int | None

    @classmethod
    def of(cls, options: Options) -> Page:
        return cls(options.start_row or 0, _limit(options.num_rows))

    def rows(self, total: int) -> int:
        """How many of `total` matching rows this page holds."""
        remaining = max(0, total - self.start)
        return remaining if self.limit is None else min(self.limit, remaining)


def _limit(num_rows: NumRows | None) -> int | None:
    if num_rows == "all":
        return None
    if num_rows is None:
        return DEFAULT_ROWS
    return min(int(num_rows), MAX_ROWS)

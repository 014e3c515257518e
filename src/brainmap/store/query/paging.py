"""The page a stage returns: `start_row` and `num_rows` (50 by default, ``'all'`` for every
row, at most 25,000 otherwise), and how it is read: a first batch at once, then, only when more
follow, the count and a stream of the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from brainmap.rma.ast import NumRows, Options
from brainmap.store.query.result import Row, Rows, stream

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


@dataclass(frozen=True)
class PageStatements:
    """A page's statements: its first batch (at most `first_rows` rows), and the rest of the
    page after it (None when the page ends within the first batch). Made once per plan, so
    that SQLAlchemy computes their cache keys once."""

    page: Page
    first: Select[Any]
    first_rows: int
    rest: Select[Any] | None

    @classmethod
    def of(cls, page: Page, statement: Select[Any]) -> PageStatements:
        """The page's statements over `statement` (ordered, not yet paged)."""
        first_rows = BATCH_ROWS if page.limit is None else min(page.limit, BATCH_ROWS)
        rest = None
        if page.limit is None or page.limit > BATCH_ROWS:
            remaining = None if page.limit is None else page.limit - BATCH_ROWS
            rest = statement.offset(page.start + BATCH_ROWS).limit(remaining)
            rest = rest.execution_options(yield_per=BATCH_ROWS)
        return cls(page, statement.offset(page.start).limit(first_rows), first_rows, rest)


def read_page(
    statements: PageStatements,
    read: Callable[[Select[Any]], Rows[Row]],
    read_rest: Callable[[Select[Any]], Rows[Row]],
    count: Callable[[], int],
    convert: Callable[[Row], dict[str, Any]],
) -> tuple[int, Iterator[dict[str, Any]]]:
    """The total number of matching rows and the page's records, read with `read`. The first
    batch is read at once: when it ends before the page does, it tells the total without
    `count`. Otherwise `count` runs and the rest of the page streams in batches, read with
    `read_rest` once the first batch's records have been taken."""
    rows = read(statements.first)
    first = list(rows)
    rows.close()
    start = statements.page.start
    if len(first) < statements.first_rows and (first or start == 0):
        return start + len(first), _records(first, None, convert)
    total = count()
    rest = statements.rest
    if len(first) < statements.first_rows or rest is None:
        return total, _records(first, None, convert)
    return total, _records(first, lambda: read_rest(rest), convert)


def _records(
    first: list[Row],
    rest: Callable[[], Rows[Row]] | None,
    convert: Callable[[Row], dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """The first batch's records, then those of the rest (read when the first are done)."""
    for row in first:
        yield convert(row)
    if rest is not None:
        yield from stream(rest(), convert)

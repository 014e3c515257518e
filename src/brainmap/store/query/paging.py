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


def read_page(
    page: Page,
    statement: Select[Any],
    read: Callable[[Select[Any]], Rows[Row]],
    count: Callable[[], int],
    convert: Callable[[Row], dict[str, Any]],
) -> tuple[int, Iterator[dict[str, Any]]]:
    """The total number of matching rows and the page's records, `statement` (ordered, not yet
    paged) read with `read`. The first batch is read at once: when it ends before the page
    does, it tells the total without `count`. Otherwise `count` runs and the rest of the page
    streams in batches, its query run once the first batch has been read."""
    first_limit = BATCH_ROWS if page.limit is None else min(page.limit, BATCH_ROWS)
    rows = read(statement.offset(page.start).limit(first_limit))
    first = list(rows)
    rows.close()
    if len(first) < first_limit and (first or page.start == 0):
        return page.start + len(first), _records(first, None, convert)
    total = count()
    if len(first) < first_limit or (page.limit is not None and page.limit <= BATCH_ROWS):
        return total, _records(first, None, convert)
    rest = statement.offset(page.start + BATCH_ROWS).limit(
        None if page.limit is None else page.limit - BATCH_ROWS
    )
    return total, _records(
        first, lambda: read(rest.execution_options(yield_per=BATCH_ROWS)), convert
    )


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

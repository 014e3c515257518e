"""What a query returns: one page of records and the numbers of the response envelope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

Row = TypeVar("Row")
RowRead = TypeVar("RowRead", covariant=True)


class Rows(Protocol[RowRead]):
    """Rows from the database, read one by one, whose cursor closes."""

    def __iter__(self) -> Iterator[RowRead]: ...

    def close(self) -> None: ...


@dataclass
class QueryResult:
    """One page of records, with the envelope numbers; `records` may be a lazy stream."""

    model: str
    columns: tuple[str, ...]  # the top-level fields in table order (CSV header)
    start_row: int
    num_rows: int
    total_rows: int
    records: Iterator[dict[str, Any]] = field(repr=False)
    debug: str | None = None  # the normalised query, when `debug` asked for it


def stream(rows: Rows[Row], convert: Callable[[Row], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each row converted; the rows' cursor closed when the stream ends or is closed, so a
    server-side cursor (PostgreSQL streams through one) never outlives its reader."""
    try:
        for row in rows:
            yield convert(row)
    finally:
        rows.close()

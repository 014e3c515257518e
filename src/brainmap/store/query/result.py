"""What a query returns: one page of records and the numbers of the response envelope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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

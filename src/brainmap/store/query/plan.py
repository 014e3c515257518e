"""A model stage compiled: every statement it runs and how its rows become records, made
without a session so that it can be kept and run again (`run.stage_plan` caches plans by their
`StageScope`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from brainmap.store.query.paging import Page, PageStatements, read_page
from brainmap.store.query.result import QueryResult, Rows
from brainmap.store.query.sessions import streaming


@dataclass(frozen=True)
class StagePlan:
    """The statements of a stage's page of rows (None when nothing is read, as for a `debug`
    preview), the count of all its rows, whether its rows are objects (else plain rows), a
    row's record, the page, and the envelope's model and columns."""

    model: str
    columns: tuple[str, ...]
    page: Page
    statements: PageStatements | None
    counted: Select[Any]
    objects: bool
    convert: Callable[[Any], dict[str, Any]]

    def run(self, session: Session) -> QueryResult:
        """The stage's page of records, read in `session`."""
        total = 0
        records: Iterator[dict[str, Any]] = iter(())
        if self.statements is not None:
            # plain rows straight from the connection: no ORM result processing
            read = session.scalars if self.objects else session.connection().execute

            def read_rest(statement: Select[Any]) -> Rows[Any]:
                streaming(session)
                return read(statement)

            total, records = read_page(
                self.statements,
                read,
                read_rest,
                lambda: session.scalar(self.counted) or 0,
                self.convert,
            )
        return QueryResult(
            model=self.model,
            columns=self.columns,
            start_row=self.page.start,
            num_rows=self.page.rows(total),
            total_rows=total,
            records=records,
        )

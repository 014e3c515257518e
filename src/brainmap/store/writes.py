"""How ingest and mirror write: one transaction for a whole import, fresh ids, and what a
refused write says."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import InstrumentedAttribute, Session

from brainmap.store.database_check import first_line
from brainmap.store.folder import Store


@contextmanager
def import_session(store: Store) -> Iterator[Session]:
    """One transaction for a whole import; SQLite's foreign keys are off within it (a subset of
    Allen data names specimens, planes or structures the store may never hold). Other databases
    have no foreign-key constraints (`schema/base.py`)."""
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            with Session(connection, autoflush=False) as session:
                yield session
                session.commit()
            connection.commit()
        finally:
            connection.rollback()
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


OWN_IDS_FROM = 10**12
"""The first id brainmap gives a record it creates: far above every id the public API uses
(theirs are below 10**10), so Allen records imported later never land on a lab's own."""


def next_id(session: Session, column: InstrumentedAttribute[int]) -> int:
    """One more than the largest id in `column`, and at least `OWN_IDS_FROM`."""
    return max(int(session.scalar(select(func.max(column))) or 0) + 1, OWN_IDS_FROM)


NOT_NULL_VIOLATION = "23502"
"""PostgreSQL's SQLSTATE for a null in a NOT NULL column."""


def database_message(error: StatementError) -> str:
    """A refused write in one line, alike on every database: a missing required field in
    SQLite's words (``NOT NULL constraint failed: sub_images.height``), else the first line of
    the database's message."""
    original = error.orig
    diagnosis = getattr(original, "diag", None)
    if getattr(original, "sqlstate", None) == NOT_NULL_VIOLATION and diagnosis is not None:
        return f"NOT NULL constraint failed: {diagnosis.table_name}.{diagnosis.column_name}"
    return first_line(original)

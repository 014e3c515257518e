"""Sessions that read one answer. On a database server (PostgreSQL) a transaction costs two
round trips (BEGIN, COMMIT) besides the query's own, so an answer is read without one
(`reading`) until the rest of a long page streams through a server-side cursor, which the
server opens only inside a transaction (`streaming`). SQLite starts no transaction for a read
and is left as it is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from brainmap.store.folder import Store
from brainmap.store.query.dialect import SQLITE

AUTOCOMMIT = "AUTOCOMMIT"


@contextmanager
def reading(store: Store) -> Iterator[Session]:
    """A session for reading an answer: each statement on its own, outside a transaction, on a
    database server. Its connection returns to the pool with its usual isolation level."""
    with store.engine.connect() as connection:
        if connection.dialect.name != SQLITE:
            connection.execution_options(isolation_level=AUTOCOMMIT)
        with Session(connection, expire_on_commit=False) as session:
            yield session


def streaming(session: Session) -> None:
    """Make the session's next statements run in a transaction, if it reads without one."""
    connection = session.get_bind()
    if not isinstance(connection, Connection):
        return
    if connection.get_execution_options().get("isolation_level") != AUTOCOMMIT:
        return
    session.commit()  # ends the session's own bookkeeping; nothing is pending in the database
    connection.execution_options(isolation_level=connection.default_isolation_level)

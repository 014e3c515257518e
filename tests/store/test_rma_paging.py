"""How a page is read (`paging.read_page`): a first batch at once, the count and a stream of the
rest only when the page goes on. 1,234 genes span three batches of `BATCH_ROWS`; every reader
(plain rows, objects with includes, tabular rows) must give the pages and totals a single query
would, and a short answer must cost one statement (and, in a reading session, no transaction)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from brainmap.rma.parse import parse_query
from brainmap.store import schema as s
from brainmap.store.folder import Store
from brainmap.store.query.paging import BATCH_ROWS
from brainmap.store.query.run import run_query
from brainmap.store.query.sessions import reading
from postgres import NewDatabase

GENES = 2 * BATCH_ROWS + 234


@pytest.fixture
def genes(empty_store: Store) -> Iterator[tuple[Session, list[str]]]:
    """A session on a store of `GENES` genes (rolled back after), and the SQL statements it
    runs once the genes are in."""
    with empty_store.engine.connect() as connection, Session(connection) as db:
        db.add(s.Organism(id=2, name="Mus musculus"))
        db.flush()
        rows = [{"id": i, "acronym": f"G{i}", "organism_id": 2} for i in range(1, GENES + 1)]
        db.execute(insert(s.Gene), rows)
        db.flush()
        seen: list[str] = []

        def record(*arguments: object) -> None:
            seen.append(str(arguments[2]))

        event.listen(connection, "before_cursor_execute", record)
        yield db, seen
        event.remove(connection, "before_cursor_execute", record)
        connection.rollback()


def _run(db: Session, text: str) -> tuple[int, int, list[int]]:
    """num_rows, total_rows and the ids of the records."""
    result = run_query(db, parse_query(text))
    return result.num_rows, result.total_rows, [record["id"] for record in result.records]


@pytest.mark.parametrize(
    ("options", "first", "count"),
    [
        ("[num_rows$eq'all']", 1, GENES),
        ("[num_rows$eq'all'][start_row$eq3]", 4, GENES - 3),
        (
            f"[num_rows$eq'all'][start_row$eq{GENES - BATCH_ROWS + 1}]",
            GENES - BATCH_ROWS + 2,
            BATCH_ROWS - 1,
        ),
        (
            f"[num_rows$eq'all'][start_row$eq{GENES - BATCH_ROWS}]",
            GENES - BATCH_ROWS + 1,
            BATCH_ROWS,
        ),
        (f"[num_rows$eq{BATCH_ROWS}]", 1, BATCH_ROWS),
        (f"[num_rows$eq{BATCH_ROWS + 1}][start_row$eq1]", 2, BATCH_ROWS + 1),
        ("[num_rows$eq1100][start_row$eq100]", 101, 1100),
        (f"[num_rows$eq30][start_row$eq{GENES}]", GENES + 1, 0),
        (f"[num_rows$eq3][start_row$eq{GENES - 1}]", GENES, 1),
        ("[num_rows$eq0]", 1, 0),
    ],
)
@pytest.mark.parametrize(
    "reader",
    [
        "model::Gene,rma::options{options}",
        "model::Gene,rma::include,organism,rma::options{options}",
        "model::Gene,rma::options[tabular$eq'id,acronym']{options}",
    ],
)
def test_pages_across_batches(
    genes: tuple[Session, list[str]], reader: str, options: str, first: int, count: int
) -> None:
    num_rows, total_rows, ids = _run(genes[0], reader.format(options=options))
    assert ids == list(range(first, first + count))
    assert (num_rows, total_rows) == (count, GENES)


def test_an_answer_shorter_than_a_batch_is_one_statement(genes: tuple[Session, list[str]]) -> None:
    db, statements = genes
    assert _run(db, "model::Gene,rma::criteria,[id$le40]") == (40, 40, list(range(1, 41)))
    assert len(statements) == 1


def test_a_longer_answer_is_counted_once(genes: tuple[Session, list[str]]) -> None:
    db, statements = genes
    _, total_rows, ids = _run(db, "model::Gene,rma::options[num_rows$eq'all']")
    assert (total_rows, ids) == (GENES, list(range(1, GENES + 1)))
    assert len([sql for sql in statements if "count(" in sql.lower()]) == 1


def _in_transaction(session: Session) -> bool:
    """Whether the database itself holds a transaction open on the session's connection."""
    dbapi = session.connection().connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return dbapi.in_transaction
    import psycopg

    assert isinstance(dbapi, psycopg.Connection)
    return dbapi.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def test_a_reading_session_opens_a_transaction_only_to_stream(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    store = Store.create(tmp_path, new_database("reading"))
    with store.session() as db:
        db.add(s.Organism(id=2, name="Mus musculus"))
        db.flush()
        rows = [{"id": i, "acronym": f"G{i}", "organism_id": 2} for i in range(1, GENES + 1)]
        db.execute(insert(s.Gene), rows)
    try:
        with reading(store) as session:
            assert _run(session, "model::Gene,rma::criteria,[id$le40]")[2] == list(range(1, 41))
            assert not _in_transaction(session)
            result = run_query(session, parse_query("model::Gene,rma::options[num_rows$eq'all']"))
            ids = [record["id"] for record in result.records]
            assert (result.total_rows, ids) == (GENES, list(range(1, GENES + 1)))
    finally:
        store.close()

"""The rows of a store's tables as `brainmap store copy` moves and compares them.

Every column is read as the database holds it, JSON columns as their text (so a JSON ``null``
stays distinct from SQL NULL and the text is copied as written), and written back the same way.
A table's digest is its row count and the sum, modulo 2**256, of the SHA-256 of each row: it
does not depend on the order rows come in, which differs between databases for text keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import Row

BATCH = 1000
"""Rows read, looked up and written at a time."""
DIGEST_MODULUS = 2**256
Key = tuple[Any, ...]
"""A row's primary key values."""


@dataclass(frozen=True)
class TableDigest:
    """How many rows a table holds and the order-free digest of their contents."""

    rows: int
    digest: int


def batches(connection: Connection, table: Table) -> Iterator[Sequence[Row[Any]]]:
    """Every row of `table`, `BATCH` at a time, JSON columns as their text."""
    statement = select(*_read(table)).execution_options(yield_per=BATCH)
    yield from connection.execute(statement).partitions()


def lookup(connection: Connection, table: Table, keys: list[Key]) -> dict[Key, bytes]:
    """The hash of each row of `table` whose primary key is among `keys`, by key."""
    if not keys:
        return {}
    columns = list(table.primary_key.columns)
    chosen = columns[0].in_([key[0] for key in keys]) if len(columns) == 1 else None
    if chosen is None:
        chosen = tuple_(*columns).in_(keys)
    rows = connection.execute(select(*_read(table)).where(chosen))
    return {key_of(table, row): row_hash(row) for row in rows}


def key_of(table: Table, row: Row[Any]) -> Key:
    """The primary key values of `row`, read by `batches` or `lookup`."""
    return tuple(row[position] for position in _key_positions(table))


def row_hash(row: Row[Any]) -> bytes:
    """SHA-256 of the text of a row's values in column order (Python's exact `repr`: floats
    in their shortest round-tripping form, JSON as its text, types told apart)."""
    return sha256(repr(tuple(row)).encode()).digest()


def insert_rows(connection: Connection, table: Table, rows: Sequence[Row[Any]]) -> None:
    """Insert `rows` (as `batches` reads them) into `table`, every column as it was."""
    dialect = connection.dialect.name
    values = {column.name: _written(column, dialect) for column in table.columns}
    statement = insert(table).values(values)
    names = [_name(column.name) for column in table.columns]
    connection.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])


def digest(connection: Connection, table: Table) -> TableDigest:
    """The row count and order-free digest of `table`."""
    count, total = 0, 0
    for batch in batches(connection, table):
        count += len(batch)
        for row in batch:
            total = (total + int.from_bytes(row_hash(row), "big")) % DIGEST_MODULUS
    return TableDigest(count, total)


def row_count(connection: Connection, table: Table) -> int:
    """How many rows `table` holds."""
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def follow_ids(connection: Connection, table: Table) -> None:
    """On PostgreSQL, set the id sequence of `table` (when it has one) past its largest id:
    rows inserted with their ids leave it where it was, and the next row made without an id
    would collide. Other databases take the next id from the rows themselves."""
    keys = list(table.primary_key.columns)
    if connection.dialect.name != "postgresql" or len(keys) != 1:
        return
    key = keys[0]
    sequence = connection.execute(
        select(func.pg_get_serial_sequence(table.name, key.name))
    ).scalar()
    if sequence is None:
        return
    largest = connection.execute(select(func.max(key))).scalar()
    if largest is not None:
        parameters = {"sequence": sequence, "largest": largest}
        connection.execute(text("SELECT setval(:sequence, :largest)"), parameters)


@cache
def _key_positions(table: Table) -> tuple[int, ...]:
    """Where the primary key columns of `table` are among its columns, as `_read` reads them."""
    return tuple(index for index, column in enumerate(table.columns) if column.primary_key)


def _read(table: Table) -> list[ColumnElement[Any]]:
    """The columns of `table` as read for copying: JSON ones cast to their text."""
    return [
        cast(column, Text).label(column.name) if isinstance(column.type, JSON) else column
        for column in table.columns
    ]


def _written(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    """The value written into `column`: JSON text cast to JSON on PostgreSQL, stored as it is
    on SQLite (whose CAST to JSON would turn a text such as ``1`` into a number)."""
    parameter = bindparam(_name(column.name), type_=Text if _json(column) else column.type)
    if not _json(column):
        return parameter
    if dialect == "postgresql":
        return cast(parameter, column.type)
    return type_coerce(parameter, Text)


def _json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


def _name(column: str) -> str:
    """The parameter of `column` (a parameter may not take a column's own name in INSERT)."""
    return f"copied_{column}"

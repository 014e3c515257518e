"""Copy a whole store into another (`brainmap store copy`): every row of every table, with its
ids, then every pixel file the records name; resumable and verified.

The destination is an empty store or an earlier, unfinished copy of the same source: each of
its rows must be one of the source's, identical, or the copy is refused before anything is
written (`DestinationRefused`). Rows the destination holds are kept, the others inserted,
`copy_rows.BATCH` a transaction, tables in the order of their foreign keys. A file is skipped
when the destination holds it with the same size and SHA-256, else copied through the
destination's staging folder and read back. Nothing of the source is ever written. At the end
each table's row count and digest are compared; every mismatch is one line of the report.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL

from brainmap.errors import BrainmapError
from brainmap.store.copy_files import named_files
from brainmap.store.copy_pixels import copy_pixels
from brainmap.store.copy_report import CopyReport, Progress
from brainmap.store.copy_rows import (
    batches,
    digest,
    follow_ids,
    insert_rows,
    key_of,
    lookup,
    row_count,
    row_hash,
)
from brainmap.store.database_check import sqlite_file
from brainmap.store.folder import Store
from brainmap.store.schema import Base
from brainmap.store.writes import import_session

TABLES: list[Table] = list(Base.metadata.sorted_tables)
"""Every table of a store, each after the tables its foreign keys name."""


class DestinationRefused(BrainmapError):
    """The destination is not empty and not an earlier copy of this source (nothing written)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the destination {reason}; nothing was copied")


def copy_store(source: Store, destination: Store, progress: Progress) -> CopyReport:
    """Copy every record and pixel file of `source` into `destination`, then verify both."""
    held = _check_destination(source, destination)
    report = CopyReport()
    with source.engine.connect() as reading:
        for table in TABLES:
            _copy_table(reading, destination, table, held[table.name], report, progress)
        named = named_files(reading)
    with destination.engine.begin() as writing:
        for table in TABLES:
            follow_ids(writing, table)
    fresh = not any(held.values())
    copy_pixels(named, source.pixels, destination.pixels, fresh, report, progress)
    report.problems.extend(_verify_tables(source, destination))
    return report


def _check_destination(source: Store, destination: Store) -> dict[str, int]:
    """How many rows `destination` holds by table; `DestinationRefused` unless each is the
    source's, unchanged (an earlier copy stopped before its end)."""
    if _same_database(source.engine.url, destination.engine.url):
        raise DestinationRefused("is the source's own database")
    held = dict.fromkeys((table.name for table in TABLES), 0)
    with source.engine.connect() as theirs, destination.engine.connect() as ours:
        for table in TABLES:
            for batch in batches(ours, table):
                held[table.name] += len(batch)
                keys = [key_of(table, row) for row in batch]
                found = lookup(theirs, table, keys)
                for key, row in zip(keys, batch, strict=True):
                    if key not in found:
                        raise DestinationRefused(_other(table, key, "which the source has not"))
                    if found[key] != row_hash(row):
                        raise DestinationRefused(_other(table, key, "unlike the source's"))
    return held


def _other(table: Table, key: tuple[object, ...], how: str) -> str:
    shown = key[0] if len(key) == 1 else key
    return (
        f"holds another store's records (table {table.name}, row {shown!r}, {how}); "
        "copy into an empty store"
    )


def _same_database(first: URL, second: URL) -> bool:
    """Whether two URLs name one database (SQLite files compared as resolved paths)."""
    files = sqlite_file(first), sqlite_file(second)
    if files[0] is not None and files[1] is not None:
        return Path(files[0]).resolve() == Path(files[1]).resolve()
    return first.render_as_string(hide_password=False) == second.render_as_string(
        hide_password=False
    )


def _copy_table(
    reading: Connection,
    destination: Store,
    table: Table,
    held: int,
    report: CopyReport,
    progress: Progress,
) -> None:
    """Insert the rows of `table` the destination lacks, a batch a transaction. It holds `held`
    rows, each the source's: as many as the source has is all of them."""
    report.copied_rows[table.name], report.present_rows[table.name] = 0, held
    if held and held == row_count(reading, table):
        progress.table(table.name, held)
        return
    partial = held > 0
    copied = present = 0
    for batch in batches(reading, table):
        with import_session(destination) as session:
            writing = session.connection()
            keys = [key_of(table, row) for row in batch]
            there = lookup(writing, table, keys) if partial else {}
            missing = [row for key, row in zip(keys, batch, strict=True) if key not in there]
            if missing:
                insert_rows(writing, table, missing)
        copied += len(missing)
        present += len(batch) - len(missing)
        progress.table(table.name, len(batch))
    report.copied_rows[table.name] = copied
    report.present_rows[table.name] = present


def _verify_tables(source: Store, destination: Store) -> list[str]:
    """One line for each table whose rows differ between the two stores."""
    problems = []
    with source.engine.connect() as theirs, destination.engine.connect() as ours:
        for table in TABLES:
            expected, found = digest(theirs, table), digest(ours, table)
            if found.rows != expected.rows:
                problems.append(
                    f"table {table.name}: {found.rows} rows at the destination, "
                    f"{expected.rows} at the source"
                )
            elif found.digest != expected.digest:
                problems.append(f"table {table.name}: its rows differ from the source's")
    return problems

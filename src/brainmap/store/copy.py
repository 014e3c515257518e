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

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL

from brainmap.errors import BrainmapError
from brainmap.store.copy_files import PixelFiles, named_files, volume_folder
from brainmap.store.copy_rows import (
    batches,
    digest,
    follow_ids,
    has_rows,
    insert_rows,
    key_of,
    lookup,
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


class Progress(Protocol):
    """What a copy tells as it goes (the CLI draws bars from it)."""

    def table(self, name: str, rows: int) -> None:
        """`rows` more rows of table `name` were looked at."""

    def files(self, count: int) -> None:
        """The copy of `count` files begins."""

    def file(self, name: str, size: int) -> None:
        """File `name`, of `size` bytes, is done (copied, skipped or failed)."""


@dataclass
class CopyReport:
    """What a copy did: rows copied and already there by table, files and bytes copied and
    skipped (already at the destination, identical), and one line a problem found."""

    copied_rows: dict[str, int] = field(default_factory=dict)
    present_rows: dict[str, int] = field(default_factory=dict)
    files_copied: int = 0
    bytes_copied: int = 0
    files_skipped: int = 0
    bytes_skipped: int = 0
    problems: list[str] = field(default_factory=list)


def copy_store(source: Store, destination: Store, progress: Progress) -> CopyReport:
    """Copy every record and pixel file of `source` into `destination`, then verify both."""
    fresh = _check_destination(source, destination)
    report = CopyReport()
    with source.engine.connect() as reading:
        for table in TABLES:
            _copy_table(reading, destination, table, report, progress)
        named = named_files(reading)
    with destination.engine.begin() as writing:
        for table in TABLES:
            follow_ids(writing, table)
    _copy_files(named, source, destination, fresh, report, progress)
    report.problems.extend(_verify_tables(source, destination))
    return report


def _check_destination(source: Store, destination: Store) -> bool:
    """Whether `destination` holds no records yet; `DestinationRefused` unless each record it
    holds is the source's, unchanged (an earlier copy stopped before its end)."""
    if _same_database(source.engine.url, destination.engine.url):
        raise DestinationRefused("is the source's own database")
    empty = True
    with source.engine.connect() as theirs, destination.engine.connect() as ours:
        for table in TABLES:
            for batch in batches(ours, table):
                empty = False
                keys = [key_of(table, row) for row in batch]
                found = lookup(theirs, table, keys)
                for key, row in zip(keys, batch, strict=True):
                    if key not in found:
                        raise DestinationRefused(_other(table, key, "which the source has not"))
                    if found[key] != row_hash(row):
                        raise DestinationRefused(_other(table, key, "unlike the source's"))
    return empty


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
    reading: Connection, destination: Store, table: Table, report: CopyReport, progress: Progress
) -> None:
    """Insert the rows of `table` the destination lacks, a batch a transaction."""
    with destination.engine.connect() as connection:
        partial = has_rows(connection, table)
    copied = present = 0
    for batch in batches(reading, table):
        with import_session(destination) as session:
            writing = session.connection()
            held = lookup(writing, table, [key_of(table, row) for row in batch]) if partial else {}
            missing = [row for row in batch if key_of(table, row) not in held]
            if missing:
                insert_rows(writing, table, missing)
        copied += len(missing)
        present += len(batch) - len(missing)
        progress.table(table.name, len(batch))
    report.copied_rows[table.name] = copied
    report.present_rows[table.name] = present


def _copy_files(
    named: dict[str, str],
    source: Store,
    destination: Store,
    fresh: bool,
    report: CopyReport,
    progress: Progress,
) -> None:
    """Copy or skip each file the records name; a problem line for each that fails."""
    theirs, ours = PixelFiles(source.pixels), PixelFiles(destination.pixels)
    files = list(_expanded(named, theirs, report))
    progress.files(len(files))
    for name, named_by in files:
        try:
            size = theirs.size(name)
        except OSError as error:
            report.problems.append(f"{name} ({named_by}): cannot be read at the source: {error}")
            progress.file(name, 0)
            continue
        if size is None:
            report.problems.append(f"{name} ({named_by}): missing at the source")
            progress.file(name, 0)
            continue
        problem = _copy_file(name, size, theirs, ours, fresh, report)
        if problem is not None:
            report.problems.append(f"{name} ({named_by}): {problem}")
        progress.file(name, size)


def _expanded(
    named: dict[str, str], theirs: PixelFiles, report: CopyReport
) -> Iterator[tuple[str, str]]:
    """Each file to copy with the record naming it: a reference volume's folder becomes its
    files; a name outside the pixel root's folders is a problem."""
    for name, named_by in sorted(named.items()):
        try:
            if not volume_folder(name):
                theirs.path(name)
                yield name, named_by
                continue
            inside = theirs.files_under(name)
        except (OSError, BrainmapError) as error:
            report.problems.append(f"{name} ({named_by}): {error}")
            continue
        if not inside:
            report.problems.append(f"{name} ({named_by}): missing at the source (no files)")
        yield from ((file, named_by) for file in inside)


def _copy_file(
    name: str, size: int, theirs: PixelFiles, ours: PixelFiles, fresh: bool, report: CopyReport
) -> str | None:
    """Skip file `name` when the destination holds it unchanged, else copy it and read it
    back; the problem found, if any. Into a destination that had no records, a file already
    there with other bytes is another store's: it is reported, not replaced."""
    try:
        if ours.size(name) == size and ours.checksum(name) == theirs.checksum(name):
            report.files_skipped += 1
            report.bytes_skipped += size
            return None
        if fresh and ours.size(name) is not None:
            return "is at the destination with other bytes (another store's?); not replaced"
        written = ours.copy_from(theirs, name)
        stored = ours.size(name)
        if stored != size:
            return f"was written with {stored} of its {size} bytes"
        if ours.checksum(name) != written:
            return "reads back from the destination with other bytes than were written"
    except (OSError, BrainmapError) as error:
        return f"not copied: {error}"
    report.files_copied += 1
    report.bytes_copied += size
    return None


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

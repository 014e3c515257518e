"""Whether a database is a brainmap store, decided before the store's own engine connects: that
engine switches SQLite files to WAL mode, a change nobody asked for in a file that is not a
store. A SQLite file is checked by its bytes (present, a file, not empty, the SQLite header, as
long as the header says), then read-only for its tables; another database (PostgreSQL) by its
tables, read in a read-only transaction: an empty one may become a store, one holding only
other tables is not one. A store is then checked for its schema revision
(`brainmap.store.revisions`): one older than this brainmap's is to be upgraded first, one newer
(made by a newer brainmap) cannot be opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from brainmap.errors import BrainmapError
from brainmap.store import revisions
from brainmap.store.schema import Base

SQLITE_HEADER = b"SQLite format 3\x00"
HEADER_BYTES = 100
SHOWN_NAMES = 5
SHOWN_BYTES = 32
WHITESPACE = str.maketrans("\t\r\n", "   ")


class NotAStore(BrainmapError):
    """A database that is missing, unreadable, damaged, or not a brainmap store."""

    def __init__(self, database: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"{database} is not a brainmap store: {reason}")
        self.database = database
        self.reason = reason


class StoreOutdated(NotAStore):
    """A brainmap store whose schema is older than this brainmap's: `revision` is the one it
    has, `recorded` whether it records it (stores made before revisions do not)."""

    def __init__(self, database: str, revision: str, recorded: bool, upgrade: str) -> None:
        has = f"revision {revision}" if recorded else f"revision {revision}, not yet recorded"
        reason = f"its schema ({has}) is older than this brainmap's ({revisions.head()})"
        super().__init__(database, reason, f"{database}: {reason}; run `{upgrade}` first")
        self.revision = revision
        self.recorded = recorded


class StoreFromNewer(NotAStore):
    """A brainmap store of a schema revision this brainmap does not know: a newer one."""

    def __init__(self, database: str, revision: str) -> None:
        reason = f"its schema revision {revision} is unknown to this brainmap"
        message = f"{database}: {reason} (made by a newer brainmap); upgrade brainmap to open it"
        super().__init__(database, reason, message)


class StoreUnavailable(BrainmapError):
    """The store's database went away while in use (removed, or replaced by another file);
    the message is the reason, the database is the store's."""


def database_name(url: URL) -> str:
    """The database as messages name it: the SQLite file, or the URL without its password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def check_database(url: URL, existing: bool) -> None:
    """Raise `NotAStore` unless the database at `url` is a brainmap store of this brainmap's
    schema revision, or (unless `existing`) a database file still to be made or a database of
    no tables yet: `StoreOutdated` for a store of an older revision, `StoreFromNewer` for one
    of a revision this brainmap does not know."""
    name = database_name(url)
    path = sqlite_file(url)
    if path is not None:
        if not existing and not path.exists():
            return
        _check_sqlite_bytes(path, name)
        engine = create_engine("sqlite://", creator=lambda: _read_only(path))
    else:
        engine = create_engine(url, poolclass=NullPool)
    try:
        columns, revision = _columns(engine)
    except DBAPIError as error:
        raise NotAStore(name, f"cannot be read ({first_line(error.orig)})") from None
    finally:
        engine.dispose()
    required = existing or path is not None or bool(columns)
    if _check_ours(name, columns, required):
        _check_revision(name, columns, revision, _upgrade_command(url))
        _check_tables(name, columns)


def first_line(error: BaseException | None) -> str:
    """An error's message in one line (PostgreSQL's run on with DETAIL and HINT lines)."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def sqlite_file(url: URL) -> Path | None:
    """The SQLite file `url` names, if it names one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def _check_sqlite_bytes(path: Path, name: str) -> None:
    """The file exists, is a file, and starts with a SQLite header no longer than the file."""
    if not path.exists():
        raise NotAStore(name, "no such file")
    if not path.is_file():
        raise NotAStore(name, "not a file")
    try:
        with path.open("rb") as file:
            header = file.read(HEADER_BYTES)
    except OSError as error:
        raise NotAStore(name, f"cannot be read ({error.strerror})") from None
    size = path.stat().st_size
    if size == 0:
        raise NotAStore(name, "empty file (0 bytes)")
    if not header.startswith(SQLITE_HEADER):
        raise NotAStore(name, f"not a SQLite database ({_looks_like(header)})")
    expected = _size_in_header(header)
    if size < expected:
        raise NotAStore(name, f"truncated ({size} bytes; its header says {expected})")


def _looks_like(header: bytes) -> str:
    """What a file that is not a database starts with: its first line if it is text."""
    start = header[:SHOWN_BYTES].decode("utf-8", errors="replace")
    if not start.translate(WHITESPACE).isprintable():
        return "no SQLite header"
    return f"a text file starting {start.splitlines()[0]!r}"


def _size_in_header(header: bytes) -> int:
    """The file size the SQLite header gives (page size x page count), when it can be trusted
    (the count is valid when the header's version-valid-for number matches its change counter);
    a header cut short needs all its bytes."""
    if len(header) < HEADER_BYTES:
        return HEADER_BYTES
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65_536 if page_size == 1 else page_size
    if header[92:96] != header[24:28]:
        return 0
    return page_size * int.from_bytes(header[28:32], "big")


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _columns(engine: Engine) -> tuple[dict[str, set[str]], str | None]:
    """Each table's column names and the schema revision recorded, read in a read-only
    transaction where the database has them."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        return revisions.table_columns(connection), revisions.recorded_revision(connection)


def _check_ours(name: str, columns: dict[str, set[str]], required: bool) -> bool:
    """Whether the database has brainmap's tables; with `required`, it must."""
    if any(table.name in columns for table in Base.metadata.sorted_tables):
        return True
    if required:
        found = _first_names(sorted(columns)) or "none"
        raise NotAStore(name, f"it has none of brainmap's tables (its tables: {found})")
    return False


def _check_revision(
    name: str, columns: dict[str, set[str]], revision: str | None, upgrade: str
) -> None:
    """The store's schema is this brainmap's: `StoreOutdated` for an older one (a store made
    before revisions were recorded is recognised by its tables), `StoreFromNewer` for one
    this brainmap does not know."""
    if revision is None:
        recognised = revisions.recognise(columns)
        if recognised is None:
            _check_columns(name, columns, required_only=True)
            raise NotAStore(name, "its tables are those of no brainmap release (another schema)")
        raise StoreOutdated(name, recognised, False, upgrade)
    if not revisions.known(revision):
        raise StoreFromNewer(name, revision)
    if revision != revisions.head():
        raise StoreOutdated(name, revision, True, upgrade)


def _check_tables(name: str, columns: dict[str, set[str]]) -> None:
    """Every brainmap table is present with its columns."""
    absent = [table.name for table in Base.metadata.sorted_tables if table.name not in columns]
    if absent:
        raise NotAStore(name, f"it lacks the tables {_first_names(absent)} (another schema)")
    _check_columns(name, columns, required_only=False)


def _check_columns(name: str, columns: dict[str, set[str]], required_only: bool) -> None:
    """Every brainmap table present has its columns, or (`required_only`) those a record
    cannot leave empty (its key, the columns that may not be null)."""
    for table in Base.metadata.sorted_tables:
        present = columns.get(table.name)
        if present is None:
            continue
        missing = [
            column.name
            for column in table.columns
            if column.name not in present
            and not (required_only and column.nullable and not column.primary_key)
        ]
        if missing:
            lacks = f"its table {table.name} lacks the columns {_first_names(missing)}"
            raise NotAStore(name, f"{lacks} (another schema)")


def _upgrade_command(url: URL) -> str:
    """The command that upgrades the store at `url`: by its folder when it is a store folder's
    SQLite file, else by its URL (password hidden)."""
    from brainmap.store.folder import DATABASE_FILE

    path = sqlite_file(url)
    if path is not None and path.name == DATABASE_FILE:
        return f"brainmap store upgrade --store {path.parent}"
    return f"brainmap store upgrade --db {database_name(url) if path is None else url}"


def _first_names(names: list[str]) -> str:
    """The first few `names`, comma-separated, with ", ..." when there are more."""
    more = ", ..." if len(names) > SHOWN_NAMES else ""
    return ", ".join(names[:SHOWN_NAMES]) + more

"""Where a store is, as commands name it: a folder, and optionally the database (any SQLAlchemy
URL) and the pixel root (a folder or an fsspec URL) when they are not in that folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from brainmap.store.database_check import sqlite_file
from brainmap.store.folder import DATABASE_FILE, NotAStore, Store, shown_url
from brainmap.store.pixels import PixelRootError, open_pixels


@dataclass(frozen=True)
class StoreLocation:
    """A store's folder (its SQLite file and staging files by default) with the database and
    pixel root that replace the folder's own, when given."""

    folder: Path
    db_url: str | None = None
    pixels: str | None = None

    def __str__(self) -> str:
        elsewhere = []
        if self.db_url is not None:
            elsewhere.append(f"records in {self._database()}")
        if self.pixels is not None:
            elsewhere.append(f"pixels in {self.pixels}")
        return f"{self.folder} ({', '.join(elsewhere)})" if elsewhere else str(self.folder)

    def options(self) -> str:
        """The command-line options naming this store (a database password hidden)."""
        given = [f"--store {self.folder}"]
        if self.db_url is not None:
            given.append(f"--db {self._database()}")
        if self.pixels is not None:
            given.append(f"--pixels {self.pixels}")
        return " ".join(given)

    def open(self) -> Store:
        """The store here (`NotAStore` when there is none, or it is damaged or foreign)."""
        return Store.open(self.folder, self.db_url, self.pixels)

    def create(self) -> Store:
        """The store here, made first when there is none (`NotAStore` for a foreign one)."""
        return Store.create(self.folder, self.db_url, self.pixels)

    def existing(self) -> Store | None:
        """The store here, or None while there is none to open: no SQLite file in the folder,
        or a database without tables (its pixel root checked then). Nothing is written."""
        if self.db_url is None:
            found = (self.folder / DATABASE_FILE).is_file()
        else:
            found = self._has_tables()
        if found:
            return self.open()
        try:  # a store still to be made: its pixel root is checked now, before any work
            open_pixels(self.pixels, self.folder).check(made=False)
        except PixelRootError as error:
            raise NotAStore(error.url, error.reason) from None
        return None

    def missing(self) -> str:
        """What is missing where `existing` found no store."""
        if self.db_url is None:
            return f"{DATABASE_FILE} is missing"
        return "its database has no tables"

    def _has_tables(self) -> bool:
        """Whether the database holds any table (a foreign one is refused by `open`); a SQLite
        file still to be made has none (connecting would make it, empty)."""
        try:
            url = make_url(self.db_url or "")
            database = sqlite_file(url)
            if database is not None and not database.exists():
                return False
            engine = create_engine(url, poolclass=NullPool)
        except (ArgumentError, ImportError):
            return True  # `open` names what is wrong with the URL
        try:
            with engine.connect() as connection:
                return bool(inspect(connection).get_table_names())
        except DBAPIError:
            return True  # `open` says why the database cannot be read
        finally:
            engine.dispose()

    def _database(self) -> str:
        return shown_url(self.db_url)

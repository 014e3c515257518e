"""A store is a folder: ``brainmap.sqlite`` (or any SQLAlchemy URL) plus ``pyramids/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from brainmap.store import revisions
from brainmap.store.database_check import (
    NotAStore,
    StoreUnavailable,
    check_database,
    database_name,
    first_line,
    sqlite_file,
)
from brainmap.store.pixel_paths import PYRAMID_FOLDER
from brainmap.store.pixels import LocalPixels, PixelRoot, PixelRootError, open_pixels

DATABASE_FILE = "brainmap.sqlite"
REPLACED = "it was removed or replaced since it was opened; restart to open the new one"
__all__ = ["DATABASE_FILE", "PYRAMID_FOLDER", "NotAStore", "Store", "StoreUnavailable"]


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Store:
    """A metadata database plus a pixel root, by default both in one folder.

    `db_url` overrides the default SQLite file, e.g. ``postgresql+psycopg://...``; `pixels`
    the default pixel root (the folder itself): another folder or a URL such as
    ``s3://bucket/prefix`` (`brainmap.store.pixels`). Pyramid paths in records
    (``SubImage.path``, ``AlternateImage.path``) are relative to the pixel root and lie in its
    ``pyramids/`` folder (`brainmap.store.pixel_paths`).
    """

    def __init__(
        self, root: Path | str, db_url: str | None = None, pixels: str | None = None
    ) -> None:
        self.root = Path(root)
        self.pixels: PixelRoot = open_pixels(pixels, self.root)
        self.db_url = db_url or f"sqlite:///{self.root / DATABASE_FILE}"
        self.engine: Engine = create_engine(self.db_url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def database(self) -> str:
        """The database as messages name it: the SQLite file, or the URL without password."""
        return database_name(self.engine.url)

    @classmethod
    def create(
        cls, root: Path | str, db_url: str | None = None, pixels: str | None = None
    ) -> Store:
        """Make the folder and the tables, or open the store already there (idempotent).

        Raises `NotAStore` for a database that exists but is not a brainmap store.
        """
        return cls._checked(root, db_url, pixels, existing=False)

    @classmethod
    def open(cls, root: Path | str, db_url: str | None = None, pixels: str | None = None) -> Store:
        """Open an existing store; a missing, damaged or foreign database is a `NotAStore`.

        A store of an older schema revision is `StoreOutdated` (``brainmap store upgrade``);
        one of a newer brainmap `StoreFromNewer`.
        """
        return cls._checked(root, db_url, pixels, existing=True)

    @classmethod
    def _checked(
        cls, root: Path | str, db_url: str | None, pixels: str | None, existing: bool
    ) -> Store:
        """The store at `root` once its database passed `check_database`: the folders made
        (unless `existing`), then the tables."""
        try:
            store = cls(root, db_url, pixels)
        except PixelRootError as error:
            raise NotAStore(error.url, error.reason) from None
        except ArgumentError as error:
            raise NotAStore(shown_url(db_url), f"cannot be opened ({error})") from None
        except ImportError as error:
            driver = f"its driver is not installed: {error}; pip install 'brainmap[postgres]'"
            raise NotAStore(shown_url(db_url), f"cannot be opened ({driver})") from None
        try:
            check_database(store.engine.url, existing)
            if existing:
                store.pixels.check()
            else:
                store.pixels.prepare()
                Path(root).mkdir(parents=True, exist_ok=True)
            revisions.create(store.engine)
        except NotAStore:
            store.close()
            raise
        except PixelRootError as error:
            store.close()
            raise NotAStore(error.url, error.reason) from None
        except OSError as error:  # a folder to make lies under a file, or may not be written
            store.close()
            made = f"cannot be made ({error.strerror}: {error.filename})"
            raise NotAStore(str(root), made) from None
        except DBAPIError as error:
            store.close()
            raise NotAStore(store.database, f"cannot be read ({first_line(error.orig)})") from None
        store._watch_file()
        return store

    def _watch_file(self) -> None:
        """Refuse every connection once the SQLite file is removed or replaced: new ones
        before they connect (SQLite would make an empty file where one was removed), pooled
        ones when checked out, rather than mix the file opened and its replacement."""
        path = sqlite_file(self.engine.url)
        if path is None:
            return
        opened = _identity(path)

        def check(*_arguments: object) -> None:
            if _identity(path) != opened:
                raise StoreUnavailable(REPLACED)

        event.listen(self.engine, "do_connect", check)
        event.listen(self.engine, "checkout", check)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def pyramid_path(self, relative: str) -> Path:
        """The local file a record's pixel path names, symlinks resolved; `OutsidePyramids`
        (a NotFound) for one that is absolute or lies outside the ``pyramids/`` folder.
        Only for a store whose pixels are in a local folder (TypeError otherwise)."""
        if not isinstance(self.pixels, LocalPixels):
            raise TypeError(f"the pixels of this store are at {self.pixels.url}, not in a folder")
        return self.pixels.path(relative)

    def new_pyramid_name(self, stem: str) -> str:
        """Record path (relative) for a new pyramid file called `stem`."""
        return f"{PYRAMID_FOLDER}/{stem}.tif"

    def close(self) -> None:
        self.engine.dispose()


def shown_url(db_url: str | None) -> str:
    """`db_url` as messages name it, its password hidden; a URL that does not parse is not
    shown (it may hold a password in a form the parser does not see)."""
    try:
        return database_name(make_url(db_url or ""))
    except ArgumentError:
        return "the database URL"


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` is (device and inode), None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino

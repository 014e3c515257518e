"""A store is a folder: ``brainmap.sqlite`` (or any SQLAlchemy URL) plus ``pyramids/``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker

from brainmap.store.schema import Base

DATABASE_FILE = "brainmap.sqlite"
PYRAMID_FOLDER = "pyramids"


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Store:
    """Metadata database plus pyramid files under one root folder.

    `db_url` overrides the default SQLite file, e.g. ``postgresql+psycopg://...``.
    Pyramid paths in records (``SubImage.path``, ``AlternateImage.path``) are relative to `root`.
    """

    def __init__(self, root: Path | str, db_url: str | None = None) -> None:
        self.root = Path(root)
        self.db_url = db_url or f"sqlite:///{self.root / DATABASE_FILE}"
        self.engine: Engine = create_engine(self.db_url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def create(cls, root: Path | str, db_url: str | None = None) -> Store:
        """Make the folder and the tables (idempotent)."""
        Path(root, PYRAMID_FOLDER).mkdir(parents=True, exist_ok=True)
        store = cls(root, db_url)
        Base.metadata.create_all(store.engine)
        return store

    @classmethod
    def open(cls, root: Path | str, db_url: str | None = None) -> Store:
        """Open an existing store; a missing SQLite file is an error, not an empty store.

        Tables added by newer brainmap versions are created (empty) in an older store.
        """
        if db_url is None and not Path(root, DATABASE_FILE).is_file():
            raise FileNotFoundError(f"no brainmap store at {root} (missing {DATABASE_FILE})")
        store = cls(root, db_url)
        Base.metadata.create_all(store.engine)
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def pyramid_path(self, relative: str) -> Path:
        """Absolute path of a pyramid named in a record."""
        return self.root / relative

    def new_pyramid_name(self, stem: str) -> str:
        """Record path (relative) for a new pyramid file called `stem`."""
        return f"{PYRAMID_FOLDER}/{stem}.tif"

    def close(self) -> None:
        self.engine.dispose()

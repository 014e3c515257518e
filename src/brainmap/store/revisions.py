"""The revision of a store's schema, kept by Alembic in the store's own version table: a new
store's tables made at the newest revision, a store's revision read (or, for a store made before
revisions existed, recognised by its tables and columns), and a store upgraded to the newest
revision in place, in one transaction. The revisions are modules in ``migrations/versions``.

Checking a store's revision needs no Alembic (importing it costs every command that opens a
store about 0.4 s): the revisions' order is read from the modules' text, and the recorded
revision from the version table. Alembic is imported to make a store or change its schema."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from brainmap.store.schema import Base

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "brainmap_alembic_version"
"""Where a store records its revision (not Alembic's default name, which an application
sharing the database may use for its own)."""
MIGRATIONS = Path(__file__).with_name("migrations")
LAST_UNRECORDED = "0002"
"""The newest schema brainmap made before stores recorded their revision: a store without a
version table has this one or an older one."""


def head() -> str:
    """The newest revision, the one this brainmap's stores have."""
    return order()[-1]


def known(revision: str) -> bool:
    """Whether `revision` is one of this brainmap's (a newer brainmap's is not)."""
    return revision in order()


@cache
def order() -> tuple[str, ...]:
    """This brainmap's revisions, oldest first, from each module's ``revision`` and
    ``down_revision`` (one line of revisions, as Alembic runs them)."""
    follows: dict[str | None, str] = {}
    for module in sorted((MIGRATIONS / "versions").glob("r*.py")):
        before, revision = _link(module)
        follows[before] = revision
    revisions: list[str] = []
    while (revisions[-1] if revisions else None) in follows:
        revisions.append(follows[revisions[-1] if revisions else None])
    assert len(revisions) == len(follows), "the revisions do not form one line"
    return tuple(revisions)


def recorded_revision(connection: Connection) -> str | None:
    """The revision a store records, None for a store without one (made before revisions, or
    not made yet); several (never written by brainmap) are read as one unknown revision."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return ",".join(sorted(rows)) or None


def table_columns(connection: Connection) -> dict[str, set[str]]:
    """Each table of the database and its column names."""
    schema = inspect(connection)
    return {
        table: {column["name"] for column in schema.get_columns(table)}
        for table in schema.get_table_names()
    }


def recognise(columns: dict[str, set[str]]) -> str | None:
    """The revision of a store made before revisions were recorded, from its tables' column
    names: the newest unrecorded revision whose every table it has with the same columns; None
    when none fits (another schema, or a development version's)."""
    for revision in reversed(order()[: order().index(LAST_UNRECORDED) + 1]):
        expected = _columns_at(revision)
        if all(columns.get(table) == names for table, names in expected.items()):
            return revision
    return None


def create(engine: Engine) -> None:
    """Give a database without brainmap's tables the newest schema, recorded as the head
    revision; a store already made is left as it is."""
    with engine.connect() as connection:
        if recorded_revision(connection) is not None:
            return  # read first: a write transaction would wait for any writer of the store
    from alembic import command

    with _transaction(engine) as connection:
        if recorded_revision(connection) is None:
            Base.metadata.create_all(connection)
            command.stamp(_config(connection), "head")


def upgrade(url: URL, found: str | None, recorded: bool, target: str = "head") -> None:
    """Bring the database at `url`, of revision `found` (None: an empty database), to `target`.
    `recorded` says whether the store records `found`; one made before revisions is first
    recorded as `found`. All or nothing; `RevisionChanged` if the store's recorded revision
    is no longer the one it had when `found` was read."""
    from alembic import command

    engine = create_engine(url, poolclass=NullPool)
    try:
        with _transaction(engine) as connection:
            now = recorded_revision(connection)
            if now != (found if recorded else None):
                raise RevisionChanged(f"its revision changed to {now} meanwhile; run again")
            config = _config(connection)
            if found is not None and not recorded:
                command.stamp(config, found)
            command.upgrade(config, target)
    finally:
        engine.dispose()


class RevisionChanged(Exception):
    """The store's revision is no longer the one it had when its upgrade was decided."""


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction committed on success, DDL included: SQLite's Python
    driver runs DDL outside any transaction unless one was begun explicitly."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection
        connection.commit()


def _config(connection: Connection) -> Config:
    """Alembic's configuration, in code: the migrations folder and the connection to run on."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _link(module: Path) -> tuple[str | None, str]:
    """The ``down_revision`` and ``revision`` a revision module assigns, read from its text."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = {
        target.id: ast.literal_eval(statement.value)
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
    }
    return names["down_revision"], names["revision"]


@cache
def _columns_at(revision: str) -> dict[str, set[str]]:
    """Each table's column names in a store of `revision`, made by the revisions in memory."""
    from alembic import command

    engine = create_engine("sqlite://", poolclass=NullPool)
    with _transaction(engine) as connection:
        command.upgrade(_config(connection), revision)
        found = table_columns(connection)
    found.pop(VERSION_TABLE, None)
    return found

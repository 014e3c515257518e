"""The small store and its server once per database (`postgres.DATABASES`), for the modules
whose routes must answer alike on SQLite and PostgreSQL: they import both fixtures (named
``small_store`` and ``small_server``), which then replace the session's SQLite-only ones within
the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from postgres import DATABASES, databases
from small_store import SMALL_LIMITS, SmallStore, build_small_store


@pytest.fixture(name="small_store", scope="module", params=DATABASES)
def small_store_each_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SmallStore]:
    """The small store with its records in each database in turn, closed after the module (a
    PostgreSQL connection left to the garbage collector warns)."""
    folder = tmp_path_factory.mktemp("small-store")
    built = build_small_store(folder, databases(request)("small"))
    yield built
    built.store.close()


@pytest.fixture(name="small_server", scope="module")
def small_server_each_database(small_store: SmallStore) -> Iterator[str]:
    """A real server on 127.0.0.1 over this module's small store."""
    with BackgroundServer(create_app(small_store.store, limits=SMALL_LIMITS)) as server:
        yield server.url

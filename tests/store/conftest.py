"""Fixtures of the store tests: empty stores on each database, filled per test in a
transaction that is rolled back (a fresh database per hypothesis example would cost seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brainmap.store.folder import Store
from postgres import DATABASES, Cluster, databases


@pytest.fixture(scope="session", params=DATABASES)
def empty_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store with tables and no records, on each database."""
    store = Store.create(tmp_path_factory.mktemp("empty"), databases(request)("empty"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def store_pair(
    postgres: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Store]]:
    """An empty store on SQLite and one on PostgreSQL, to compare their answers."""
    sqlite = Store.create(tmp_path_factory.mktemp("pair-sqlite"))
    postgresql = Store.create(tmp_path_factory.mktemp("pair-postgresql"), postgres.database("pair"))
    yield sqlite, postgresql
    sqlite.close()
    postgresql.close()

"""Shared fixtures: the test stores, and the real server on loopback over each. The stores of
the RMA engine and the record imports run on each database brainmap supports (`DATABASES`):
SQLite, and PostgreSQL in a throw-away cluster (`postgres.py`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from bulk_store import build_bulk_store
from client.reference_store import build_reference_store
from postgres import DATABASES, Cluster, ClusterUnavailable, NewDatabase, databases, start_cluster
from rma_store import make_store
from s3_server import S3Server, s3_environment
from small_store import SMALL_LIMITS, SmallStore, build_small_store

REQUIRE_POSTGRES = "BRAINMAP_REQUIRE_POSTGRES"
"""Set (by `make test` once PostgreSQL is installed): a cluster that cannot start fails the
PostgreSQL tests instead of skipping them."""


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session (one per test worker)."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as error:
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(f"PostgreSQL is installed but cannot run: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL cannot run here: {error}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=DATABASES)
def new_database(request: pytest.FixtureRequest) -> NewDatabase:
    """Each test using it runs once per database: `new_database(stem)` gives a store's URL."""
    return databases(request)


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> SmallStore:
    """A few images with known pixels (`small_store.py`)."""
    return build_small_store(tmp_path_factory.mktemp("small-store"))


@pytest.fixture(scope="session")
def small_server(small_store: SmallStore) -> Iterator[str]:
    """Base URL of a real brainmap server on 127.0.0.1 serving the small store."""
    with BackgroundServer(create_app(small_store.store, limits=SMALL_LIMITS)) as server:
        yield server.url


@pytest.fixture(scope="session")
def bulk_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One section data set of many small images (`bulk_store.py`)."""
    return build_bulk_store(tmp_path_factory.mktemp("bulk-store"))


@pytest.fixture(scope="session")
def bulk_server(bulk_store: Store) -> Iterator[str]:
    """Base URL of the real server over the bulk store."""
    with BackgroundServer(create_app(bulk_store)) as server:
        yield server.url


@pytest.fixture(scope="session", params=DATABASES)
def rma_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """Metadata only, for the RMA compiler and the data routes (`rma_store.py`), on each
    database."""
    store = make_store(tmp_path_factory.mktemp("rma"), databases(request)("rma"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def rma_server(rma_store: Store) -> Iterator[str]:
    """Base URL of the real server over the RMA store."""
    with BackgroundServer(create_app(rma_store)) as server:
        yield server.url


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def reference_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Sections cut from a known volume, with their alignments (``client/reference_store.py``),
    one per session for the client and CLI tests."""
    return build_reference_store(tmp_path_factory.mktemp("reference-store"))


@pytest.fixture(scope="session")
def reference_server(reference_store: Store) -> Iterator[str]:
    """Base URL of the real server over the reference store."""
    with BackgroundServer(create_app(reference_store)) as server:
        yield server.url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 on 127.0.0.1, stopped after the session."""
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new bucket on the server, reached through the standard AWS environment variables."""
    for name, value in s3_environment(s3_server).items():
        monkeypatch.setenv(name, value)
    name = f"pyramids-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(name)
    yield name
    fs.rm(name, recursive=True)

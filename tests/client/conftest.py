"""Fixtures of the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reference_store import build_reference_store

from brainmap.client import Client
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store


@pytest.fixture()
def client(bulk_server: str) -> Iterator[Client]:
    """A `Client` of the real server over the bulk store, closed after the test."""
    with Client(bulk_server) as client:
        yield client


@pytest.fixture(scope="session")
def reference_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Sections cut from a known volume, with their alignments (`reference_store.py`)."""
    return build_reference_store(tmp_path_factory.mktemp("reference-store"))


@pytest.fixture(scope="session")
def reference_server(reference_store: Store) -> Iterator[str]:
    """Base URL of the real server over the reference store."""
    with BackgroundServer(create_app(reference_store)) as server:
        yield server.url

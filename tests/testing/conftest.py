"""The real server on loopback over the conformance store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_store import build_conformance_store

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer


@pytest.fixture(scope="session")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a brainmap server on 127.0.0.1 over `conformance_store.py`'s store."""
    store = build_conformance_store(tmp_path_factory.mktemp("conformance-store"))
    with BackgroundServer(create_app(store)) as server:
        yield server.url
    store.close()

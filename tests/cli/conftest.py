"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from client.reference_store import build_reference_store


@pytest.fixture(scope="session")
def reference_cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the real server over a store of aligned sections
    (``tests/client/reference_store.py``)."""
    store = build_reference_store(tmp_path_factory.mktemp("reference-cli-store"))
    with BackgroundServer(create_app(store)) as server:
        yield server.url

"""Fixtures of the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brainmap.client import Client


@pytest.fixture()
def client(bulk_server: str) -> Iterator[Client]:
    """A `Client` of the real server over the bulk store, closed after the test."""
    with Client(bulk_server) as client:
        yield client

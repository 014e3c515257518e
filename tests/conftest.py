"""Shared fixtures: a small exact store, and the real server on loopback over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.image_routes import ImageLimits
from small_store import SmallStore, build_small_store

SMALL_LIMITS = ImageLimits(max_pixels=2_000_000, max_side=4096)


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> SmallStore:
    return build_small_store(tmp_path_factory.mktemp("small-store"))


@pytest.fixture(scope="session")
def small_server(small_store: SmallStore) -> Iterator[str]:
    """Base URL of a real brainmap server on 127.0.0.1 serving the small store."""
    with BackgroundServer(create_app(small_store.store, limits=SMALL_LIMITS)) as server:
        yield server.url


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path

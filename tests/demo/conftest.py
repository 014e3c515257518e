"""The small-scale demo store the tests of this folder share."""

from __future__ import annotations

import pytest
from demo_scale import SCALE

from brainmap.demo.phantom import build_demo_store
from brainmap.store.folder import Store


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The demo store at a small scale (sections a few hundred pixels wide)."""
    return build_demo_store(tmp_path_factory.mktemp("phantom") / "demo", scale=SCALE)

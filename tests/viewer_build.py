"""Whether the web viewer's assets are built, for the tests that need them."""

from __future__ import annotations

import shutil

import pytest

from brainmap.web import STATIC_DIR


def require_built_viewer() -> None:
    """Skip where the viewer cannot have been built (no npm); fail where it should have been."""
    if (STATIC_DIR / "index.html").is_file():
        return
    if shutil.which("npm") is None:
        pytest.skip("the web viewer is not built: npm is not on the PATH")
    pytest.fail("npm is on the PATH but the web viewer is not built: reinstall brainmap")

"""Every check of the conformance kit passes against brainmap's own server."""

from __future__ import annotations

import pytest

from brainmap.testing import Check, Skipped, checks


@pytest.mark.parametrize("check", checks(), ids=lambda check: check.name)
def test_check_passes(check: Check, conformance_server: str) -> None:
    try:
        check(conformance_server)
    except Skipped as skipped:
        pytest.fail(f"the conformance store lacks what {check.name} needs: {skipped}")

"""The kit's parts on their own: server roots, the request budget, JPEG tables, frames, the
catalogue of checks, and the layering (a client-side kit)."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest
import simplejpeg

from brainmap.testing import Basis, ServerUnreachable, checks, select
from brainmap.testing.frame import Frame
from brainmap.testing.pictures import quantization_steps
from brainmap.testing.wire import RequestBudgetSpent, Server, server_root


@pytest.mark.parametrize(
    "given",
    [
        "http://api.brain-map.org",
        "http://api.brain-map.org/",
        "http://api.brain-map.org/api/v2",
        "http://api.brain-map.org/api/v2/",
        " http://api.brain-map.org/api/v2// ",
    ],
)
def test_server_root_with_or_without_api_prefix(given: str) -> None:
    assert server_root(given) == "http://api.brain-map.org"


def test_server_root_keeps_a_mount_path() -> None:
    assert server_root("https://lab.example/brainmap/api/v2/") == "https://lab.example/brainmap"


@pytest.mark.parametrize(
    "given", ["api.brain-map.org", "ftp://api.brain-map.org", "http://", "http://h/?q=1"]
)
def test_server_root_refuses_what_is_not_a_root(given: str) -> None:
    with pytest.raises(ValueError):
        server_root(given)


def test_each_url_is_fetched_once_within_the_budget(conformance_server: str) -> None:
    server = Server(conformance_server, timeout=10, max_requests=1)
    first = server.get("/data/query.json", "q=model::Product")
    assert server.get("/data/query.json", "q=model::Product") is first
    assert server.requests == 1
    with pytest.raises(RequestBudgetSpent):
        server.get("/data/query.json", "q=model::Atlas")


def test_no_listener_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServerUnreachable, match=f"127.0.0.1:{port}"):
        Server(f"http://127.0.0.1:{port}", timeout=5).get("/data/query.json")


def test_quantization_steps_follow_quality() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, size=(40, 56, 3), dtype=np.uint8)
    steps = {q: quantization_steps(simplejpeg.encode_jpeg(pixels, quality=q)) for q in (10, 100)}
    assert steps[100] == [1] * 128  # a luminance and a chrominance table of 64 entries
    assert len(steps[10]) == 128 and sum(steps[10]) > sum(steps[100])
    assert quantization_steps(b"not a jpeg") == []


def test_frame_preview_downsample() -> None:
    def frame(width: int, height: int, tiers: int) -> Frame:
        return Frame(0, 0, width, height, width, height, tiers, image_id=1)

    assert frame(11921, 7553, 7).preview_downsample == 5  # 372 x 236
    assert frame(11921, 7553, 3).preview_downsample == 2  # no finer tier than the last
    assert frame(601, 409, 3).preview_downsample == 1
    assert frame(200, 100, 1).preview_downsample == 0
    assert frame(11921, 7553, 7).default_size(2) == (2980, 1888)


def test_checks_are_named_once_and_cite_their_basis() -> None:
    names = [check.name for check in checks()]
    assert len(names) == len(set(names))
    for check in checks():
        document = "docs/allen-api.md §" if check.basis is Basis.ALLEN_API else "docs/rules.md, "
        assert check.source.startswith(document), check.name
        assert check.summary, f"{check.name} has no docstring to say what it expects"


def test_select_keeps_suite_order_and_refuses_unknown_names() -> None:
    assert [check.name for check in select(["quality", "json-envelope"])] == [
        "json-envelope",
        "quality",
    ]
    with pytest.raises(ValueError, match="no-such-check"):
        select(["quality", "no-such-check"])


def test_the_kit_imports_neither_server_nor_store() -> None:
    script = (
        "import sys, brainmap.testing\n"
        "heavy = ('brainmap.server', 'brainmap.store', 'sqlalchemy', 'starlette', 'pyvips')\n"
        "print(sorted(name for name in sys.modules if name.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"

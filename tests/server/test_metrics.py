"""`/metrics`: Prometheus text that moves by exactly the requests made, by route family and
status class, over a real server on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.metrics import (
    MULTIPROCESS_ENV,
    HttpMetrics,
    ObservingMiddleware,
    RouteFamilies,
)
from loopback import first_answer, free_port, request
from scraped import moved, samples
from small_store import ATLAS_IMAGE, ISH_IMAGE, SmallStore

QUERY = "/api/v2/data/query.json?q=model::Product"
ANSWERED = {
    "data": ["/api/v2/data/query.json?q=model::Product", "/api/v2/data/Structure/8.json"],
    "image": [f"/api/v2/section_image_download/{ISH_IMAGE}?downsample=4"],
    "iiif": [f"/iiif/3/{ISH_IMAGE}/info.json"],
    "svg": [f"/api/v2/svg/{ATLAS_IMAGE}"],
    "sync": [f"/api/v2/image_to_structure/{ATLAS_IMAGE}.json?x=500&y=300"],
    "web": ["/"],
}


@pytest.fixture(scope="module")
def server(small_store: SmallStore) -> Iterator[str]:
    """A server of its own, so no other module's requests land in its counters."""
    with BackgroundServer(create_app(small_store.store)) as running:
        yield running.url


def test_metrics_are_prometheus_text(server: str) -> None:
    reply = request(f"{server}/metrics")
    assert reply.status == 200
    assert reply.content_type is not None
    assert reply.content_type.startswith("text/plain; version=")
    assert "# TYPE brainmap_http_requests_total counter" in reply.text
    assert "# TYPE brainmap_http_request_duration_seconds histogram" in reply.text


def test_each_family_counts_exactly_its_requests(server: str) -> None:
    before = samples(server)
    for paths in ANSWERED.values():
        for path in paths:
            assert request(f"{server}{path}").status == 200, path
    after = samples(server)
    for family, paths in ANSWERED.items():
        labels = {"family": family, "status": "2xx"}
        assert moved(before, after, "brainmap_http_requests_total", **labels) == len(paths)
        count = moved(before, after, "brainmap_http_request_duration_seconds_count", **labels)
        assert count == len(paths), family
        everything = {**labels, "le": "+Inf"}
        assert moved(before, after, "brainmap_http_request_duration_seconds_bucket", **everything)
        assert moved(before, after, "brainmap_http_request_duration_seconds_sum", **labels) > 0
    # the first read of /metrics is counted by the time of the second
    assert moved(before, after, "brainmap_http_requests_total", family="metrics", status="2xx") == 1


def test_client_errors_are_counted_in_their_class(server: str) -> None:
    before = samples(server)
    assert request(f"{server}/api/v2/section_image_download/999999").status == 404
    assert request(f"{server}/api/v2/no_such_service/1.json").status == 404
    bad = f"{server}/api/v2/section_image_download/{ISH_IMAGE}?downsample=many"
    assert request(bad).status == 400
    after = samples(server)
    total = "brainmap_http_requests_total"
    assert moved(before, after, total, family="image", status="4xx") == 2
    assert moved(before, after, total, family="other", status="4xx") == 1
    assert moved(before, after, total, family="image", status="2xx") == 0
    errors = [value for (name, _), value in after.items() if name == "brainmap_http_errors_total"]
    assert not any(errors)


def test_a_handler_that_raises_counts_as_a_server_error() -> None:
    async def fail(_request: Request) -> Response:
        raise RuntimeError("a handler that breaks")

    metrics = HttpMetrics()
    app = Starlette(routes=[Route("/api/v2/data/query.json", fail), metrics.route()])
    families = RouteFamilies.of("/api/v2", {"data": [Route("/data/query.json", fail)]}, {})
    app.add_middleware(ObservingMiddleware, families=families, observers=[metrics.observe])
    with BackgroundServer(app) as running:
        assert request(f"{running.url}/api/v2/data/query.json").status == 500
        after = samples(running.url)
    assert after[("brainmap_http_errors_total", frozenset({("family", "data")}))] == 1
    key = ("brainmap_http_requests_total", frozenset({("family", "data"), ("status", "5xx")}))
    assert after[key] == 1


@contextlib.contextmanager
def serving_workers(store: Path, metrics_dir: Path) -> Iterator[str]:
    """`brainmap serve --workers 2` writing its metrics to `metrics_dir`, once it answers: its
    base URL. Stopped on leaving."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store", str(store)]
    command += ["--port", str(port), "--workers", "2"]
    environment = {**os.environ, MULTIPROCESS_ENV: str(metrics_dir)}
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert first_answer(f"{base}/", server).status == 200  # the web viewer's page
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_worker_processes_sum_their_counts(small_store: SmallStore, tmp_path: Path) -> None:
    with serving_workers(small_store.store.root, tmp_path) as base:
        for _ in range(12):  # new connections, spread over both processes by the kernel
            assert request(f"{base}{QUERY}").status == 200
        for read in range(4):  # whichever process answers reports every process's counts
            counts = samples(base)
            data = (
                "brainmap_http_requests_total",
                frozenset({("family", "data"), ("status", "2xx")}),
            )
            assert counts[data] == 12
            metrics = (
                "brainmap_http_requests_total",
                frozenset({("family", "metrics"), ("status", "2xx")}),
            )
            assert counts.get(metrics, 0) == read
    assert any(tmp_path.glob("counter_*.db"))  # the counts went through the shared folder


def test_serve_refuses_a_metrics_folder_that_is_not_one(
    small_store: SmallStore, tmp_path: Path
) -> None:
    missing = tmp_path / "missing"
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store"]
    command += [str(small_store.store.root), "--port", "1"]  # refused before binding
    environment = {**os.environ, MULTIPROCESS_ENV: str(missing)}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"brainmap: {MULTIPROCESS_ENV} '{missing}' is not a folder\n"

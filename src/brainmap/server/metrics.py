"""Prometheus metrics of the HTTP server: requests, latency and errors by route family, and
(`work_metrics`) the renders, cache lookups, object-store reads and database time behind them.

A request's family comes from the first segment of its path, looked up in a fixed table built
from the routes themselves, so the label takes a handful of values whatever clients ask for.
Each app records into its own `CollectorRegistry`; when ``PROMETHEUS_MULTIPROC_DIR`` is set
(several server processes), prometheus-client keeps the values in files in that folder and
`/metrics` answers the sum over all processes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brainmap.server.work_metrics import LATENCY_BUCKETS, WorkMetrics

METRICS_PATH = "/metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class RouteFamilies:
    """Which family a path belongs to: `api` maps the first segment under `api_prefix` to a
    family, `mounts` maps other path prefixes; any other path is the web viewer's."""

    api_prefix: str
    api: Mapping[str, str]
    mounts: Mapping[str, str]

    @classmethod
    def of(
        cls, api_prefix: str, api: Mapping[str, Iterable[BaseRoute]], mounts: Mapping[str, str]
    ) -> RouteFamilies:
        """The table for routes grouped by family (`api`, mounted at `api_prefix`)."""
        segments = {
            route.path.split("/")[1]: family
            for family, routes in api.items()
            for route in routes
            if isinstance(route, Route)
        }
        return cls(api_prefix, segments, {METRICS_PATH: "metrics", **mounts})

    def family(self, path: str) -> str:
        """The family of a request for `path`: unknown API segments are "other"."""
        if path == self.api_prefix or path.startswith(self.api_prefix + "/"):
            segment = path[len(self.api_prefix) :].lstrip("/").split("/")[0]
            return self.api.get(segment, "other")
        for prefix, family in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                return family
        return "web"


class NoMetricsFolder(ValueError):
    """``PROMETHEUS_MULTIPROC_DIR`` names no folder: every count would fail."""


def check_metrics_folder() -> None:
    """Raise `NoMetricsFolder` if ``PROMETHEUS_MULTIPROC_DIR`` is set to anything but a folder."""
    folder = os.environ.get(MULTIPROCESS_ENV)
    if folder and not os.path.isdir(folder):
        raise NoMetricsFolder(f"{MULTIPROCESS_ENV} {folder!r} is not a folder")


class HttpMetrics:
    """The request counters and latency histogram of one app, in their own registry, beside
    the `WorkMetrics` of its process."""

    def __init__(self) -> None:
        check_metrics_folder()
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("family", "status")
        self.requests = Counter(
            "brainmap_http_requests",
            "HTTP requests answered, by route family and status class",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "brainmap_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response body",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "brainmap_http_errors",
            "HTTP requests answered with a server error (5xx), by route family",
            ("family",),
            registry=self.registry,
        )
        self.work = WorkMetrics(self.registry)

    def observe(self, answered: Answered) -> None:
        """Count one answered request."""
        status_class = f"{answered.status // 100}xx"
        self.requests.labels(answered.family, status_class).inc()
        self.latency.labels(answered.family, status_class).observe(answered.seconds)
        if answered.status >= 500:
            self.errors.labels(answered.family).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format: this process's, or with
        ``PROMETHEUS_MULTIPROC_DIR`` set, the sum over every process writing there."""
        if not os.environ.get(MULTIPROCESS_ENV):
            return generate_latest(self.registry)
        collected = CollectorRegistry()
        MultiProcessCollector(collected)  # type: ignore[no-untyped-call]  # untyped upstream
        return generate_latest(collected)

    def route(self) -> Route:
        """The `/metrics` route."""

        async def endpoint(_request: Request) -> Response:
            return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)

        return Route(METRICS_PATH, endpoint, methods=["GET"])


@dataclass(frozen=True)
class Answered:
    """One HTTP request as answered: what the metrics and the access log record."""

    method: str
    path: str
    query: str
    client: str
    family: str
    status: int
    body_bytes: int
    seconds: float


Observer = Callable[[Answered], None]


class ObservingMiddleware:
    """Pure ASGI middleware handing every answered HTTP request to its `observers` (the
    metrics, the access log) once its last body message is ready to go out, so streamed
    answers are timed whole and pass through unbuffered, and a client that reads `/metrics`
    next sees its previous request. A handler that raised before answering counts as a 500."""

    def __init__(self, app: ASGIApp, families: RouteFamilies, observers: list[Observer]) -> None:
        self.app = app
        self.families = families
        self.observers = observers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        body_bytes = 0
        told = False

        def tell() -> None:
            nonlocal told
            told = True
            client = scope.get("client")
            answered = Answered(
                method=scope["method"],
                path=scope["path"],
                query=scope["query_string"].decode("latin-1"),
                client=client[0] if client else "",
                family=self.families.family(scope["path"]),
                status=status,
                body_bytes=body_bytes,
                seconds=time.perf_counter() - started,
            )
            for observer in self.observers:
                observer(answered)

        async def send_and_note(message: Message) -> None:
            nonlocal status, body_bytes
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                body_bytes += len(message.get("body", b""))
                if not message.get("more_body"):
                    tell()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not told:
                tell()

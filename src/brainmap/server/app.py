"""ASGI application factory: the Allen-compatible API over one store."""

from __future__ import annotations

import os

import pyvips
from starlette.applications import Starlette
from starlette.routing import Mount

from brainmap.server.access import require_tokens
from brainmap.server.access_log import AccessLog, access_log_for
from brainmap.server.metrics import HttpMetrics, Observer, ObservingMiddleware, RouteFamilies
from brainmap.server.routes import iiif
from brainmap.server.routes.data import data_routes
from brainmap.server.routes.images import image_routes
from brainmap.server.routes.structure_lookup import structure_lookup_routes
from brainmap.server.routes.svg import svg_routes
from brainmap.server.routes.sync import sync_routes
from brainmap.server.routes.web import web_routes
from brainmap.server.state import ImageLimits, ServerState, install_state
from brainmap.server.work_metrics import time_statements
from brainmap.store.folder import NotAStore, Store

API_PREFIX = "/api/v2"
"""Where the RMA data and image download routes are mounted."""
STORE_ENV = "BRAINMAP_STORE"
DB_URL_ENV = "BRAINMAP_DB_URL"
PIXELS_ENV = "BRAINMAP_PIXELS"
CACHE_BYTES_ENV = "BRAINMAP_CACHE_BYTES"
RENDER_WORKERS_ENV = "BRAINMAP_RENDER_WORKERS"
ACCESS_LOG_ENV = "BRAINMAP_ACCESS_LOG"
AUTH_ENV = "BRAINMAP_AUTH"
"""How `app_from_environment` finds its store and settings in each server process."""


def create_app(
    store: Store,
    *,
    limits: ImageLimits | None = None,
    render_workers: int | None = None,
    access_log: AccessLog | None = None,
    auth: bool = False,
) -> Starlette:
    """The app serving `store`: RMA queries, images, the structure lookup, the image-sync
    services and the SVG drawings under /api/v2, IIIF under /iiif/3, Prometheus metrics at
    /metrics, the web viewer at /.
    `limits` and `render_workers` as in `ServerState.create`; `access_log` writes a line a
    request (none without it); `auth` lets only public data sets be read without a read token
    (`server.access`)."""
    api = {
        "data": data_routes(),
        "image": image_routes(),
        "sync": [*structure_lookup_routes(), *sync_routes()],
        "svg": svg_routes(),
    }
    metrics = HttpMetrics()
    app = Starlette(
        routes=[
            Mount(API_PREFIX, routes=[route for routes in api.values() for route in routes]),
            Mount(iiif.PREFIX, routes=iiif.iiif_routes()),
            metrics.route(),
            Mount("/", routes=web_routes()),
        ]
    )
    families = RouteFamilies.of(API_PREFIX, api, {iiif.PREFIX: "iiif"})
    observers: list[Observer] = [metrics.observe, *([access_log] if access_log else [])]
    app.add_middleware(ObservingMiddleware, families=families, observers=observers)
    if auth:
        require_tokens(app, store)
    time_statements(store.engine)
    install_state(app, ServerState.create(store, limits, render_workers))
    return app


def configure_process() -> None:
    """Settings for a server process: one libvips worker thread per render, unless
    ``VIPS_CONCURRENCY`` says otherwise. Concurrent requests already keep the CPUs busy on
    their own render threads; a per-render thread pool on top only adds hand-offs (measured:
    about 25 % less CPU a request for 1000 x 1000 outputs)."""
    if not os.environ.get("VIPS_CONCURRENCY"):
        pyvips.concurrency_set(1)


def app_from_environment() -> Starlette:
    """`create_app` for one of several server processes (``brainmap serve --workers N``):
    each process opens the store itself (SQLite in WAL mode takes readers from many
    processes), named by ``BRAINMAP_STORE`` and optionally ``BRAINMAP_DB_URL`` and
    ``BRAINMAP_PIXELS``;
    ``BRAINMAP_CACHE_BYTES`` and ``BRAINMAP_RENDER_WORKERS`` override the defaults;
    ``BRAINMAP_ACCESS_LOG`` (json or text) turns the access log on, ``BRAINMAP_AUTH=1`` read
    tokens."""
    configure_process()
    try:
        store = Store.open(
            os.environ[STORE_ENV],
            os.environ.get(DB_URL_ENV) or None,
            os.environ.get(PIXELS_ENV) or None,
        )
    except NotAStore as error:  # damaged after `serve` checked it: one line, not a traceback
        raise SystemExit(f"brainmap: {error}") from None
    limits = ImageLimits()
    if cache_bytes := os.environ.get(CACHE_BYTES_ENV):
        limits = ImageLimits(cache_bytes=int(cache_bytes))
    render_workers = os.environ.get(RENDER_WORKERS_ENV)
    return create_app(
        store,
        limits=limits,
        render_workers=int(render_workers) if render_workers else None,
        access_log=access_log_for(os.environ.get(ACCESS_LOG_ENV)),
        auth=os.environ.get(AUTH_ENV) == "1",
    )

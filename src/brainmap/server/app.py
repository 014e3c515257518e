"""ASGI application factory: the Allen-compatible API over one store."""

from __future__ import annotations

import os

import anyio
import pyvips
from starlette.applications import Starlette

from brainmap.server.routes.data import data_routes
from brainmap.server.routes.iiif import iiif_routes
from brainmap.server.routes.images import ImageLimits, ResponseCache, image_routes
from brainmap.server.routes.web import web_routes
from brainmap.store.folder import Store

STORE_ENV = "BRAINMAP_STORE"
DB_URL_ENV = "BRAINMAP_DB_URL"
CACHE_BYTES_ENV = "BRAINMAP_CACHE_BYTES"
RENDER_WORKERS_ENV = "BRAINMAP_RENDER_WORKERS"
"""How `app_from_environment` finds its store and settings in each server process."""


def create_app(
    store: Store,
    *,
    limits: ImageLimits | None = None,
    render_workers: int | None = None,
) -> Starlette:
    """The app serving `store`: RMA queries under /api/v2/data, images under the *_download
    endpoints.

    `render_workers` bounds how many images render at once (default: twice the CPU count, since
    a render thread spends part of its time off the CPU: measured +33 % requests/s over one per
    CPU). Outputs too large to encode in memory are further bounded to one per CPU, the
    configuration whose peak memory benchmarks/render_memory.py measures.
    """
    cpus = os.cpu_count() or 2
    app = Starlette(routes=[*data_routes(), *image_routes(), *web_routes(), *iiif_routes()])
    app.state.store = store
    app.state.image_limits = limits or ImageLimits()
    app.state.response_cache = ResponseCache(app.state.image_limits.cache_bytes)
    app.state.render_limiter = anyio.CapacityLimiter(render_workers or 2 * cpus)
    app.state.large_render_limiter = anyio.CapacityLimiter(min(cpus, render_workers or cpus))
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
    processes), named by ``BRAINMAP_STORE`` and optionally ``BRAINMAP_DB_URL``;
    ``BRAINMAP_CACHE_BYTES`` and ``BRAINMAP_RENDER_WORKERS`` override the defaults."""
    configure_process()
    store = Store.open(os.environ[STORE_ENV], os.environ.get(DB_URL_ENV) or None)
    limits = ImageLimits()
    if cache_bytes := os.environ.get(CACHE_BYTES_ENV):
        limits = ImageLimits(cache_bytes=int(cache_bytes))
    render_workers = os.environ.get(RENDER_WORKERS_ENV)
    return create_app(
        store, limits=limits, render_workers=int(render_workers) if render_workers else None
    )

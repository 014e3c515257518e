"""ASGI application factory: the Allen-compatible API over one store."""

from __future__ import annotations

import os

import anyio
from starlette.applications import Starlette

from brainmap.server.data_routes import data_routes
from brainmap.server.image_routes import ImageLimits, ResponseCache, image_routes
from brainmap.store.folder import Store


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
    app = Starlette(routes=[*data_routes(), *image_routes()])
    app.state.store = store
    app.state.image_limits = limits or ImageLimits()
    app.state.response_cache = ResponseCache(app.state.image_limits.cache_bytes)
    app.state.render_limiter = anyio.CapacityLimiter(render_workers or 2 * cpus)
    app.state.large_render_limiter = anyio.CapacityLimiter(min(cpus, render_workers or cpus))
    return app

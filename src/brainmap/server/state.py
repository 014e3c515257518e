"""The server's state: one frozen `ServerState` per app, made by `create_app` and read by every
route through `server_state`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import PurePath

import anyio
from sqlalchemy.exc import DatabaseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from brainmap.server.palettes import PaletteCache
from brainmap.server.response_cache import ResponseCache
from brainmap.service import MAX_PIXELS, MAX_SIDE
from brainmap.store.folder import Store, StoreUnavailable

STATE_ATTRIBUTE = "brainmap"
"""The attribute of ``app.state`` holding the `ServerState`."""
LOG = logging.getLogger(__name__)


@dataclass
class StoreFailures:
    """The ways the store's database failed while serving, each logged once."""

    logged: set[str] = field(default_factory=set)

    def log_once(self, message: str) -> None:
        if message not in self.logged:
            self.logged.add(message)
            LOG.error(message)


@dataclass(frozen=True)
class ImageLimits:
    """Largest output a single response may have (docs/rules.md, "Limits"), the largest
    encoded in memory rather than spooled to a temporary file, and the bytes of encoded
    responses kept for repeated requests."""

    max_pixels: int = MAX_PIXELS
    max_side: int = MAX_SIDE
    buffer_pixels: int = 16_000_000
    cache_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ServerState:
    """What the requests of one app share: the store, the image limits, the encoded responses
    kept, the palettes of annotated plates and the limiters bounding renders."""

    store: Store
    limits: ImageLimits
    responses: ResponseCache
    palettes: PaletteCache
    render_limiter: anyio.CapacityLimiter
    large_render_limiter: anyio.CapacityLimiter
    failures: StoreFailures

    @classmethod
    def create(
        cls, store: Store, limits: ImageLimits | None = None, render_workers: int | None = None
    ) -> ServerState:
        """The state serving `store`.

        `render_workers` bounds how many images render at once (default: twice the CPU count,
        since a render thread spends part of its time off the CPU: measured +33 % requests/s
        over one per CPU). Outputs too large to encode in memory are further bounded to one per
        CPU, the configuration whose peak memory benchmarks/render_memory.py measures.
        """
        cpus = os.cpu_count() or 2
        limits = limits or ImageLimits()
        return cls(
            store,
            limits,
            ResponseCache(limits.cache_bytes),
            PaletteCache(),
            anyio.CapacityLimiter(render_workers or 2 * cpus),
            anyio.CapacityLimiter(min(cpus, render_workers or cpus)),
            StoreFailures(),
        )


def install_state(app: Starlette, state: ServerState) -> None:
    """Make `state` the one `server_state(app)` returns, and answer any request the store's
    database fails (damaged, replaced, unreadable) with `database_failure`."""
    setattr(app.state, STATE_ATTRIBUTE, state)
    app.add_exception_handler(DatabaseError, database_failure)
    app.add_exception_handler(StoreUnavailable, database_failure)


async def database_failure(request: Request, error: Exception) -> Response:
    """HTTP 503 with a one-line JSON body naming the store's database (by its file name: the
    server's folders are not the client's business) and what is wrong with it; the server
    logs each such failure once, with the full name and without a traceback."""
    state = server_state(request.app)
    store = state.store
    reason = error.orig if isinstance(error, DatabaseError) else error
    state.failures.log_once(f"the store's database {store.database} cannot be used: {reason}")
    dialect = store.engine.dialect.name
    shown = PurePath(store.database).name if dialect == "sqlite" else dialect
    message = f"the store's database ({shown}) cannot be used: {reason}"
    return JSONResponse({"success": False, "msg": message}, status_code=503)


def server_state(app: Starlette) -> ServerState:
    """The state of an app made by `create_app`."""
    state = getattr(app.state, STATE_ATTRIBUTE, None)
    if not isinstance(state, ServerState):
        raise TypeError("this app has no brainmap server state: make it with create_app")
    return state

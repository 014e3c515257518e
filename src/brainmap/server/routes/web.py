"""The web viewer: its page at `/` and its assets under `/static/`.

The assets are built into `brainmap/web/static/` when brainmap is installed with npm at hand
(hatch_build.py). An installation without them still serves the API; `/` and `/static/` then
answer 503 with a plain message saying how to build the viewer.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from brainmap.web import STATIC_DIR

PAGE = "index.html"
NOT_BUILT = (
    "The brainmap web viewer is not built in this installation.\n"
    "It is built when brainmap is installed with Node.js (18 or later) and npm on the PATH:\n"
    "install them, then reinstall brainmap (from a clone: pip install -e '.[server]').\n"
    "The API under /api/v2/ works without it.\n"
)


def web_routes(static_dir: Path = STATIC_DIR) -> list[BaseRoute]:
    """The page and its assets from `static_dir`, or 503 answers while it holds no page."""
    page = static_dir / PAGE
    if not page.is_file():
        return [Route("/", _not_built), Route("/static/{path:path}", _not_built)]

    async def index(_request: Request) -> Response:
        return FileResponse(page)

    return [Route("/", index), Mount("/static", app=StaticFiles(directory=static_dir))]


async def _not_built(_request: Request) -> Response:
    return PlainTextResponse(NOT_BUILT, status_code=503)

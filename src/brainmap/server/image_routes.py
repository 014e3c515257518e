"""The four Image Download Service endpoints, one service over SubImage ids (spec §6.1).

Parse the query (400 naming a bad parameter), resolve the pixels in the store (404), plan the
region (413 above the limits), render on a worker thread bounded by a capacity limiter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import RegionTooLarge, check_limits, plan_region
from brainmap.imaging.render import Annotation, render
from brainmap.params import ImageRequest
from brainmap.server.sources import ImageSource, resolve_source
from brainmap.server.structures import StructurePalette
from brainmap.store.folder import Store
from brainmap.store.pyramids import Pyramid

ENDPOINTS = (
    "section_image_download",
    "atlas_image_download",
    "projection_image_download",
    "image_download",
)


@dataclass(frozen=True)
class ImageLimits:
    """Largest output a single response may have (DECISIONS.md, "Limits")."""

    max_pixels: int = 400_000_000
    max_side: int = 65_535


@lru_cache(maxsize=256)
def _open_pyramid(path: Path) -> Pyramid:
    return Pyramid(path)


def _render_image(store: Store, limits: ImageLimits, image_id: int, request: ImageRequest) -> bytes:
    with store.session() as session:
        source: ImageSource = resolve_source(session, image_id, request)
        annotation = None
        if source.graph_id is not None:
            palette = StructurePalette.load(session, source.graph_id)
            highlight = palette.with_descendants(request.structure) if request.structure else None
            annotation = Annotation(palette.colours, highlight)
    plan = plan_region(
        source.extent,
        downsample=request.downsample,
        left=request.left,
        top=request.top,
        width=request.width,
        height=request.height,
        downsample_dimensions=request.downsample_dimensions,
    )
    check_limits(plan, limits.max_pixels, limits.max_side)
    pyramid_file = store.pyramid_path(source.path)
    if not pyramid_file.is_file():
        raise NotFound(f"the pixels of image {image_id} are missing from this store")
    return render(_open_pyramid(pyramid_file), plan, request, annotation)


async def download_image(request: Request) -> Response:
    """GET /api/v2/{endpoint}/{id}: the JPEG, or a plain-text error naming the problem."""
    state = request.app.state
    try:
        image_request = ImageRequest.parse(request.query_params.multi_items())
        body = await anyio.to_thread.run_sync(
            _render_image,
            state.store,
            state.image_limits,
            request.path_params["image_id"],
            image_request,
            limiter=state.render_limiter,
        )
    except NotFound as error:
        return PlainTextResponse(str(error), status_code=404)
    except RegionTooLarge as error:
        return PlainTextResponse(str(error), status_code=413)
    except BadParameter as error:
        return PlainTextResponse(str(error), status_code=400)
    return Response(body, media_type="image/jpeg")


def image_routes() -> list[Route]:
    """Routes for the four endpoint names; ids must be integers (others are 404)."""
    return [
        Route(f"/api/v2/{name}/{{image_id:int}}", download_image, methods=["GET"])
        for name in ENDPOINTS
    ]

"""IIIF Image API 3.0 (level 2) under ``/iiif/3/{id}``, identifiers being SubImage ids
(docs/iiif.md).

An image request is an IIIF plan drawn through the Image Download Service's own machinery
(`brainmap.server.responses`: ETag, 304, HEAD, response cache, bounded renders); brainmap's
filters ride along as query parameters with that service's names and syntax. Every IIIF
response, errors included, allows any origin and names the level 2 profile in a ``Link``
header.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.iiif.info import CONTEXT, PROFILE_URI, image_information
from brainmap.iiif.pixels import draw
from brainmap.iiif.plan import Limits, plan_iiif
from brainmap.iiif.syntax import IiifRequest
from brainmap.imaging.encoders import JpegEncoder, PngEncoder
from brainmap.params import ImageRequest
from brainmap.server.responses import (
    CACHE_CONTROL,
    ErrorStatuses,
    PreparedImage,
    UnreadablePixels,
    respond,
    unreadable_response,
)
from brainmap.server.routes.images import (
    first_pixel_file,
    image_id,
    prepare_image,
    resolve_image,
)
from brainmap.server.state import ImageLimits, ServerState, server_state
from brainmap.service import IIIF_JPEG_QUALITY, JPEG_MAX_SIDE

PREFIX = "/iiif/3"
"""Where the app mounts these routes; every base URI starts with it."""
PROFILE_LINK = f'<{PROFILE_URI}>;rel="profile"'
IIIF_HEADERS = {"Access-Control-Allow-Origin": "*", "Link": PROFILE_LINK}
IIIF_STATUSES: ErrorStatuses = ((NotFound, 404), (BadParameter, 400))
INFO_MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'
GEOMETRY_PARAMETERS = ("downsample", "left", "top", "width", "height", "downsample_dimensions")


def filter_request(query: Sequence[tuple[str, str]]) -> ImageRequest:
    """The Image Download Service's filters from an IIIF query; its geometry and JPEG quality
    are refused (the path chooses the pixels, the size and the format)."""
    request = ImageRequest.parse(query)
    for name in GEOMETRY_PARAMETERS:
        if getattr(request, name) is not None:
            raise BadParameter(
                name, "is not used by IIIF: the path's region and size say which pixels"
            )
    if request.quality is not None:
        raise BadParameter("quality", f"is not used by IIIF: JPEG quality is {IIIF_JPEG_QUALITY}")
    return request


def base_uri(request: Request, identifier: str) -> str:
    """The image service's base URI as the client reached it (scheme, host, root path)."""
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/{quote(identifier, safe='')}"


def _limits(limits: ImageLimits) -> Limits:
    """The server's limits, sides capped at what a JPEG can hold (both formats share them)."""
    return Limits(limits.max_pixels, min(limits.max_side, JPEG_MAX_SIDE))


def _prepare(
    state: ServerState,
    identifier: str,
    segments: tuple[str, str, str, str],
    query: Sequence[tuple[str, str]],
    base: str,
) -> PreparedImage:
    iiif = IiifRequest.parse(*segments)
    request = filter_request(query)
    image = resolve_image(state, image_id(identifier), request)
    extent = image.source.extent
    plan = plan_iiif(
        iiif, extent.image_width, extent.image_height, extent.tier_count, _limits(state.limits)
    )
    filters = request.to_query()
    encoder = PngEncoder() if plan.format == "png" else JpegEncoder(IIIF_JPEG_QUALITY)
    prepared = prepare_image(
        state,
        image,
        plan.read,
        f"iiif/{plan.canonical}?{filters}",
        encoder,
        partial(draw, plan, request),
        plan.pixels,
    )
    canonical = f"{base}/{quote(plan.canonical, safe='/,:!')}" + (f"?{filters}" if filters else "")
    return replace(prepared, headers={"Link": f'<{canonical}>;rel="canonical", {PROFILE_LINK}'})


def _information(state: ServerState, identifier: str, base: str) -> dict[str, Any]:
    image = resolve_image(state, image_id(identifier), ImageRequest())
    pixel_file = first_pixel_file(state, image)
    pixel_file.open()  # no document for a file that does not open
    extent = image.source.extent
    first_level = min(image.held) if image.held else 0
    return image_information(
        base,
        extent.image_width,
        extent.image_height,
        extent.tier_count,
        _limits(state.limits),
        first_level,
    )


def preflight(request: Request) -> Response:
    """The CORS preflight answer: any origin, the read methods, the headers asked for."""
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Max-Age": "86400",
    }
    if asked := request.headers.get("access-control-request-headers"):
        headers["Access-Control-Allow-Headers"] = asked
    return Response(status_code=204, headers=headers)


def info_media_type(accept: str | None) -> str:
    """JSON-LD with the image context, unless the client takes plain JSON and not JSON-LD."""
    if accept and "application/json" in accept and "application/ld+json" not in accept:
        return "application/json"
    return INFO_MEDIA_TYPE


async def serve_image(request: Request) -> Response:
    """GET or HEAD ``{id}/{region}/{size}/{rotation}/{quality}.{format}``."""
    if request.method == "OPTIONS":
        return preflight(request)
    params = request.path_params
    identifier = params["identifier"]
    prepare_response = partial(
        _prepare,
        server_state(request.app),
        identifier,
        (params["region"], params["size"], params["rotation"], params["quality_format"]),
        request.query_params.multi_items(),
        base_uri(request, identifier),
    )
    return await respond(request, prepare_response, IIIF_STATUSES, IIIF_HEADERS)


async def serve_information(request: Request) -> Response:
    """GET or HEAD ``{id}/info.json``: the image information document."""
    if request.method == "OPTIONS":
        return preflight(request)
    identifier = request.path_params["identifier"]
    try:
        document = await anyio.to_thread.run_sync(
            _information, server_state(request.app), identifier, base_uri(request, identifier)
        )
    except NotFound as error:
        return PlainTextResponse(str(error), status_code=404, headers=IIIF_HEADERS)
    except UnreadablePixels as error:
        return unreadable_response(error, IIIF_HEADERS)
    return Response(
        json.dumps(document),
        media_type=info_media_type(request.headers.get("accept")),
        headers={**IIIF_HEADERS, "Cache-Control": CACHE_CONTROL},
    )


async def redirect_base(request: Request) -> Response:
    """The base URI: 303 to its info.json."""
    if request.method == "OPTIONS":
        return preflight(request)
    location = base_uri(request, request.path_params["identifier"]) + "/info.json"
    return RedirectResponse(location, status_code=303, headers=IIIF_HEADERS)


def iiif_routes() -> list[Route]:
    """The base URI, info.json and image routes, to mount at `PREFIX`."""
    methods = ["GET", "HEAD", "OPTIONS"]
    return [
        Route("/{identifier}", redirect_base, methods=methods),
        Route("/{identifier}/info.json", serve_information, methods=methods),
        Route(
            "/{identifier}/{region}/{size}/{rotation}/{quality_format}",
            serve_image,
            methods=methods,
        ),
    ]

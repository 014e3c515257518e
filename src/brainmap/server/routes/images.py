"""The four Image Download Service endpoints, one service over SubImage ids (docs/allen-api.md
§6.1), and how every image endpoint resolves and prepares its response (the IIIF routes use it
too).

Parse the query (400 naming a bad parameter), resolve the pixels in the store (404), plan the
region (413 above the limits); `brainmap.server.responses` answers from there. Every image
response carries a strong ``ETag``: a digest of the normalised request, the pixel file's
identity and, for an annotation plate, its structure graph's palette.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyvips
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import RegionPlan, RegionTooLarge, check_limits, plan_request
from brainmap.imaging.annotate import PlatePalette
from brainmap.imaging.encoders import Encoder, JpegEncoder
from brainmap.imaging.render import prepare
from brainmap.params import ImageRequest
from brainmap.pyramid.local import Pyramid, open_pyramid
from brainmap.server.palettes import PaletteCache, PlateColours
from brainmap.server.responses import ErrorStatuses, PreparedImage, respond
from brainmap.server.state import ServerState, server_state
from brainmap.service import ENDPOINTS
from brainmap.store.lookups import ImageSource, resolve_source
from brainmap.store.mirrored import from_held_level, held_levels

RENDER_VERSION = "2"
"""Part of every ETag: bump it when the pipeline's output changes."""
DOWNLOAD_STATUSES: ErrorStatuses = ((NotFound, 404), (RegionTooLarge, 413), (BadParameter, 400))

Draw = Callable[[Pyramid, RegionPlan, PlatePalette | None, bool], pyvips.Image]
"""Lazy pixels from a pyramid, a read plan, the plate palette and whether to pick pixels."""


@dataclass(frozen=True)
class ResolvedImage:
    """An image id resolved in the store for a request's filters: its source, the levels a
    mirror holds of it (empty when not mirrored) and the colours painting its label map."""

    image_id: int
    source: ImageSource
    held: dict[int, str]
    annotation: PlateColours | None


def resolve_image(state: ServerState, image_id: int, request: ImageRequest) -> ResolvedImage:
    """Look up the image, its alternate (NotFound names a missing one) and its colours."""
    with state.store.session() as session:
        source = resolve_source(session, image_id, request)
        held = held_levels(session, source.path)
        annotation = None
        if source.graph_id is not None and not held:
            annotation = state.palettes.colours(session, source.graph_id, request.structure)
    return ResolvedImage(image_id, source, held, annotation)


def prepare_image(
    state: ServerState,
    image: ResolvedImage,
    plan: RegionPlan,
    key: str,
    encoder: Encoder,
    draw: Draw,
    pixels: int,
) -> PreparedImage:
    """The response reading `plan` through `draw`; `key` is the normalised request (part of the
    ETag) and `pixels` the output size. NotFound when the pixel file is missing."""
    source = image.source
    if image.held:
        source, plan = from_held_level(image.image_id, source, plan, image.held)
    pyramid_file = state.store.pyramid_path(source.path)
    try:
        stat = pyramid_file.stat()
    except FileNotFoundError:
        raise NotFound(
            f"the pixels of image {image.image_id} are missing from this store"
        ) from None
    identity = [RENDER_VERSION, str(image.image_id), key, source.path]
    identity += [str(stat.st_mtime_ns), str(stat.st_size)]
    if image.annotation is not None:
        identity.append(image.annotation.digest)
    etag = '"' + hashlib.sha1("\n".join(identity).encode()).hexdigest() + '"'
    build = partial(
        _paint, draw, state.palettes, pyramid_file, plan, image.annotation, source.nearest
    )
    return PreparedImage(etag, encoder, pixels, build)


def _paint(
    draw: Draw,
    palettes: PaletteCache,
    pyramid_file: Path,
    plan: RegionPlan,
    colours: PlateColours | None,
    nearest: bool,
) -> pyvips.Image:
    """`draw`'s pixels, with the pyramid opened and the plate palette built (or both taken from
    their caches) only now: a 304 or a cached body reads neither."""
    palette = None if colours is None else palettes.plate(colours)
    return draw(open_pyramid(pyramid_file), plan, palette, nearest)


def _prepare_download(
    state: ServerState, image_id: int, query: list[tuple[str, str]]
) -> PreparedImage:
    request = ImageRequest.parse(query)
    image = resolve_image(state, image_id, request)
    plan = plan_request(image.source.extent, request)
    check_limits(plan, state.limits.max_pixels, state.limits.max_side)
    draw = partial(_draw_download, request)
    return prepare_image(
        state, image, plan, request.to_query(), JpegEncoder(request.quality), draw, plan.pixels
    )


def _draw_download(
    request: ImageRequest,
    pyramid: Pyramid,
    plan: RegionPlan,
    annotation: PlatePalette | None,
    nearest: bool,
) -> pyvips.Image:
    return prepare(pyramid, plan, request, annotation, nearest=nearest)


async def download_image(request: Request) -> Response:
    """GET or HEAD {endpoint}/{id}: the JPEG, or a plain-text error naming the problem."""
    prepare_response = partial(
        _prepare_download,
        server_state(request.app),
        request.path_params["image_id"],
        request.query_params.multi_items(),
    )
    return await respond(request, prepare_response, DOWNLOAD_STATUSES)


def image_routes() -> list[Route]:
    """Routes for the four endpoint names, to mount under the API prefix; ids must be integers
    (others are 404)."""
    return [
        Route(f"/{name}/{{image_id:int}}", download_image, methods=["GET", "HEAD"])
        for name in ENDPOINTS
    ]

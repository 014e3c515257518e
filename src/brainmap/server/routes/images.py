"""The four Image Download Service endpoints, one service over SubImage ids (docs/allen-api.md
§6.1), and how every image endpoint resolves and prepares its response (the IIIF routes use it
too).

Parse the query (400 naming a bad parameter), resolve the pixels in the store (404) and the
image's scale (400 for a ``range`` above it), plan the region (413 above the limits);
`brainmap.server.responses` answers from there (500 naming the image and its pixel file when
that is missing or damaged). Every image response carries a strong ``ETag``: a digest of the
normalised request, the image's scale, the pixel file's identity and, for an annotation plate,
its structure graph's palette.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pyvips
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import RegionPlan, RegionTooLarge, check_limits, plan_request
from brainmap.imaging.annotate import PlatePalette
from brainmap.imaging.encoders import Encoder, JpegEncoder
from brainmap.imaging.render import prepare
from brainmap.params import LARGEST_ID, ImageRequest
from brainmap.pyramid.pages import PagedPyramid
from brainmap.server.palettes import PaletteCache, PlateColours
from brainmap.server.responses import ErrorStatuses, PixelFile, PreparedImage, respond
from brainmap.server.state import ServerState, server_state
from brainmap.service import ENDPOINTS, TWELVE_BIT_SCALE, image_scale
from brainmap.store.lookups import ImageSource, resolve_source
from brainmap.store.mirrored import from_held_level, held_levels
from brainmap.store.query.sessions import reading

RENDER_VERSION = "2"
"""Part of every ETag: bump it when the pipeline's output changes."""
DOWNLOAD_STATUSES: ErrorStatuses = ((NotFound, 404), (RegionTooLarge, 413), (BadParameter, 400))

Draw = Callable[[PagedPyramid, RegionPlan, PlatePalette | None, bool, int], pyvips.Image]
"""Lazy pixels from a pyramid, a read plan, the plate palette, whether to pick pixels and the
image's scale."""


@dataclass(frozen=True)
class ResolvedImage:
    """An image id resolved in the store for a request's filters: its source, the levels a
    mirror holds of it (empty when not mirrored), the colours painting its label map and the
    scale of its values (docs/rules.md, "Pixel pipeline" step 3)."""

    image_id: int
    source: ImageSource
    held: dict[int, str]
    annotation: PlateColours | None
    scale: int


def image_id(text: str) -> int:
    """The image id a path segment names: `record_id` for an image."""
    return record_id("image", text)


def record_id(kind: str, text: str) -> int:
    """The id of a `kind` of record a path segment names; NotFound for anything but ASCII digits
    and for ids no record can have (SQLite cannot even compare them; thousands of digits would
    not convert)."""
    if not (text.isascii() and text.isdigit()):
        raise NotFound(f"no {kind} with id {text[:40]}")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(LARGEST_ID)) or int(digits) > LARGEST_ID:
        raise NotFound(f"no {kind} with id {digits[:40]}")
    return int(digits)


def resolve_image(state: ServerState, image_id: int, request: ImageRequest) -> ResolvedImage:
    """Look up the image, its alternate (NotFound names a missing one), its colours and its
    scale, which bounds the request's ``range`` (BadParameter above it)."""
    with reading(state.store) as session:  # no transaction: two round trips fewer on a server
        source = resolve_source(session, image_id, request)
        held = held_levels(session, source.path)
        annotation = None
        if source.graph_id is not None and not held:
            annotation = state.palettes.colours(session, source.graph_id, request.structure)
        # a mirror holds 8-bit renderings, on the 12-bit scale whatever the image's depth
        scale = TWELVE_BIT_SCALE
        if not held:
            scale = image_scale(source.bits)
    request.check_scale(scale)
    return ResolvedImage(image_id, source, held, annotation, scale)


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
    ETag) and `pixels` the output size. UnreadablePixels when the pixel file is missing."""
    source = image.source
    if image.held:
        source, plan = from_held_level(image.image_id, source, plan, image.held)
    pixel_file = PixelFile(image.image_id, source.path, state.store.pixels)
    identity = [RENDER_VERSION, str(image.image_id), key, source.path, str(image.scale)]
    identity += pixel_file.version()
    if image.annotation is not None:
        identity.append(image.annotation.digest)
    etag = '"' + hashlib.sha1("\n".join(identity).encode()).hexdigest() + '"'
    build = partial(
        _paint,
        draw,
        state.palettes,
        pixel_file,
        plan,
        image.annotation,
        source.nearest,
        image.scale,
    )
    return PreparedImage(etag, encoder, pixels, build, pixel_file)


def first_pixel_file(state: ServerState, image: ResolvedImage) -> PixelFile:
    """The file holding an image's finest pixels: its pyramid, or a mirror's finest level."""
    name = image.held[min(image.held)] if image.held else image.source.path
    return PixelFile(image.image_id, name, state.store.pixels)


def _paint(
    draw: Draw,
    palettes: PaletteCache,
    pyramid_file: PixelFile,
    plan: RegionPlan,
    colours: PlateColours | None,
    nearest: bool,
    scale: int,
) -> pyvips.Image:
    """`draw`'s pixels, with the pyramid opened and the plate palette built (or both taken from
    their caches) only now: a 304 or a cached body reads neither."""
    palette = None if colours is None else palettes.plate(colours)
    return draw(pyramid_file.open(), plan, palette, nearest, scale)


def _prepare_download(
    state: ServerState, identifier: str, query: list[tuple[str, str]]
) -> PreparedImage:
    request = ImageRequest.parse(query)
    image = resolve_image(state, image_id(identifier), request)
    plan = plan_request(image.source.extent, request)
    check_limits(plan, state.limits.max_pixels, state.limits.max_side)
    draw = partial(_draw_download, request)
    return prepare_image(
        state, image, plan, request.to_query(), JpegEncoder(request.quality), draw, plan.pixels
    )


def _draw_download(
    request: ImageRequest,
    pyramid: PagedPyramid,
    plan: RegionPlan,
    annotation: PlatePalette | None,
    nearest: bool,
    scale: int,
) -> pyvips.Image:
    return prepare(pyramid, plan, request, annotation, nearest=nearest, scale=scale)


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
        Route(f"/{name}/{{image_id}}", download_image, methods=["GET", "HEAD"])
        for name in ENDPOINTS
    ]

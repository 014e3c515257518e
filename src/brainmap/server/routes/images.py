"""The four Image Download Service endpoints, one service over SubImage ids (spec §6.1), and the
response machinery every image endpoint shares (the IIIF routes use it too).

Parse the query (400 naming a bad parameter), resolve the pixels in the store (404), plan the
region (413 above the limits), then encode on a worker thread bounded by a capacity limiter.
Outputs up to ``ImageLimits.buffer_pixels`` are encoded in memory; larger ones are spooled to a
temporary file (memory stays bounded whatever the size) and streamed from it with their length.

Every image response carries a strong ``ETag`` (a digest of the request, the pixel file's
identity and the palette) and ``Cache-Control``; ``If-None-Match`` answers 304 and ``HEAD``
answers the headers, both without encoding anything. Encoded responses are kept in a
`ResponseCache` bounded in bytes (``ImageLimits.cache_bytes``; 0 turns it off), keyed by ETag.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import IO

import anyio
import pyvips
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import RegionPlan, RegionTooLarge, check_limits, plan_request
from brainmap.imaging.annotate import PlatePalette
from brainmap.imaging.encoders import Encoder, JpegEncoder
from brainmap.imaging.render import prepare
from brainmap.params import ImageRequest
from brainmap.pyramid.format import Pyramid
from brainmap.service import ENDPOINTS, MAX_PIXELS, MAX_SIDE
from brainmap.store.folder import Store
from brainmap.store.lookups import ImageSource, resolve_source
from brainmap.store.mirrored import from_held_level, held_levels
from brainmap.store.ontology import StructurePalette

CACHE_CONTROL = "public, max-age=86400"
RENDER_VERSION = "2"
"""Part of every ETag: bump it when the pipeline's output changes."""
SPOOL_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImageLimits:
    """Largest output a single response may have (DECISIONS.md, "Limits"), the largest
    encoded in memory rather than spooled to a temporary file, and the bytes of encoded
    responses kept for repeated requests."""

    max_pixels: int = MAX_PIXELS
    max_side: int = MAX_SIDE
    buffer_pixels: int = 16_000_000
    cache_bytes: int = 64 * 1024 * 1024


class ResponseCache:
    """Least-recently-used encoded responses by ETag, at most `capacity` bytes in all.

    Used from the event loop only, so it needs no lock. A body larger than an eighth of the
    capacity is not kept (one huge image must not flush everything else).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, etag: str) -> bytes | None:
        body = self._bodies.get(etag)
        if body is None:
            self.misses += 1
            return None
        self.hits += 1
        self._bodies.move_to_end(etag)
        return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) * 8 > self.capacity or etag in self._bodies:
            return
        self._bodies[etag] = body
        self.size += len(body)
        while self.size > self.capacity:
            self.size -= len(self._bodies.popitem(last=False)[1])


Draw = Callable[[Pyramid, RegionPlan, PlatePalette | None, bool], pyvips.Image]
"""Lazy pixels from a pyramid, a read plan, the plate palette and whether to pick pixels."""


@dataclass(frozen=True)
class PreparedImage:
    """A planned response: its validator, format, output size, extra headers, and how to build
    the lazy pixels (only when the response is not answered from the cache or by a 304)."""

    etag: str
    encoder: Encoder
    pixels: int
    build: Callable[[], pyvips.Image]
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return self.encoder.encode(self.build())

    def spool(self) -> IO[bytes]:
        """Encode into a temporary file (in memory while small), rewound, for streaming."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - see _chunks
        try:
            self.encoder.write(self.build(), spool)  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


@dataclass(frozen=True)
class ResolvedImage:
    """An image id resolved in the store for a request's filters: its source, the levels a
    mirror holds of it (empty when not mirrored) and the palette painting its label map."""

    image_id: int
    source: ImageSource
    held: dict[int, str]
    annotation: PlatePalette | None


@lru_cache(maxsize=256)
def _open_pyramid(path: Path) -> Pyramid:
    return Pyramid(path)


def resolve_image(store: Store, image_id: int, request: ImageRequest) -> ResolvedImage:
    """Look up the image, its alternate (NotFound names a missing one) and its palette."""
    with store.session() as session:
        source = resolve_source(session, image_id, request)
        held = held_levels(session, source.path)
        annotation = None
        if source.graph_id is not None and not held:
            palette = StructurePalette.load(session, source.graph_id)
            highlight = palette.with_descendants(request.structure) if request.structure else None
            annotation = PlatePalette.build(palette.colours, highlight)
    return ResolvedImage(image_id, source, held, annotation)


def prepare_image(
    store: Store,
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
    pyramid_file = store.pyramid_path(source.path)
    try:
        stat = pyramid_file.stat()
    except FileNotFoundError:
        raise NotFound(
            f"the pixels of image {image.image_id} are missing from this store"
        ) from None
    identity = [RENDER_VERSION, str(image.image_id), key, source.path]
    identity += [str(stat.st_mtime_ns), str(stat.st_size)]
    if image.annotation is not None:
        identity.append(hashlib.sha1(image.annotation.fill.tobytes()).hexdigest())
    etag = '"' + hashlib.sha1("\n".join(identity).encode()).hexdigest() + '"'
    build = partial(draw, _open_pyramid(pyramid_file), plan, image.annotation, source.nearest)
    return PreparedImage(etag, encoder, pixels, build)


def _prepare_download(
    store: Store, limits: ImageLimits, image_id: int, query: list[tuple[str, str]]
) -> PreparedImage:
    request = ImageRequest.parse(query)
    image = resolve_image(store, image_id, request)
    plan = plan_request(image.source.extent, request)
    check_limits(plan, limits.max_pixels, limits.max_side)
    draw = partial(_draw_download, request)
    return prepare_image(
        store, image, plan, request.to_query(), JpegEncoder(request.quality), draw, plan.pixels
    )


def _draw_download(
    request: ImageRequest,
    pyramid: Pyramid,
    plan: RegionPlan,
    annotation: PlatePalette | None,
    nearest: bool,
) -> pyvips.Image:
    return prepare(pyramid, plan, request, annotation, nearest=nearest)


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names `etag` (weak comparison, as RFC 9110 asks)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


ErrorStatuses = tuple[tuple[type[Exception], int], ...]
"""Refusals and their HTTP statuses, the first matching class winning."""
DOWNLOAD_STATUSES: ErrorStatuses = ((NotFound, 404), (RegionTooLarge, 413), (BadParameter, 400))


async def respond(
    request: Request,
    prepare_response: Callable[[], PreparedImage],
    statuses: ErrorStatuses,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The image response for GET or HEAD: `prepare_response` runs on a worker thread, a refusal
    becomes a plain-text error with its status, then ETag/304, HEAD, the response cache and
    the bounded render. `headers` go on every response, errors included."""
    state = request.app.state
    try:
        prepared = await anyio.to_thread.run_sync(prepare_response)
    except tuple(kind for kind, _ in statuses) as error:
        status = next(code for kind, code in statuses if isinstance(error, kind))
        return PlainTextResponse(str(error), status_code=status, headers=headers)
    media_type = prepared.encoder.media_type
    response_headers = {"ETag": prepared.etag, "Cache-Control": CACHE_CONTROL}
    response_headers.update(headers or {})
    response_headers.update(prepared.headers)
    if etag_matches(request.headers.get("if-none-match"), prepared.etag):
        return Response(status_code=304, headers=response_headers)
    if request.method == "HEAD":
        response = Response(media_type=media_type, headers=response_headers)
        del response.headers["content-length"]  # unknown until encoded, and HEAD never encodes
        return response
    limiter = state.render_limiter
    if prepared.pixels <= state.image_limits.buffer_pixels:
        cache: ResponseCache = state.response_cache
        body = cache.get(prepared.etag)
        if body is None:
            body = await anyio.to_thread.run_sync(prepared.encode, limiter=limiter)
            cache.put(prepared.etag, body)
        return Response(body, media_type=media_type, headers=response_headers)
    async with state.large_render_limiter:
        spool = await anyio.to_thread.run_sync(prepared.spool, limiter=limiter)
    response_headers["Content-Length"] = str(spool.seek(0, 2))
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type=media_type, headers=response_headers)


async def download_image(request: Request) -> Response:
    """GET or HEAD /api/v2/{endpoint}/{id}: the JPEG, or a plain-text error naming the problem."""
    state = request.app.state
    prepare_response = partial(
        _prepare_download,
        state.store,
        state.image_limits,
        request.path_params["image_id"],
        request.query_params.multi_items(),
    )
    return await respond(request, prepare_response, DOWNLOAD_STATUSES)


def image_routes() -> list[Route]:
    """Routes for the four endpoint names; ids must be integers (others are 404)."""
    return [
        Route(f"/api/v2/{name}/{{image_id:int}}", download_image, methods=["GET", "HEAD"])
        for name in ENDPOINTS
    ]

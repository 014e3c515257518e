"""The four Image Download Service endpoints, one service over SubImage ids (spec §6.1).

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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import IO

import anyio
import pyvips
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import RegionTooLarge, check_limits, plan_request
from brainmap.imaging.annotate import PlatePalette
from brainmap.imaging.render import encode_jpeg, prepare, write_jpeg
from brainmap.params import ImageRequest
from brainmap.server.mirrored import from_held_level, held_levels
from brainmap.server.sources import resolve_source
from brainmap.server.structures import StructurePalette
from brainmap.store.folder import Store
from brainmap.store.pyramids import Pyramid

ENDPOINTS = (
    "section_image_download",
    "atlas_image_download",
    "projection_image_download",
    "image_download",
)
MEDIA_TYPE = "image/jpeg"
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

    max_pixels: int = 400_000_000
    max_side: int = 65_535
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


@dataclass(frozen=True)
class PreparedImage:
    """A planned response: its validator, output size, and how to build the lazy pixels
    (only when the response is not answered from the cache or by a 304)."""

    etag: str
    quality: int | None
    pixels: int
    build: Callable[[], pyvips.Image]

    def encode(self) -> bytes:
        return encode_jpeg(self.build(), self.quality)

    def spool(self) -> IO[bytes]:
        """Encode into a temporary file (in memory while small), rewound, for streaming."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - see _chunks
        try:
            write_jpeg(self.build(), self.quality, spool)  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


@lru_cache(maxsize=256)
def _open_pyramid(path: Path) -> Pyramid:
    return Pyramid(path)


def _prepare(
    store: Store, limits: ImageLimits, image_id: int, request: ImageRequest
) -> PreparedImage:
    with store.session() as session:
        source = resolve_source(session, image_id, request)
        held = held_levels(session, source.path)
        annotation = None
        if source.graph_id is not None and not held:
            palette = StructurePalette.load(session, source.graph_id)
            highlight = palette.with_descendants(request.structure) if request.structure else None
            annotation = PlatePalette.build(palette.colours, highlight)
    plan = plan_request(source.extent, request)
    check_limits(plan, limits.max_pixels, limits.max_side)
    if held:
        source, plan = from_held_level(image_id, source, plan, held)
    pyramid_file = store.pyramid_path(source.path)
    try:
        stat = pyramid_file.stat()
    except FileNotFoundError:
        raise NotFound(f"the pixels of image {image_id} are missing from this store") from None
    identity = [RENDER_VERSION, str(image_id), request.to_query(), source.path]
    identity += [str(stat.st_mtime_ns), str(stat.st_size)]
    if annotation is not None:
        identity.append(hashlib.sha1(annotation.fill.tobytes()).hexdigest())
    etag = '"' + hashlib.sha1("\n".join(identity).encode()).hexdigest() + '"'
    pyramid = _open_pyramid(pyramid_file)
    build = partial(prepare, pyramid, plan, request, annotation, nearest=source.nearest)
    return PreparedImage(etag, request.quality, plan.pixels, build)


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


async def download_image(request: Request) -> Response:
    """GET or HEAD /api/v2/{endpoint}/{id}: the JPEG, or a plain-text error naming the problem."""
    state = request.app.state
    try:
        image_request = ImageRequest.parse(request.query_params.multi_items())
        prepared = await anyio.to_thread.run_sync(
            _prepare,
            state.store,
            state.image_limits,
            request.path_params["image_id"],
            image_request,
        )
    except NotFound as error:
        return PlainTextResponse(str(error), status_code=404)
    except RegionTooLarge as error:
        return PlainTextResponse(str(error), status_code=413)
    except BadParameter as error:
        return PlainTextResponse(str(error), status_code=400)
    headers = {"ETag": prepared.etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), prepared.etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        response = Response(media_type=MEDIA_TYPE, headers=headers)
        del response.headers["content-length"]  # unknown until encoded, and HEAD never encodes
        return response
    limiter = state.render_limiter
    if prepared.pixels <= state.image_limits.buffer_pixels:
        cache: ResponseCache = state.response_cache
        body = cache.get(prepared.etag)
        if body is None:
            body = await anyio.to_thread.run_sync(prepared.encode, limiter=limiter)
            cache.put(prepared.etag, body)
        return Response(body, media_type=MEDIA_TYPE, headers=headers)
    async with state.large_render_limiter:
        spool = await anyio.to_thread.run_sync(prepared.spool, limiter=limiter)
    headers["Content-Length"] = str(spool.seek(0, 2))
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type=MEDIA_TYPE, headers=headers)


def image_routes() -> list[Route]:
    """Routes for the four endpoint names; ids must be integers (others are 404)."""
    return [
        Route(f"/api/v2/{name}/{{image_id:int}}", download_image, methods=["GET", "HEAD"])
        for name in ENDPOINTS
    ]

"""The response machinery every image endpoint shares (the download service and IIIF).

A request is prepared on a worker thread (a refusal becomes a plain-text error with its
status), then answered from its strong ``ETag`` (``If-None-Match`` -> 304) or, for ``HEAD``,
with the headers alone, both without encoding anything. Outputs up to
``ImageLimits.buffer_pixels`` are encoded in memory and kept in the `ResponseCache`; larger
ones are spooled to a temporary file (memory stays bounded whatever the size) and streamed from
it with their length. Encoding runs on worker threads bounded by the state's limiters (its
time reported to `brainmap.events`). A pixel file that is missing or does not decode is a 500
whose one line names the image and the file's name in the store, logged once per file; nothing
of it is cached.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import anyio
import pyvips
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from brainmap import events
from brainmap.errors import BadParameter, BrainmapError, NotFound
from brainmap.imaging.encoders import Encoder
from brainmap.pyramid.local import vips_reason
from brainmap.pyramid.pages import PagedPyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.server.state import server_state
from brainmap.store.pixels import PixelRoot, Version

CACHE_CONTROL = "public, max-age=86400"
SPOOL_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024

ErrorStatuses = tuple[tuple[type[Exception], int], ...]
"""Refusals and their HTTP statuses, the first matching class winning."""
UNREADABLE_STATUS = 500

log = logging.getLogger(__name__)
_REPORTED: set[str] = set()
"""Pixel files already logged as unreadable (each is logged once per process)."""


class UnreadablePixels(BrainmapError):
    """An image's pixel file is missing or damaged: a server fault, not the request's."""

    def __init__(self, image_id: int, name: str, reason: str) -> None:
        super().__init__(f"image {image_id}: pixel file {name} {reason}")
        self.name = name


@dataclass(frozen=True)
class PixelFile:
    """The pyramid a response reads: the image's id, the file's name in the store (the only
    one a message shows) and the store's pixel root holding it."""

    image_id: int
    name: str
    pixels: PixelRoot

    def unreadable(self, error: DamagedPyramid | pyvips.Error) -> UnreadablePixels:
        """`error`, reading this file, as the error naming the image and the file."""
        if isinstance(error, pyvips.Error):  # while rendering: most likely, but not surely, damage
            reason = f"could not be read: {vips_reason(error, self.pixels.where(self.name))}"
        else:
            reason = str(error)
        return UnreadablePixels(self.image_id, self.name, reason)

    def open(self) -> PagedPyramid:
        """The pyramid, opened (or taken from the pixel root's cache); OutsidePyramids (404)
        for a name outside the pyramids, UnreadablePixels when missing or damaged."""
        with self.reading():
            return self.pixels.open(self.name)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Turn the errors of reading this file into `UnreadablePixels`."""
        try:
            yield
        except (DamagedPyramid, pyvips.Error) as error:
            raise self.unreadable(error) from None

    def version(self) -> Version:
        """Which version of the file is there now; UnreadablePixels when it is missing or
        cannot be reached."""
        with self.reading():
            return self.pixels.version(self.name)


@dataclass(frozen=True)
class PreparedImage:
    """A planned response: its validator, format, output size, how to build the lazy pixels
    (only when the response is not answered from the cache or by a 304), the file they are
    read from, and extra headers."""

    etag: str
    encoder: Encoder
    pixels: int
    build: Callable[[], pyvips.Image]
    source: PixelFile
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The encoded body, its render time reported to `brainmap.events`."""
        with self.source.reading(), events.rendering(self.encoder.media_type):
            return self.encoder.encode(self.build())

    def spool(self) -> IO[bytes]:
        """Encode into a temporary file (in memory while small), rewound, for streaming."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - see _chunks
        try:
            with self.source.reading(), events.rendering(self.encoder.media_type):
                # a SpooledTemporaryFile is an IO[bytes], which typeshed does not count as BinaryIO
                self.encoder.write(self.build(), spool)  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


def unreadable_response(
    error: UnreadablePixels, headers: Mapping[str, str] | None = None
) -> Response:
    """The 500 answering a request for pixels that cannot be read; the first for each file is
    logged (the file stays damaged until someone replaces it: one line is enough)."""
    if error.name not in _REPORTED:
        _REPORTED.add(error.name)
        log.error("%s", error)
    return PlainTextResponse(str(error), status_code=UNREADABLE_STATUS, headers=headers)


def refusal(error: BadParameter | NotFound | UnreadablePixels) -> Response:
    """The one-line plain-text answer of a refused pixel request: 400 for a bad parameter, 404
    for what does not exist, the logged 500 for pixels that cannot be read."""
    if isinstance(error, UnreadablePixels):
        return unreadable_response(error)
    status = 400 if isinstance(error, BadParameter) else 404
    return PlainTextResponse(str(error), status_code=status)


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names `etag` (weak comparison, as RFC 9110 asks)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


async def respond(
    request: Request,
    prepare_response: Callable[[], PreparedImage],
    statuses: ErrorStatuses,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The image response for GET or HEAD: `prepare_response` runs on a worker thread, a refusal
    becomes a plain-text error with its status, then ETag/304, HEAD, the response cache and
    the bounded render. `headers` go on every response, errors included."""
    try:
        return await _respond(request, prepare_response, statuses, headers)
    except UnreadablePixels as error:
        return unreadable_response(error, headers)


async def _respond(
    request: Request,
    prepare_response: Callable[[], PreparedImage],
    statuses: ErrorStatuses,
    headers: Mapping[str, str] | None,
) -> Response:
    state = server_state(request.app)
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
    if prepared.pixels <= state.limits.buffer_pixels:
        body = state.responses.get(prepared.etag)
        if body is None:
            body = await anyio.to_thread.run_sync(prepared.encode, limiter=limiter)
            state.responses.keep(prepared.etag, body)
        return Response(body, media_type=media_type, headers=response_headers)
    async with state.large_render_limiter:
        spool = await anyio.to_thread.run_sync(prepared.spool, limiter=limiter)
    response_headers["Content-Length"] = str(spool.seek(0, 2))
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type=media_type, headers=response_headers)


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()

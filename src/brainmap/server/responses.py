"""The response machinery every image endpoint shares (the download service and IIIF).

A request is prepared on a worker thread (a refusal becomes a plain-text error with its
status), then answered from its strong ``ETag`` (``If-None-Match`` -> 304) or, for ``HEAD``,
with the headers alone, both without encoding anything. Outputs up to
``ImageLimits.buffer_pixels`` are encoded in memory and kept in the `ResponseCache`; larger
ones are spooled to a temporary file (memory stays bounded whatever the size) and streamed from
it with their length. Encoding runs on worker threads bounded by the state's limiters.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

import anyio
import pyvips
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from brainmap.imaging.encoders import Encoder
from brainmap.server.state import server_state

CACHE_CONTROL = "public, max-age=86400"
SPOOL_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024

ErrorStatuses = tuple[tuple[type[Exception], int], ...]
"""Refusals and their HTTP statuses, the first matching class winning."""


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
            # a SpooledTemporaryFile is an IO[bytes], which typeshed does not count as BinaryIO
            self.encoder.write(self.build(), spool)  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


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

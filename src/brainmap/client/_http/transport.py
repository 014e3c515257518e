"""The client's one HTTP seam: an async core on aiohttp and a thin synchronous facade.

Every call has timeouts (connect and per-read always; total optionally), GETs are retried with
backoff on connection trouble, 5xx and 429 (honouring ``Retry-After``), HTTP errors raise
`ApiError` with the URL, status and the start of the server's message, and downloads are atomic.

URLs are sent exactly as given (no re-quoting): callers quote them first, as the allensdk
surface does, so the server receives the same bytes allensdk would send.

Usage::

    transport = Transport()                      # or Transport(Timeouts(read=120), RetryPolicy(5))
    records = transport.get_json(url)            # parsed JSON
    transport.download(url, "image.jpg")         # atomic file download, returns bytes written

    async with AsyncTransport() as transport:    # inside async code
        records = await transport.get_json(url)
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import yarl
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from brainmap.client._http import loop
from brainmap.client._http.files import atomic_writer
from brainmap.client._http.retry import (
    RETRY_STATUSES,
    CorruptBody,
    RetryableStatus,
    RetryPolicy,
    is_transient,
    parse_retry_after,
)
from brainmap.errors import ApiError

T = TypeVar("T")
Check = Callable[[bytes], None]
"""Verifies a response body; raises `CorruptBody` (retried) when it is not acceptable."""

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 1000
"""Characters of an error body kept in `ApiError.message`."""

_CHUNK = 1 << 16

INLINE_CHECK_BYTES = 1 << 16
"""Bodies up to this length are checked on the event loop: for them a worker-thread hop costs
about as much CPU as the check itself."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, between two reads of the body, and (if set) in total."""

    connect: float = 10.0
    read: float = 60.0
    total: float | None = None

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        """The equivalent aiohttp setting."""
        return aiohttp.ClientTimeout(
            total=self.total, sock_connect=self.connect, sock_read=self.read
        )


@dataclass(frozen=True)
class Response:
    """A complete response: final URL, status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body parsed as JSON; ApiError if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise ApiError(self.url, self.status, f"response is not JSON: {error}") from None


class AsyncTransport:
    """HTTP client core: one aiohttp session (created lazily, on the loop that first uses it).

    At most `limit` connections in all and `per_host` to one host (0: no bound). Every retry
    is logged (warning on ``brainmap.client._http.transport``) and counted in `retries`, by reason.
    """

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limit: int = 16,
        headers: Mapping[str, str] | None = None,
        per_host: int = 0,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limit = limit
        self.per_host = per_host
        self.headers = dict(headers or {})
        self.retries: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        """True while a session exists."""
        return self._session is not None and not self._session.closed

    async def close(self) -> None:
        """Close the session; the transport opens a new one if used again."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def get(self, url: str, check: Check | None = None) -> Response:
        """GET `url` and read the whole body; `check(body)` runs inside each attempt (on a
        worker thread for bodies above `INLINE_CHECK_BYTES`), so a body it rejects with
        `CorruptBody` is fetched again."""
        return await self._call(url, self.retry.attempts, self._fetch, "GET", url, None, check)

    async def get_json(self, url: str) -> Any:
        """GET `url` and parse the body as JSON."""
        return (await self.get(url)).json()

    async def post_json(self, url: str, payload: Any) -> Any:
        """POST `payload` as JSON and parse the JSON answer. Never retried."""
        return (await self._call(url, 1, self._fetch, "POST", url, payload, None)).json()

    async def download(self, url: str, path: str | os.PathLike[str]) -> int:
        """Stream `url` into `path` atomically; return the number of bytes written.

        A failed attempt leaves no partial file, and an existing file at `path` is replaced
        only once the new body is complete and synced.
        """
        return await self._call(url, self.retry.attempts, self._stream_to, url, path)

    async def _call(
        self, url: str, attempts: int, attempt: Callable[..., Awaitable[T]], *args: Any
    ) -> T:
        """Run `attempt(*args)` up to `attempts` times; network failures become ApiError."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self.retry.wait,
            retry=retry_if_exception(is_transient),
            before_sleep=functools.partial(self._count_retry, url),
            reraise=True,
        )
        try:
            return await retrying(attempt, *args)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _no_response(url, error) from error

    def _count_retry(self, url: str, state: RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        reason = _reason(error)
        self.retries[reason] += 1
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "retry %d/%d in %.2f s (%s) for %s: %s",
            state.attempt_number,
            self.retry.attempts - 1,
            wait,
            reason,
            url,
            error,
        )

    async def _fetch(self, method: str, url: str, payload: Any, check: Check | None) -> Response:
        session = self._open_session()
        async with session.request(method, yarl.URL(url, encoded=True), json=payload) as reply:
            await _raise_for_status(url, reply)
            body = await reply.read()
            expected = reply.content_length
            encoded = "Content-Encoding" in reply.headers
            if expected is not None and not encoded and len(body) != expected:
                raise CorruptBody(url, reply.status, f"{len(body)} of {expected} bytes")
            if check is not None and len(body) <= INLINE_CHECK_BYTES:
                check(body)
            elif check is not None:
                await asyncio.to_thread(check, body)
            return Response(str(reply.url), reply.status, dict(reply.headers), body)

    async def _stream_to(self, url: str, path: str | os.PathLike[str]) -> int:
        session = self._open_session()
        async with session.get(yarl.URL(url, encoded=True)) as reply:
            await _raise_for_status(url, reply)
            written = 0
            with atomic_writer(path) as handle:
                async for chunk in reply.content.iter_chunked(_CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
            return written

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.per_host),
                timeout=self.timeouts.to_aiohttp(),
                headers=self.headers,
            )
        return self._session


class Transport:
    """Synchronous facade: runs an `AsyncTransport` on brainmap's background event loop.

    Works from plain scripts and from inside a running loop (Jupyter). Construct it with the
    same arguments as `AsyncTransport`.
    """

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limit: int = 16,
        headers: Mapping[str, str] | None = None,
        per_host: int = 0,
    ) -> None:
        self.core = AsyncTransport(timeouts, retry, limit, headers, per_host)

    @classmethod
    def over(cls, core: AsyncTransport) -> Transport:
        """A facade sharing an existing core (its session, limits and retry counts)."""
        facade = cls.__new__(cls)
        facade.core = core
        return facade

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def get(self, url: str) -> Response:
        """See `AsyncTransport.get`."""
        return loop.run(self.core.get(url))

    def get_json(self, url: str) -> Any:
        """See `AsyncTransport.get_json`."""
        return loop.run(self.core.get_json(url))

    def post_json(self, url: str, payload: Any) -> Any:
        """See `AsyncTransport.post_json`."""
        return loop.run(self.core.post_json(url, payload))

    def download(self, url: str, path: str | os.PathLike[str]) -> int:
        """See `AsyncTransport.download`."""
        return loop.run(self.core.download(url, path))

    def close(self) -> None:
        """Close the underlying session (a no-op if none was opened)."""
        if self.core.is_open:
            loop.run(self.core.close())


_default: Transport | None = None


def default_transport() -> Transport:
    """The transport shared by API objects constructed without one."""
    global _default
    if _default is None:
        _default = Transport()
        atexit.register(_default.close)
    return _default


async def _raise_for_status(url: str, reply: aiohttp.ClientResponse) -> None:
    if reply.status < 400:
        return
    text = (await reply.read()).decode("utf-8", errors="replace")[:MESSAGE_LIMIT]
    message = text or (reply.reason or "")
    if reply.status in RETRY_STATUSES:
        delay = parse_retry_after(reply.headers.get("Retry-After"))
        raise RetryableStatus(url, reply.status, message, delay)
    raise ApiError(url, reply.status, message)


def _reason(error: BaseException | None) -> str:
    """A short label for why an attempt failed: the HTTP status or the exception's name."""
    if isinstance(error, ApiError) and error.status is not None and error.status >= 400:
        return str(error.status)
    return type(error).__name__


def _no_response(url: str, error: BaseException) -> ApiError:
    return ApiError(url, None, f"{type(error).__name__}: {error}".rstrip(": "))

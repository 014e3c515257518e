"""`AiohttpTransport`: the `Transport` that goes over the network, on aiohttp.

Every call has timeouts (connect and per-read always; total optionally); GETs and downloads are
retried with backoff (tenacity) on connection trouble, truncated or corrupt bodies, 5xx and 429
(honouring ``Retry-After``); a POST is sent once. Downloads are atomic.

Usage::

    async with AiohttpTransport(Timeouts(read=120), RetryPolicy(attempts=5)) as transport:
        records = (await transport.get(url)).json()
        await transport.download(url, "image.jpg")

Blocking code reaches it through the allensdk classes (``ImageDownloadApi(transport=...)``),
which run each call on brainmap's I/O thread.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import ParamSpec, TypeVar

import aiohttp
import yarl
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from brainmap.client._http import loop
from brainmap.client._http.errors import CorruptBody, RetryableStatus, status_error
from brainmap.client._http.files import atomic_writer
from brainmap.client._http.read_token import token_headers
from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import Check, Response, Timeouts
from brainmap.errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)

_CHUNK = 1 << 16

INLINE_CHECK_BYTES = 1 << 16
"""Bodies up to this length are checked on the event loop: for them a worker-thread hop costs
about as much CPU as the check itself."""

DEFAULT_LIMIT = 16
"""Connections in all, by default."""


class AiohttpTransport:
    """One aiohttp session (created lazily, on the loop that first uses it).

    At most `limit` connections in all and `per_host` to one host (0: no bound); `headers` go
    with every request, after the read token of ``BRAINMAP_TOKEN`` (read when a session
    opens). Every retry is logged (warning on this module's logger) and counted in `retries`,
    by reason.
    """

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
        per_host: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limit = limit
        self.per_host = per_host
        self.headers = dict(headers or {})
        self.retries: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def to_one_host(
        cls, concurrency: int, timeouts: Timeouts | None = None, retry: RetryPolicy | None = None
    ) -> AiohttpTransport:
        """The transport of a client of one server: at most `concurrency` requests to it, and
        no fewer connections in all than the default."""
        return cls(timeouts, retry, limit=max(concurrency, DEFAULT_LIMIT), per_host=concurrency)

    async def __aenter__(self) -> AiohttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
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

    async def get(self, url: str, *, check: Check | None = None) -> Response:
        """GET `url` and read the whole body; `check(body)` runs inside each attempt (on a
        worker thread for bodies above `INLINE_CHECK_BYTES`), so a body it rejects with
        `CorruptBody` is fetched again."""
        return await self._call(url, self.retry.attempts, self._fetch, "GET", url, None, check)

    async def post(self, url: str, payload: object) -> Response:
        """POST `payload` as JSON. Never retried."""
        return await self._call(url, 1, self._fetch, "POST", url, payload, None)

    async def download(self, url: str, path: str | os.PathLike[str]) -> int:
        """Stream `url` into `path` atomically; return the number of bytes written.

        A failed attempt leaves no partial file, and an existing file at `path` is replaced
        only once the new body is complete and synced.
        """
        return await self._call(url, self.retry.attempts, self._stream_to, url, path)

    async def _call(
        self,
        url: str,
        attempts: int,
        attempt: Callable[P, Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `attempt` up to `attempts` times; network failures become ApiError."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self.retry.wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=functools.partial(self._count_retry, url),
            reraise=True,
        )
        try:
            result: T = await retrying(attempt, *args, **kwargs)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _no_response(url, error) from error
        return result

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

    async def _fetch(self, method: str, url: str, payload: object, check: Check | None) -> Response:
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
            timeouts = self.timeouts
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.per_host),
                timeout=aiohttp.ClientTimeout(
                    total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.read
                ),
                headers={**token_headers(), **self.headers},
            )
        return self._session


_default: AiohttpTransport | None = None


def default_transport() -> AiohttpTransport:
    """The transport shared by API objects constructed without one. It lives on brainmap's I/O
    thread and is closed when the process exits."""
    global _default
    if _default is None:
        _default = AiohttpTransport()
        atexit.register(_close_default)
    return _default


def _close_default() -> None:
    if _default is not None and _default.is_open:
        loop.run(_default.close())


async def _raise_for_status(url: str, reply: aiohttp.ClientResponse) -> None:
    if reply.status < 400:
        return
    body = await reply.read()
    error = status_error(url, reply.status, reply.reason or "", reply.headers, body)
    if error is not None:
        raise error


def _is_transient(error: BaseException) -> bool:
    """True for failures another attempt may cure: lost or refused connections, socket
    timeouts, truncated or corrupt bodies, and retryable statuses.

    A total-time timeout (a bare `asyncio.TimeoutError`) is the caller's limit and is not
    retried.
    """
    if isinstance(error, (RetryableStatus, CorruptBody)):
        return True
    return isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError))


def _reason(error: BaseException | None) -> str:
    """A short label for why an attempt failed: the HTTP status or the exception's name."""
    if isinstance(error, ApiError) and error.status is not None and error.status >= 400:
        return str(error.status)
    return type(error).__name__


def _no_response(url: str, error: BaseException) -> ApiError:
    return ApiError(url, None, f"{type(error).__name__}: {error}".rstrip(": "))

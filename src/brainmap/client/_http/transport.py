"""The client's one HTTP seam: the `Transport` protocol and the values that cross it.

Everything above the seam (the allensdk classes, the async core, bulk runs) talks to a
`Transport`: `AiohttpTransport` is the network one, `MockTransport` hands each request to a test's
function. URLs cross the seam exactly as given (no re-quoting): callers quote them first, as the
allensdk surface does, so the server receives the bytes allensdk would send. A status of 400 or
above raises `ApiError` (see `brainmap.client._http.errors`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from brainmap.errors import ApiError

Check = Callable[[bytes], None]
"""Verifies a response body; raises `CorruptBody` (retried) when it is not acceptable."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, between two reads of the body, and (if set) in total."""

    connect: float = 10.0
    read: float = 60.0
    total: float | None = None


@dataclass(frozen=True)
class Request:
    """One request as it goes on the wire: method, URL (already quoted) and, for a POST, the
    payload sent as JSON."""

    method: str
    url: str
    payload: object = None


@dataclass(frozen=True)
class Response:
    """A complete response: final URL, status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body parsed as JSON (any JSON value); ApiError if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise ApiError(self.url, self.status, f"response is not JSON: {error}") from None


class Transport(Protocol):
    """What the client needs from HTTP. Implementations raise `ApiError` for a status of 400 or
    above and for a request that got no response."""

    @property
    def retries(self) -> Counter[str]:
        """Attempts made again so far, by reason (an HTTP status or an exception's name)."""
        ...

    async def get(self, url: str, *, check: Check | None = None) -> Response:
        """GET `url` and read the whole body; `check(body)` runs on each attempt's body."""
        ...

    async def post(self, url: str, payload: object) -> Response:
        """POST `payload` as JSON to `url`."""
        ...

    async def download(self, url: str, path: str | os.PathLike[str]) -> int:
        """Save the body of `url` at `path` atomically; return the number of bytes written."""
        ...

    async def close(self) -> None:
        """Release connections; the transport reopens them if used again."""
        ...
